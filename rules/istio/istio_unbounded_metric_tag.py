"""
## What it does
Flags a metric tag whose value is copied from a request attribute with no bound
on its values: `request.url_path`, `request.path`, `request.query_params`,
`request.headers[...]`, `request.useragent`, `request.id`, `request.referer`,
`request.host` / `:authority` (except `destination_service` from the host, which
I001 reports), `connection.requested_server_name` (the TLS SNI), client
addresses and `destination.address` (one value per upstream endpoint). It reads every place Istio takes tag expressions from:

- Telemetry `spec.metrics[].overrides[].tagOverrides.<tag>.value` (not of an
  override with `disabled: true`, whose metric is not generated, nor of an
  `operation: REMOVE`; istio 1.27 `pilot/pkg/model/telemetry.go`);
- IstioOperator/Helm `values.telemetry.v2.prometheus.configOverride.<block>.metrics[].dimensions`;
- `istio.stats` EnvoyFilter patches (`metrics[].dimensions`, also inside a JSON
  `configuration` string).

An expression that only tests the attribute (`has(...)`, a comparison,
`startsWith`) yields a few values and is not reported. A ternary is judged by
its branches: `has(request.headers['x-user']) ? request.headers['x-user'] :
'none'` still copies the raw header.

## Why is this bad?
Every proxy keeps one series per distinct tag combination of each metric in
its memory and serves all of them to every scrape. A tag taken from the URL
path or a header adds series with every new path or client, so sidecars grow
until they are evicted, which users report as a proxy "memory leak"
(istio#29505), and Prometheus drowns in cardinality (istio#40622).

## Example
```yaml
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: request-path-tag
  namespace: istio-system
spec:
  metrics:
    - providers:
        - name: prometheus
      overrides:
        - match:
            metric: REQUEST_COUNT
            mode: SERVER
          tagOverrides:
            request_path:
              value: request.url_path
```

## Use instead
```yaml
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: request-path-tag
  namespace: istio-system
spec:
  metrics:
    - providers:
        - name: prometheus
      overrides:
        - match:
            metric: REQUEST_COUNT
            mode: SERVER
          tagOverrides:
            api_version:
              value: "request.url_path.startsWith('/v2/') ? 'v2' : 'v1'"
```

## References
- Istio docs, "Customizing Istio Metrics with Telemetry API" (`tagOverrides`)
  and the attribute vocabulary (`request.url_path`, `request.headers`, ...)
- Envoy "Attributes" (arch_overview/advanced/attributes), the CEL vocabulary
  Istio 1.21-1.31 tag expressions evaluate: `request.referer`,
  `connection.requested_server_name`, `destination.address`
- istio/istio#29505 (sidecar memory grows with metric tags), #40622
  (Prometheus cardinality)
- the list of unbounded attributes and why each is: `meshlint/domain/cardinality.py`
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.cardinality import istio_reason, istio_unbounded
from meshlint.domain.istio import from_request_host, metric_tags


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for path, tag, expression, surface in metric_tags(doc):
        attribute = istio_unbounded(expression)
        if attribute is None:
            continue
        if tag == "destination_service" and from_request_host(expression):
            continue  # I001 reports the host in destination_service
        yield Violation(
            at=path,
            message=f'{surface} sets tag "{tag}" from {expression!r} ({istio_reason(attribute)}): '
            "one new series per value in every proxy",
        )


RULE = Rule(
    id="I007",
    slug="istio-unbounded-metric-tag",
    severity=Severity.WARNING,
    summary="An Istio metric tag takes its value from an unbounded request attribute",
    doc=__doc__ or "",
    check=check,
    kinds=frozenset({"Telemetry", "IstioOperator", "EnvoyFilter"}),
)
