"""
## What it does
Checks the `spanmetrics` and `servicegraph` connectors a pipeline uses:

- a `spanmetrics` connector that never expires its series: neither
  `metrics_expiration` nor `series_expiration` is set above 0 (both default
  to 0, never);
- a `spanmetrics` dimension (`dimensions`, `calls_dimensions`,
  `histogram.dimensions`, `events.dimensions`) or a `servicegraph` dimension taken from an attribute whose values have no bound:
  full URLs and raw paths, ids, pod names and uids, `host.name`, client
  addresses (the `unbounded-attributes` parameter; each entry's reason is kept
  in `meshlint/domain/cardinality.py`).

A `spanmetrics` connector with `aggregation_cardinality_limit` above 0 (0, the
default, is no limit) tracks at most that many combinations and folds the rest
into one overflow series: its memory is bounded, so neither check applies.
`servicegraph` drops series idle for 15 minutes on its own, so only its
dimensions are judged.

## Why is this bad?
A connector keeps one series per combination of dimension values it has ever
seen, in the collector's heap, and exports all of them on every flush. A
dimension taken from `url.full` or a pod name adds series with traffic and
with every rollout; without expiry none of them ever leaves. Users report OOM
kills (contrib#21290, #27654) and series that grow until the collector restarts
(contrib#30559, #44187); one Grafana user measured a 35% memory drop once expiry
was enabled (grafana/k8s-monitoring-helm#2875).

## Example
```yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: otel-gateway
  namespace: observability
data:
  relay: |
    receivers:
      otlp:
        protocols:
          grpc: {endpoint: "${env:MY_POD_IP}:4317"}
    connectors:
      spanmetrics:
        dimensions:
          - name: http.request.method
          - name: url.full
    exporters:
      prometheus:
        endpoint: "${env:MY_POD_IP}:8889"
    service:
      pipelines:
        traces:
          receivers: [otlp]
          exporters: [spanmetrics]
        metrics:
          receivers: [spanmetrics]
          exporters: [prometheus]
```

## Use instead
```yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: otel-gateway
  namespace: observability
data:
  relay: |
    receivers:
      otlp:
        protocols:
          grpc: {endpoint: "${env:MY_POD_IP}:4317"}
    connectors:
      spanmetrics:
        metrics_expiration: 15m
        dimensions:
          - name: http.request.method
          - name: http.route
    exporters:
      prometheus:
        endpoint: "${env:MY_POD_IP}:8889"
    service:
      pipelines:
        traces:
          receivers: [otlp]
          exporters: [spanmetrics]
        metrics:
          receivers: [spanmetrics]
          exporters: [prometheus]
```

## Parameters
- `unbounded-attributes` (default: the list in `meshlint/domain/cardinality.py`,
  e.g. `url.full`, `http.url`, `url.path`, `http.target`, `trace_id`,
  `k8s.pod.name`, `k8s.pod.uid`, `host.name`, `service.instance.id`,
  `client.address`): attribute names reported as dimensions. Replace it to add
  your own ids or to allow one you know is bounded.

## References
- opentelemetry-collector-contrib v0.159.0 `connector/spanmetricsconnector/config.go`
  (`metrics_expiration`, `series_expiration`: 0 = never;
  `aggregation_cardinality_limit`; `dimensions`, `calls_dimensions`,
  `histogram.dimensions`, `events.dimensions`) and the servicegraph connector
  (`cleanCache`: 15-minute series expiry)
- open-telemetry/opentelemetry-collector-contrib#21290, #27654 (OOM), #30559,
  #44187 (series never expire; fixed by `series_expiration`, #48270)
- grafana/k8s-monitoring-helm#2875 (memory after enabling expiry)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Param, Rule, Severity, Violation
from meshlint.domain.cardinality import OTEL_UNBOUNDED
from meshlint.domain.otel import HOST_KINDS, metric_connectors, views


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    names = ctx.params["unbounded-attributes"]
    unbounded = {str(n) for n in names}
    for view in views(doc):
        for connector in metric_connectors(view):
            if connector.cardinality_limit:
                continue  # aggregation_cardinality_limit caps the series it keeps
            if connector.never_expires:
                yield view.violation(
                    connector.path,
                    f'{connector.type} connector "{connector.id}" sets neither '
                    "metrics_expiration nor series_expiration (0 = never): every series it "
                    "has seen stays in memory and is exported until the collector restarts",
                )
            for name, path in connector.dimensions:
                if name in unbounded:
                    why = OTEL_UNBOUNDED.get(name, "listed in unbounded-attributes")
                    yield view.violation(
                        path,
                        f'{connector.type} connector "{connector.id}" takes dimension "{name}" '
                        f"({why}): one new series per value, kept in memory",
                    )


RULE = Rule(
    id="O007",
    slug="otel-connector-unbounded-cardinality",
    severity=Severity.WARNING,
    summary="A spanmetrics/servicegraph connector never expires series or takes an unbounded "
    "dimension",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS,
    params=(
        Param(
            name="unbounded-attributes",
            type=list,
            default=tuple(sorted(OTEL_UNBOUNDED)),
            help="attribute names whose values have no bound, reported as dimensions",
        ),
    ),
)
