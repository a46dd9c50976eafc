"""
## What it does
Flags random trace sampling above `max-sampling-percent` (default 10) on every
surface Istio reads it from, where that surface is the one in effect:
`meshConfig.defaultConfig.tracing.sampling`, `values.pilot.traceSampling` /
`values.traceSampling` (and the `demo` profile, which sets 100), the istiod
`PILOT_TRACE_SAMPLING` env, a Telemetry `randomSamplingPercentage`, a pod's
`proxy.istio.io/config` `tracing.sampling`, and Red Hat OSSM's
`ServiceMeshControlPlane`: `spec.tracing.sampling` in `maistra.io/v2` (in
units of 0.01%: 10000 is 100%) and `spec.istio.pilot.traceSampling` in
`maistra.io/v1` (percent, as in Istio's Helm values). A setting shadowed by a
more specific one (a Telemetry over `defaultConfig`, `defaultConfig` over
`PILOT_TRACE_SAMPLING`) is not reported. The message names the setting as
written: an istiod env var as such, a Helm value as a value.

Versions: Istio 1.x to 1.31 (`PILOT_TRACE_SAMPLING` and `traceSampling`
default 1%), OSSM 1.x (`maistra.io/v1`) and 2.x (`maistra.io/v2`).

## Why is this bad?
Every sampled request makes each proxy on its path build, buffer and export
spans. At 100% and a few thousand requests per second the proxies' tracer
buffers and the collector's queues grow with traffic, not with a budget: an
Istio ingress gateway with the Datadog tracer grew to its 1 GB limit in ten
minutes (istio#33073). Client-forced traces (`x-client-trace-id`) are kept
regardless of the rate, so debugging does not need a high random rate.

## Example
```yaml
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  tracing:
    - providers:
        - name: otel-tracing
      randomSamplingPercentage: 100
```

## Use instead
```yaml
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  tracing:
    - providers:
        - name: otel-tracing
      randomSamplingPercentage: 1
```

## Parameters
- `max-sampling-percent` (float, default 10): the highest random sampling rate, in percent, that is not reported.

## References
- istio#33073 (gateway OOM with tracing on), DataDog/dd-opentracing-cpp#190 (forced sampling, no memory bound)
- istio `pilot/pkg/networking/core/tracing.go` (sampling precedence; 0 means unset)
- Red Hat OpenShift Service Mesh docs, "Configuring sampling" (units of 0.01%)
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from meshlint import Context, Document, Fix, Param, Rule, Severity, Violation
from meshlint.domain.istio import FACT_KINDS, Install, Located, Mesh, collect, percent

_WHY = "every proxy on a sampled path buffers and exports spans in proportion to traffic"


def _lowered(setting: Located, limit: float, *, ossm_units: bool = False) -> Fix | None:
    """The rate down to ``limit`` where it is written; OSSM's ``spec.tracing.sampling``
    is an integer count of 0.01% (maistra ``TracingConfig.Sampling``, int32), rounded
    down to stay within the limit. Unsafe: fewer traces are kept. None for a rate of
    0, which Istio reads as "unset" (the mesh's rate, or 1%, would apply), and
    where the value has no place of its own (the demo profile's rate)."""
    value: float = math.floor(limit * 100 + 1e-9) if ossm_units else limit
    if setting.slot is None or value <= 0:
        return None
    shown = percent(value / 100 if ossm_units else value)
    return Fix.unsafe(f"lower the sampling to {shown}", setting.slot.set(value))


def _violation(what: str, setting: Located, limit: float, *, ossm_units: bool = False) -> Violation:
    return Violation(
        at=setting.at,
        message=f"{what} samples {percent(setting.value)} of requests, above max-sampling-percent "
        f"{percent(limit)}: {_WHY}",
        fix=_lowered(setting, limit, ossm_units=ossm_units),
    )


def _pilot_setting(install: Install, where: Located) -> str:
    """Name istiod's sampling setting as the user wrote it."""
    part = install.source_of(where)
    if part is not None and part.surface == "Deployment":
        return "istiod env PILOT_TRACE_SAMPLING"
    label = part.surface if part is not None else install.label
    if label == "ServiceMeshControlPlane":
        return "ServiceMeshControlPlane spec.istio.pilot.traceSampling"
    if "PILOT_TRACE_SAMPLING" in where.at.path:
        return f"{label} values pilot.env.PILOT_TRACE_SAMPLING"
    return f"{label} values traceSampling"


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    """Surfaces nothing else can override: a Telemetry rate, an OSSM control plane."""
    if doc.kind not in ("Telemetry", "ServiceMeshControlPlane"):
        return
    limit = float(ctx.params["max-sampling-percent"])
    mesh = Mesh.of_document(doc, ctx)
    for fact in mesh.scoped:
        if fact.kind == "Telemetry" and fact.sampling and fact.sampling.value > limit:
            yield _violation("Telemetry randomSamplingPercentage", fact.sampling, limit)
    for install in mesh.installs:
        rate, where = install.sampling()
        if install.surface == "ServiceMeshControlPlane" and where and rate > limit:
            if where.at.path.endswith("traceSampling"):  # maistra.io/v1: percent
                yield _violation(
                    "ServiceMeshControlPlane spec.istio.pilot.traceSampling", where, limit
                )
            else:
                what = f"spec.tracing.sampling {rate * 100:g} (units of 0.01%)"
                yield _violation(what, where, limit, ossm_units=True)


def check_run(ctx: Context) -> Iterator[Violation]:
    limit = float(ctx.params["max-sampling-percent"])
    mesh = Mesh.of(ctx)
    shadowed = any(f.sampling for f in mesh.mesh_scoped("Telemetry"))
    for install in mesh.installs:
        rate, where = install.sampling()
        if shadowed or where is None or rate <= limit or install.tracing_off:
            continue
        if install.surface == "ServiceMeshControlPlane":
            continue  # check() reports it
        if where is install.mesh.proxy.sampling:
            what = "meshConfig defaultConfig.tracing.sampling"
        elif where.at.path.endswith(".profile"):
            what = "the demo profile (its traceSampling)"
        else:
            what = _pilot_setting(install, where)
        yield _violation(what, where, limit)
    for w in mesh.workloads:
        own = w.proxy.sampling
        if own is None or own.value <= limit:
            continue
        if any(f.sampling for f in mesh.applying("Telemetry", w)):
            continue  # a Telemetry rate wins over the annotation
        yield _violation("proxy.istio.io/config tracing.sampling", own, limit)


RULE = Rule(
    id="I002",
    slug="tracing-sampling-too-high",
    severity=Severity.WARNING,
    summary="Istio random trace sampling above the configured maximum",
    doc=__doc__ or "",
    check=check,
    kinds=FACT_KINDS,
    collect=collect,
    check_run=check_run,
    params=(
        Param(
            name="max-sampling-percent",
            type=float,
            default=10.0,
            help="highest random trace sampling rate (percent) that is not reported",
        ),
    ),
)
