"""
## What it does
Reports Jaeger v1 in a manifest: a container running a v1 component image
(`jaegertracing/jaeger-agent`, `-collector`, `-query`, `-ingester`,
`jaegertracing/all-in-one`, and the same images under other registries and
Red Hat's `-rhel` names; Bitnami's `bitnami/jaeger` all-in-one with a 1.x
tag), and a jaeger-operator `Jaeger` resource. The message names what replaces
the component in Jaeger v2.

Versions: Jaeger v1 reached end of life on 2025-12-31; v1.76.0 (2025-12-03)
was its last release. The jaeger-agent went earlier: its image was last
published with v1.62.0 (v1.63.0 dropped it from the distributions,
jaegertracing/jaeger#6081) and its code was deleted in v1.68.0 (#6868). Every
tag of those images is v1 (v2 publishes one image, `jaegertracing/jaeger`,
which this rule does not report; `bitnami/jaeger` 2.x tags are v2 too). The
jaeger-operator is deprecated (last release v1.65.0).

## Why is this bad?
End of life means no fixes: no security patches for the binaries or their Go
runtime, and no bug fixes for the queues and storage plugins the other J rules
check. Jaeger v2 is an OpenTelemetry collector distribution, so its memory
limits, queues and pipelines are the ones the O rules check. Info by default:
the migration is planned work, not an outage.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger
spec:
  template:
    spec:
      containers:
        - name: jaeger
          image: jaegertracing/all-in-one:1.60
          resources:
            limits: {memory: 1Gi}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger
spec:
  template:
    spec:
      containers:
        - name: jaeger
          image: jaegertracing/jaeger:2.20.0
          args: ["--config", "/etc/jaeger/config.yaml"]
          resources:
            limits: {memory: 1Gi}
```

## References
- Jaeger v1 end of life, jaegertracing/documentation `content/download.md`;
  jaegertracing/jaeger#6321; jaegertracing/jaeger `CHANGELOG.md` (v1.76.0)
- jaeger-agent removal: jaegertracing/jaeger `CHANGELOG.md` of v1.68.0
  (v1.63.0 "Remove jaeger-agent from distributions", #6081; v1.68.0 "remove
  agent code", #6868); `scripts/build-upload-docker-images.sh` builds the agent
  image at v1.62.0, not at v1.63.0; `cmd/agent` present at v1.67.0, absent at
  v1.68.0
- Jaeger v2 on Kubernetes with the OpenTelemetry Operator,
  https://www.jaegertracing.io/docs/latest/deployment/kubernetes/
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.jaeger import LAST_V1_RELEASE, V1_END_OF_LIFE, is_jaeger_cr, v1_image
from meshlint.domain.k8s import WORKLOAD_KINDS, containers_of

_EOL = f"Jaeger v1 reached end of life on {V1_END_OF_LIFE}"


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    if is_jaeger_cr(doc.api_version, doc.kind):
        yield Violation(
            at=("kind",),
            message=f"Jaeger resources belong to the deprecated jaeger-operator, which deploys "
            f"Jaeger v1: {_EOL} (last release {LAST_V1_RELEASE}); run jaegertracing/jaeger v2 as an OpenTelemetryCollector of "
            f"the OpenTelemetry Operator",
        )
        return
    for container in containers_of(doc):
        found = v1_image(container)
        if found is not None:
            yield Violation(
                at=(*container.path, "image"),
                message=f'Container "{container.name}" runs the Jaeger v1 {found.component} '
                f"image {found.image!r}: {_EOL} ({found.last_release_text()}); replace it with {found.replacement}",
            )


RULE = Rule(
    id="J005",
    slug="jaeger-v1-end-of-life",
    severity=Severity.INFO,
    summary="A Jaeger v1 component or jaeger-operator resource: v1 is past its end of life",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | frozenset({"Jaeger"}),
)
