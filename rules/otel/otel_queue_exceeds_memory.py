"""
## What it does
Estimates how much memory each in-memory queue of a collector config can hold
(an exporter's `sending_queue`, the `queue` of Jaeger v2's
`jaeger_storage_exporter`, the `queuebatch` processor's queue) and flags
queues that exceed the container's memory limit (else its `GOMEMLIMIT`), or
that nothing bounds. The message shows the arithmetic:
- `sizer: requests` (the default): `queue_size` x items per request x bytes per
  item, where items per request is the last batching processor upstream:
  `batch` (`send_batch_max_size`) or `queuebatch` (`batch.max_size`, in items
  or serialized bytes); `0` (the default of both) means no bound at all. The
  queue's own `sending_queue.batch` does not bound it: it batches what leaves
  the queue;
- `sizer: items`: `queue_size` x bytes per item;
- `sizer: bytes`: `queue_size` (serialized bytes) x (span size + overhead) /
  span size.

It fires only where the queue can outgrow memory that nothing else bounds.
Where every pipeline feeding the queue passes a `memory_limiter` (processor,
or the extension on its receivers), the limiter bounds the heap instead: once
the heap passes its limit it refuses new data at the receivers (senders get
errors and retry or drop), and the queue stops growing there. The failure is
then refused data, not an OOM kill, and O003 does not report it. What the
limiter does not bound is a queue fed by a pipeline that does not pass it, and
a heap limit set above the container's: O001 (warning) reports the missing
limiter, O002 (error) a limit that does not fit the container.

An `otlp`/`otlphttp` exporter without a `sending_queue` block still has the
default in-memory queue (1000 requests, 10 consumers) and is judged like one
written out. Persistent queues (`storage`), other exporters without a queue
block, a Jaeger `queue` without its own `queue_size` and `requests` queues
with no batching processor upstream are not judged.

Versions: exporterhelper queues as in collector v0.110 to v0.159 (defaults
1000 requests, 10 consumers); `queuebatch` from v0.158.0 (10 requests);
Jaeger v2 `queue` off by default in every release, enabled by `enabled: true`
before 2.14.0 and by the block itself since.

## Why is this bad?
A queue exists to absorb a slow or absent backend: in an outage it fills up
completely. Counted in requests, 1000 entries of 8192 spans are 8 million
spans; each decoded span takes several times its wire size in the Go heap. The
collector is OOM-killed with the whole queue, which is the data the queue was
meant to save.

## Example
```yaml
apiVersion: opentelemetry.io/v1alpha1
kind: OpenTelemetryCollector
metadata:
  name: gateway
spec:
  resources:
    limits: {memory: 512Mi}
  config: |
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      batch: {send_batch_size: 8192}
    exporters:
      otlp:
        endpoint: tempo:4317
        sending_queue: {queue_size: 5000}
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [batch]
          exporters: [otlp]
```

## Use instead
```yaml
apiVersion: opentelemetry.io/v1alpha1
kind: OpenTelemetryCollector
metadata:
  name: gateway
spec:
  resources:
    limits: {memory: 512Mi}
  config: |
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 75, spike_limit_percentage: 20}
      batch: {send_batch_size: 8192, send_batch_max_size: 8192}
    exporters:
      otlp:
        endpoint: tempo:4317
        sending_queue: {sizer: bytes, queue_size: 67108864}
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [otlp]
```

## Parameters
- `span-size-bytes` (default 1024): serialized size of an average span (or
  data point, log record).
- `span-overhead-bytes` (default 4096): what a decoded item costs in the heap
  beyond its serialized size (5x in total, the middle of the measured 4-6x).

Both are judgements, not facts of the config: the message names the values
it used.

## References
- OpenTelemetry Collector v0.159: `exporter/otlpexporter/factory.go` and
  `exporter/otlphttpexporter/factory.go` (`QueueConfig:
  configoptional.Some(exporterhelper.NewDefaultQueueConfig())`),
  `processor/memorylimiterprocessor` (refuses data above the limit)
- OpenTelemetry Collector, exporterhelper README (`sending_queue`, sizers,
  `batch`), batch processor README (`send_batch_max_size` 0 = no limit),
  queuebatch processor README and `exporter/exporterhelper/internal/queuebatch/queue_batch.go`
  (the batcher consumes from the queue)
- jaegertracing/jaeger `cmd/jaeger/internal/exporters/storageexporter/config.go`
- reference measurement of decoded span size: jaegertracing/jaeger#2715, #2433
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Location, Rule, Severity, Violation
from meshlint.domain.k8s import WORKLOAD_KINDS, human_bytes
from meshlint.domain.otel import (
    HOST_KINDS,
    Budget,
    ConfigView,
    collect_linked,
    estimate,
    linked_items,
    own_budget,
    queues,
    views,
)
from meshlint.domain.spans import SPAN_OVERHEAD, SPAN_SIZE, span_cost


@dataclass(frozen=True, slots=True)
class Held:
    """One queue's estimate, anchored where it is set."""

    name: str  # 'Exporter "otlp" sending_queue'
    size: int | None  # None: unbounded
    arithmetic: str
    at: Location
    bounded_by: str | None  # the memory_limiter every feeding pipeline passes


def _estimates(view: ConfigView, ctx: Context) -> Iterator[Held]:
    span, overhead = span_cost(ctx.params)
    if span <= 0 or overhead < 0:
        return
    for queue in queues(view):
        found = estimate(view, queue, span, overhead)
        # a queue a memory_limiter guards is never judged (``_judge``): no fact for it
        if found is not None and found.bounded_by is None:
            name = f"{queue.label}{view.origin}"
            yield Held(
                name, found.size, found.arithmetic, view.locate(found.path), found.bounded_by
            )


def _judge(held: Held, budget: Budget | None, params: str) -> Violation | None:
    if held.bounded_by is not None:
        # The limiter refuses data at the receivers before the heap reaches its
        # limit: the failure is refused data, not an OOM kill (O001/O002 judge it).
        return None
    if held.size is None:
        unknown = (
            " (no pod in the linted files mounts this ConfigMap: the memory limit it "
            "would outgrow is not known)"
            if budget is None
            else ""
        )
        return Violation(
            at=held.at,
            message=f"{held.name} has no memory bound and no memory_limiter guards the "
            f"pipelines feeding it: {held.arithmetic}{unknown}; bound the batch size, size "
            f"the queue with sizer: bytes or add a memory_limiter",
        )
    found = budget.cap() if budget is not None else None
    if found is None:
        return None
    cap, what = found
    if held.size <= cap:
        return None
    return Violation(
        at=held.at,
        message=f"{held.name} can hold ~{human_bytes(held.size)} ({held.arithmetic}; {params}), "
        f"more than the {what}, and no memory_limiter guards the pipelines feeding it: in an "
        f"outage the collector is OOM-killed with the whole queue; lower queue_size, use "
        f"sizer: bytes or add a memory_limiter",
    )


def _params(ctx: Context) -> str:
    span, overhead = span_cost(ctx.params)
    return f"span-size-bytes {span}, span-overhead-bytes {overhead}"


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for view in views(doc):
        budget = own_budget(view)
        if budget is not None:
            for held in _estimates(view, ctx):
                verdict = _judge(held, budget, _params(ctx))
                if verdict is not None:
                    yield verdict


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    yield from collect_linked(doc, lambda view: _estimates(view, ctx))


def check_run(ctx: Context) -> Iterator[Violation]:
    for held, budget in linked_items(ctx.facts):
        verdict = _judge(held, budget, _params(ctx))
        if verdict is not None:
            yield verdict


RULE = Rule(
    id="O003",
    slug="otel-queue-exceeds-memory",
    severity=Severity.WARNING,
    summary="An exporter queue can hold more than the collector's memory limit, or is unbounded",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS | WORKLOAD_KINDS,
    collect=collect,
    check_run=check_run,
    params=(
        SPAN_SIZE,
        SPAN_OVERHEAD,
    ),
)
