"""
## What it does
Flags the places where Istio's stats filter is left to fill the
`destination_service` label from the request's `Host` header (the host-header
fallback): an `istio.stats` EnvoyFilter patch with
`disable_host_header_fallback: false` (or an inserted/replacing gateway or
inbound patch that omits it); an IstioOperator/Helm
`telemetry.v2.prometheus.configOverride.{gateway,inboundSidecar,outboundSidecar}`
block that omits it; a Telemetry `tagOverrides.destination_service` whose value
is the request host; and a mesh-wide install (IstioOperator, mesh ConfigMap)
whose outbound traffic policy is `ALLOW_ANY` (the default) with Prometheus
metrics on, when no EnvoyFilter or Telemetry in the linted files disables the
fallback or removes `destination_service` for outbound traffic.

Every IstioOperator is an install: one that names no profile gets the
`default` profile from `istioctl install -f`, which runs istiod with Prometheus
telemetry on. Only `components.pilot.enabled: false` or a profile without a
control plane (`empty`, `remote`, `external`) is not; the IstioOperators of
one file and revision are one install, reported once.

## Why is this bad?
When a proxy cannot name the destination from the mesh registry (passthrough
traffic to an external host, an unknown Host at a gateway), the stats filter
falls back to the Host header, so every distinct Host becomes a new
`destination_service` value. A sidecar calling thousands of customer domains
grew by ~25 series per request until it was evicted; at a gateway anyone can
send junk Host headers. Istio 1.11 turned the fallback off for inbound and
gateway traffic, but outbound sidecars keep it, and a non-empty Helm
`configOverride` replaces the whole filter config, silently turning it back on.

## Example
```yaml
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: control-plane
  namespace: istio-system
spec:
  profile: default
  meshConfig:
    outboundTrafficPolicy:
      mode: ALLOW_ANY
```

## Use instead
```yaml
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: control-plane
  namespace: istio-system
spec:
  profile: default
  meshConfig:
    outboundTrafficPolicy:
      mode: REGISTRY_ONLY
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: drop-destination-service
  namespace: istio-system
spec:
  metrics:
    - providers:
        - name: prometheus
      overrides:
        - match: {metric: ALL_METRICS, mode: CLIENT_AND_SERVER}
          tagOverrides:
            destination_service: {operation: REMOVE}
```

## References
- istio#18818 (junk Host headers in gateway metrics), istio#16892 (the fallback), istio/proxy#2546 (`disable_host_header_fallback`)
- Istio 1.11 change notes: inbound fallback disabled (istio#32726)
- istio `pilot/pkg/model/telemetry.go` (outbound sidecars keep the fallback)
- Istio docs, "Customizing Istio Metrics with Telemetry API"
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.istio import (
    FALLBACK,
    MESH_KINDS,
    Mesh,
    collect_mesh,
    host_tag_overrides,
    stats_patches,
)
from meshlint.domain.k8s import mapping_at

_BLOCKS = ("gateway", "inboundSidecar", "outboundSidecar")
_OVERRIDE = ("spec", "values", "telemetry", "v2", "prometheus", "configOverride")


def _envoy_filter(doc: Document) -> Iterator[Violation]:
    for i, context, operation, found in stats_patches(doc):
        if found is not None and not found.value:
            yield Violation(
                at=found.at,
                message=f"istio.stats patch for {context} sets {FALLBACK}: false: destination_service "
                "takes any Host header value, one new series per host",
            )
        elif (
            found is None
            and context in ("GATEWAY", "SIDECAR_INBOUND")
            and operation
            in (
                "INSERT_BEFORE",
                "INSERT_AFTER",
                "INSERT_FIRST",
                "REPLACE",
            )
        ):
            yield Violation(
                at=("spec", "configPatches", i, "patch", "value"),
                message=f"istio.stats {operation} patch for {context} omits {FALLBACK}, so the "
                "host-header fallback is on: destination_service takes any Host header value",
            )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    if doc.kind == "EnvoyFilter":
        yield from _envoy_filter(doc)
    elif doc.kind == "Telemetry":
        for path, value in host_tag_overrides(doc):
            yield Violation(
                at=path,
                message=f'destination_service is set from the request host ("{value}"): every '
                "distinct Host header becomes a new metric series",
            )
    elif doc.kind == "IstioOperator":
        overrides = mapping_at(doc.data, _OVERRIDE)
        for block in _BLOCKS:
            config = overrides.get(block)
            if isinstance(config, dict) and config and config.get(FALLBACK) is not True:
                yield Violation(
                    at=(*_OVERRIDE, block),
                    message=f"configOverride.{block} replaces the whole stats filter config and does not "
                    f"set {FALLBACK}: true, so destination_service falls back to the Host header",
                )


def check_run(ctx: Context) -> Iterator[Violation]:
    mesh = Mesh.of(ctx)
    if mesh.fallback_cleared():
        return
    for install in mesh.installs:
        if not install.mesh_wide or install.prometheus_off or mesh.registry_only(install):
            continue
        outbound = install.outbound
        anchor = outbound.at if outbound else install.anchor
        if anchor is None:
            continue
        mode = f"is {outbound.value}" if outbound else "defaults to ALLOW_ANY"
        yield Violation(
            at=anchor,
            message=f"{install.label} outbound traffic policy {mode} with Prometheus metrics on and "
            "no EnvoyFilter or Telemetry that disables the host-header fallback or removes "
            "destination_service: outbound sidecars record every external Host as a new series",
        )


RULE = Rule(
    id="I001",
    slug="host-header-fallback-enabled",
    severity=Severity.WARNING,
    summary="Istio stats host-header fallback can explode destination_service cardinality",
    doc=__doc__ or "",
    check=check,
    kinds=MESH_KINDS,
    collect=collect_mesh,
    check_run=check_run,
)
