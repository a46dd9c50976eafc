"""
## What it does
Flags a container whose memory request is below its limit, or that has a
request and no limit, and gives the `memory.high` the kubelet would set under
the MemoryQoS feature. An injected Istio proxy sized by
`sidecar.istio.io/proxyMemory`/`proxyMemoryLimit` annotations is checked the
same way, and the message gives the pod's QoS class with it.

Versions (`--kube-version`, KEP-2570):
- before 1.22: no MemoryQoS, no finding;
- 1.22-1.26 (alpha): `memory.high = limit x 0.8`;
- 1.27-1.36 (alpha): `floor((request + 0.9 x (limit - request)) / 4096) x 4096`;
- 1.37 and later (beta, on by default): the kubelet's `memoryThrottlingFactor`
  defaults to nil and no `memory.high` is written, so nothing is reported
  unless the `memory-throttling-factor` parameter says which factor the
  cluster's kubelets set.

In every version `memory.high` is written only above the request.

## Why is this bad?
With MemoryQoS (cgroup v2) the kernel throttles a container's allocations at
`memory.high`, below its limit. A container that grows past that line is not
OOM-killed and restarted: it stalls in memory reclaim, its readiness probe
times out and the pod stops serving while looking alive. Setting request equal
to limit (Guaranteed QoS when CPU matches too) removes the throttling line.
This is `info` by default because MemoryQoS throttles only where the kubelet
turns it on (the alpha gate before 1.37, `memoryThrottlingFactor` from 1.37);
clusters that do should raise it (`severity: {K003: warning}`).

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.3.0
          resources:
            requests: {cpu: 500m, memory: 1Gi}
            limits: {cpu: "1", memory: 2Gi}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.3.0
          resources:
            requests: {cpu: "1", memory: 2Gi}
            limits: {cpu: "1", memory: 2Gi}
```

## Parameters
`memory-throttling-factor` (default 0: the kubelet's default for
`--kube-version`): the `memoryThrottlingFactor` of the cluster's kubelets, in
(0, 1]; set it for 1.37+ clusters that opt into throttling.

## References
- KEP-2570 Memory QoS, https://github.com/kubernetes/enhancements/tree/master/keps/sig-node/2570-memory-qos
- Coroot, "Kubernetes MemoryQoS: throttled instead of OOM-killed"
- Kubernetes `pkg/kubelet/kuberuntime/kuberuntime_container_linux.go` (memory.high)
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction

from meshlint import Context, Document, Fix, KeyPath, Param, Rule, Severity, Violation
from meshlint.domain.istio import PROXY_RESOURCE_ANNOTATIONS, proxy_resources
from meshlint.domain.k8s import (
    WORKLOAD_KINDS,
    Resources,
    containers,
    get_in,
    human_bytes,
    memory_high,
    pod_annotations,
    pod_template_metadata,
    qos_class,
    throttling_factor,
)


def _factor(ctx: Context) -> Fraction | None:
    """The throttling factor in effect: configured, else the kubelet's default."""
    if ctx.kube_version < (1, 22):
        return None  # no MemoryQoS
    configured: float = ctx.params["memory-throttling-factor"]
    if configured > 0:
        return Fraction(str(configured))
    return throttling_factor(ctx.kube_version)


def _request_is(doc: Document, path: KeyPath, limit: object) -> Fix | None:
    """Request = limit, written as the limit is: the pod is scheduled for its
    whole limit, a behaviour (and a bill) the user may not want."""
    if limit is None:
        return None
    return Fix.unsafe(f"set the memory request to {limit}", doc.set_value(path, limit))


def _verdict(
    doc: Document, what: str, res: Resources, at: tuple[KeyPath, KeyPath], ctx: Context, qos: str
) -> Violation | None:
    """``at``: where the memory request is, and where the limit it is judged by."""
    path, limit_path = at
    request, limit = res.requests.get("memory"), res.limit("memory")
    factor = _factor(ctx)
    if request is None or factor is None:
        return None  # no request (the API copies the limit, or nothing is set), or no memory.high
    req = request.value()
    shown = f"{float(factor):g}"
    if limit is None:
        if factor >= 1:
            return None
        formula = (
            f"{request} + {shown} x (node allocatable - {request})"
            if ctx.kube_version >= (1, 27)
            else f"{shown} x node allocatable"
        )
        return Violation(
            at=path,
            message=f"{what} has memory request {request} and no limit: under MemoryQoS memory.high = "
            f"{formula}, so it is throttled long before any OOM kill; pod QoS {qos}",
        )
    lim = limit.value()
    if req >= lim:
        return None
    high = memory_high(req, lim, ctx.kube_version, factor)
    if high is None or high >= lim:
        return None
    return Violation(
        at=path,
        message=f"{what} memory request {request} is below its limit {limit}: under MemoryQoS "
        f"memory.high = {high} bytes ({human_bytes(high)}), where allocations are throttled "
        f"instead of OOM-killed; pod QoS {qos}",
        # with no limit (the case above) there is nothing to set the request to
        fix=_request_is(doc, path, get_in(doc.data, limit_path)),
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    kind = doc.kind
    found = [(c, c.resources) for c in containers(doc.data, kind)]
    proxy = proxy_resources(pod_annotations(doc.data, kind))
    qos = qos_class([r for _, r in found] + ([proxy] if proxy else []))
    for container, res in found:
        resources = (*container.path, "resources")
        at = (*resources, "requests", "memory"), (*resources, "limits", "memory")
        verdict = _verdict(doc, f'Container "{container.name}"', res, at, ctx, qos)
        if verdict is not None:
            yield verdict
    if proxy is not None:
        annotations = (*(pod_template_metadata(kind) or ("metadata",)), "annotations")
        at = (
            (*annotations, PROXY_RESOURCE_ANNOTATIONS[("requests", "memory")]),
            (*annotations, PROXY_RESOURCE_ANNOTATIONS[("limits", "memory")]),
        )
        verdict = _verdict(doc, "The injected istio-proxy", proxy, at, ctx, qos)
        if verdict is not None:
            yield verdict


RULE = Rule(
    id="K003",
    slug="memoryqos-throttling-risk",
    severity=Severity.INFO,
    summary="Memory request below limit: MemoryQoS throttles at memory.high before the limit",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS,
    params=(
        Param(
            name="memory-throttling-factor",
            type=float,
            default=0.0,
            help="the kubelets' memoryThrottlingFactor; 0 = the default for --kube-version",
            minimum=0.0,
            maximum=1.0,
        ),
    ),
)
