"""OpenTelemetry collector configurations: where they live and what they say.

A collector config (OpenTelemetry or Jaeger v2, which is a collector
distribution) is recognised by its shape, ``receivers`` + ``exporters`` +
``service.pipelines`` (SPEC §8), wherever it is found:

* a ConfigMap data value under any key (the OpenTelemetry chart uses
  ``relay``, the Jaeger v2 chart ``user-config.yaml``), parsed with
  ``Document.embedded`` so positions map into the host file;
* ``OpenTelemetryCollector.spec.config``: a string in ``v1alpha1``, an object
  in ``v1beta1`` (either is accepted in both).

``ConfigView`` reads one config and anchors findings in it; pipelines,
processors and the memory_limiter settings are read here and nowhere else
(reference/domain-facts.md §2). Queue arithmetic is in ``otel_queue``, the
link to the pods that mount a ConfigMap in ``otel_link``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.k8s import get_in, mapping_at
from meshlint.model import Location, Path, Violation
from meshlint.source import Document, Problem

CONFIG_MAP = "ConfigMap"
COLLECTOR_CR = "OpenTelemetryCollector"
HOST_KINDS = frozenset({CONFIG_MAP, COLLECTOR_CR})
MEMORY_LIMITER = "memory_limiter"
BATCH = "batch"
MEMORY_BALLAST = "memory_ballast"
BALLAST_SIZE = "ballast_size_mib"
# Cheap test before parsing a ConfigMap value as YAML: dashboards and scripts
# in ConfigMaps can be megabytes, and only collector configs concern us.
_MARKERS = ("receivers", "exporters", "pipelines")


def component_type(component_id: object) -> str:
    """``memory_limiter/traces`` -> ``memory_limiter`` (ids are ``type[/name]``)."""
    return str(component_id).split("/", 1)[0].strip()


def is_collector_config(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and "receivers" in data
        and "exporters" in data
        and isinstance(get_in(data, ("service", "pipelines")), dict)
    )


@dataclass(frozen=True, eq=False)
class ConfigView:
    """One collector config: its values and where each of them is in the file."""

    data: dict[str, Any]
    doc: Document  # the document whose nodes hold the config (maybe embedded)
    prefix: Path  # where the config starts inside ``doc``
    host: Document  # the Kubernetes object: ConfigMap or OpenTelemetryCollector
    key: str | None = None  # the ConfigMap data key

    def anchor(self, path: Path) -> Location:
        return self.doc.anchor((*self.prefix, *path))

    def violation(self, path: Path, message: str) -> Violation:
        return Violation((), message, anchor=self.anchor(path))

    def section(self, name: str) -> dict[Any, Any]:
        return mapping_at(self.data, (name,))


def configs(doc: Document) -> Iterator[ConfigView | Problem]:
    """Every collector config held by ``doc``; a Problem where one does not parse.

    Found once per document: six rules ask, and a ConfigMap's values are scanned.
    """
    found = doc.memo.get(configs)
    if found is None:
        found = doc.memo[configs] = list(_configs(doc))
    return iter(found)


def _configs(doc: Document) -> Iterator[ConfigView | Problem]:
    if doc.kind == CONFIG_MAP:
        for key, value in mapping_at(doc.data, ("data",)).items():
            if isinstance(key, str) and isinstance(value, str) and _looks_like_config(value):
                yield from _embedded(doc, ("data", key), key)
    elif doc.kind == COLLECTOR_CR:
        config = get_in(doc.data, ("spec", "config"))
        if isinstance(config, str):
            yield from _embedded(doc, ("spec", "config"), None)
        elif is_collector_config(config):
            yield ConfigView(config, doc, ("spec", "config"), doc)


def problems(doc: Document) -> Iterator[Problem]:
    """Only the parse errors of ``doc``'s collector configs (M004 reports them)."""
    return (found for found in configs(doc) if isinstance(found, Problem))


def views(doc: Document) -> Iterator[ConfigView]:
    """Only the collector configs of ``doc`` that parse: what the O rules judge."""
    return (found for found in configs(doc) if isinstance(found, ConfigView))


def _looks_like_config(text: str) -> bool:
    return all(marker in text for marker in _MARKERS)


def _embedded(doc: Document, path: Path, key: str | None) -> Iterator[ConfigView | Problem]:
    inner = doc.embedded(path)
    if isinstance(inner, Problem):
        yield inner
    elif inner is not None and is_collector_config(inner.data):
        yield ConfigView(inner.data, inner, (), doc, key)


@dataclass(frozen=True)
class Pipeline:
    name: str
    receivers: tuple[str, ...]
    processors: tuple[str, ...]
    exporters: tuple[str, ...]

    @property
    def path(self) -> Path:
        return ("service", "pipelines", self.name)

    def processor_path(self, index: int) -> Path:
        return (*self.path, "processors", index)


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def pipelines(view: ConfigView) -> list[Pipeline]:
    out = []
    for name, body in mapping_at(view.data, ("service", "pipelines")).items():
        body = body if isinstance(body, dict) else {}
        out.append(
            Pipeline(
                str(name),
                _ids(body.get("receivers")),
                _ids(body.get("processors")),
                _ids(body.get("exporters")),
            )
        )
    return out


def fed_by_connectors_only(view: ConfigView, pipeline: Pipeline) -> bool:
    """Every receiver is a connector: the data already passed another pipeline."""
    connectors = view.section("connectors")
    return bool(pipeline.receivers) and all(r in connectors for r in pipeline.receivers)


def unsigned_int(value: Any) -> int | None:
    """An unsigned integer setting (``limit_mib``, ``queue_size``): a YAML integer, an
    integral float or a string of digits; strings such as ``${env:X}`` are unknown."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


@dataclass(frozen=True)
class MemoryLimiter:
    """One ``memory_limiter`` processor's settings (None where unset or unknown)."""

    id: str
    path: Path
    body: dict[Any, Any]
    limit_mib: int | None
    spike_limit_mib: int | None
    limit_percentage: int | None
    spike_limit_percentage: int | None

    def setting(self, name: str) -> Path:
        return (*self.path, name)

    def has(self, name: str) -> bool:
        return name in self.body


def memory_limiters(view: ConfigView) -> Iterator[MemoryLimiter]:
    for pid, body in view.section("processors").items():
        if component_type(pid) != MEMORY_LIMITER:
            continue
        body = body if isinstance(body, dict) else {}
        yield MemoryLimiter(
            str(pid),
            ("processors", pid),
            body,
            unsigned_int(body.get("limit_mib")),
            unsigned_int(body.get("spike_limit_mib")),
            unsigned_int(body.get("limit_percentage")),
            unsigned_int(body.get("spike_limit_percentage")),
        )
