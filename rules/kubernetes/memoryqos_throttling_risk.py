"""
## What it does
Flags a container whose memory request is below its limit, or that has a
request and no limit, and gives the `memory.high` the kubelet would set under
the MemoryQoS feature: `floor((request + 0.9 x (limit - request)) / 4096) x 4096`
bytes (for `--kube-version` below 1.27: `limit x 0.8`). An injected Istio proxy
sized by `sidecar.istio.io/proxyMemory`/`proxyMemoryLimit` annotations is
checked the same way, and the message gives the pod's QoS class with it.

## Why is this bad?
With MemoryQoS (cgroup v2) the kernel throttles a container's allocations at
`memory.high`, below its limit. A container that grows past that line is not
OOM-killed and restarted: it stalls in memory reclaim, its readiness probe
times out and the pod stops serving while looking alive. Setting request equal
to limit (Guaranteed QoS when CPU matches too) removes the throttling line.
This is `info` by default because MemoryQoS is an alpha kubelet gate; clusters
that enable it should raise it (`severity: {K003: warning}`).

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

## References
- KEP-2570 Memory QoS, https://github.com/kubernetes/enhancements/tree/master/keps/sig-node/2570-memory-qos
- Coroot, "Kubernetes MemoryQoS: throttled instead of OOM-killed"
- Kubernetes `pkg/kubelet/kuberuntime/kuberuntime_container_linux.go` (memory.high)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Fix, KeyPath, Rule, Severity, Violation
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
)


def _verdict(
    what: str, res: Resources, path: KeyPath, ctx: Context, qos: str, fix: Fix | None
) -> Violation | None:
    request, limit = res.requests.get("memory"), res.limit("memory")
    if request is None:
        return None  # no request: the API copies the limit, or nothing is set
    req = request.value()
    factor = "0.9" if ctx.kube_version >= (1, 27) else "0.8"
    if limit is None:
        return Violation(
            at=path,
            message=f"{what} has memory request {request} and no limit: under MemoryQoS memory.high = "
            f"{request} + {factor} x (node allocatable - {request}), so it is throttled "
            f"long before any OOM kill; pod QoS {qos}",
        )
    lim = limit.value()
    if req >= lim:
        return None
    high = memory_high(req, lim, ctx.kube_version)
    if high is None:
        return None
    return Violation(
        at=path,
        message=f"{what} memory request {request} is below its limit {limit}: under MemoryQoS "
        f"memory.high = {high} bytes ({human_bytes(high)}), where allocations are throttled "
        f"instead of OOM-killed; pod QoS {qos}",
        fix=fix,
    )


def _request_is(doc: Document, path: KeyPath, limit: object) -> Fix | None:
    """Request = limit, written as the limit is: the pod is scheduled for its
    whole limit, a behaviour (and a bill) the user may not want."""
    if limit is None:
        return None
    return Fix.unsafe(f"set the memory request to {limit}", doc.set_value(path, limit))


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    kind = doc.kind
    found = [(c, c.resources) for c in containers(doc.data, kind)]
    proxy = proxy_resources(pod_annotations(doc.data, kind))
    qos = qos_class([r for _, r in found] + ([proxy] if proxy else []))
    for container, res in found:
        path = (*container.path, "resources", "requests", "memory")
        limit = get_in(doc.data, (*container.path, "resources", "limits", "memory"))
        verdict = _verdict(
            f'Container "{container.name}"', res, path, ctx, qos, _request_is(doc, path, limit)
        )
        if verdict is not None:
            yield verdict
    if proxy is not None:
        meta = pod_template_metadata(kind) or ("metadata",)
        annotations = (*meta, "annotations")
        path = (*annotations, PROXY_RESOURCE_ANNOTATIONS[("requests", "memory")])
        limit = get_in(doc.data, (*annotations, PROXY_RESOURCE_ANNOTATIONS[("limits", "memory")]))
        fix = _request_is(doc, path, limit)
        verdict = _verdict("The injected istio-proxy", proxy, path, ctx, qos, fix)
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
)
