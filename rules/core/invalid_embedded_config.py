"""
## What it does
Parses configuration that is embedded in another object and validates it
against its schema in `schemas/`: the `proxy.istio.io/config` pod annotation
(ProxyConfig YAML in a string, `schemas/istio-proxyconfig.schema.json`), the
`istio` mesh ConfigMap's `data.mesh` and IstioOperator `spec.meshConfig`
(MeshConfig, `schemas/istio-meshconfig.schema.json`). It reports YAML errors,
unknown fields (with the closest known name) and values of the wrong type, at
their line inside the host file. OpenTelemetry and Jaeger v2 collector configs
held in a ConfigMap or an `OpenTelemetryCollector` string are checked for YAML
errors too.

## Why is this bad?
The API server stores an annotation or a ConfigMap string without reading it,
so nothing complains at apply time. Istio then parses it strictly: a misspelt
`terminationDrainDuraton` or `EXIT_ON_ZERO_ACTIVE_CONNECTIONS: true` (a
boolean where ProxyConfig wants a string) makes the injector or istiod reject
the whole config, and the pod silently runs on mesh defaults, which are the
very settings (drain time, sampling) the config was written to change.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  template:
    metadata:
      annotations:
        proxy.istio.io/config: |
          terminationDrainDuraton: 20s
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:1.4.2
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  template:
    metadata:
      annotations:
        proxy.istio.io/config: |
          terminationDrainDuration: 20s
          proxyMetadata:
            EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:1.4.2
```

## References
- istio/api `mesh/v1alpha1/proxy.proto` (ProxyConfig) and `mesh/v1alpha1/config.proto` (MeshConfig)
- Istio docs, "proxy.istio.io/config" annotation,
  https://istio.io/latest/docs/reference/config/annotations/#ProxyConfig
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain import istio, otel
from meshlint.domain.k8s import WORKLOAD_KINDS


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    yield from istio.embedded_config_violations(doc)
    yield from otel.config_parse_errors(doc)


RULE = Rule(
    id="M004",
    slug="invalid-embedded-config",
    severity=Severity.ERROR,
    summary="An embedded config does not parse or does not match its schema",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | {"ConfigMap", "IstioOperator"} | otel.HOST_KINDS,
)
