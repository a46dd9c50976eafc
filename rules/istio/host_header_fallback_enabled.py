"""
## What it does
Flags the places where Istio's HTTP stats filter is left to fill the
`destination_service` label from the request's `Host` header (the host-header
fallback): an `istio.stats` EnvoyFilter patch of the HTTP filter with
`disable_host_header_fallback: false` (or an inserted/replacing gateway or
inbound patch that omits it; the TCP stats filter, a `NETWORK_FILTER` beside
`tcp_proxy`, has no Host header and no fallback); an IstioOperator/Helm
`telemetry.v2.prometheus.configOverride.{gateway,inboundSidecar,outboundSidecar}`
block that omits it; and a Telemetry `tagOverrides.destination_service` whose
value is the request host.

As info, a mesh-wide install (IstioOperator, mesh ConfigMap, OSSM control
plane) whose outbound traffic policy is `ALLOW_ANY` (the default) with
Prometheus metrics on, when no EnvoyFilter or Telemetry in the linted files
disables the fallback or removes `destination_service` for outbound traffic:
a latent risk of every default install, real only where apps call many
external hosts. Not such an install:
- no istiod (`components.pilot.enabled: false`, the `empty`, `external` and
  `remote` profiles);
- no Prometheus stats: `telemetry.enabled`/`telemetry.v2.enabled`/
  `telemetry.v2.prometheus.enabled: false`, `defaultProviders.metrics`
  without `prometheus`, a root-namespace Telemetry sending metrics to other
  providers only, OSSM `telemetry.type: None`;
- Mixer-era telemetry, before the `istio.stats` filter (telemetry v2, Istio
  1.5): an Istio tag below 1.5, OSSM 1.x (`maistra.io/v1` unless
  `telemetry.v2.enabled`, `spec.version: v1.x`, `telemetry.type: Mixer`);
- an ambient install (`profile: ambient`, `PILOT_ENABLE_AMBIENT`) unless a
  linted workload gets a sidecar from it: waypoints build their stats as
  inbound sidecars (fallback off) and ztunnel is L4.

An IstioOperator that names no profile gets the `default` profile from
`istioctl install -f`. The IstioOperators of one file and revision, those
of other files with the same namespace, name and revision (a kustomize patch
of a base), and nameless option files that name no profile in a directory below an
install (`istioctl install -f base.yaml -f options/x.yaml`, ASM's `options/`:
layers of the nearest install above them) are one install, reported once.
Nameless files side by side are alternative installs, each reported.

Facts it uses (docs/facts.md): the Istio version of the install. An install
whose own parts carry no version is Mixer-era when the scope shows an Istio
below 1.5 near it. A `configOverride` block is judged by the version that
reads it: up to 1.20 it replaces the stats filter config (the fallback risk);
from 1.21 the chart refuses it and the install fails, which the message says
instead; with the version unknown the message says both.

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
- istio `pilot/pkg/model/telemetry.go` (`disableHostHeaderFallback`: only `SidecarInbound` and
  `Gateway` turn it off, 1.22-1.31), `pilot/pkg/networking/core/listener_waypoint.go`
  (waypoints use `ListenerClassSidecarInbound`), `manifests/helm-profiles/remote.yaml`
- Istio docs, "Customizing Istio Metrics with Telemetry API"
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Cluster, Context, Document, Fix, Rule, Severity, Violation
from meshlint.domain.istio import (
    FACT_KINDS,
    FALLBACK,
    TELEMETRY_V2,
    Install,
    Mesh,
    collect,
    host_tag_overrides,
    stats_patches,
)
from meshlint.domain.k8s import mapping_at

_BLOCKS = ("gateway", "inboundSidecar", "outboundSidecar")
_OVERRIDE = ("spec", "values", "telemetry", "v2", "prometheus", "configOverride")


def _envoy_filter(doc: Document) -> Iterator[Violation]:
    for i, context, operation, found in stats_patches(doc, http_only=True):
        if found is not None and not found.value:
            # unsafe: destination_service then reads "unknown" where the registry cannot
            # name the destination, where dashboards showed the host
            fix = Fix.unsafe(f"set {FALLBACK}: true", found.slot.set(True)) if found.slot else None
            yield Violation(
                at=found.at,
                message=f"istio.stats patch for {context} sets {FALLBACK}: false: destination_service "
                "takes any Host header value, one new series per host",
                fix=fix,
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
                    when=Override(block),
                )


@dataclass(frozen=True, slots=True)
class Override:
    """A ``configOverride`` block judged by the version of the install it
    configures: a live fallback risk up to Istio 1.20; from 1.21 the chart
    refuses the value and the install fails (istio/istio
    releasenotes/notes/drop-telemetry-envoyfilter.yaml, 1.21.0)."""

    block: str

    def resolve(self, cluster: Cluster, file: str, message: str) -> str | None:
        fact = cluster.istio_version(file)
        if fact is not None and fact.value < OVERRIDE_REMOVED:
            return message
        where = f"configOverride.{self.block}"
        if fact is None:
            return (
                f"{where} replaces the whole stats filter config on Istio 1.11-1.20 and does not "
                f"set {FALLBACK}: true, so destination_service falls back to the Host header; "
                "from Istio 1.21 the chart refuses configOverride and the install fails (no "
                "Istio version in the linted files)"
            )
        shown = ".".join(str(v) for v in fact.value)
        return (
            f"{where} is removed in Istio 1.21: the install's Istio {shown} (at {fact.source}) "
            "refuses it and the install fails; remove it (patch the istio.stats filter with an "
            f"EnvoyFilter to keep {FALLBACK} off)"
        )


OVERRIDE_REMOVED = (1, 21)


def _sidecars(mesh: Mesh, install: Install) -> bool:
    """Some workload of the run gets a sidecar from ``install`` (an ambient mesh's
    waypoints record stats as inbound sidecars, with the fallback off)."""
    return any(
        not w.control_plane
        and mesh.injection(w)[0]
        and install in mesh.candidates(mesh.injection(w)[1], w.at.file)
        for w in mesh.workloads
    )


def _mixer_era(ctx: Context, install: Install) -> bool:
    """The scope's facts put the install before telemetry v2 (an Istio below 1.5
    elsewhere in its files: the pilot image of a split release, a tag in a
    values file)."""
    if ctx.cluster is None or not install.parts:
        return False
    fact = ctx.cluster.istio_version(install.parts[0].file)
    return fact is not None and fact.value < TELEMETRY_V2


def check_run(ctx: Context) -> Iterator[Violation]:
    mesh = Mesh.of(ctx)
    if mesh.fallback_cleared() or mesh.prometheus_off():
        return
    for install in mesh.installs:
        if not install.mesh_wide or install.prometheus_off or install.mixer:
            continue  # no istio.stats filter: Mixer-era telemetry, or Prometheus off
        if install.version is None and _mixer_era(ctx, install):
            continue
        if mesh.registry_only(install) or (install.ambient and not _sidecars(mesh, install)):
            continue
        outbound = install.outbound
        anchor = outbound.at if outbound else install.anchor
        if anchor is None:
            continue
        mode = f"is {outbound.value}" if outbound else "defaults to ALLOW_ANY"
        yield Violation(
            at=anchor,
            message=f"{install.label} outbound traffic policy {mode} and Prometheus stats keep the "
            "outbound host-header fallback: each external Host a sidecar passes through becomes a "
            "new destination_service series; where apps call many external hosts, set "
            "outboundTrafficPolicy.mode: REGISTRY_ONLY or remove destination_service from "
            "CLIENT metrics with a root-namespace Telemetry",
            # a latent risk of every default install, real only with many external hosts
            severity=Severity.INFO,
        )


RULE = Rule(
    id="I001",
    slug="host-header-fallback-enabled",
    severity=Severity.WARNING,
    summary="Istio stats host-header fallback can explode destination_service cardinality",
    doc=__doc__ or "",
    check=check,
    kinds=FACT_KINDS,
    collect=collect,
    check_run=check_run,
)
