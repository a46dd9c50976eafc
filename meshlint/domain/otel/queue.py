"""How much memory an exporter queue can hold (opentelemetry-collector
``exporter/exporterhelper/README.md``, ``processor/batchprocessor/README.md``;
jaegertracing/jaeger ``cmd/jaeger/internal/exporters/storageexporter/config.go``).

The exporterhelper queue (``sending_queue``; ``queue`` on Jaeger v2's
``jaeger_storage_exporter``) counts its ``queue_size`` in one of three sizers:

* ``requests`` (the default): each entry is one request as the pipeline
  delivered it, so its item count is bounded by the upstream ``batch``
  processor's ``send_batch_max_size``, and not at all when that is 0 (the
  default): ``queue_size x items per request x bytes per item``;
* ``items``: ``queue_size x bytes per item``;
* ``bytes``: serialized bytes, which grow by ``(span size + overhead) / span
  size`` once decoded in memory.

Jaeger's ``jaeger_storage_exporter`` starts with its queue disabled (the
field's zero value, not exporterhelper's defaults), so it counts only with
``enabled: true``. A queue with ``storage`` is persistent (on disk) and is not estimated; nor is an
exporter without a ``sending_queue`` block, because whether it queues by
default depends on the exporter. A ``requests`` queue whose pipelines have no
batch processor holds whatever the senders batched: not known statically.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import KeyPath
from meshlint.domain.k8s.quantity import human_bytes
from meshlint.domain.otel.config import BATCH, ConfigView, component_type, pipelines, unsigned_int

DEFAULT_QUEUE_SIZE = 1000
JAEGER_STORAGE_EXPORTER = "jaeger_storage_exporter"
SIZERS = ("requests", "items", "bytes")


@dataclass(frozen=True, slots=True)
class Queue:
    exporter: str
    path: KeyPath  # of the queue mapping
    body: dict[Any, Any]
    label: str  # "sending_queue" or "queue"


@dataclass(frozen=True, slots=True)
class Estimate:
    """A queue's worst case: ``size`` bytes, or None when nothing bounds it."""

    queue: Queue
    path: KeyPath  # the setting to change
    size: int | None
    arithmetic: str


@dataclass(frozen=True, slots=True)
class Batch:
    """Items per request delivered to an exporter: ``items`` None is unbounded."""

    items: int | None
    why: str


def _flag(value: Any) -> bool | None:
    """A YAML or templated-string boolean; None when unset or unknown."""
    text = str(value).strip().lower()
    return True if text == "true" else False if text == "false" else None


def queues(view: ConfigView) -> Iterator[Queue]:
    """Every in-memory queue of an exporter that a pipeline uses and that is switched on."""
    used = {e for pipeline in pipelines(view) for e in pipeline.exporters}
    for eid, body in view.section("exporters").items():
        if not isinstance(body, dict) or str(eid) not in used:
            continue  # an exporter no pipeline uses is never started
        jaeger = component_type(eid) == JAEGER_STORAGE_EXPORTER
        label = "sending_queue"
        if label not in body and jaeger:
            label = "queue"  # Jaeger v2 names it differently (storageexporter/config.go)
        if label not in body:
            continue
        queue = body[label] if isinstance(body[label], dict) else {}
        enabled = _flag(queue.get("enabled"))
        if enabled is False or (jaeger and enabled is None) or queue.get("storage"):
            continue
        yield Queue(str(eid), ("exporters", eid, label), queue, label)


def upstream_batch(view: ConfigView, exporter: str) -> Batch | None:
    """The largest request the pipelines feeding ``exporter`` can deliver.

    Each pipeline's last ``batch`` processor decides; one unbounded pipeline
    makes the queue unbounded. None when no pipeline's batch size is known.
    """
    processors = view.section("processors")
    found: list[Batch] = []
    for pipeline in pipelines(view):
        if exporter not in pipeline.exporters:
            continue
        batches = [p for p in pipeline.processors if component_type(p) == BATCH]
        if not batches:
            continue
        pid = batches[-1]
        body = processors.get(pid)
        body = body if isinstance(body, dict) else {}
        raw = body.get("send_batch_max_size", 0)
        size = unsigned_int(raw)
        where = f'processor "{pid}" in pipeline "{pipeline.name}"'
        if size == 0:
            found.append(Batch(None, f"{where} has send_batch_max_size {raw} (no upper bound)"))
        elif size is not None:
            found.append(Batch(size, f"{where} send_batch_max_size"))
    unbounded = [b for b in found if b.items is None]
    if unbounded:
        return unbounded[0]
    return max(found, key=lambda b: b.items or 0, default=None)


def estimate(view: ConfigView, queue: Queue, span_size: int, overhead: int) -> Estimate | None:
    """The queue's worst-case memory, or None when it cannot be estimated."""
    body = queue.body
    size = unsigned_int(body.get("queue_size", DEFAULT_QUEUE_SIZE))
    sizer = str(body.get("sizer", "requests"))
    if size is None or size <= 0 or sizer not in SIZERS:
        return None  # templated (${env:..}) or invalid: the collector rejects it
    path = (*queue.path, "queue_size") if "queue_size" in body else queue.path
    per_item = span_size + overhead
    item_text = f"{human_bytes(per_item)} per item in memory"
    if sizer == "items":
        return Estimate(queue, path, size * per_item, f"{size} items x {item_text}")
    if sizer == "bytes":
        total = size * per_item // span_size
        return Estimate(
            queue,
            path,
            total,
            f"{human_bytes(size)} serialized x {per_item / span_size:g} "
            f"({human_bytes(per_item)} in memory per {human_bytes(span_size)} serialized item)",
        )
    batch = upstream_batch(view, queue.exporter)
    if batch is None:
        return None
    if batch.items is None:
        return Estimate(queue, path, None, f"{size} requests of unbounded size: {batch.why}")
    total = size * batch.items * per_item
    return Estimate(
        queue, path, total, f"{size} requests x {batch.items} items ({batch.why}) x {item_text}"
    )
