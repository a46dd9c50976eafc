"""
## What it does
Flags a long-running container of a workload (app containers and native
sidecars) that has no memory limit, unless the pod declares a pod-level memory
limit. An `OpenTelemetryCollector` without a memory limit in `spec.resources`
is a collector pod without one and is flagged too.

Not judged, because they cannot leak over a pod's life:
- Helm hooks: Pods and Jobs annotated `helm.sh/hook` (`test`,
  `test-success`, `pre-install`, ...), which Helm runs to completion at one
  point of a release;
- what a kuttl or chainsaw test step applies (a file in a directory that holds
  a `chainsaw-test.yaml`, or kuttl's `<n>-assert.yaml`), found by a directory
  walk: it lives for one test run in a throw-away cluster;
- init containers that run to completion (`until nc -z db 5432; do sleep 2;
  done`): each runs alone before the app containers start, so what it can
  cost the pod is the pod's effective request and limit,
  `max(largest init container, sum of the app containers)`, and not a process
  that grows for the pod's life. Native sidecars (`restartPolicy: Always`) are
  judged like app containers.

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
from meshlint.domain.k8s import WORKLOAD_KINDS, Container, containers_of, helm_hook, pod_resources
from meshlint.domain.otel import COLLECTOR_CR


def _collector_cr(doc: Document) -> Iterator[Violation]:
    spec = doc.data.get("spec") if isinstance(doc.data, dict) else None
    if not isinstance(spec, dict):
        return
    collector = Container(("spec",), spec, "container")
    if collector.resources.limit("memory") is None:
        nor = "" if collector.resources.declares("memory") else " and no memory request"
        yield Violation(
            at=collector.resources_path,
            message=f"{doc.resource} has no memory limit{nor} in spec.resources: "
            "its collector container runs unbounded",
        )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    if helm_hook(doc.data, doc.kind) is not None or doc.file.test_step:
        return  # a Helm test or hook, a test step's fixture: nothing grows for long
    if doc.kind == COLLECTOR_CR:
        yield from _collector_cr(doc)
        return
    pod = pod_resources(doc.data, doc.kind)
    if pod.limit("memory") is not None:
        return  # a pod-level limit bounds every container
    for container in containers_of(doc):
        if container.role == "init":
            continue  # runs to completion before the app starts
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
    kinds=WORKLOAD_KINDS | {COLLECTOR_CR},
)
