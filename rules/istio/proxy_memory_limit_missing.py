"""
## What it does
Flags an Istio gateway or injected workload whose proxy has no memory limit:
an istio-proxy container (a gateway, or kube-inject output) without
`resources.limits.memory`; a pod whose `sidecar.istio.io/proxyCPU` /
`proxyMemory` annotations set requests but no
`sidecar.istio.io/proxyMemoryLimit` (the annotations replace
`global.proxy.resources` as a whole, so the default 1024Mi limit is dropped);
and an install whose `global.proxy.resources` removes the memory limit.
The gateways an install renders itself (labelled
`operator.istio.io/component` or `install.operator.istio.io/owning-resource`)
are judged with the install: one finding names all of them. A
certificate-writer proxy (`OUTPUT_CERTS`, no traffic redirected) carries no
application traffic and is not judged.

## Why is this bad?
Envoy's memory grows with connections, routes, stats series and buffered
spans. Unbounded, a proxy that leaks (the host-header fallback's
`destination_service` series, an unbounded tracer buffer) takes the node's
memory until the kubelet evicts pods by usage, the neighbours included. A
limit turns that into a restart of the one proxy, and shows up in alerts.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: catalog
  namespace: shop
spec:
  template:
    metadata:
      labels:
        sidecar.istio.io/inject: "true"
      annotations:
        sidecar.istio.io/proxyCPU: 100m
        sidecar.istio.io/proxyMemory: 128Mi
    spec:
      containers:
        - name: catalog
          image: registry.example.com/catalog:5.2.0
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: catalog
  namespace: shop
spec:
  template:
    metadata:
      labels:
        sidecar.istio.io/inject: "true"
      annotations:
        sidecar.istio.io/proxyCPU: 100m
        sidecar.istio.io/proxyMemory: 256Mi
        sidecar.istio.io/proxyMemoryLimit: 256Mi
    spec:
      containers:
        - name: catalog
          image: registry.example.com/catalog:5.2.0
```

## References
- istio `manifests/charts/istio-control/istio-discovery/files/injection-template.yaml` (annotations replace `global.proxy.resources`)
- istio-discovery `values.yaml` (`global.proxy.resources.limits.memory: 1024Mi`)
- istio#33073 (a gateway's memory growing to its limit)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Location, Rule, Severity, Violation
from meshlint.domain.istio import FACT_KINDS, Mesh, collect, every


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    """What the document says alone: an istio-proxy written without a limit, or an
    install whose global.proxy.resources drops the default limit."""
    mesh = Mesh.of_document(doc, ctx)
    for w in mesh.workloads:
        box = w.proxy_container
        if w.cert_writer or w.control_plane:
            continue  # no app traffic; an install's own pods are judged with the install
        if box is not None and not box.auto and not box.memory_limit:
            what = "gateway" if box.gateway else "sidecar"
            yield Violation(
                at=box.resources_at,
                message=f'Istio {what} container "{box.name}" has no memory limit',
            )
    for install in mesh.installs:
        limit = install.proxy_limit
        if limit is not None and not limit.value:
            yield Violation(
                at=limit.at,
                message=f"{install.label} global.proxy.resources removes the memory limit: every "
                "injected istio-proxy runs without one",
            )


def _install_gateways(mesh: Mesh) -> Iterator[Violation]:
    """The gateways an install renders itself, judged once per install (file)."""
    unbounded: dict[str, list[tuple[str, Location]]] = {}
    for w in mesh.workloads:
        box = w.proxy_container
        if w.control_plane and box is not None and not box.auto and not box.memory_limit:
            unbounded.setdefault(w.at.file, []).append((w.resource.name or "", box.resources_at))
    for found in unbounded.values():
        names = ", ".join(f'"{name}"' for name, _ in found)
        yield Violation(
            at=found[0][1],
            message=f"the install's gateway istio-proxy containers have no memory limit ({names})",
        )


def check_run(ctx: Context) -> Iterator[Violation]:
    """Pods whose proxy* annotations replace the install's resources (needs injection),
    and an install's own gateways without a limit, once per install."""
    mesh = Mesh.of(ctx)
    yield from _install_gateways(mesh)
    for w in mesh.workloads:
        box = w.proxy_container
        if not w.resource_annotations or (box is not None and not box.auto):
            continue
        if w.cert_writer or w.control_plane:
            continue
        proxy = every(mesh.proxies(w), lambda p: not (p.memory_limit and p.memory_limit.value))
        if proxy is None or proxy.memory_limit is None:
            continue
        yield Violation(
            at=proxy.memory_limit.at,
            message="sidecar.istio.io/proxy* annotations replace global.proxy.resources and set no "
            "sidecar.istio.io/proxyMemoryLimit, so the injected istio-proxy has no memory limit",
        )


RULE = Rule(
    id="I006",
    slug="proxy-memory-limit-missing",
    severity=Severity.WARNING,
    summary="An Istio gateway or injected proxy has no memory limit",
    doc=__doc__ or "",
    implied_by=frozenset({"K001"}),  # memory-limit-missing says it first at the same container
    check=check,
    kinds=FACT_KINDS,
    collect=collect,
    check_run=check_run,
)
