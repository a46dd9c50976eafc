"""
## What it does
Sizes the trace buffer of every `tail_sampling` processor a pipeline uses and
flags:

- a buffer that can hold more than the collector's memory limit (else its
  `GOMEMLIMIT`): `num_traces` (default 50000) x `spans-per-trace` x the heap
  size of a decoded span (`span-size-bytes` + `span-overhead-bytes`);
- a buffer too small for its own decision window: `decision_wait` (default
  30s) x `expected_new_traces_per_sec` above `num_traces`.

For a ConfigMap the limit is the one of the pod that mounts it (found across
files); an `OpenTelemetryCollector` brings its own `spec.resources`.

What changes the verdict:

- `tail_storage: <extension>` (e.g. the pebble tail storage extension) keeps
  pending spans in that extension, on disk, not on the heap: the memory check
  is skipped;
- `maximum_trace_size_bytes` (0, the default, is no cap) drops a trace whose
  serialized spans pass it, so no kept trace is bigger than
  `maximum_trace_size_bytes / span-size-bytes` spans;
- `block_on_overflow: true` makes ingest wait for a decision when the buffer
  is full instead of evicting the oldest trace: the decision-window check is
  skipped (the senders see back-pressure instead).

## Why is this bad?
The processor keeps every span of a trace in memory until `decision_wait`
has passed since its first span, for up to `num_traces` traces. Under load the
buffer fills to `num_traces`: set far above what the container holds, the
collector is OOM-killed or spins in garbage collection with the whole window of
traces (`num_traces: 50000000` in contrib#29762 and #32551). Set below what
arrives during one `decision_wait`, the oldest traces are evicted before their
decision and dropped whatever the policy says (contrib#29024).

## Example
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: sampler
  namespace: observability
spec:
  mode: statefulset
  resources:
    limits: {memory: 2Gi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
      tail_sampling:
        decision_wait: 10s
        num_traces: 200000
        policies:
          - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
    exporters:
      otlp:
        endpoint: tempo-distributor:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, tail_sampling]
          exporters: [otlp]
```

## Use instead
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: sampler
  namespace: observability
spec:
  mode: statefulset
  resources:
    limits: {memory: 2Gi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
      tail_sampling:
        decision_wait: 10s
        num_traces: 20000
        expected_new_traces_per_sec: 1000
        policies:
          - {name: errors, type: status_code, status_code: {status_codes: [ERROR]}}
    exporters:
      otlp:
        endpoint: tempo-distributor:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, tail_sampling]
          exporters: [otlp]
```

## Parameters
- `spans-per-trace` (default 10): spans in an average trace. A judgement, kept
  low so that only buffers that overflow with modest traces are reported.
- `span-size-bytes` (default 1024) and `span-overhead-bytes` (default 4096):
  a decoded span's heap size is their sum (shared with J001, J006 and O003).

## References
- opentelemetry-collector-contrib v0.159.0
  `processor/tailsamplingprocessor/processor.go`: `Start` (in-memory tail
  storage unless `tail_storage` names an extension), `waitForSpace` (evicts the
  front of `deleteTraceQueue`, or with `blockOnOverflow` loops on decision ticks),
  `maxTraceSizeBytes` from `maximum_trace_size_bytes`; `config.go`
- OpenTelemetry Collector contrib, tail sampling processor README
  (`num_traces`, `decision_wait`, `expected_new_traces_per_sec` and their
  defaults), https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/processor/tailsamplingprocessor
- open-telemetry/opentelemetry-collector-contrib#29762, #32551 (OOM with a huge
  `num_traces`), #29024 (traces dropped before their decision)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Location, Rule, Severity, Violation
from meshlint.domain.k8s import WORKLOAD_KINDS, duration_text, human_bytes
from meshlint.domain.otel import (
    HOST_KINDS,
    Budget,
    ConfigView,
    collect_linked,
    linked_items,
    own_budget,
    tail_samplers,
    views,
)
from meshlint.domain.spans import (
    SPAN_OVERHEAD,
    SPAN_SIZE,
    SPANS_PER_TRACE,
    span_cost,
    trace_cost,
    traces_text,
)


@dataclass(frozen=True, slots=True)
class Buffer:
    """One tail sampler's worst-case buffer, anchored where num_traces is set."""

    id: str
    size: int
    arithmetic: str
    at: Location


def _buffers(view: ConfigView, ctx: Context) -> Iterator[Buffer]:
    spans, per_span = trace_cost(ctx.params)
    span_size = span_cost(ctx.params)[0]
    for sampler in tail_samplers(view):
        if sampler.num_traces is None or sampler.tail_storage is not None:
            continue  # templated, or pending spans kept by a storage extension (on disk)
        where = (*sampler.path, "num_traces") if sampler.num_traces_set else sampler.path
        kept = spans
        cap = sampler.max_trace_bytes
        if cap is not None and span_size > 0 and cap < spans * span_size:
            kept = max(1, cap // span_size)  # a bigger trace is dropped
        text = traces_text(sampler.num_traces, kept, per_span)
        if kept != spans:
            text += f" (maximum_trace_size_bytes {cap} / span-size-bytes {span_size})"
        if not sampler.num_traces_set:
            text += " (num_traces default)"
        size = sampler.num_traces * kept * per_span
        yield Buffer(sampler.id, size, text, view.locate(where))


def _judge(buffer: Buffer, budget: Budget | None) -> Violation | None:
    found = budget.cap() if budget is not None else None
    if found is None or buffer.size <= found[0]:
        return None
    return Violation(
        at=buffer.at,
        message=f'tail_sampling "{buffer.id}" can buffer ~{human_bytes(buffer.size)} '
        f"({buffer.arithmetic}), more than the {found[1]}",
    )


def _windows(view: ConfigView) -> Iterator[Violation]:
    """Traces evicted before their decision, whatever the container."""
    for sampler in tail_samplers(view):
        wait, rate, room = sampler.decision_wait, sampler.expected_rate, sampler.num_traces
        if not wait or not rate or room is None or wait * rate <= room:
            continue
        if sampler.block_on_overflow:
            continue  # a full buffer makes ingest wait for a decision: nothing is evicted
        where = (*sampler.path, "num_traces") if sampler.num_traces_set else sampler.path
        yield view.violation(
            where,
            f'tail_sampling "{sampler.id}" receives decision_wait {duration_text(wait)} x '
            f"expected_new_traces_per_sec {rate} = {wait * rate:g} traces per decision window "
            f"but keeps num_traces {room}: with block_on_overflow false (the default) the "
            "oldest are evicted before their decision",
        )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for view in views(doc):
        yield from _windows(view)
        budget = own_budget(view)
        if budget is not None:  # a ConfigMap's pods are found across files (check_run)
            for buffer in _buffers(view, ctx):
                verdict = _judge(buffer, budget)
                if verdict is not None:
                    yield verdict


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    yield from collect_linked(doc, lambda view: _buffers(view, ctx))


def check_run(ctx: Context) -> Iterator[Violation]:
    for buffer, budget in linked_items(ctx.facts):
        verdict = _judge(buffer, budget)
        if verdict is not None:
            yield verdict


RULE = Rule(
    id="O006",
    slug="otel-tail-sampling-buffer-exceeds-memory",
    severity=Severity.WARNING,
    summary="A tail_sampling buffer can outgrow the collector's memory, or evicts traces "
    "before their decision",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS | WORKLOAD_KINDS,
    collect=collect,
    check_run=check_run,
    params=(SPANS_PER_TRACE, SPAN_SIZE, SPAN_OVERHEAD),
)
