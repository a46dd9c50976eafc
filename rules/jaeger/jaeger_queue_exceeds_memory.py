"""
## What it does
Estimates how much memory a Jaeger v1 collector's span queue can take once it
is full, adds the process baseline, and compares the sum with the container's
memory limit (error) and request (warning). Collectors and all-in-one
containers are read on every surface: `--collector.queue-size[-memory]` args
(`=value` or a separate value), the `COLLECTOR_QUEUE_SIZE[_MEMORY]` env vars
(an explicit flag wins over env), Helm-rendered chart output, and the
jaeger-operator `Jaeger` CR (`spec.collector.options` / `spec.allInOne.options`,
with component resources merged over `spec.resources`).

The model:

- static queue: `queue-size x (span-size + span-overhead)`;
- dynamic queue (`queue-size-memory` M MiB > 0): the collector resizes the
  queue to `M MiB / average serialized span size` spans (at most 1,000,000), so
  it holds `min(1e6, M MiB / span-size) x (span-size + span-overhead)`. It
  resizes only after a warm-up of `queue-size` spans, so with
  `queue-size=0` it never resizes and holds nothing;
- plus `baseline-mib` for the rest of the process.

With neither request nor limit, it warns when the queue was raised above the
default 2000 spans or the dynamic queue is on: nothing bounds it.

## Why is this bad?
`queue-size-memory` budgets *serialized* span bytes, but a queued span is a
decoded Go object that costs 4-6x its wire size in the heap (measured on
Jaeger's span model). A collector with `COLLECTOR_QUEUE_SIZE_MEMORY=80`, a 200
MB request and a 250 MB limit was OOM-killed as soon as its storage went away
and the queue filled (jaeger#2715); another with an 80 MiB budget and a 160Mi
limit died right after the queue was resized to ~99k spans (jaeger#2433).
Every span in the queue is lost with the pod.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-collector
spec:
  template:
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.57.0
          env:
            - {name: COLLECTOR_QUEUE_SIZE_MEMORY, value: "80"}
          resources:
            requests: {memory: 160Mi}
            limits: {memory: 160Mi}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-collector
spec:
  template:
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.57.0
          args: ["--collector.queue-size=2000", "--collector.num-workers=50"]
          resources:
            requests: {memory: 512Mi}
            limits: {memory: 512Mi}
```
Or keep the dynamic queue and size the limit for it: a budget of M MiB needs
about `5 x M + 64` MiB with the default parameters.

## Parameters
- `span-size-bytes` (default 1024): the average serialized span size. It turns
  a `queue-size-memory` budget into a span count; look at the collector's
  `jaeger_collector_spans_bytes` metric (`--collector.enable-span-size-metrics`)
  and set it to your real average.
- `span-overhead-bytes` (default 4096): what a queued span costs in the heap
  beyond its wire size. 4096 on top of 1024 is 5x, the middle of the measured
  4-6x; lower it for small spans with few tags, raise it for Istio/Envoy spans
  with twenty or more tags.
- `baseline-mib` (default 64): the collector's memory without its queue
  (storage clients, gRPC servers, Go runtime); read it from a quiet collector's
  working set.

```yaml
rules:
  J001: {span-size-bytes: 900, span-overhead-bytes: 4600, baseline-mib: 70}
```

## References
- jaegertracing/jaeger#2715 and #2433 (collectors OOM-killed with an 80 MiB budget)
- jaegertracing/jaeger#1985 (the dynamic queue); v1.76.0
  `cmd/collector/app/span_processor.go` (`maxQueueSize` 1,000,000,
  `updateQueueSize` returns at once for a warm-up of 0) and
  `cmd/collector/app/span_handler_builder.go` (warm-up = `queue-size`)
- Jaeger docs, "Performance tuning": the collector queue
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from meshlint import Context, Document, KeyPath, Param, Rule, Severity, Violation
from meshlint.domain.components import Component
from meshlint.domain.jaeger import CollectorQueue, Process, collector_queue, processes
from meshlint.domain.k8s import WORKLOAD_KINDS, Quantity, human_bytes
from meshlint.domain.spans import SPAN_OVERHEAD, SPAN_SIZE, span_cost

_COLLECTORS = (Component.JAEGER_COLLECTOR, Component.JAEGER_ALL_IN_ONE)


def _quantity(q: Quantity) -> str:
    return q.text if q.binary else f"{q.text} ({human_bytes(q.value())})"


def _arithmetic(queue: CollectorQueue) -> str:
    spans = f"{queue.spans} spans x {queue.bytes_per_span} B"
    if queue.budget_mib is not None:
        spans += f"; queue-size-memory {queue.budget_mib} MiB / {queue.span_size} B per span"
    source = f" ({queue.sized_by.written})" if queue.sized_by else ""
    return (
        f"Collector queue{source} can hold ~{human_bytes(queue.queue_bytes)} ({spans}) + "
        f"{human_bytes(queue.baseline)} baseline = {human_bytes(queue.total)}"
    )


def _where(queue: CollectorQueue, fallback: KeyPath | None, process: Process) -> KeyPath:
    if queue.sized_by is not None:
        return queue.sized_by.path
    return fallback or process.resources_path


def _judge(process: Process, queue: CollectorQueue) -> Violation | None:
    limit, request = process.limit, process.request
    head = _arithmetic(queue)
    if limit is not None and limit.value() > 0 and queue.total > limit.value():
        return Violation(
            at=_where(queue, process.memory_paths[1], process),
            message=f"{head} > limit {_quantity(limit)} of {process.label}: the queue "
            "fills when storage slows down and the pod can be OOM-killed; shrink the queue "
            "or raise the limit",
        )
    if request is not None and request.value() > 0 and queue.total > request.value():
        return Violation(
            at=_where(queue, process.memory_paths[0] or process.memory_paths[1], process),
            message=f"{head} > request {_quantity(request)} of {process.label}: a full "
            "queue pushes the pod past its request, first in line for eviction",
            severity=Severity.WARNING,
        )
    if limit is None and request is None and queue.raised and queue.sized_by is not None:
        return Violation(
            at=queue.sized_by.path,
            message=f"{head}, and {process.label} has no memory request or limit: "
            "nothing bounds the queue before the node runs out of memory",
            severity=Severity.WARNING,
        )
    return None


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for process in processes(doc):
        if process.component not in _COLLECTORS:
            continue
        queue = collector_queue(process, *span_cost(ctx.params), ctx.params["baseline-mib"])
        if queue is None:
            continue  # an unknowable or invalid value: J004 or nobody can tell
        verdict = _judge(process, queue)
        if verdict is not None:
            yield verdict


RULE = Rule(
    id="J001",
    slug="jaeger-queue-exceeds-memory",
    severity=Severity.ERROR,
    summary="A Jaeger collector's queue, counted in memory, plus its baseline exceeds its memory",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | {"Jaeger"},
    params=(
        replace(SPAN_SIZE, help="average serialized span size"),
        replace(SPAN_OVERHEAD, help="heap bytes a queued span costs beyond its size"),
        Param(
            name="baseline-mib",
            type=int,
            default=64,
            help="collector memory without its queue, in MiB",
            minimum=0,
        ),
    ),
)
