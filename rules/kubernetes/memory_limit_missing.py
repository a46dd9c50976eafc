"""
## What it does
Flags a container (init containers and native sidecars included) of a workload
that has no memory limit, unless the pod declares a pod-level memory limit.

## Why is this bad?
Without a limit a leaking or queue-bound container grows until the node runs
out of memory, and the kubelet then evicts pods by priority and usage: the
neighbours pay for one container's leak. Tracing components are the usual
suspects, because their queues fill whenever the backend slows down.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: collector
spec:
  template:
    spec:
      containers:
        - name: collector
          image: otel/opentelemetry-collector-contrib:0.115.0
          resources:
            requests: {cpu: 200m, memory: 256Mi}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: collector
spec:
  template:
    spec:
      containers:
        - name: collector
          image: otel/opentelemetry-collector-contrib:0.115.0
          env:
            - {name: GOMEMLIMIT, value: 409MiB}
          resources:
            requests: {cpu: 200m, memory: 512Mi}
            limits: {memory: 512Mi}
```

## References
- Kubernetes docs, "Resource Management for Pods and Containers",
  https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.k8s import WORKLOAD_KINDS, containers, pod_resources


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    pod = pod_resources(doc.data, doc.kind)
    if pod.limit("memory") is not None:
        return  # a pod-level limit bounds every container
    for container in containers(doc.data, doc.kind):
        if container.resources.limit("memory") is None:
            # one finding for the container: K002 (no request either) is implied here
            nor = (
                ""
                if pod.declares("memory") or container.resources.declares("memory")
                else (" and no memory request")
            )
            yield Violation(
                at=container.resources_path,
                message=f'Container "{container.name}" has no memory limit{nor}',
            )


RULE = Rule(
    id="K001",
    slug="memory-limit-missing",
    severity=Severity.WARNING,
    summary="A container of a workload has no memory limit",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS,
)
