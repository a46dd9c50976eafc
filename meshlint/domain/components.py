"""What a container is: "is this a Jaeger collector", "an OpenTelemetry
collector", "an Istio proxy". Rules ask here instead of matching images.

Recognition goes by image repository first, then by the settings a
container carries (``--collector.*`` args or ``COLLECTOR_*`` env make a Jaeger
collector even on an unusual image).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import KeysView

from meshlint.domain.k8s.objects import Container
from meshlint.domain.versions import image_version


class Component(enum.Enum):
    JAEGER_COLLECTOR = "jaeger-collector"
    JAEGER_AGENT = "jaeger-agent"
    JAEGER_QUERY = "jaeger-query"
    JAEGER_ALL_IN_ONE = "jaeger-all-in-one"
    JAEGER_V2 = "jaeger"  # the v2 binary: an OpenTelemetry collector distribution
    OTEL_COLLECTOR = "otel-collector"
    ISTIO_PROXY = "istio-proxy"
    ENVOY = "envoy"

    @property
    def go_binary(self) -> bool:
        """Written in Go, so GOMEMLIMIT applies."""
        return self not in (Component.ISTIO_PROXY, Component.ENVOY)

    @property
    def jaeger_v1(self) -> bool:
        return self in _JAEGER_V1


_JAEGER_V1 = frozenset(
    {
        Component.JAEGER_COLLECTOR,
        Component.JAEGER_AGENT,
        Component.JAEGER_QUERY,
        Component.JAEGER_ALL_IN_ONE,
    }
)

_BY_REPOSITORY = {
    "jaegertracing/jaeger-collector": Component.JAEGER_COLLECTOR,
    "jaegertracing/all-in-one": Component.JAEGER_ALL_IN_ONE,
    "jaegertracing/jaeger-agent": Component.JAEGER_AGENT,
    "jaegertracing/jaeger-query": Component.JAEGER_QUERY,
    "jaegertracing/jaeger": Component.JAEGER_V2,
    "envoyproxy/envoy": Component.ENVOY,
}


def repository(image: str) -> str:
    """``docker.io/jaegertracing/jaeger-collector:1.57@sha256:..`` -> ``jaegertracing/jaeger-collector``."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name = name[:colon]
    parts = name.split("/")
    if len(parts) > 2 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    return "/".join(parts[-2:]).lower()


# Image names without the owner, as Red Hat (registry.redhat.io/rhosdt/...) and
# mirrors publish them; "-rhel8"/"-rhel9" suffixes are dropped before the lookup.
_BY_NAME = {
    "jaeger-collector": Component.JAEGER_COLLECTOR,
    "jaeger-agent": Component.JAEGER_AGENT,
    "jaeger-query": Component.JAEGER_QUERY,
    "jaeger-all-in-one": Component.JAEGER_ALL_IN_ONE,
    "proxyv2": Component.ISTIO_PROXY,
}


_RHEL = re.compile(r"-rhel[0-9]+$")


def component_of(container: Container) -> Component | None:
    """What ``container`` runs (None: nothing meshlint knows), worked out once
    per container: a dozen rules ask about each."""
    return container.memo(component_of, lambda: _component_of(container))


def _component_of(container: Container) -> Component | None:
    repo = repository(container.image)
    if repo in _BY_REPOSITORY:
        return _BY_REPOSITORY[repo]
    last = _RHEL.sub("", repo.rsplit("/", 1)[-1])
    if last in _BY_NAME:
        return _BY_NAME[last]
    if "opentelemetry-collector" in last or last.startswith("otelcol"):
        return Component.OTEL_COLLECTOR
    if last == "ztunnel":  # ambient mode's node proxy also names its container istio-proxy
        return None
    if container.name == "istio-proxy":
        return Component.ISTIO_PROXY
    if last.startswith("envoy"):
        return Component.ENVOY
    return _by_settings(container)


# The first release of each official image built with Go 1.19, the first Go
# that reads GOMEMLIMIT (older binaries ignore it): Jaeger 1.38.0 (go.mod and CI
# at jaegertracing/jaeger v1.38.0), collector distributions 0.61.0 (Go in
# open-telemetry/opentelemetry-collector-releases .github/workflows/release.yaml:
# 1.18 at v0.60.0, 1.19.1 at v0.61.0).
_GOMEMLIMIT_SINCE = {
    Component.JAEGER_COLLECTOR: (1, 38),
    Component.JAEGER_AGENT: (1, 38),
    Component.JAEGER_QUERY: (1, 38),
    Component.JAEGER_ALL_IN_ONE: (1, 38),
    Component.OTEL_COLLECTOR: (0, 61),
}
_OFFICIAL_OWNERS = ("jaegertracing", "otel", "opentelemetry-collector-releases")


def ignores_gomemlimit(container: Container) -> bool:
    """An official Jaeger or collector image whose tag names a release built
    with Go < 1.19: GOMEMLIMIT is neither read nor validated there."""
    component = component_of(container)
    since = _GOMEMLIMIT_SINCE.get(component) if component is not None else None
    if since is None:
        return False  # not an image it knows: the tag is not read (K005 asks of each container)
    version = image_version(container.image)
    owner = repository(container.image).split("/", 1)[0]
    if version is None or owner not in _OFFICIAL_OWNERS:
        return False
    return version[:2] < since


def _flag_names(args: list[str], prefixes: tuple[str, ...]) -> set[str]:
    return {a[2:].split("=", 1)[0] for a in args if a.startswith(prefixes)}


_COLLECTOR_ENV = ("COLLECTOR_QUEUE", "COLLECTOR_NUM_WORKERS")
_AGENT_ENV = ("REPORTER_GRPC_", "PROCESSOR_JAEGER_")


@functools.cache
def _jaeger_flags() -> tuple[KeysView[str], KeysView[str]]:
    """Jaeger's collector and agent flag names, imported once, on first use (the
    import statement ran again for every container that reached here)."""
    from meshlint.domain.jaeger.flags import AGENT, COLLECTOR

    return COLLECTOR.keys(), AGENT.keys()


def _by_settings(container: Container) -> Component | None:
    # Only flags Jaeger really has count: node-exporter also takes --collector.* args.
    collector_flags, agent_flags = _jaeger_flags()

    args = container.args
    # one pass over a long env: only names in Jaeger's namespaces matter
    env = [n for n in container.env_names() if n.startswith(_COLLECTOR_ENV + _AGENT_ENV)]
    if _flag_names(args, ("--collector.",)) & collector_flags or any(
        n.startswith(_COLLECTOR_ENV) for n in env
    ):
        return Component.JAEGER_COLLECTOR
    if _flag_names(args, ("--reporter.", "--processor.")) & agent_flags or any(
        n.startswith(_AGENT_ENV) for n in env
    ):
        return Component.JAEGER_AGENT
    return None
