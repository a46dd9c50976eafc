"""
## What it does
Adds up what a Jaeger v1 agent's UDP servers can buffer and compares it with
the agent's memory limit. The agent runs three UDP processors (`jaeger-compact`
on 6831, `jaeger-binary` on 6832, `zipkin-compact` on 5775); each keeps a
queue of `server-queue-size` packets plus one packet per worker, and every
packet is a buffer of `server-max-packet-size` bytes whatever the datagram's
real length. The rule sums
`(server-queue-size + workers) x server-max-packet-size` over the three
processors (defaults 1000, 10 and 65000: about 63 MiB each, 188 MiB in all).

Settings are read from `--processor.<name>.<key>` args, the
`PROCESSOR_<NAME>_<KEY>` env vars, and the `Jaeger` CR's `spec.agent.options`
(with `spec.agent.resources` merged over `spec.resources`).

## Why is this bad?
The queues fill exactly when the collector is slow or down. An agent whose
limit is below what its queues can hold is OOM-killed then, losing every
buffered span and the ones that arrive while it restarts. Observatorium had to
raise an agent's 64 MiB limit for this reason.

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
          args: ["--reporter.grpc.host-port=jaeger-collector:14250"]
          resources:
            limits: {memory: 64Mi}
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
          args:
            - --reporter.grpc.host-port=jaeger-collector:14250
            - --processor.jaeger-compact.server-queue-size=200
            - --processor.jaeger-binary.server-queue-size=200
            - --processor.zipkin-compact.server-queue-size=100
          resources:
            limits: {memory: 64Mi}
```
Shrink the queues of the protocols nobody sends (or their packet size), or
raise the limit above the sum plus the agent's own ~30 MiB.

## References
- `jaegertracing/jaeger:cmd/agent/app/servers/tbuffered_server.go` (one
  max-packet-size buffer per queued packet), `cmd/agent/app/builder.go` (defaults)
- Jaeger docs, "Performance tuning": each agent queue holds up to 64 MiB of spans
- observatorium/observatorium#130 (agent limit raised from 64 MiB)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, KeyPath, Rule, Severity, Violation
from meshlint.domain.components import Component
from meshlint.domain.jaeger import Process, UdpQueue, agent_queues, processes
from meshlint.domain.k8s import WORKLOAD_KINDS, human_bytes


def _part(queue: UdpQueue) -> str:
    return (
        f"{queue.processor} ({queue.queue_size} + {queue.workers} workers) x "
        f"{queue.packet_size} B = {human_bytes(queue.bytes)}"
    )


def _where(process: Process, queues: list[UdpQueue]) -> KeyPath:
    """The explicit setting of the hungriest processor, else the limit."""
    for queue in sorted(queues, key=lambda q: -q.bytes):
        if queue.settings:
            return max(queue.settings, key=lambda s: s.flag.endswith("server-queue-size")).path
    return process.memory_paths[1] or process.resources_path


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for process in processes(doc):
        if process.component is not Component.JAEGER_AGENT:
            continue
        limit = process.limit
        queues = agent_queues(process)
        if limit is None or limit.value() <= 0 or queues is None:
            continue
        total = sum(q.bytes for q in queues)
        if total <= limit.value():
            continue
        shown = str(limit) if limit.binary else f"{limit} ({human_bytes(limit.value())})"
        yield Violation(
            at=_where(process, queues),
            message=f"Agent UDP queues can hold ~{human_bytes(total)} "
            f"({'; '.join(_part(q) for q in queues)}) > limit {shown} of {process.label}: "
            "when the collector stalls the queues fill and the agent can be OOM-killed",
        )


RULE = Rule(
    id="J002",
    slug="jaeger-agent-queue-exceeds-memory",
    severity=Severity.WARNING,
    summary="A Jaeger agent's UDP queues can hold more than its memory limit",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | {"Jaeger"},
)
