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

YAML errors and wrong types are errors; an unknown field is a warning: Istio
reads mesh config and ProxyConfig leniently and drops it. A MeshConfig field
that older releases knew and a later one removed is named as removed, with the
release (istio/api `mesh/v1alpha1/config.proto`, where it is now `reserved`):
the Mixer and node-agent SDS settings (`mixerCheckServer`,
`mixerReportServer`, `mixerAddress`, `disablePolicyChecks`,
`disableMixerHttpReports`, `policyCheckFailOpen`,
`enableClientSidePolicyCheck`, `sidecarToTelemetrySessionAffinity`,
`disableReportBatch`, `reportBatchMaxEntries`, `reportBatchMaxTime`,
`sdsUdsPath`, `sdsRefreshDelay`, `enableSdsTokenMount`, `sdsUseK8sSaJwt`) in
1.8, `authPolicy` and `rdsRefreshDelay` in 1.9, `thriftConfig` in 1.17; and
ProxyConfig fields (`defaultConfig`, `proxy.istio.io/config`, from
`mesh/v1alpha1/proxy.proto`): `connectTimeout` in 1.6,
`parentShutdownDuration` in 1.17.

Facts it uses (docs/facts.md): the version of the Istio install that reads
the config (the same file first, then the nearest directory whose installs
agree; `cluster: {istio-version: ...}` declares it). A removed field is
reported only where that version no longer reads it, and the message names
the version and where it was seen; where the install's own release still reads
it (a vendored Istio 1.5 with `mixerCheckServer`) nothing is reported. With the
version unknown the field is still reported: every release in the tables
dropped it before the oldest Istio still supported, so any supported install
ignores it, and the message says the version was not found.
Versions: the schemas follow istio/api for Istio 1.20 to 1.31; the lenient
reading is `protomarshal.ApplyYAML` in every release of that range.

## Why is this bad?
The API server stores an annotation or a ConfigMap string without reading it,
so nothing complains at apply time. Istio then drops what it does not know: a
misspelt `terminationDrainDuraton` is ignored and the pod runs on the mesh's
drain time, the very setting the config was written to change. A value of the
wrong type, such as `EXIT_ON_ZERO_ACTIVE_CONNECTIONS: true` (a boolean where
ProxyConfig wants a string), is worse: Istio rejects the whole config.

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
