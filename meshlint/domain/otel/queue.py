"""How much memory an in-memory queue of a collector can hold
(opentelemetry-collector ``exporter/exporterhelper/README.md``,
``exporter/exporterhelper/internal/queuebatch``, ``processor/batchprocessor``,
``processor/queuebatchprocessor``; jaegertracing/jaeger
``cmd/jaeger/internal/exporters/storageexporter``).

Three components hold an exporterhelper queue: an exporter's ``sending_queue``;
Jaeger v2's ``jaeger_storage_exporter``, whose key is ``queue``; and the
``queuebatch`` processor (v0.158.0), which is that same queue as a processor.
The queue counts its ``queue_size`` in one of three sizers:

* ``requests`` (the default): each entry is one request as it was offered,
  so its item count is bounded by the last batching processor upstream in the
  pipeline, ``batch`` (``send_batch_max_size``) or ``queuebatch``
  (``batch.max_size`` in items or bytes), and not at all when that is 0 (the
  default of both): ``queue_size x items per request x bytes per item``. The
  queue's own ``batch`` block does not bound it: the batcher reads from the
  queue (``queue_batch.go``), so the queue holds requests as they came;
* ``items``: ``queue_size x bytes per item``;
* ``bytes``: serialized bytes, which grow by ``(span size + overhead) / span
  size`` once decoded in memory.

Defaults differ: exporters queue 1000 requests; ``queuebatch`` 10;
Jaeger's ``queue`` is off until it is written down, and written down takes
the zero value, ``queue_size`` 0 (which the collector rejects), so it is
estimated only with its own ``queue_size``. Before Jaeger v2.14.0 the block
also needed ``enabled: true``; since then (collector v0.142.0's optional
sections) the block alone enables it and ``enabled: false`` turns it off.

A queue with ``storage`` is persistent (on disk) and is not estimated. An
exporter without a ``sending_queue`` block keeps its factory's default: the
core ``otlp`` (``otlp_grpc``) and ``otlphttp`` (``otlp_http``) exporters default
to ``configoptional.Some(exporterhelper.NewDefaultQueueConfig())``, an
in-memory queue of 1000 requests and 10 consumers
(``exporter/otlpexporter/factory.go``, ``exporter/otlphttpexporter/factory.go``
at v0.159); other exporters' defaults are not known here and are not judged. A ``requests`` queue with no batching
processor upstream holds whatever the senders batched: not known statically.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import KeyPath
from meshlint.domain.k8s.quantity import human_bytes
from meshlint.domain.otel.config import (
    BATCH,
    OTLP_GRPC,
    OTLP_HTTP,
    QUEUEBATCH,
    ConfigView,
    Pipeline,
    component_type,
    heap_bounded,
    is_type,
    pipelines,
    unsigned_int,
)

DEFAULT_QUEUE_SIZE = 1000
QUEUEBATCH_QUEUE_SIZE = 10
JAEGER_STORAGE_EXPORTER = "jaeger_storage_exporter"
SIZERS = ("requests", "items", "bytes")
# Exporters whose factory turns the default queue on (1000 requests, 10 consumers)
# when the config has no sending_queue block (v0.159 factory.go of each).
QUEUED_BY_DEFAULT = (OTLP_GRPC, OTLP_HTTP)


@dataclass(frozen=True, slots=True)
class Queue:
    component: str  # the exporter or processor id
    path: KeyPath  # of the queue mapping
    body: dict[Any, Any]
    label: str  # 'Exporter "otlp" sending_queue', 'Processor "queuebatch" queue'
    default_size: int | None  # queue_size when unset; None: the zero value, invalid
    section: str = "exporters"
    implicit: bool = False  # no block in the config: the factory's default queue

    @property
    def exporter(self) -> str:
        return self.component


@dataclass(frozen=True, slots=True)
class Estimate:
    """A queue's worst case: ``size`` bytes, or None when nothing bounds it.

    ``bounded_by`` names what refuses data before the heap passes a limit in
    every pipeline that feeds the queue (a memory_limiter), else it is None.
    """

    queue: Queue
    path: KeyPath  # the setting to change
    size: int | None
    arithmetic: str
    bounded_by: str | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """What one request delivered to a queue holds: at most ``size`` items (or
    serialized bytes with ``in_bytes``); ``size`` None is unbounded."""

    size: int | None
    why: str
    in_bytes: bool = False


def _flag(value: Any) -> bool | None:
    """A YAML or templated-string boolean; None when unset or unknown."""
    text = str(value).strip().lower()
    return True if text == "true" else False if text == "false" else None


def _used(view: ConfigView, section: str) -> set[str]:
    field = "exporters" if section == "exporters" else "processors"
    return {c for pipeline in pipelines(view) for c in getattr(pipeline, field)}


def queues(view: ConfigView) -> Iterator[Queue]:
    """Every in-memory queue of a component a pipeline uses, that is switched on."""
    used = _used(view, "exporters")
    for eid, body in view.section("exporters").items():
        if not isinstance(body, dict) or str(eid) not in used:
            continue  # an exporter no pipeline uses is never started
        jaeger = component_type(eid) == JAEGER_STORAGE_EXPORTER
        label = "queue" if jaeger and "sending_queue" not in body else "sending_queue"
        if label not in body:
            if is_type(eid, "exporters", *QUEUED_BY_DEFAULT):
                yield Queue(
                    str(eid),
                    ("exporters", eid),
                    {},
                    f'Exporter "{eid}" default sending_queue (no sending_queue block)',
                    DEFAULT_QUEUE_SIZE,
                    implicit=True,
                )
            continue
        raw = body[label]
        if raw is None and jaeger:
            continue  # `queue:` with no value: None, the queue stays off
        queue = raw if isinstance(raw, dict) else {}
        if _flag(queue.get("enabled")) is False or queue.get("storage"):
            continue
        yield Queue(
            str(eid),
            ("exporters", eid, label),
            queue,
            f'Exporter "{eid}" {label}',
            None if jaeger else DEFAULT_QUEUE_SIZE,
        )
    used = _used(view, "processors")
    for pid, body in view.section("processors").items():
        if component_type(pid) != QUEUEBATCH or str(pid) not in used:
            continue
        queue = body if isinstance(body, dict) else {}
        if queue.get("storage"):
            continue
        yield Queue(
            str(pid),
            ("processors", pid),
            queue,
            f'Processor "{pid}" queue',
            QUEUEBATCH_QUEUE_SIZE,
            "processors",
        )


def _batch_of(view: ConfigView, pipeline: Pipeline, before: int | None) -> Batch | None:
    """What the last batching processor of ``pipeline`` (before index ``before``) emits."""
    processors = view.section("processors")
    chosen = [
        (i, p)
        for i, p in enumerate(pipeline.processors[:before])
        if component_type(p) in (BATCH, QUEUEBATCH)
    ]
    if not chosen:
        return None
    _, pid = chosen[-1]
    body = processors.get(pid)
    body = body if isinstance(body, dict) else {}
    where = f'processor "{pid}" in pipeline "{pipeline.name}"'
    if component_type(pid) == BATCH:
        raw = body.get("send_batch_max_size", 0)
        size = unsigned_int(raw)
        if size == 0:
            return Batch(None, f"{where} has send_batch_max_size {raw} (no upper bound)")
        return None if size is None else Batch(size, f"{where} send_batch_max_size")
    batch = body.get("batch", {})
    if batch is None or (isinstance(batch, dict) and _flag(batch.get("enabled")) is False):
        return None  # no batching: requests pass through as they came
    batch = batch if isinstance(batch, dict) else {}
    # The batch sizer is items (queuebatchprocessor/factory.go) unless the batch
    # block names one, or is written and the queue names one (queuebatch/config.go).
    sizer = str(batch.get("sizer", body.get("sizer", "items") if batch else "items"))
    raw = batch.get("max_size", 0)
    size = unsigned_int(raw)
    if size == 0:
        return Batch(None, f"{where} has batch.max_size {raw} (no upper bound)")
    if size is None or sizer not in ("items", "bytes"):
        return None
    return Batch(size, f"{where} batch.max_size in {sizer}", sizer == "bytes")


def _feeding(view: ConfigView, queue: Queue) -> list[tuple[Pipeline, int | None]]:
    """The pipelines that feed ``queue``, each with where in them it sits."""
    out: list[tuple[Pipeline, int | None]] = []
    for pipeline in pipelines(view):
        if not pipeline.receivers:
            continue  # the collector refuses a pipeline without receivers: it feeds nothing
        if queue.section == "exporters" and queue.component in pipeline.exporters:
            out.append((pipeline, None))
        elif queue.section == "processors" and queue.component in pipeline.processors:
            out.append((pipeline, pipeline.processors.index(queue.component)))
    return out


def upstream_batch(view: ConfigView, queue: Queue) -> Batch | None:
    """The largest request the pipelines feeding ``queue`` can deliver.

    Each pipeline's last batching processor before the queue decides; one
    unbounded pipeline makes the queue unbounded. None when no pipeline's batch
    size is known.
    """
    found = [b for p, at in _feeding(view, queue) if (b := _batch_of(view, p, at)) is not None]
    unbounded = [b for b in found if b.size is None]
    if unbounded:
        return unbounded[0]
    return max(found, key=lambda b: b.size or 0, default=None)


def _bounded_by(view: ConfigView, queue: Queue) -> str | None:
    """A memory_limiter that every pipeline feeding ``queue`` passes, if any."""
    found = [heap_bounded(view, p) for p, _ in _feeding(view, queue)]
    if not found or any(f is None for f in found):
        return None
    return found[0]


def estimate(view: ConfigView, queue: Queue, span_size: int, overhead: int) -> Estimate | None:
    """The queue's worst-case memory, or None when it cannot be estimated."""
    body = queue.body
    size = unsigned_int(body.get("queue_size", queue.default_size))
    sizer = str(body.get("sizer", "requests"))
    if size is None or size <= 0 or sizer not in SIZERS:
        return None  # templated (${env:..}), missing or invalid: the collector rejects it
    path = (*queue.path, "queue_size") if "queue_size" in body else queue.path
    bounded = _bounded_by(view, queue)
    per_item = span_size + overhead
    item_text = f"{human_bytes(per_item)} per item in memory"
    if sizer == "items":
        return Estimate(queue, path, size * per_item, f"{size} items x {item_text}", bounded)
    if sizer == "bytes":
        return Estimate(
            queue,
            path,
            size * per_item // span_size,
            _bytes_text(size, span_size, per_item),
            bounded,
        )
    batch = upstream_batch(view, queue)
    if batch is None:
        return None
    if batch.size is None:
        text = f"{size} requests of unbounded size: {batch.why}"
        return Estimate(queue, path, None, text, bounded)
    if batch.in_bytes:
        total = size * batch.size * per_item // span_size
        text = f"{size} requests x {_bytes_text(batch.size, span_size, per_item)} ({batch.why})"
        return Estimate(queue, path, total, text, bounded)
    total = size * batch.size * per_item
    text = f"{size} requests x {batch.size} items ({batch.why}) x {item_text}"
    return Estimate(queue, path, total, text, bounded)


def _bytes_text(size: int, span_size: int, per_item: int) -> str:
    return (
        f"{human_bytes(size)} serialized x {per_item / span_size:g} "
        f"({human_bytes(per_item)} in memory per {human_bytes(span_size)} serialized item)"
    )
