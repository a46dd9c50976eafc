"""
## What it does
Adds up how long an Istio proxy needs to stop with the drain pilot-agent
really runs, plus any `preStop` hook of the proxy (the istio-proxy
container's, or `global.proxy.lifecycle`), and flags it when that reaches the
pod's `terminationGracePeriodSeconds` (default 30):
- by default, `terminationDrainDuration` (the pod's `proxy.istio.io/config`
  annotation, else the mesh's `defaultConfig`, else 5s);
- with `EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"` (Istio 1.12+; proxyMetadata,
  a ProxyConfig resource or the container's env), `MINIMUM_DRAIN_DURATION`
  (default 5s): the agent waits that long, then exits once no connection is
  left, and `terminationDrainDuration` is not used;
- native sidecars drain from the injected `preStop` (`pilot-agent request POST
  drain`, Istio 1.21+) and exit at once on the SIGTERM that follows the
  application's exit: no finding, unless `global.proxy.lifecycle` replaces
  that hook. A proxy is native as the injector decides: the pod's
  `sidecar.istio.io/nativeSidecar` annotation as the injecting install's
  version reads it (not before 1.24; "true" alone in 1.24-1.26; any value but
  "false" from 1.27; the facts layer gives the version, unknown counts as 1.27+),
  else istiod's `ENABLE_NATIVE_SIDECARS` (`true`/`false`; `auto`, the default
  since 1.27, needs every kubelet at 1.33+, read from `--kube-version`; an
  install of unknown version counts as 1.27+).
A certificate-writer proxy (`OUTPUT_CERTS`, no traffic redirected) and the
pods an Istio install renders itself (istiod, its gateways, ztunnel, CNI) are
not judged per pod; a mesh-wide default is reported once, at the mesh config,
when it already reaches the default grace period.

`--unsafe-fixes` raises the pod's `terminationGracePeriodSeconds` (adding it
when absent) to the proxy's shutdown plus 5s, the time pilot-agent needs to
stop Envoy and exit after its drain sleep. It does not for an injected
sidecar that stops a fixed drain after SIGTERM beside an application: a
longer grace period would let the application run on without its proxy
(I004), and the repair there (a shorter drain,
`EXIT_ON_ZERO_ACTIVE_CONNECTIONS`, a native sidecar) is the user's choice.

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
- istio `pkg/envoy/agent.go` (`Agent.Run`: drain then exit, the native `/drain` + SIGTERM
  path, `EXIT_ON_ZERO_ACTIVE_CONNECTIONS`), `pilot/cmd/pilot-agent/options/options.go`
  (`MINIMUM_DRAIN_DURATION` 5s), istio#47226 (native drain, 1.21)
- istio `pkg/kube/inject/webhook.go` (`DetectNativeSidecar`, kubelets >= 1.33),
  `injection-template.yaml` (the annotation, the drain `preStop`), `pilot/pkg/features/pilot.go`
- KEP-753 (termination order of sidecars)
- Kubernetes `core/v1` PodSpec `terminationGracePeriodSeconds` (default 30)
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from meshlint import Context, Document, Fix, Rule, Severity, Violation
from meshlint.domain.istio import (
    DEFAULT_GRACE_SECONDS,
    DURATION,
    EXIT_ON_ZERO,
    FACT_KINDS,
    INSTALL_KINDS,
    NATIVE,
    Install,
    Mesh,
    Proxy,
    collect,
    every,
)
from meshlint.domain.k8s import duration_text

# What a fix adds to the proxy's shutdown: after its drain sleep pilot-agent still
# stops Envoy and exits (istio pkg/envoy/agent.go, Agent.terminate), and a grace
# period equal to the drain is already too short (the kubelet counts preStop and
# the drain from the same start). One default drain (5s) covers that exit
# without keeping a stuck pod much longer.
GRACE_MARGIN_SECONDS = 5


def _grace(p: Proxy) -> float:
    grace = p.workload.grace
    return float(grace.value) if grace is not None else DEFAULT_GRACE_SECONDS


def _over(p: Proxy) -> bool:
    if p.shutdown == NATIVE or p.cert_writer or p.workload.control_plane:
        return False
    return p.wait + p.prestop >= _grace(p)


def _wait_text(shutdown: str, wait: float) -> str:
    if shutdown == EXIT_ON_ZERO:
        return f"MINIMUM_DRAIN_DURATION {duration_text(wait)} (EXIT_ON_ZERO_ACTIVE_CONNECTIONS)"
    return f"terminationDrainDuration {duration_text(wait)}"


def _outlives_its_proxy(p: Proxy) -> bool:
    """An injected sidecar that stops a fixed drain after SIGTERM, beside an
    application: a grace period past that drain lets the application run on
    without its proxy (I004's finding), so no grace period fits both; the repair
    is the user's choice (a shorter drain, EXIT_ON_ZERO_ACTIVE_CONNECTIONS, a
    native sidecar)."""
    w, box = p.workload, p.workload.proxy_container
    auto = box is None or box.auto
    return (
        p.shutdown == DURATION and not p.native and auto and w.app_containers > 0 and w.intercepts
    )


def _raised_grace(proxies: list[Proxy]) -> Fix | None:
    """terminationGracePeriodSeconds raised to the longest shutdown of the candidate
    proxies (drain or minimum drain, plus the proxy's preStop), rounded up, plus
    ``GRACE_MARGIN_SECONDS``, on the pod spec (added when absent). Unsafe: a
    stuck pod then takes longer to go."""
    w = proxies[0].workload
    if w.grace_slot is None or any(_outlives_its_proxy(p) for p in proxies):
        return None
    needed = max(p.wait + p.prestop for p in proxies)
    if not math.isfinite(needed):
        return None
    seconds = math.ceil(needed) + GRACE_MARGIN_SECONDS
    title = f"raise terminationGracePeriodSeconds to {seconds}"
    return Fix.unsafe(title, w.grace_slot.set(seconds))


def _workload(mesh: Mesh) -> Iterator[Violation]:
    for w in mesh.workloads:
        box = w.proxy_container
        own_wait = box.prestop if box else None
        own_min = w.proxy.min_drain or (box.agent.min_drain if box else None)
        own = w.proxy.drain or own_min
        if own is None and w.grace is None and own_wait is None:
            continue  # only mesh defaults are involved: reported once at the mesh config
        proxies = mesh.proxies(w, assume_injected=w.proxy.drain is not None)
        proxy = every(proxies, _over)
        if proxy is None:
            continue
        parts = [_wait_text(proxy.shutdown, proxy.wait)]
        if proxy.prestop:
            parts.append(f"proxy preStop {duration_text(proxy.prestop)}")
        grace = _grace(proxy)
        given = "" if w.grace is not None else " (the default)"
        mine = own_min if proxy.shutdown == EXIT_ON_ZERO else w.proxy.drain
        anchor = mine or own_wait or w.grace or proxy.wait_at
        if anchor is None:
            continue
        yield Violation(
            at=anchor.at,
            message=f"{' + '.join(parts)} >= terminationGracePeriodSeconds {grace:g}{given}: the "
            "istio-proxy is SIGKILLed mid-drain and its open connections are reset",
            fix=_raised_grace(proxies),
        )


def _install(mesh: Mesh, install: Install) -> Violation | None:
    shutdown, seconds, where = mesh.default_shutdown(install)
    if shutdown == NATIVE:
        return None  # drained by the preStop hook, stopped after the app: no wait of its own
    wait = install.proxy_prestop
    total = seconds + (wait.value if wait else 0.0)
    where = where or wait
    if where is None or total < DEFAULT_GRACE_SECONDS:
        return None
    return Violation(
        at=where.at,
        message=f"mesh default proxy shutdown {duration_text(total)} ("
        f"{_wait_text(shutdown, seconds)}{' + global.proxy.lifecycle preStop' if wait else ''}) "
        f">= the default terminationGracePeriodSeconds {DEFAULT_GRACE_SECONDS:g}: every pod that "
        "does not raise its grace period has its proxy SIGKILLed mid-drain",
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    """A mesh default that alone does not fit the default grace period."""
    if doc.kind not in INSTALL_KINDS:
        return
    mesh = Mesh.of_document(doc, ctx)
    for install in mesh.installs:
        found = _install(mesh, install)
        if found is not None:
            yield found


def check_run(ctx: Context) -> Iterator[Violation]:
    mesh = Mesh.of(ctx)
    yield from _workload(mesh)
    for install in mesh.installs:
        # a rendered install whose drain (mesh ConfigMap) and preStop (injector values)
        # only add up together; a part that is over on its own was reported by check()
        parts = install.parts
        if len(parts) < 2 or any(_install(mesh, Install((p,))) for p in parts):
            continue
        found = _install(mesh, install)
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
