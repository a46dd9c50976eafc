"""
## What it does
Flags a container of a workload that has neither a memory request nor a memory
limit (a limit alone is fine: the API server copies it into the request).
Helm hooks (`helm.sh/hook` Pods and Jobs) and init containers that run to
completion are not judged, as for K001.

## Why is this bad?
The scheduler places a pod by its requests. With no memory request the pod
counts as needing nothing, lands on nodes that are already full, and is the
first to be evicted (BestEffort, or Burstable with no request) when the node
comes under memory pressure.

## Example
```yaml
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: jaeger-agent
spec:
  template:
    spec:
      containers:
        - name: agent
          image: jaegertracing/jaeger-agent:1.57.0
```

## Use instead
```yaml
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: jaeger-agent
spec:
  template:
    spec:
      containers:
        - name: agent
          image: jaegertracing/jaeger-agent:1.57.0
          resources:
            requests: {cpu: 100m, memory: 256Mi}
            limits: {memory: 256Mi}
```

## References
- Kubernetes docs, "Pod Quality of Service Classes",
  https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.k8s import WORKLOAD_KINDS, containers_of, helm_hook, pod_resources


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    if helm_hook(doc.data, doc.kind) is not None or doc.file.test_step:
        return  # a Helm test or hook, a test step's fixture (see K001)
    if pod_resources(doc.data, doc.kind).declares("memory"):
        return  # pod-level resources decide
    for container in containers_of(doc):
        if container.role == "init":
            continue  # runs to completion before the app starts (see K001)
        if not container.resources.declares("memory"):
            yield Violation(
                at=container.resources_path,
                message=f'Container "{container.name}" has neither a memory request nor a memory limit',
            )


RULE = Rule(
    id="K002",
    slug="memory-request-missing",
    severity=Severity.WARNING,
    summary="A container has neither a memory request nor a memory limit",
    doc=__doc__ or "",
    implied_by=frozenset({"K001"}),  # memory-limit-missing says it first at the same container
    check=check,
    kinds=WORKLOAD_KINDS,
)
