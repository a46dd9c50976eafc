"""
## What it does
Flags workloads whose telemetry or proxy sidecar will stop before the
application has finished shutting down:
- a jaeger-agent, OpenTelemetry collector, istio-proxy or Envoy container that
  runs beside an application as an ordinary container with no `preStop` hook
  (for istio-proxy, `EXIT_ON_ZERO_ACTIVE_CONNECTIONS=true` also counts);
- a Deployment annotated `sidecar.jaegertracing.io/inject` (the operator
  injects the agent as an ordinary container without a hook);
- an Istio-injected workload whose application declares a longer shutdown than
  the proxy's `terminationDrainDuration` (5s by default) while the proxy
  neither uses `EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"` nor runs as a native
  sidecar: `terminationGracePeriodSeconds` above the drain, or an application
  `preStop` hook at least as long as the drain (the application gets SIGTERM
  only after its hook). A hook's length is read from `sleep.seconds` and from
  `exec` commands made only of `sleep N` and commands that return at once
  (`kill`, `echo`, `nginx -s quit`); an `httpGet` hook, a script or binary, a
  loop or `wait` has a length meshlint cannot read and counts as longer than
  the drain.
Injection follows Istio: pod label/annotation `sidecar.istio.io/inject`,
`istio.io/rev`, or the namespace's `istio-injection`/`istio.io/rev` label.
Native sidecars are decided as the injector does: the pod's
`sidecar.istio.io/nativeSidecar` as the injecting Istio reads it (not before
1.24; `"true"` alone in 1.24-1.26; any value but `"false"` from 1.27), else istiod's
`ENABLE_NATIVE_SIDECARS`, whose `auto` (the default since 1.27) needs every
kubelet at 1.33+ (`--kube-version`); an install of unknown version counts as
1.27+. Not judged: a certificate-writer proxy (`OUTPUT_CERTS` with no traffic
redirected through it, such as Istio's Prometheus recipe) and the pods an
Istio install renders itself (istiod, its gateways, ztunnel, CNI).

## Why is this bad?
Without native sidecars (KEP-753), every ordinary container of a terminating
pod gets SIGTERM at the same moment. The sidecar exits first: an Istio proxy
stops accepting connections after its drain (5s), so the application's last
requests and outgoing calls fail; a Jaeger agent dies with its queue, so the
spans of every shutdown are lost (jaeger#2021, jaeger#1255). Native sidecars
(`initContainers` with `restartPolicy: Always`, K8s 1.29+) are stopped only
after the application containers have exited.

## Example
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  namespace: shop
spec:
  template:
    spec:
      terminationGracePeriodSeconds: 60
      containers:
        - name: orders
          image: registry.example.com/orders:3.1.0
```

## Use instead
```yaml
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: orders
  namespace: shop
spec:
  template:
    metadata:
      annotations:
        proxy.istio.io/config: |
          proxyMetadata:
            EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"
    spec:
      terminationGracePeriodSeconds: 60
      containers:
        - name: orders
          image: registry.example.com/orders:3.1.0
```

## References
- KEP-753 Sidecar Containers (termination order), https://github.com/kubernetes/enhancements/tree/master/keps/sig-node/753-sidecar-containers
- istio `pkg/envoy/agent.go` (`EXIT_ON_ZERO_ACTIVE_CONNECTIONS`, Istio 1.12+), `sidecar.istio.io/nativeSidecar` (1.24+)
- jaeger#2021, jaeger#1255 (spans lost when the agent stops first), opentelemetry-operator#4065
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.components import Component, component_of
from meshlint.domain.istio import (
    FACT_KINDS,
    Mesh,
    Proxy,
    collect,
    every,
    falsy,
    is_gateway,
    is_istio_proxy,
    truthy,
)
from meshlint.domain.k8s import WORKLOAD_KINDS, containers_of, duration_text, get_in

_SIDECARS = {
    Component.JAEGER_AGENT: "Jaeger agent",
    Component.OTEL_COLLECTOR: "OpenTelemetry collector",
    Component.ISTIO_PROXY: "Istio proxy",
    Component.ENVOY: "Envoy",
}
JAEGER_INJECT = "sidecar.jaegertracing.io/inject"


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    if doc.kind not in WORKLOAD_KINDS:
        return
    pod = Mesh.of_document(doc, ctx).workloads
    # Istio's own pods and certificate writers carry no application traffic to outlive
    istio_own = bool(pod) and (pod[0].control_plane or pod[0].cert_writer)
    found = list(containers_of(doc))
    regular = [c for c in found if c.role == "container"]
    kinds = [component_of(c) for c in regular]
    if any(k not in _SIDECARS for k in kinds):  # there is an application to outlive
        for container, kind in zip(regular, kinds, strict=True):
            if kind not in _SIDECARS or get_in(container.data, ("lifecycle", "preStop")):
                continue
            if kind is Component.ISTIO_PROXY and (
                istio_own
                or is_gateway(doc, container, found)  # extra containers serve the gateway
                or container.image == "auto"  # the injector fills it in: see check_run
                or not is_istio_proxy(container)  # ztunnel
            ):
                continue
            exit_var = container.env_var("EXIT_ON_ZERO_ACTIVE_CONNECTIONS")
            if kind is Component.ISTIO_PROXY and exit_var and truthy(exit_var.value):
                continue
            yield Violation(
                at=container.path,
                message=f'{_SIDECARS[kind]} sidecar "{container.name}" is an ordinary container with no '
                "preStop hook: it gets SIGTERM with the application and may stop before the "
                "application has drained",
            )
    annotations = get_in(doc.data, ("metadata", "annotations"))
    value = annotations.get(JAEGER_INJECT) if isinstance(annotations, dict) else None
    has_agent = Component.JAEGER_AGENT in kinds
    if doc.kind == "Deployment" and value is not None and not falsy(value) and not has_agent:
        yield Violation(
            at=("metadata", "annotations", JAEGER_INJECT),
            message=f'{JAEGER_INJECT}: "{value}" makes the Jaeger operator add jaeger-agent as an '
            "ordinary container with no preStop hook: it dies with the application and drops "
            "its spans",
        )


def _hook_outlasts(p: Proxy) -> bool:
    """The app's preStop runs at least as long as the proxy's drain, or for a time
    meshlint cannot read (inf). The app gets SIGTERM only when its hook returns, so
    a hook as long as the drain leaves the app's whole shutdown without a proxy."""
    hook = p.workload.app_prestop
    return hook is not None and hook.value > 0 and hook.value >= p.drain


def _grace_outlasts(p: Proxy) -> bool:
    grace = p.workload.grace
    return grace is not None and grace.value > p.drain


def _stops_first(p: Proxy) -> bool:
    """The proxy stops on SIGTERM after its drain, before the app's declared shutdown."""
    if p.exit_on_zero or p.native:
        return False
    return _hook_outlasts(p) or _grace_outlasts(p)


def check_run(ctx: Context) -> Iterator[Violation]:
    mesh = Mesh.of(ctx)
    for w in mesh.workloads:
        box = w.proxy_container
        if (box is not None and (box.gateway or not box.auto)) or not w.app_containers:
            continue  # an istio-proxy written in the manifest is judged by check()
        if not w.intercepts or w.control_plane:
            continue  # the proxy carries none of the app's traffic, or is Istio's own
        proxy = every(mesh.proxies(w), _stops_first)
        if proxy is None:
            continue
        drain = duration_text(proxy.drain)
        if w.app_prestop is not None and _hook_outlasts(proxy):
            wait = w.app_prestop.value
            length = (
                "whose length cannot be read" if wait == math.inf else f"of {duration_text(wait)}"
            )
            anchor, what = w.app_prestop.at, f"a preStop hook {length}"
        elif w.grace is not None and _grace_outlasts(proxy):
            anchor, what = w.grace.at, f"terminationGracePeriodSeconds {w.grace.value:g}"
        else:
            continue
        yield Violation(
            at=anchor,
            message=f"the application declares {what}, but its injected istio-proxy stops after its "
            f"{drain} drain (no EXIT_ON_ZERO_ACTIVE_CONNECTIONS, not a native sidecar): "
            "connections during the rest of the shutdown fail",
        )


RULE = Rule(
    id="I004",
    slug="sidecar-drain-missing",
    severity=Severity.WARNING,
    summary="A telemetry or proxy sidecar stops before the application has shut down",
    doc=__doc__ or "",
    check=check,
    kinds=FACT_KINDS,
    collect=collect,
    check_run=check_run,
)
