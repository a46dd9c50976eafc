"""
## What it does
Flags Istio proxies that use a tracer whose span buffer has no bound, the
Datadog tracer (`meshConfig.defaultConfig.tracing.datadog`, the same in a
`proxy.istio.io/config` annotation, or a `datadog` extension provider that is
the default tracing provider or is referenced by a Telemetry), when the proxy
has no memory limit or samples more than 1% of requests.

## Why is this bad?
Envoy's Datadog tracer appends finished spans to an unbounded in-memory
buffer and flushes it on a timer; nothing caps its size. When the agent is
slow or traffic is high the buffer, and the proxy, grow until the memory limit
(or the node) is exhausted. An Istio ingress gateway with the Datadog tracer
grew to its 1 GB limit in ten minutes (istio#33073), and clients that send
`x-datadog-sampling-priority: 1` force every request to be traced whatever
the random rate (DataDog/dd-opentracing-cpp#190). Keep sampling at 1% or
below and give proxies a memory limit, or use a tracer with a bounded buffer
(OpenTelemetry, Zipkin).

## Example
```yaml
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: control-plane
  namespace: istio-system
spec:
  meshConfig:
    enableTracing: true
    defaultConfig:
      tracing:
        sampling: 50
        datadog:
          address: $(HOST_IP):8126
```

## Use instead
```yaml
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: control-plane
  namespace: istio-system
spec:
  meshConfig:
    enableTracing: true
    defaultConfig:
      tracing:
        sampling: 1
        datadog:
          address: $(HOST_IP):8126
  values:
    global:
      proxy:
        resources:
          requests: {cpu: 100m, memory: 256Mi}
          limits: {cpu: "2", memory: 1Gi}
```

## References
- istio#33073 (Datadog tracer, gateway OOM), DataDog/dd-opentracing-cpp#190 (no memory limit on traces)
- DataDog/dd-trace-cpp `src/datadog/datadog_agent.cpp` (unbounded span buffer, 2 s flush)
- envoy#20187 (Datadog frames in a growing heap profile)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.istio import FACT_KINDS, Install, Located, Mesh, collect, percent

MAX_SAMPLING = 1.0  # Istio's default rate: above it the unbounded buffer grows with traffic


def _reason(sampling: float, limit: Located | None) -> str | None:
    if limit is not None and not limit.value:
        return "proxies have no memory limit"
    if sampling > MAX_SAMPLING:
        return f"sampling is {percent(sampling)} (above {percent(MAX_SAMPLING)})"
    return None


def _message(what: str, reason: str) -> str:
    return (
        f"{what} uses the Datadog tracer, whose span buffer has no bound, and {reason}: "
        "while the Datadog agent is slow or unreachable, proxy memory grows with traffic and "
        "can reach the OOM kill"
    )


def _datadog_providers(mesh: Mesh) -> set[str]:
    return {p.name for i in mesh.installs for p in i.mesh.providers if p.type == "datadog"}


def _install(mesh: Mesh, install: Install, datadog: set[str]) -> Iterator[Violation]:
    rate, _, _ = mesh.mesh_sampling(install)
    reason = _reason(rate, install.proxy_limit)
    if reason is None:
        return
    yield from _sources(install, datadog, reason)


def _sources(install: Install, datadog: set[str], reason: str) -> Iterator[Violation]:
    """Each place that makes this install's proxies trace with Datadog."""
    own = install.mesh.proxy.datadog
    if install.tracing_off:
        own = None  # enableTracing: false leaves defaultConfig.tracing unused
    if own is not None:
        yield Violation(at=own.at, message=_message("meshConfig defaultConfig.tracing", reason))
    elif install.values_datadog is not None and not install.tracing_off:
        what = "values global.proxy.tracer"
        yield Violation(at=install.values_datadog.at, message=_message(what, reason))
    for provider in install.mesh.providers:
        if provider.name in install.mesh.default_tracing and provider.name in datadog:
            what = f'default tracing provider "{provider.name}"'
            yield Violation(at=provider.at, message=_message(what, reason))


def _unlimited_alone(install: Install) -> bool:
    """One object both picks Datadog and drops the proxy memory limit: no other can fix it."""
    limit = install.proxy_limit
    if limit is None or limit.value:
        return False
    own = _own_datadog(install)
    default = any(name in own for name in install.mesh.default_tracing)
    return install.mesh.proxy.datadog is not None or install.values_datadog is not None or default


def _own_datadog(install: Install) -> set[str]:
    return {p.name for p in install.mesh.providers if p.type == "datadog"}


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    if doc.kind not in ("IstioOperator", "ConfigMap", "ServiceMeshControlPlane"):
        return
    mesh = Mesh.of_document(doc, ctx)
    for install in mesh.installs:
        if _unlimited_alone(install):
            yield from _sources(install, _own_datadog(install), "proxies have no memory limit")


def check_run(ctx: Context) -> Iterator[Violation]:
    mesh = Mesh.of(ctx)
    datadog = _datadog_providers(mesh)
    for install in mesh.installs:
        if any(_unlimited_alone(Install((part,))) for part in install.parts):
            continue  # reported by check()
        yield from _install(mesh, install, datadog)
    limit = next((i.proxy_limit for i in mesh.installs if i.proxy_limit), None)
    for fact in mesh.scoped:
        for ref in fact.tracing_providers:
            name = ref.value
            if name not in datadog and not (not datadog and "datadog" in name.lower()):
                continue
            rate = (
                fact.sampling.value
                if fact.sampling
                else mesh.mesh_sampling(mesh.candidates(None)[0])[0]
            )
            reason = _reason(rate, limit)
            if reason:
                yield Violation(at=ref.at, message=_message(f'Telemetry provider "{name}"', reason))
    for w in mesh.workloads:
        if w.proxy.datadog is None:
            continue
        proxies = mesh.proxies(w, assume_injected=True)
        reasons = [_reason(p.sampling, p.memory_limit) for p in proxies]
        if reasons and all(reasons):
            what = "proxy.istio.io/config tracing"
            yield Violation(at=w.proxy.datadog.at, message=_message(what, str(reasons[0])))


RULE = Rule(
    id="I003",
    slug="unbounded-tracer-buffer",
    severity=Severity.WARNING,
    summary="Istio proxies use the Datadog tracer (unbounded span buffer) without a bound",
    doc=__doc__ or "",
    check=check,
    kinds=FACT_KINDS,
    collect=collect,
    check_run=check_run,
)
