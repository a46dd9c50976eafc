"""Span sizing shared by the Jaeger and OpenTelemetry rules: what a span costs in
a queue.

Queues count spans, requests of spans or serialized bytes; the heap holds decoded
spans, which cost several times their wire size (4-6x, measured on Jaeger's span
model: jaegertracing/jaeger#2715, #2433). Every rule that turns a queue into
bytes takes the two numbers as the same parameters, declared once here. A rule
may reword a parameter's help for the spans it counts (``dataclasses.replace``);
the name, default and bounds stay these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshlint.core.model import Param

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


def span_cost(params: Mapping[str, Any]) -> tuple[int, int]:
    """(serialized bytes, heap overhead bytes) of an average span, from a rule's parameters."""
    size: int = params[SPAN_SIZE.name]
    overhead: int = params[SPAN_OVERHEAD.name]
    return size, overhead


__all__ = ["SPAN_OVERHEAD", "SPAN_SIZE", "span_cost"]
