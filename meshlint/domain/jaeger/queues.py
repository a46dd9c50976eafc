"""Jaeger v1 memory models: what a collector's span queue (J001) and an
agent's UDP queues (J002) can hold, from a ``Process``'s settings (jaegertracing/jaeger
``cmd/collector/app/span_processor.go``; ``cmd/agent/app/builder.go`` and
``servers/tbuffered_server.go``).
"""

from __future__ import annotations

from dataclasses import dataclass

from meshlint.domain.jaeger import flags as catalogue
from meshlint.domain.jaeger.settings import FlagValue, Process
from meshlint.domain.numbers import integer

MIB = 2**20
MAX_DYNAMIC_QUEUE = 1_000_000  # span_processor.go maxQueueSize
DEFAULT_QUEUE_SIZE = 2000
AGENT_DEFAULTS = {"server-queue-size": 1000, "workers": 10, "server-max-packet-size": 65000}


def parse_count(setting: FlagValue | None, default: int) -> int | None:
    """An int flag's value as Go's strconv reads it (base prefixes, ``_``); None if unknowable."""
    if setting is None:
        return default
    if setting.value is None or setting.bare:
        return None
    try:
        value = integer(setting.value, 0)
    except ValueError:
        return None
    return value if value >= 0 else None


@dataclass(frozen=True, slots=True)
class CollectorQueue:
    """What the collector's span queue can hold, as J001 models it."""

    spans: int
    span_size: int  # serialized bytes per span
    span_overhead: int  # heap bytes per queued span beyond span_size
    baseline: int  # bytes of the process without its queue
    budget_mib: int | None  # queue-size-memory when the dynamic queue is on
    sized_by: FlagValue | None  # the setting that decided the queue's size

    @property
    def bytes_per_span(self) -> int:
        return self.span_size + self.span_overhead

    @property
    def queue_bytes(self) -> int:
        return self.spans * self.bytes_per_span

    @property
    def total(self) -> int:
        return self.queue_bytes + self.baseline

    @property
    def raised(self) -> bool:
        """Dynamic queue on, or the static queue above the default."""
        return self.budget_mib is not None or self.spans > DEFAULT_QUEUE_SIZE


def collector_queue(
    process: Process, span_size: int, span_overhead: int, baseline_mib: int
) -> CollectorQueue | None:
    """Static: queue_size x (span + overhead); dynamic (queue-size-memory M > 0):
    min(1e6, M MiB / span) x (span + overhead). None when a value is unknowable.

    The dynamic queue resizes only once ``dynQueueSizeWarmup`` spans went
    through, and the warm-up is the queue size (``span_handler_builder.go``:
    ``DynQueueSizeWarmup(b.CollectorOpts.QueueSize)``); ``updateQueueSize``
    returns at once for a warm-up of 0 (``span_processor.go``, v1.76.0): with
    ``queue-size=0`` the queue never grows past its static 0 spans."""
    size_setting = process.setting("collector.queue-size")
    memory_setting = process.setting("collector.queue-size-memory")
    queue_size = parse_count(size_setting, DEFAULT_QUEUE_SIZE)
    budget = parse_count(memory_setting, 0)
    if queue_size is None or budget is None or span_size <= 0:
        return None
    baseline = baseline_mib * MIB
    if budget > 0 and queue_size > 0:
        spans = min(MAX_DYNAMIC_QUEUE, budget * MIB // span_size)
        return CollectorQueue(spans, span_size, span_overhead, baseline, budget, memory_setting)
    return CollectorQueue(queue_size, span_size, span_overhead, baseline, None, size_setting)


@dataclass(frozen=True, slots=True)
class UdpQueue:
    """One agent UDP processor: every queued packet holds a max-packet-size buffer."""

    processor: str
    queue_size: int
    workers: int
    packet_size: int
    settings: tuple[FlagValue, ...]  # the ones set explicitly

    @property
    def bytes(self) -> int:
        return (self.queue_size + self.workers) * self.packet_size


def agent_queues(process: Process) -> list[UdpQueue] | None:
    """The three v1 UDP processors; None when a value is unknowable."""
    out = []
    for processor in catalogue.AGENT_PROCESSORS:
        values: dict[str, int] = {}
        explicit = []
        for key, default in AGENT_DEFAULTS.items():
            setting = process.setting(f"processor.{processor}.{key}")
            value = parse_count(setting, default)
            if value is None:
                return None
            values[key] = value
            if setting is not None:
                explicit.append(setting)
        out.append(
            UdpQueue(
                processor,
                values["server-queue-size"],
                values["workers"],
                values["server-max-packet-size"],
                tuple(explicit),
            )
        )
    return out
