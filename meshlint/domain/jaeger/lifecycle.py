"""Which Jaeger is past its end of life, and what replaces it.

Jaeger v1 reached end of life on 2025-12-31; its last release was v1.76.0
(2025-12-03, with v2.13.0). Its binaries ship as separate images per
component; v2 is one image, ``jaegertracing/jaeger``, an OpenTelemetry
collector distribution whose config selects the roles (jaegertracing/jaeger
``CHANGELOG.md``; jaegertracing/documentation ``content/download.md``). The
jaeger-operator and its ``Jaeger`` CR are deprecated (last tag v1.65.0); the v2
documentation deploys on Kubernetes with the OpenTelemetry Operator.

The jaeger-agent left earlier: its image was last built with v1.62.0
(``scripts/build-upload-docker-images.sh`` loops over ``agent collector ...`` at
v1.62.0, without ``agent`` from v1.63.0: "Remove jaeger-agent from
distributions", #6081), and its code was deleted in v1.68.0 (``cmd/agent`` is in
``git ls-tree v1.67.0 cmd/``, not in v1.68.0; #6868). Bitnami packages the v1
all-in-one as ``bitnami/jaeger`` with 1.x tags (its 2.x tags are v2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from meshlint.domain.components import repository
from meshlint.domain.k8s.objects import Container
from meshlint.domain.versions import image_tag

V1_END_OF_LIFE = "2025-12-31"
LAST_V1_RELEASE = "1.76.0"
LAST_AGENT_RELEASE = "1.62.0"  # the last jaeger-agent image; cmd/agent deleted in v1.68.0
JAEGER_CR_GROUP = "jaegertracing.io/"

_IMAGE = "jaegertracing/jaeger v2"
# v1 image name (without owner, "-rhel8" dropped) -> (what it is, its v2 replacement)
_V1_IMAGES = {
    "all-in-one": ("all-in-one", f"{_IMAGE}, which runs all-in-one without --config"),
    "jaeger-all-in-one": ("all-in-one", f"{_IMAGE}, which runs all-in-one without --config"),
    "jaeger-collector": (
        "collector",
        f"{_IMAGE} with a config whose pipeline ends in jaeger_storage_exporter",
    ),
    "jaeger-query": ("query", f"{_IMAGE} with the jaeger_query extension"),
    "jaeger-ingester": ("ingester", f"{_IMAGE} with a kafka receiver"),
    "jaeger-agent": (
        "agent",
        "OTLP sent straight to the collector, or an OpenTelemetry Collector on each node "
        "(v2 has no agent)",
    ),
}


@dataclass(frozen=True, slots=True)
class EndOfLife:
    """A Jaeger v1 image: which component, and what replaces it in v2."""

    component: str
    image: str
    replacement: str
    last_release: str = LAST_V1_RELEASE

    def last_release_text(self) -> str:
        if self.last_release == LAST_V1_RELEASE:
            return f"last release {LAST_V1_RELEASE}"
        return (
            f"the {self.component} image was last published with {self.last_release}: v1.63.0 "
            "dropped it from the distributions and v1.68.0 deleted its code"
        )


def v1_image(container: Container) -> EndOfLife | None:
    """The container runs a Jaeger v1 component image (any tag but a 2.x one)."""
    repo = repository(container.image)
    owner, _, name = repo.rpartition("/")
    name = re.sub(r"-rhel[0-9]+$", "", name)
    if owner.rpartition("/")[2] == "bitnami" and name == "jaeger":
        # Bitnami's all-in-one: 1.x tags are v1, 2.x tags v2; no tag says nothing
        if not image_tag(container.image).lstrip("v").startswith("1."):
            return None
        name = "all-in-one"
    elif name not in _V1_IMAGES or (owner != "jaegertracing" and not name.startswith("jaeger-")):
        return None
    if image_tag(container.image).lstrip("v").startswith("2."):
        return None
    component, replacement = _V1_IMAGES[name]
    last = LAST_AGENT_RELEASE if component == "agent" else LAST_V1_RELEASE
    return EndOfLife(component, container.image, replacement, last)


def is_jaeger_cr(api_version: str, kind: str) -> bool:
    """A jaeger-operator ``Jaeger`` resource."""
    return kind == "Jaeger" and api_version.startswith(JAEGER_CR_GROUP)
