"""
## What it does
Flags a container whose memory request is below its limit, or that has a
request and no limit, and gives the `memory.high` the kubelet would set under
the MemoryQoS feature. An injected Istio proxy sized by
`sidecar.istio.io/proxyMemory`/`proxyMemoryLimit` annotations is checked the
same way, and the message gives the pod's QoS class with it.

Facts it uses (docs/facts.md): the cluster version (`--kube-version`,
`kube-version:`), the kubelet feature gate `MemoryQoS` and the kubelets'
`memoryThrottlingFactor`. MemoryQoS is an alpha gate, off unless a cluster
enables it (managed clusters do not), so K003 reports only where the gate is
seen on, and the message says where:
- the config: `cluster: {feature-gates: {MemoryQoS: true}}` (and
  `memory-throttling-factor: 0.9` for the factor);
- a `KubeletConfiguration` (`kubelet.config.k8s.io`) with
  `featureGates: {MemoryQoS: true}` (and `memoryThrottlingFactor`), a kind
  `Cluster`'s `featureGates` or its `kubeadmConfigPatches`, or a kubeadm
  `InitConfiguration`/`JoinConfiguration` whose `kubeletExtraArgs` set
  `feature-gates: MemoryQoS=true`, linted in the same scope.

Versions (KEP-2570):
- before 1.22: no MemoryQoS, no finding;
- 1.22-1.26 (alpha, gate needed): `memory.high = limit x 0.8`;
- 1.27-1.36 (alpha, gate needed): `floor((request + 0.9 x (limit - request)) / 4096) x 4096`;
- 1.37 and later (beta, on by default unless the gate is seen off): the
  kubelet's `memoryThrottlingFactor` defaults to nil and no `memory.high` is
  written, so nothing is reported unless a factor is set (kubelet
  configuration, the config's `memory-throttling-factor`, or the rule's
  parameter).

In every version `memory.high` is written only above the request. With the
gate unknown (nothing declared, no kubelet configuration linted) K003 is
silent: it never guesses that a cluster runs an alpha feature.

## Why is this bad?
With MemoryQoS (cgroup v2) the kernel throttles a container's allocations at
`memory.high`, below its limit. A container that grows past that line is not
OOM-killed and restarted: it stalls in memory reclaim, its readiness probe
times out and the pod stops serving while looking alive. Setting request equal
to limit (Guaranteed QoS when CPU matches too) removes the throttling line.
It is `info` by default; clusters that run MemoryQoS may raise it
(`severity: {K003: warning}`).

## Example
```yaml
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates:
  MemoryQoS: true
---
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
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates:
  MemoryQoS: true
---
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
(0, 1]; a `memoryThrottlingFactor` in a linted kubelet configuration or the
config's `cluster: {memory-throttling-factor: ...}` wins over it.

## References
- KEP-2570 Memory QoS, https://github.com/kubernetes/enhancements/tree/master/keps/sig-node/2570-memory-qos
- Coroot, "Kubernetes MemoryQoS: throttled instead of OOM-killed"
- Kubernetes `pkg/kubelet/kuberuntime/kuberuntime_container_linux.go` (memory.high)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

from meshlint import (
    Cluster,
    Context,
    Document,
    Fix,
    KeyPath,
    Param,
    Rule,
    Severity,
    Violation,
    pickled_as_fields,
)
from meshlint.domain.istio import PROXY_RESOURCE_ANNOTATIONS, proxy_resources
from meshlint.domain.k8s import (
    MEMORY_QOS_SINCE,
    WORKLOAD_KINDS,
    Resources,
    containers_of,
    get_in,
    human_bytes,
    memory_high,
    pod_annotations,
    pod_template_metadata,
    qos_class,
    throttling_factor,
)


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Throttled:
    """K003's verdict, resolved once the scope's facts are known: whether the
    kubelets run MemoryQoS, and with which ``memoryThrottlingFactor``."""

    what: str
    request: str
    request_bytes: int
    limit: str | None
    limit_bytes: int | None
    qos: str
    factor: float  # the rule parameter; 0: the kubelet's

    def resolve(self, cluster: Cluster, file: str, message: str) -> str | None:
        known = cluster.kube_version()
        kube = known.value if known is not None else (1, 30)
        if kube < MEMORY_QOS_SINCE:
            return None  # no MemoryQoS
        gate = cluster.gate("MemoryQoS")
        if gate is not None and gate.value is False:
            return None
        if kube < BETA and gate is None:
            return None  # alpha: off unless a kubelet configuration or the config enables it
        on = (
            f"MemoryQoS on at {gate.source}"
            if gate
            else f"MemoryQoS beta, on by default in {kube[0]}.{kube[1]}"
        )
        setting = cluster.kubelet("memoryThrottlingFactor")
        if setting is not None:
            factor: Fraction | None = Fraction(str(setting.value))
            on += f", memoryThrottlingFactor {setting.value:g} at {setting.source}"
        elif self.factor > 0:
            factor = Fraction(str(self.factor))
            on += f", memoryThrottlingFactor {self.factor:g} (K003 parameter)"
        else:
            factor = throttling_factor(kube)  # None from 1.37: no memory.high unless set
        if factor is None:
            return None
        shown = f"{float(factor):g}"
        request, req = self.request, self.request_bytes
        if self.limit is None or self.limit_bytes is None:
            if factor >= 1:
                return None
            formula = (
                f"{request} + {shown} x (node allocatable - {request})"
                if kube >= (1, 27)
                else f"{shown} x node allocatable"
            )
            return (
                f"{self.what} has memory request {request} and no limit: under MemoryQoS "
                f"({on}) memory.high = {formula}, so it is throttled long before any OOM kill; "
                f"pod QoS {self.qos}"
            )
        high = memory_high(req, self.limit_bytes, kube, factor)
        if high is None or high >= self.limit_bytes:
            return None
        return (
            f"{self.what} memory request {request} is below its limit {self.limit}: under "
            f"MemoryQoS ({on}) memory.high = {high} bytes ({human_bytes(high)}), where "
            f"allocations are throttled instead of OOM-killed; pod QoS {self.qos}"
        )


BETA = (1, 37)


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
    if request is None:
        return None  # no request (the API copies the limit, or nothing is set)
    req = request.value()
    lim = limit.value() if limit is not None else None
    if lim is not None and req >= lim:
        return None
    when = Throttled(
        what,
        str(request),
        req,
        str(limit) if limit is not None else None,
        lim,
        qos,
        ctx.params["memory-throttling-factor"],
    )
    return Violation(
        at=path,
        message=f"{what}: memory request below its limit under MemoryQoS",
        # with no limit there is nothing to set the request to
        fix=_request_is(doc, path, get_in(doc.data, limit_path)) if limit is not None else None,
        when=when,
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    kind = doc.kind
    found = [(c, c.resources) for c in containers_of(doc)]
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
