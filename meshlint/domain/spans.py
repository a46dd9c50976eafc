"""Span sizing shared by the Jaeger and OpenTelemetry rules: what a span costs in
a queue.

Queues count spans, requests of spans or serialized bytes; the heap holds decoded
spans, which cost several times their wire size (4-6x, measured on Jaeger's span
model: jaegertracing/jaeger#2715, #2433). Every rule that turns a queue into
bytes takes the two numbers as the same parameters, declared once here, and
every store that counts whole traces (Jaeger's memory store, tail sampling) also
takes ``spans-per-trace``: a judgement, kept low (10) so that only stores that
overflow with modest traces are reported. A rule
may reword a parameter's help for the spans it counts (``dataclasses.replace``);
the name, default and bounds stay these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshlint.core.model import Param
from meshlint.domain.k8s.quantity import human_bytes

SPAN_SIZE = Param(
    name="span-size-bytes",
    type=int,
    default=1024,
    help="serialized bytes of an average span",
    minimum=1,
)
SPAN_OVERHEAD = Param(
    name="span-overhead-bytes",
    type=int,
    default=4096,
    help="heap bytes of a decoded span beyond its size",
    minimum=0,
)


SPANS_PER_TRACE = Param(
    name="spans-per-trace",
    type=int,
    default=10,
    help="spans in an average trace, for stores and buffers that count whole traces",
    minimum=1,
)


def span_cost(params: Mapping[str, Any]) -> tuple[int, int]:
    """(serialized bytes, heap overhead bytes) of an average span, from a rule's parameters."""
    size: int = params[SPAN_SIZE.name]
    overhead: int = params[SPAN_OVERHEAD.name]
    return size, overhead


def trace_cost(params: Mapping[str, Any]) -> tuple[int, int]:
    """(spans per trace, heap bytes per span) for a store or buffer of decoded traces."""
    size, overhead = span_cost(params)
    spans: int = params[SPANS_PER_TRACE.name]
    return spans, size + overhead


def traces_text(traces: int, spans: int, per_span: int) -> str:
    """How a trace store's size is worked out, for a message."""
    # spans per trace and bytes per span are judgements: name the parameters that set them
    return (
        f"{traces} traces x {spans} spans (spans-per-trace) x {human_bytes(per_span)} per span "
        "(span-size-bytes + span-overhead-bytes) in memory"
    )


__all__ = [
    "SPANS_PER_TRACE",
    "SPAN_OVERHEAD",
    "SPAN_SIZE",
    "span_cost",
    "trace_cost",
    "traces_text",
]
