"""
## What it does
Works out the request each `otlp` (`otlp_grpc`) exporter sends at a stated
ingest rate and flags it when it exceeds the gRPC message limit of the
receiving side: 4 MiB, unless an OTLP receiver in the linted files raises
`max_recv_msg_size_mib` above it. The request is the batch that feeds the
exporter, which leaves when it reaches its minimum or when its timer fires,
whichever comes first, and is split at its maximum:

- its own `sending_queue.batch`: `min_size` (default 8192), `flush_timeout`
  (200ms), `max_size` (0, never split);
- else the last `batch` processor of each pipeline feeding it:
  `send_batch_size` (8192), `timeout` (200ms), `send_batch_max_size` (0,
  never split); or a `queuebatch` processor, read like `sending_queue.batch`.

At `spans-per-second` of ingest one flush holds
`min(minimum, spans-per-second x timeout)` spans, at most the maximum. The
minimum (8192 spans, 8 MiB at 1 KiB) is the worst case under load: it is
reached only where the rate fills the batch before the timer fires. With
`timeout: 0` the batch processor has no timer, ignores `send_batch_size` and
sends data as it arrives: the request is what the sender sent, not judged.

Items become bytes with `span-size-bytes` (serialized spans), so item-sized
batches are judged in traces pipelines; `sizer: bytes` batches in any pipeline.

## Why is this bad?
A gRPC server refuses a message above its limit with `ResourceExhausted`. The
OTLP exporter treats that as permanent: no retry, the whole batch is dropped,
every time a batch grows past the limit (open-telemetry/opentelemetry-collector#6046,
#12219, #1122; grafana/tempo#860). The default `batch` processor never splits:
under load that fills it, 8192 spans of 1 KiB are already 8 MiB.

## Example
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: agent
  namespace: observability
spec:
  mode: daemonset
  resources:
    limits: {memory: 512Mi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
      batch: {timeout: 5s}
    exporters:
      otlp:
        endpoint: otel-gateway:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [otlp]
```

## Use instead
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: agent
  namespace: observability
spec:
  mode: daemonset
  resources:
    limits: {memory: 512Mi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
      batch: {timeout: 5s, send_batch_size: 2048, send_batch_max_size: 2048}
    exporters:
      otlp:
        endpoint: otel-gateway:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [otlp]
```

## Parameters
- `span-size-bytes` (default 1024): serialized size of an average span (shared
  with J001, O003 and O006).
- `spans-per-second` (default 10000): the ingest rate of one collector replica
  under load. Both are judgements, named in the message.

## References
- OpenTelemetry Collector v0.159 `config/configgrpc` (`max_recv_msg_size_mib`, grpc-go's
  4 MiB default), `processor/batchprocessor/batch_processor.go` (no timer when
  `timeout` or `send_batch_size` is 0), `exporter/exporterhelper/internal/queue_sender.go`
  (`flush_timeout` 200ms, `min_size` 8192), batch processor README (`send_batch_max_size` 0 = no limit),
  exporterhelper README (`sending_queue.batch`, `sizer: bytes`)
- open-telemetry/opentelemetry-collector#6046, #12219, #1122; grafana/tempo#860
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Location, Param, Rule, Severity, Violation
from meshlint.domain.k8s import human_bytes
from meshlint.domain.otel import (
    GRPC_DEFAULT_MAX_RECV,
    HOST_KINDS,
    grpc_requests,
    receiver_limits,
    views,
)
from meshlint.domain.spans import SPAN_SIZE


@dataclass(frozen=True, slots=True)
class Sent:
    exporter: str
    size: int
    bounded: bool
    arithmetic: str
    at: Location


@dataclass(frozen=True, slots=True)
class Accepted:
    """An OTLP receiver's raised gRPC message limit, in bytes."""

    size: int


SPANS_PER_SECOND = Param(
    name="spans-per-second",
    type=int,
    default=10000,
    help="spans per second one collector replica ingests under load",
    minimum=1,
)


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    span_size: int = ctx.params[SPAN_SIZE.name]
    rate: int = ctx.params[SPANS_PER_SECOND.name]
    for view in views(doc):
        for limit in receiver_limits(view):
            yield Accepted(limit)
        for request in grpc_requests(view, span_size, rate):
            yield Sent(
                request.exporter,
                request.size,
                request.bounded,
                request.arithmetic,
                view.locate(request.path),
            )


def check_run(ctx: Context) -> Iterator[Violation]:
    raised = [f.size for f in ctx.facts if isinstance(f, Accepted)]
    limit = max([GRPC_DEFAULT_MAX_RECV, *raised])
    accepted = (
        f"the largest max_recv_msg_size_mib in the linted files ({human_bytes(limit)})"
        if limit > GRPC_DEFAULT_MAX_RECV
        else "the receiver's default gRPC limit of 4 MiB"
    )
    for sent in (f for f in ctx.facts if isinstance(f, Sent)):
        if sent.size <= limit:
            continue
        shape = "~" if sent.bounded else "at least "
        yield Violation(
            at=sent.at,
            message=f'exporter "{sent.exporter}" sends requests of {shape}'
            f"{human_bytes(sent.size)} under load ({sent.arithmetic}; spans-per-second and "
            f"span-size-bytes are judgements), above {accepted}: the receiver answers "
            "ResourceExhausted and the exporter drops the whole batch",
        )


RULE = Rule(
    id="O009",
    slug="otel-batch-exceeds-grpc-limit",
    severity=Severity.WARNING,
    summary="A batch feeding an OTLP gRPC exporter can exceed the receiver's message limit",
    doc=__doc__ or "",
    kinds=HOST_KINDS,
    collect=collect,
    check_run=check_run,
    params=(
        dataclasses.replace(
            SPAN_SIZE, help="serialized bytes of an average span, as it travels over gRPC"
        ),
        SPANS_PER_SECOND,
    ),
)
