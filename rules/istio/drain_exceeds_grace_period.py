"""
## What it does
Adds up how long an Istio proxy needs to stop, its `terminationDrainDuration`
(the pod's `proxy.istio.io/config` annotation, else the mesh's
`defaultConfig`, else 5s) plus any `preStop` hook of the proxy (the
istio-proxy container's, or `global.proxy.lifecycle`), and flags it when that
reaches the pod's `terminationGracePeriodSeconds` (default 30). A mesh-wide
default is reported once, at the mesh config, when it already reaches the
default grace period.

## Why is this bad?
On pod deletion the kubelet sends SIGTERM and, when the grace period is over,
SIGKILL. pilot-agent reacts to SIGTERM by draining Envoy and sleeping for the
whole drain duration; if that does not fit in the grace period the proxy is
killed mid-drain: open connections are reset instead of closed, and with
native sidecars (KEP-753) the proxy's own shutdown is cut short after the
application has used up the budget.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
  namespace: shop
spec:
  template:
    metadata:
      labels:
        sidecar.istio.io/inject: "true"
      annotations:
        proxy.istio.io/config: |
          terminationDrainDuration: 60s
    spec:
      terminationGracePeriodSeconds: 30
      containers:
        - name: payments
          image: registry.example.com/payments:2.0.1
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments
  namespace: shop
spec:
  template:
    metadata:
      labels:
        sidecar.istio.io/inject: "true"
      annotations:
        proxy.istio.io/config: |
          terminationDrainDuration: 20s
    spec:
      terminationGracePeriodSeconds: 45
      containers:
        - name: payments
          image: registry.example.com/payments:2.0.1
```

## References
- istio/api `mesh/v1alpha1/proxy.proto` (`termination_drain_duration`, default 5s)
- istio `pkg/envoy/agent.go` (drain, then exit), KEP-753 (termination order of sidecars)
- Kubernetes `core/v1` PodSpec `terminationGracePeriodSeconds` (default 30)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.istio import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_GRACE_SECONDS,
    FACT_KINDS,
    INSTALL_KINDS,
    Install,
    Mesh,
    Proxy,
    collect,
    every,
)
from meshlint.domain.k8s import duration_text


def _grace(p: Proxy) -> float:
    grace = p.workload.grace
    return float(grace.value) if grace is not None else DEFAULT_GRACE_SECONDS


def _over(p: Proxy) -> bool:
    return p.drain + p.prestop >= _grace(p)


def _workload(mesh: Mesh) -> Iterator[Violation]:
    for w in mesh.workloads:
        own_drain = w.proxy.drain
        own_wait = w.proxy_container.prestop if w.proxy_container else None
        if own_drain is None and w.grace is None and own_wait is None:
            continue  # only mesh defaults are involved: reported once at the mesh config
        proxy = every(mesh.proxies(w, assume_injected=own_drain is not None), _over)
        if proxy is None:
            continue
        parts = [f"terminationDrainDuration {duration_text(proxy.drain)}"]
        if proxy.prestop:
            parts.append(f"proxy preStop {duration_text(proxy.prestop)}")
        grace = _grace(proxy)
        given = "" if w.grace is not None else " (the default)"
        anchor = own_drain or own_wait or w.grace or proxy.drain_at
        if anchor is None:
            continue
        yield Violation(
            at=anchor.at,
            message=f"{' + '.join(parts)} >= terminationGracePeriodSeconds {grace:g}{given}: the "
            "istio-proxy is SIGKILLed mid-drain and its open connections are reset",
        )


def _install(install: Install) -> Violation | None:
    drain, wait = install.mesh.proxy.drain, install.proxy_prestop
    total = (drain.value if drain else DEFAULT_DRAIN_SECONDS) + (wait.value if wait else 0.0)
    where = drain or wait
    if where is None or total < DEFAULT_GRACE_SECONDS:
        return None
    return Violation(
        at=where.at,
        message=f"mesh default proxy shutdown {duration_text(total)} (terminationDrainDuration"
        f"{' + global.proxy.lifecycle preStop' if wait else ''}) >= the default "
        f"terminationGracePeriodSeconds {DEFAULT_GRACE_SECONDS:g}: every pod that does not "
        "raise its grace period has its proxy SIGKILLed mid-drain",
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    """A mesh default that alone does not fit the default grace period."""
    if doc.kind not in INSTALL_KINDS:
        return
    for install in Mesh.of_document(doc, ctx).installs:
        found = _install(install)
        if found is not None:
            yield found


def check_run(ctx: Context) -> Iterator[Violation]:
    mesh = Mesh.of(ctx)
    yield from _workload(mesh)
    for install in mesh.installs:
        # a rendered install whose drain (mesh ConfigMap) and preStop (injector values)
        # only add up together; a part that is over on its own was reported by check()
        if len(install.parts) < 2 or any(_install(Install((p,))) for p in install.parts):
            continue
        found = _install(install)
        if found is not None:
            yield found


RULE = Rule(
    id="I005",
    slug="drain-exceeds-grace-period",
    severity=Severity.ERROR,
    summary="Istio proxy drain does not fit in the pod's termination grace period",
    doc=__doc__ or "",
    check=check,
    kinds=FACT_KINDS,
    collect=collect,
    check_run=check_run,
)
