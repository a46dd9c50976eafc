"""OpenTelemetry collector configurations: where they live and what they say.

A collector config (OpenTelemetry or Jaeger v2, which is a collector
distribution) is recognised by its shape, ``receivers`` + ``exporters`` +
``service.pipelines``, wherever it is found:

* a ConfigMap data value under any key (the OpenTelemetry chart uses
  ``relay``, the Jaeger v2 chart ``user-config.yaml``), parsed with
  ``Document.embedded`` so positions map into the host file;
* ``OpenTelemetryCollector.spec.config``: a string in ``v1alpha1``, an object
  in ``v1beta1`` (either is accepted in both), whatever image runs it
  (``spec.image: jaegertracing/jaeger`` runs Jaeger v2);
* a Jaeger v2 container started without ``--config``: the embedded all-in-one
  config (``meshlint.domain.jaeger.v2``), anchored at the container.

Component types are matched by their current name and the deprecated alias the
collector still accepts (``otlp`` -> ``otlp_grpc`` and ``otlphttp`` ->
``otlp_http`` exporters in v0.144.0; contrib's ``k8sattributes`` ->
``k8s_attributes`` processor, contrib#45901).

``ConfigView`` reads one config and anchors findings in it; pipelines,
processors and the memory_limiter settings (opentelemetry-collector
``internal/memorylimiter/config.go``; the processor, and since v0.142.0 the
extension that receivers use as middleware) are read here and nowhere else. Queue
arithmetic is in ``meshlint.domain.otel.queue``, the link to the pods that
mount a ConfigMap in ``meshlint.domain.otel.link``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import (
    Change,
    Document,
    Fix,
    KeyPath,
    Location,
    ParseError,
    Violation,
    cached,
)
from meshlint.domain.jaeger.v2 import all_in_one_config, runs_all_in_one
from meshlint.domain.k8s.objects import (
    WORKLOAD_KINDS,
    Container,
    containers_of,
    get_in,
    list_at,
    mapping_at,
)
from meshlint.domain.numbers import integer

CONFIG_MAP = "ConfigMap"
COLLECTOR_CR = "OpenTelemetryCollector"
# A collector (or Jaeger v2) config file of its own, with no apiVersion/kind:
# what a kustomize configMapGenerator or a chart's .Files.Get reads. meshlint's
# name for it; no such Kubernetes kind exists.
COLLECTOR_FILE = "CollectorConfig"
HOST_KINDS = frozenset({CONFIG_MAP, COLLECTOR_CR, COLLECTOR_FILE})
MEMORY_LIMITER = "memory_limiter"
BATCH = "batch"
QUEUEBATCH = "queuebatch"  # collector v0.158.0, the batch processor's replacement
OTLP_GRPC = "otlp_grpc"
OTLP_HTTP = "otlp_http"
K8S_ATTRIBUTES = "k8s_attributes"
SPAN_METRICS = "span_metrics"
# Section -> deprecated alias -> current type; both spellings load the same component.
_RENAMED = {
    "exporters": {"otlp": OTLP_GRPC, "otlphttp": OTLP_HTTP},
    "processors": {"k8sattributes": K8S_ATTRIBUTES},
    # contrib's spanmetrics connector metadata: type span_metrics, deprecated_type spanmetrics
    "connectors": {"spanmetrics": SPAN_METRICS},
}
MEMORY_BALLAST = "memory_ballast"
BALLAST_SIZE = "ballast_size_mib"
# Cheap test before parsing a ConfigMap value as YAML: dashboards and scripts
# in ConfigMaps can be megabytes, and only collector configs concern us.
_MARKERS = ("receivers", "exporters", "pipelines")
_MARKER_KEYS = tuple(
    re.compile(rf"^[ \t]*[\"']?{marker}[\"']?[ \t]*:", re.M) for marker in _MARKERS[:2]
)
# What a ConfigMap key holding a collector config is called: a name with no
# extension (the charts' ``relay``) or a YAML/JSON file name.
_CONFIG_SUFFIXES = frozenset({"", "yaml", "yml", "json"})


def component_type(component_id: object, section: str | None = None) -> str:
    """``memory_limiter/traces`` -> ``memory_limiter`` (ids are ``type[/name]``).

    With the ``section`` the id is declared in (``"exporters"``), a deprecated
    alias reads as the current type: ``otlp/tempo`` -> ``otlp_grpc``.
    """
    kind = str(component_id).split("/", 1)[0].strip()
    if section is None:
        return kind
    return _RENAMED.get(section, {}).get(kind, kind)


def is_type(component_id: object, section: str, *types: str) -> bool:
    """Whether ``component_id``, declared in ``section``, is a component of one of
    ``types``, whichever spelling either is written in."""
    kind = component_type(component_id, section)
    return any(component_type(t, section) == kind for t in types)


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
    prefix: KeyPath  # where the config starts inside ``doc``
    host: Document  # the Kubernetes object: ConfigMap, OpenTelemetryCollector, workload
    key: str | None = None  # the ConfigMap data key
    # A config that is in no file (Jaeger's built-in one) is judged at the
    # container that runs it: every finding points there.
    container: Container | None = None

    @property
    def builtin(self) -> bool:
        return self.container is not None

    @property
    def origin(self) -> str:
        """Where the config comes from, for messages: empty for a config in the file."""
        if self.container is None:
            return ""
        return (
            f' of the built-in all-in-one config that Jaeger v2 container "{self.container.name}" '
            f"runs without --config"
        )

    def locate(self, path: KeyPath) -> Location:
        if self.container is not None:
            return self.doc.locate(self.container.path)
        return self.doc.locate((*self.prefix, *path))

    def violation(self, path: KeyPath, message: str, fix: Fix | None = None) -> Violation:
        return Violation(at=self.locate(path), message=message, fix=fix)

    # Edits of the config, wherever it is held (a ConfigMap string, a CR's spec);
    # None for a built-in config, which is in no file to edit.
    def set_value(self, path: KeyPath, value: Any) -> Change | None:
        return None if self.builtin else self.doc.set_value((*self.prefix, *path), value)

    def remove(self, path: KeyPath) -> Change | None:
        return None if self.builtin else self.doc.remove((*self.prefix, *path))

    def move_first(self, path: KeyPath) -> Change | None:
        return None if self.builtin else self.doc.move_first((*self.prefix, *path))

    def section(self, name: str) -> dict[Any, Any]:
        value = self.data.get(name)  # ``data`` is a mapping: one step, as mapping_at takes it
        return value if isinstance(value, dict) else {}

    @cached
    def pipelines(self) -> tuple[Pipeline, ...]:
        """Read once per config: a dozen rules ask (``pipelines(view)``)."""
        return tuple(_pipelines(self))

    @cached
    def limiters(self) -> tuple[MemoryLimiter, ...]:
        """Read once per config: the check and the collect of several rules ask
        (``memory_limiters(view)``); the settings are frozen values."""
        return tuple(_memory_limiters(self))

    @cached
    def limiting(self) -> frozenset[str]:
        """``limiting_receivers(view)``, read once per config: asked for each
        pipeline by several rules."""
        return _limiting_receivers(self)

    @cached
    def gomemlimit(self) -> tuple[float, KeyPath] | None:
        """``gomemlimit_ratio(view)``, read once per config (K005's check and collect)."""
        return _gomemlimit_ratio(self)

    @cached
    def used(self) -> dict[str, tuple[tuple[str, dict[Any, Any], KeyPath], ...]]:
        """``processors.used`` by section, filled as rules ask."""
        return {}


def configs(doc: Document) -> Iterator[ConfigView | ParseError]:
    """Every collector config held by ``doc``; a ParseError where one does not parse.

    Found once per document: a dozen rules ask, and a ConfigMap's values are scanned.
    """
    return iter(doc.memo(configs, lambda: list(_configs(doc))))


def _configs(doc: Document) -> Iterator[ConfigView | ParseError]:
    if doc.kind == CONFIG_MAP:
        for key, value in mapping_at(doc.data, ("data",)).items():
            if isinstance(key, str) and isinstance(value, str) and _looks_like_config(key, value):
                yield from _embedded(doc, ("data", key), key)
    elif doc.kind == COLLECTOR_CR:
        config = get_in(doc.data, ("spec", "config"))
        if isinstance(config, str):
            yield from _embedded(doc, ("spec", "config"), None)
        elif is_collector_config(config):
            yield ConfigView(config, doc, ("spec", "config"), doc)
    elif doc.kind == COLLECTOR_FILE:
        yield ConfigView(doc.data, doc, (), doc)
    elif doc.kind in WORKLOAD_KINDS:
        for container in containers_of(doc):
            if runs_all_in_one(container):
                yield ConfigView(all_in_one_config(), doc, container.path, doc, None, container)


def config_parse_errors(doc: Document) -> Iterator[Violation]:
    """Only the parse errors of ``doc``'s collector configs (M004 reports them)."""
    for found in configs(doc):
        if isinstance(found, ParseError):
            yield Violation(at=found.at, message=found.message)


def views(doc: Document) -> Iterator[ConfigView]:
    """Only the collector configs of ``doc`` that parse: what the O rules judge
    (picked from ``configs`` once per document: a dozen rules ask each document)."""
    return iter(
        doc.memo(views, lambda: tuple(f for f in configs(doc) if isinstance(f, ConfigView)))
    )


def _looks_like_config(key: str, text: str) -> bool:
    """Whether a ConfigMap value is a collector config by its key and its content:
    a key a config file is named by (``relay``, ``config.yaml``; not ``run.sh``),
    no ``#!`` script, ``receivers`` and ``exporters`` written as keys at the
    start of a line (a script that mentions them is not one), and ``pipelines``."""
    suffix = key.rsplit(".", 1)[1].lower() if "." in key else ""
    if suffix not in _CONFIG_SUFFIXES or text.lstrip().startswith("#!"):
        return False
    if not all(marker in text for marker in _MARKERS):
        return False
    # a JSON (flow) config keeps its keys anywhere on a line
    return text.lstrip().startswith("{") or all(p.search(text) for p in _MARKER_KEYS)


def _embedded(doc: Document, path: KeyPath, key: str | None) -> Iterator[ConfigView | ParseError]:
    inner = doc.embedded(path)
    if isinstance(inner, ParseError):
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
    def path(self) -> KeyPath:
        return ("service", "pipelines", self.name)

    def processor_path(self, index: int) -> KeyPath:
        return (*self.path, "processors", index)


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def pipelines(view: ConfigView) -> list[Pipeline]:
    return list(view.pipelines)


def _pipelines(view: ConfigView) -> Iterator[Pipeline]:
    for name, body in mapping_at(view.data, ("service", "pipelines")).items():
        body = body if isinstance(body, dict) else {}
        yield Pipeline(
            str(name),
            _ids(body.get("receivers")),
            _ids(body.get("processors")),
            _ids(body.get("exporters")),
        )


def fed_by_connectors_only(view: ConfigView, pipeline: Pipeline) -> bool:
    """Every receiver is a connector: the data already passed another pipeline."""
    connectors = view.section("connectors")
    return bool(pipeline.receivers) and all(r in connectors for r in pipeline.receivers)


def limited_downstream(view: ConfigView, pipeline: Pipeline) -> bool:
    """The pipeline has no processor and hands everything to connectors whose
    every pipeline refuses data first (``memory_limiter`` its first processor,
    or the same again further on): a connector passes data on synchronously,
    so the refusal reaches the receiver before anything buffered it (a routing
    or forward connector splitting one input)."""
    return _limited_downstream(view, pipeline, set())


def _limited_downstream(view: ConfigView, pipeline: Pipeline, seen: set[str]) -> bool:
    connectors = view.section("connectors")
    if pipeline.processors or not pipeline.exporters or pipeline.name in seen:
        return False
    seen.add(pipeline.name)
    for exporter in pipeline.exporters:
        fed = [p for p in view.pipelines if exporter in p.receivers]
        if exporter not in connectors or not fed:
            return False
        for downstream in fed:
            first = component_type(downstream.processors[0]) if downstream.processors else None
            if first != MEMORY_LIMITER and not _limited_downstream(view, downstream, seen):
                return False
    return True


_UINT64_MAX = 2**64 - 1


def unsigned_int(value: Any) -> int | None:
    """An unsigned integer setting (``limit_mib``, ``queue_size``): a YAML integer, an
    integral float or a string of digits; strings such as ``${env:X}`` are unknown,
    and so is a number past 64 bits, which the collector refuses to decode."""
    found: int | None = None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        found = value
    elif isinstance(value, float) and value.is_integer():
        found = int(value)
    elif isinstance(value, str) and value.strip().isdigit():
        try:
            found = integer(value)
        except ValueError:  # past MAX_DIGITS: past 64 bits too
            return None
    return found if found is not None and found <= _UINT64_MAX else None


@dataclass(frozen=True)
class MemoryLimiter:
    """One ``memory_limiter`` processor's or extension's settings (None where unset
    or unknown); both take the same settings."""

    id: str
    path: KeyPath
    body: dict[Any, Any]
    limit_mib: int | None
    spike_limit_mib: int | None
    limit_percentage: int | None
    spike_limit_percentage: int | None
    section: str = "processors"

    def setting(self, name: str) -> KeyPath:
        return (*self.path, name)

    def has(self, name: str) -> bool:
        return name in self.body

    @property
    def label(self) -> str:
        """``memory_limiter "x"`` or ``memory_limiter extension "x"``, for messages."""
        kind = " extension" if self.section == "extensions" else ""
        return f'memory_limiter{kind} "{self.id}"'


def memory_limiters(view: ConfigView) -> Iterator[MemoryLimiter]:
    """Every memory_limiter processor and extension (validated whether used or not)."""
    return iter(view.limiters)


def _memory_limiters(view: ConfigView) -> Iterator[MemoryLimiter]:
    for section in ("processors", "extensions"):
        for pid, body in view.section(section).items():
            if component_type(pid) != MEMORY_LIMITER:
                continue
            body = body if isinstance(body, dict) else {}
            yield MemoryLimiter(
                str(pid),
                (section, pid),
                body,
                unsigned_int(body.get("limit_mib")),
                unsigned_int(body.get("spike_limit_mib")),
                unsigned_int(body.get("limit_percentage")),
                unsigned_int(body.get("spike_limit_percentage")),
                section,
            )


CGROUP_RUNTIME = "cgroupruntime"


def sets_gomemlimit(view: ConfigView) -> bool:
    """The contrib ``cgroupruntime`` extension is started with its ``gomemlimit``
    on (the default, ratio 0.9 of the cgroup limit): it sets the Go memory limit
    at start-up, unless a GOMEMLIMIT env var is set, which it leaves alone
    (contrib ``extension/cgroupruntimeextension``, KimMachineGun/automemlimit)."""
    return gomemlimit_ratio(view) is not None


def gomemlimit_ratio(view: ConfigView) -> tuple[float, KeyPath] | None:
    """The ``gomemlimit.ratio`` (default 0.9) of a started cgroupruntime extension
    with gomemlimit on, and where it is written (else the extension); None when
    none runs. A templated ratio counts as the default."""
    return view.gomemlimit


def _gomemlimit_ratio(view: ConfigView) -> tuple[float, KeyPath] | None:
    started = {str(e) for e in list_at(view.data, ("service", "extensions"))}
    for eid, body in view.section("extensions").items():
        if component_type(eid) == CGROUP_RUNTIME and str(eid) in started:
            enabled = get_in(body, ("gomemlimit", "enabled"))
            if enabled is not False and str(enabled).lower() != "false":
                ratio = get_in(body, ("gomemlimit", "ratio"))
                if isinstance(ratio, (int, float)) and not isinstance(ratio, bool):
                    return float(ratio), ("extensions", eid, "gomemlimit", "ratio")
                return 0.9, ("extensions", eid)
    return None


def _servers(body: Any) -> list[Any]:
    """The server settings of a receiver: each of ``protocols``, else the receiver's own."""
    protocols = get_in(body, ("protocols",))
    if isinstance(protocols, dict) and protocols:
        return list(protocols.values())
    return [body]


def limiting_receivers(view: ConfigView) -> frozenset[str]:
    """Receivers whose every server refuses data through a memory_limiter extension.

    The extension works as ``middlewares: [{id: memory_limiter}]`` of a gRPC or
    HTTP server config (collector v0.142.0, ``config/configgrpc``,
    ``config/confighttp``), and only when it is started: listed in
    ``service.extensions`` (else the collector fails "failed to resolve middleware").
    """
    return view.limiting


def _limiting_receivers(view: ConfigView) -> frozenset[str]:
    started = {str(e) for e in list_at(view.data, ("service", "extensions"))}
    limiters = {
        str(e)
        for e in view.section("extensions")
        if component_type(e) == MEMORY_LIMITER and str(e) in started
    }
    if not limiters:
        return frozenset()
    out = set()
    for rid, body in view.section("receivers").items():
        servers = _servers(body)
        if all(
            any(str(get_in(m, ("id",))) in limiters for m in list_at(server, ("middlewares",)))
            for server in servers
        ):
            out.add(str(rid))
    return frozenset(out)


def limited_by_extension(view: ConfigView, pipeline: Pipeline) -> bool:
    """Every receiver of ``pipeline`` refuses data through the memory_limiter
    extension, before it is decoded: the pipeline needs no limiter processor."""
    limiting = limiting_receivers(view)
    connectors = view.section("connectors")
    own = [r for r in pipeline.receivers if r not in connectors]
    return bool(own) and all(r in limiting for r in own)


def heap_bounded(view: ConfigView, pipeline: Pipeline) -> str | None:
    """What refuses data in ``pipeline`` before the heap passes a limit: the
    memory_limiter processor or extension that does, or None."""
    for pid in pipeline.processors:
        if component_type(pid) == MEMORY_LIMITER:
            return f'memory_limiter "{pid}"'
    if limited_by_extension(view, pipeline):
        return "the memory_limiter extension of its receivers"
    return None
