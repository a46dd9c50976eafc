"""
## What it does
Flags collector configs that still use the memory ballast: a `memory_ballast`
extension (defined under `extensions` or listed in `service.extensions`) and
the `ballast_size_mib` setting of `memory_limiter`.

## Why is this bad?
The ballast was deprecated in collector v0.92.0, `memory_limiter` stopped
accounting for it in v0.106.0 and the extension was removed in v0.109.0: a
current collector refuses to start with an unknown component, so an image
upgrade turns into a crash loop. `GOMEMLIMIT` does the ballast's job.

## Example
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: gateway
spec:
  env:
    - {name: GOMEMLIMIT, value: 409MiB}
  resources:
    limits: {memory: 512Mi}
  config:
    extensions:
      memory_ballast:
        size_mib: 165
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_mib: 400, spike_limit_mib: 80}
    exporters:
      otlp:
        endpoint: tempo:4317
    service:
      extensions: [memory_ballast]
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter]
          exporters: [otlp]
```

## Use instead
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: gateway
spec:
  env:
    - {name: GOMEMLIMIT, value: 409MiB}
  resources:
    limits: {memory: 512Mi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_mib: 400, spike_limit_mib: 80}
    exporters:
      otlp:
        endpoint: tempo:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter]
          exporters: [otlp]
```

## References
- OpenTelemetry Collector CHANGELOG: memory_ballast deprecated in v0.92.0,
  removed in v0.109.0; memory_limiter ignores the ballast since v0.106.0
- Go "A Guide to the Go Garbage Collector", https://go.dev/doc/gc-guide#Memory_limit
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Fix, Rule, Severity, Violation
from meshlint.domain.k8s import list_at
from meshlint.domain.otel import (
    BALLAST_SIZE,
    HOST_KINDS,
    MEMORY_BALLAST,
    ConfigView,
    component_type,
    memory_limiters,
    views,
)

_REMOVED = "removed from the collector in v0.109.0, so current collectors refuse to start"


def _findings(view: ConfigView) -> Iterator[Violation]:
    for eid in view.section("extensions"):
        if component_type(eid) == MEMORY_BALLAST:
            yield view.violation(
                ("extensions", eid),
                f'Extension "{eid}" was {_REMOVED}; delete it and set GOMEMLIMIT instead',
                Fix.safe(f"remove {eid}", view.remove(("extensions", eid))),
            )
    for i, eid in enumerate(list_at(view.data, ("service", "extensions"))):
        if component_type(eid) == MEMORY_BALLAST:
            yield view.violation(
                ("service", "extensions", i),
                f'service.extensions lists "{eid}", which was {_REMOVED}; remove it',
                Fix.safe(
                    f"remove {eid} from service.extensions",
                    view.remove(("service", "extensions", i)),
                ),
            )
    for limiter in memory_limiters(view):
        if limiter.has(BALLAST_SIZE):
            value = limiter.body[BALLAST_SIZE]
            path = limiter.setting(BALLAST_SIZE)
            yield view.violation(
                path,
                f"{BALLAST_SIZE} {value!r} of {limiter.label} belongs to the memory "
                f"ballast, ignored since v0.106.0 and {_REMOVED}; remove it",
                Fix.safe(f"remove {BALLAST_SIZE}", view.remove(path)),
            )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for view in views(doc):
        yield from _findings(view)


RULE = Rule(
    id="O005",
    slug="otel-removed-component",
    severity=Severity.ERROR,
    summary="A collector config uses components removed from the collector (memory_ballast)",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS,
)
