"""Components of a collector config that hold state in memory: the tail
sampling buffer, the k8sattributes pod cache, the spanmetrics/servicegraph
series (Jaeger v2's memory store is ``meshlint.domain.jaeger.v2``'s).

Each reader returns only components a pipeline uses (or, for extensions, that
``service.extensions`` starts): the collector never builds the others.

Sources (verified against upstream code):

* tail_sampling: ``num_traces`` 50000, ``decision_wait`` 30s,
  ``expected_new_traces_per_sec`` 0 (contrib ``processor/tailsamplingprocessor``
  README and ``factory.go``); spans wait in memory until their trace's decision,
  unless ``tail_storage`` names a storage extension (``processor.go`` ``Start``:
  the in-memory tail storage only without it; the pebble extension keeps them on
  disk). With ``num_traces`` reached, ``waitForSpace`` evicts the oldest pending
  trace, or with ``block_on_overflow: true`` waits for a decision tick to free
  room (ingest blocks, nothing is evicted). ``maximum_trace_size_bytes`` (0 = no
  cap) drops a trace whose serialized bytes pass it (contrib v0.159.0
  ``processor/tailsamplingprocessor/processor.go``, ``config.go``);
* k8sattributes: ``filter.node`` / ``filter.node_from_env_var`` restrict the pod
  watch to one node (contrib ``processor/k8sattributesprocessor`` README);
  ``node_from_env_var`` reads ``os.Getenv`` (``options.go`` ``withFilterNode``):
  an unset variable gives no node filter, and recent versions refuse to start
  (``FilterConfig.Validate``); ``passthrough: true`` never watches the API
  server (``config.go``);
* spanmetrics: ``metrics_expiration`` and ``series_expiration`` default to 0,
  never (contrib ``connector/spanmetricsconnector/config.go``, v0.159.0);
  ``aggregation_cardinality_limit`` (0 = none) caps the combinations it tracks,
  later ones fold into one overflow series; dimensions come from
  ``dimensions``, ``calls_dimensions``, ``histogram.dimensions`` and
  ``events.dimensions`` (same file); servicegraph
  drops series idle for 15 minutes on its own (``cleanCache``), so only its
  dimensions matter;
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import KeyPath
from meshlint.domain.k8s.durations import collector_duration
from meshlint.domain.k8s.objects import get_in, list_at
from meshlint.domain.otel.config import ConfigView, is_type, pipelines, unsigned_int

TAIL_SAMPLING = "tail_sampling"
K8S_ATTRIBUTES = "k8sattributes"
SPANMETRICS = "spanmetrics"
SERVICEGRAPH = "servicegraph"
DEFAULT_NUM_TRACES = 50_000
DEFAULT_DECISION_WAIT = 30.0


def used(view: ConfigView, section: str) -> Iterator[tuple[str, dict[Any, Any], KeyPath]]:
    """(id, settings, path) of each component of ``section`` that a pipeline uses
    (found once per config and section: several rules ask)."""
    found = view.used.get(section)
    if found is None:
        found = view.used[section] = tuple(_used(view, section))
    return iter(found)


def _used(view: ConfigView, section: str) -> Iterator[tuple[str, dict[Any, Any], KeyPath]]:
    names: set[str] = set()
    for pipeline in pipelines(view):
        names.update(pipeline.receivers, pipeline.processors, pipeline.exporters)
    for cid, body in view.section(section).items():
        if str(cid) in names:
            yield str(cid), body if isinstance(body, dict) else {}, (section, cid)


@dataclass(frozen=True, slots=True)
class TailSampler:
    id: str
    path: KeyPath
    num_traces: int | None  # None: templated (${env:...})
    num_traces_set: bool
    decision_wait: float | None
    decision_wait_set: bool
    expected_rate: int | None  # expected_new_traces_per_sec; 0 or None: not given
    block_on_overflow: bool = False  # a full buffer makes ingest wait instead of evicting
    tail_storage: str | None = None  # pending spans kept by this extension, not the heap
    max_trace_bytes: int | None = None  # maximum_trace_size_bytes; None or 0: no cap


def tail_samplers(view: ConfigView) -> Iterator[TailSampler]:
    for cid, body, path in used(view, "processors"):
        if not is_type(cid, "processors", TAIL_SAMPLING):
            continue
        wait = collector_duration(body["decision_wait"]) if "decision_wait" in body else None
        yield TailSampler(
            cid,
            path,
            unsigned_int(body.get("num_traces", DEFAULT_NUM_TRACES)),
            "num_traces" in body,
            DEFAULT_DECISION_WAIT if "decision_wait" not in body else wait,
            "decision_wait" in body,
            unsigned_int(body.get("expected_new_traces_per_sec", 0)),
            body.get("block_on_overflow") is True,
            str(body["tail_storage"]) if body.get("tail_storage") else None,
            unsigned_int(body.get("maximum_trace_size_bytes", 0)) or None,
        )


@dataclass(frozen=True, slots=True)
class PodWatch:
    """A k8sattributes processor that watches pods through the API server."""

    id: str
    path: KeyPath
    node_filtered: bool  # filter.node or filter.node_from_env_var is written
    node_env: str | None  # the env var the node name comes from, if any
    node_env_path: KeyPath | None


def _node_field(body: dict[Any, Any]) -> bool:
    """``filter.fields`` holds ``spec.nodeName`` equal to a value: a node filter
    too (a field selector on the pod watch)."""
    for item in list_at(body, ("filter", "fields")):
        op = str(get_in(item, ("op",)) or "equals")
        value = get_in(item, ("value",))
        if get_in(item, ("key",)) == "spec.nodeName" and op == "equals" and value:
            return True
    return False


_ENV_REFERENCE = re.compile(r"^\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}$")


def pod_watches(view: ConfigView) -> Iterator[PodWatch]:
    """k8sattributes processors a pipeline uses that watch the API server: all but
    ``passthrough: true``, which only tags the pod IP (contrib
    ``processor/k8sattributesprocessor/config.go``)."""
    for cid, body, path in used(view, "processors"):
        if not is_type(cid, "processors", K8S_ATTRIBUTES) or body.get("passthrough") is True:
            continue
        node = get_in(body, ("filter", "node"))
        env = get_in(body, ("filter", "node_from_env_var"))
        if _node_field(body):
            yield PodWatch(cid, path, True, None, None)  # filter.fields on spec.nodeName
        elif isinstance(env, str) and env:
            yield PodWatch(cid, path, True, env, (*path, "filter", "node_from_env_var"))
        elif isinstance(node, str) and node:
            found = _ENV_REFERENCE.match(node.strip())
            where = (*path, "filter", "node")
            yield PodWatch(cid, path, True, found[1] if found else None, where if found else None)
        else:
            yield PodWatch(cid, path, False, None, None)


@dataclass(frozen=True, slots=True)
class MetricConnector:
    id: str
    type: str  # SPANMETRICS or SERVICEGRAPH
    path: KeyPath
    never_expires: bool  # spanmetrics without metrics_expiration or series_expiration
    # aggregation_cardinality_limit above 0: the series it keeps are capped
    cardinality_limit: int | None
    dimensions: tuple[tuple[str, KeyPath], ...]  # (attribute name, where it is written)


def _expires(body: dict[Any, Any]) -> bool:
    for key in ("metrics_expiration", "series_expiration"):
        if key in body:
            seconds = collector_duration(body[key])
            if seconds is None or seconds > 0:  # a templated value may well expire
                return True
    return False


def _dimension_names(items: list[Any], base: KeyPath) -> Iterator[tuple[str, KeyPath]]:
    for i, item in enumerate(items):
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            yield item["name"], (*base, i, "name")
        elif isinstance(item, str):
            yield item, (*base, i)


def metric_connectors(view: ConfigView) -> Iterator[MetricConnector]:
    for cid, body, path in used(view, "connectors"):
        if is_type(cid, "connectors", SPANMETRICS):
            dims = [
                dim
                for where in _SPANMETRICS_DIMENSIONS
                for dim in _dimension_names(list_at(body, where), (*path, *where))
            ]
            limit = unsigned_int(body.get("aggregation_cardinality_limit", 0))
            yield MetricConnector(
                cid, SPANMETRICS, path, not _expires(body), limit or None, tuple(dims)
            )
        elif is_type(cid, "connectors", SERVICEGRAPH):
            dims = list(_dimension_names(list_at(body, ("dimensions",)), (*path, "dimensions")))
            yield MetricConnector(cid, SERVICEGRAPH, path, False, None, tuple(dims))


_SPANMETRICS_DIMENSIONS: tuple[KeyPath, ...] = (
    ("dimensions",),
    ("calls_dimensions",),
    ("histogram", "dimensions"),
    ("events", "dimensions"),
)
