"""What an exporter sends and how long its queue takes to drain.

gRPC request size (opentelemetry-collector ``config/configgrpc/configgrpc.go``:
a server without ``max_recv_msg_size_mib`` keeps grpc-go's 4 MiB limit; the OTLP
receiver sets none). An ``otlp``/``otlp_grpc`` exporter's request is one batch,
formed by, in order of precedence:

* its own ``sending_queue.batch`` (``exporter/exporterhelper/README.md``:
  ``min_size`` 8192, ``max_size`` 0 = no maximum, ``sizer`` from the queue's
  when it is ``items``/``bytes``, else ``items``);
* else the last ``batch`` processor of each pipeline feeding it
  (``send_batch_size`` 8192, ``send_batch_max_size`` 0 = never split;
  ``processor/batchprocessor``) or ``queuebatch`` processor (the exporterhelper
  batch settings, batching on; ``processor/queuebatchprocessor/factory.go``).

A batch leaves when it reaches its minimum or when its timer fires, whichever
comes first (``timeout`` 200ms for the batch processor, ``flush_timeout`` 200ms
for exporterhelper, ``exporter/exporterhelper/internal/queue_sender.go``), and
is split at its maximum. At an ingest of ``rate`` spans per second one flush
holds ``min(minimum, rate x timeout)``, at most the maximum: the minimum (8192
spans, 8 MiB at 1 KiB) is the worst case under load, reached only where the
rate fills it within the timeout. With ``timeout: 0`` (or ``send_batch_size:
0``) the batch processor has no timer and sends data as it arrives,
``send_batch_size`` ignored: not judged. Item counts become bytes with the
serialized span size, so they are judged for traces pipelines only;
``sizer: bytes`` is exact.

Drain at shutdown (``exporter/exporterhelper/internal/base_exporter.go``): the
retry sender stops first, then the in-memory queue is drained with one attempt
per request, ``num_consumers`` (10) at a time, each taking what the backend
takes, at most the attempt's timeout: exporterhelper's ``timeout`` (5s for
``otlp``), for ``otlphttp`` the HTTP client's ``timeout`` (30s; its
exporterhelper timeout is 0, ``exporter/otlphttpexporter/factory.go`` v0.159).
A full queue against a healthy backend answering in ``latency`` drains in
``ceil(queue_size / num_consumers) x min(latency, timeout)``. A backend that is
down delivers nothing whatever the grace period, so the timeout alone is not
the drain.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import KeyPath
from meshlint.domain.k8s.durations import collector_duration, duration_text
from meshlint.domain.k8s.objects import get_in
from meshlint.domain.k8s.quantity import human_bytes
from meshlint.domain.otel.config import OTLP_HTTP, ConfigView, is_type, pipelines, unsigned_int
from meshlint.domain.otel.queue import JAEGER_STORAGE_EXPORTER, queues

MIB = 2**20
GRPC_DEFAULT_MAX_RECV = 4 * MIB
DEFAULT_MIN_SIZE = 8192  # batch send_batch_size, exporterhelper batch min_size
DEFAULT_NUM_CONSUMERS = 10
DEFAULT_TIMEOUT = 5.0
OTLP_HTTP_CLIENT_TIMEOUT = 30.0  # otlphttpexporter createDefaultConfig, v0.159


@dataclass(frozen=True, slots=True)
class Request:
    """The largest request an exporter sends: ``size`` bytes, or at least ``size``
    with no upper bound (``bounded`` False)."""

    exporter: str
    path: KeyPath  # the setting to change
    size: int
    bounded: bool
    arithmetic: str


def receiver_limits(view: ConfigView) -> Iterator[int]:
    """Raised gRPC message limits (bytes) of the OTLP receivers of a config."""
    for rid, body in view.section("receivers").items():
        if is_type(rid, "receivers", "otlp") and isinstance(body, dict):
            mib = unsigned_int(get_in(body, ("protocols", "grpc", "max_recv_msg_size_mib")))
            if mib:
                yield mib * MIB


@dataclass(frozen=True, slots=True)
class Flush:
    """When a batcher sends: at ``minimum`` items (or bytes) or after ``timeout``
    seconds, whichever comes first, split at ``maximum`` (0: never split)."""

    minimum: int
    maximum: int
    timeout: float
    names: tuple[str, str, str]  # the three settings as the config spells them


def _sized(
    exporter: str,
    path: KeyPath,
    sizer: str,
    flush: Flush | None,
    where: str,
    load: tuple[int, int],
    traces: bool,
) -> Request | None:
    """The batch a flush sends at ``load`` (span bytes, spans per second):
    ``min(minimum, rate x timeout)``, split at ``maximum``."""
    if flush is None:
        return None  # templated, or a batcher that sends data as it arrives
    if sizer != "bytes" and not traces:
        return None  # item sizes of metrics and logs are not span sizes
    span_size, rate = load
    low, high, every = flush.names
    per_flush = rate * flush.timeout * (span_size if sizer == "bytes" else 1)
    count = min(flush.minimum, math.ceil(per_flush))
    if flush.maximum:
        count = min(count, flush.maximum)
    unit = "bytes" if sizer == "bytes" else "spans"
    ingest = f"{rate} spans/s x {every} {duration_text(flush.timeout)}"
    if sizer == "bytes":
        ingest += f" x {human_bytes(span_size)}"
    split = f"{high} {flush.maximum}" if flush.maximum else f"{high} 0 never splits"
    text = f"{where}: min({low} {flush.minimum}, {ingest}) {unit}, {split}"
    size = count if sizer == "bytes" else count * span_size
    if sizer != "bytes":
        text += f"; x {human_bytes(span_size)} per span"
    # With no maximum a batch flushed on size also carries the rest of the
    # request that completed it: what is computed is a floor, not a ceiling.
    return Request(exporter, path, size, bool(flush.maximum) or count < flush.minimum, text)


def _batcher(
    exporter: str,
    body: dict[Any, Any],
    base: KeyPath,
    where: str,
    load: tuple[int, int],
    traces: bool,
) -> Request | None:
    """The exporterhelper batch settings in ``body`` (a queue or queuebatch processor)."""
    batch = body.get("batch")
    if not isinstance(batch, dict) or str(batch.get("enabled", "true")).lower() == "false":
        return None
    outer = str(body.get("sizer", "requests"))
    sizer = str(batch.get("sizer", outer if outer in ("items", "bytes") else "items"))
    path: KeyPath = (*base, "batch", "max_size") if "max_size" in batch else (*base, "batch")
    minimum = unsigned_int(batch.get("min_size", DEFAULT_MIN_SIZE))
    maximum = unsigned_int(batch.get("max_size", 0))
    timeout = _duration(batch.get("flush_timeout", "200ms"))
    if minimum is None or maximum is None or not timeout or timeout <= 0:
        return None  # templated or invalid (flush_timeout must be positive)
    names = ("min_size", "max_size", "flush_timeout")
    return _sized(
        exporter, path, sizer, Flush(minimum, maximum, timeout, names), where, load, traces
    )


def _duration(value: Any) -> float | None:
    """A collector duration in seconds, None unless finite and not negative."""
    seconds = collector_duration(value)
    return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None


def _batch_processor(settings: dict[Any, Any]) -> Flush | None:
    """The batch processor's flush (``processor/batchprocessor/batch_processor.go``):
    with ``timeout`` 0 or ``send_batch_size`` 0 there is no timer and the
    processor sends what it has as soon as it has it, so data leaves as it came."""
    minimum = unsigned_int(settings.get("send_batch_size", DEFAULT_MIN_SIZE))
    maximum = unsigned_int(settings.get("send_batch_max_size", 0))
    timeout = _duration(settings.get("timeout", "200ms"))
    if minimum is None or maximum is None or timeout is None:
        return None
    if not timeout or not minimum:
        return None
    return Flush(minimum, maximum, timeout, ("send_batch_size", "send_batch_max_size", "timeout"))


def grpc_requests(view: ConfigView, span_size: int, rate: int) -> Iterator[Request]:
    """The request each OTLP gRPC exporter a pipeline uses sends at ``rate`` spans
    per second of ingest, where known."""
    load = (span_size, rate)
    processors = view.section("processors")
    feeding: dict[str, list[Any]] = {}
    for pipeline in pipelines(view):
        for eid in pipeline.exporters:
            feeding.setdefault(eid, []).append(pipeline)
    for eid, body in view.section("exporters").items():
        if (
            not is_type(eid, "exporters", "otlp")
            or str(eid) not in feeding
            or not isinstance(body, dict)
        ):
            continue
        exporter = str(eid)
        traces = any(p.name.split("/")[0] == "traces" for p in feeding[exporter])
        queue = body.get("sending_queue")
        if isinstance(queue, dict) and "batch" in queue:
            where = f'exporter "{exporter}" sending_queue.batch'
            base: KeyPath = ("exporters", eid, "sending_queue")
            found = _batcher(exporter, queue, base, where, load, traces)
            if found is not None:
                yield found
            continue
        for pipeline in feeding[exporter]:
            signal = pipeline.name.split("/")[0]
            batchers = [
                p for p in pipeline.processors if is_type(p, "processors", "batch", "queuebatch")
            ]
            if not batchers:
                continue
            pid = batchers[-1]
            settings = processors.get(pid)
            settings = settings if isinstance(settings, dict) else {}
            where = f'processor "{pid}" in pipeline "{pipeline.name}"'
            if is_type(pid, "processors", "queuebatch"):
                settings = {"batch": {}, **settings}  # batching is on in the processor
                found = _batcher(
                    exporter, settings, ("processors", pid), where, load, signal == "traces"
                )
            else:
                bounded = "send_batch_max_size" in settings
                found = _sized(
                    exporter,
                    ("processors", pid, "send_batch_max_size") if bounded else ("processors", pid),
                    "items",
                    _batch_processor(settings),
                    where,
                    load,
                    signal == "traces",
                )
            if found is not None:
                yield found


@dataclass(frozen=True, slots=True)
class Drain:
    exporter: str
    label: str  # 'Exporter "otlp" sending_queue'
    path: KeyPath
    seconds: float
    arithmetic: str


def _timeout(queue_exporter: str, settings: dict[Any, Any]) -> float | None:
    """Seconds one export attempt may take (0: no bound), None when templated."""
    if "timeout" in settings:
        return _duration(settings["timeout"])
    if is_type(queue_exporter, "exporters", JAEGER_STORAGE_EXPORTER):
        return 0.0
    if is_type(queue_exporter, "exporters", OTLP_HTTP):
        return OTLP_HTTP_CLIENT_TIMEOUT
    return DEFAULT_TIMEOUT


def drains(view: ConfigView, latency: float) -> Iterator[Drain]:
    """How long each in-memory queue counted in requests takes to drain when it
    is full at shutdown and the backend answers every export in ``latency``
    seconds (capped by the exporter's timeout)."""
    exporters = view.section("exporters")
    for queue in queues(view):
        body = queue.body
        if queue.section != "exporters" or str(body.get("sizer", "requests")) != "requests":
            continue  # a processor's queue, or items/bytes: how many requests is not known
        size = unsigned_int(body.get("queue_size", queue.default_size))
        consumers = unsigned_int(body.get("num_consumers", DEFAULT_NUM_CONSUMERS))
        settings = exporters.get(queue.exporter)
        settings = settings if isinstance(settings, dict) else {}
        timeout = _timeout(queue.exporter, settings)
        if not size or not consumers or timeout is None or timeout < 0:
            continue  # templated or invalid
        each = min(latency, timeout) if timeout > 0 else latency
        rounds = math.ceil(size / consumers)
        path = (*queue.path, "queue_size") if "queue_size" in body else queue.path
        capped = f" (timeout {duration_text(timeout)})" if 0 < timeout < latency else ""
        yield Drain(
            queue.exporter,
            queue.label,
            path,
            rounds * each,
            f"ceil(queue_size {size} / num_consumers {consumers}) x {duration_text(each)} "
            f"per export{capped}",
        )
