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

A batch with no maximum is at least its minimum once full, plus whatever
request completed it. Item counts become bytes with the serialized span size,
so they are judged for traces pipelines only; ``sizer: bytes`` is exact.

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


def _sized(
    exporter: str,
    path: KeyPath,
    sizer: str,
    limits: tuple[int | None, int | None],
    names: tuple[str, str],
    where: str,
    span_size: int,
    traces: bool,
) -> Request | None:
    """A batch of at most ``limits[1]`` (0: no maximum, then at least ``limits[0]``)."""
    minimum, maximum = limits
    low, high = names
    if minimum is None or maximum is None:
        return None  # templated
    if maximum:
        count, text = maximum, f"{where} {high} {maximum}"
    else:
        count, text = minimum, f"{where} {high} 0 (no maximum), {low} {minimum}"
    if sizer == "bytes":
        return Request(exporter, path, count, bool(maximum), f"{text} bytes")
    if not traces:
        return None  # item sizes of metrics and logs are not span sizes
    return Request(
        exporter, path, count * span_size, bool(maximum), f"{text} spans x {human_bytes(span_size)}"
    )


def _batcher(
    exporter: str, body: dict[Any, Any], base: KeyPath, where: str, span_size: int, traces: bool
) -> Request | None:
    """The exporterhelper batch settings in ``body`` (a queue or queuebatch processor)."""
    batch = body.get("batch")
    if not isinstance(batch, dict) or str(batch.get("enabled", "true")).lower() == "false":
        return None
    outer = str(body.get("sizer", "requests"))
    sizer = str(batch.get("sizer", outer if outer in ("items", "bytes") else "items"))
    path: KeyPath = (*base, "batch", "max_size") if "max_size" in batch else (*base, "batch")
    return _sized(
        exporter,
        path,
        sizer,
        (
            unsigned_int(batch.get("min_size", DEFAULT_MIN_SIZE)),
            unsigned_int(batch.get("max_size", 0)),
        ),
        ("min_size", "max_size"),
        where,
        span_size,
        traces,
    )


def grpc_requests(view: ConfigView, span_size: int) -> Iterator[Request]:
    """The largest request of each OTLP gRPC exporter a pipeline uses, where known."""
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
            found = _batcher(exporter, queue, base, where, span_size, traces)
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
                    exporter, settings, ("processors", pid), where, span_size, signal == "traces"
                )
            else:
                bounded = "send_batch_max_size" in settings
                found = _sized(
                    exporter,
                    ("processors", pid, "send_batch_max_size") if bounded else ("processors", pid),
                    "items",
                    (
                        unsigned_int(settings.get("send_batch_size", DEFAULT_MIN_SIZE)),
                        unsigned_int(settings.get("send_batch_max_size", 0)),
                    ),
                    ("send_batch_size", "send_batch_max_size"),
                    where,
                    span_size,
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
        return collector_duration(settings["timeout"])
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
