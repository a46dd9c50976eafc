"""Jaeger v2: the ``jaegertracing/jaeger`` image is an OpenTelemetry collector
distribution, so its configuration is a collector config (read by
``meshlint.domain.otel``) with Jaeger's own components.

What only Jaeger knows, from jaegertracing/jaeger (v2.0 to v2.20):

* started without ``--config`` the binary runs an embedded all-in-one config
  (``cmd/jaeger/internal/command.go`` ``checkConfigAndRun``,
  ``cmd/jaeger/internal/all-in-one.yaml``): one ``traces`` pipeline with the
  ``batch`` processor and no ``memory_limiter``, into a ``memory`` store of
  100,000 traces. The official chart (jaegertracing/helm-charts ``jaeger`` 4.x)
  renders exactly that unless ``userconfig`` is set;
* a ``memory`` trace backend of the ``jaeger_storage`` extension holds
  ``max_traces`` traces, 1,000,000 when the key is left out, per tenant
  (``cmd/internal/storageconfig/config.go``, ``internal/storage/v2/memory``);
* a config is Jaeger's when it names Jaeger's own components
  (``jaeger_storage``, ``jaeger_query``, ``jaeger_storage_exporter``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import KeyPath
from meshlint.domain.components import Component, component_of
from meshlint.domain.k8s.objects import Container, get_in, mapping_at
from meshlint.domain.numbers import integer

STORAGE_EXTENSION = "jaeger_storage"
QUERY_EXTENSION = "jaeger_query"
STORAGE_EXPORTER = "jaeger_storage_exporter"
ALL_IN_ONE_MAX_TRACES = 100_000
DEFAULT_MAX_TRACES = 1_000_000  # storageconfig.TraceBackend.Unmarshal, when `memory:` is set


def all_in_one_config() -> dict[str, Any]:
    """The parts of the embedded all-in-one config that memory depends on: the
    pipeline, its processors, its exporter and the memory store (a fresh copy)."""
    return {
        "extensions": {
            STORAGE_EXTENSION: {
                "backends": {"some_storage": {"memory": {"max_traces": ALL_IN_ONE_MAX_TRACES}}}
            },
            QUERY_EXTENSION: {"storage": {"traces": "some_storage"}},
        },
        "receivers": {
            "otlp": {"protocols": {"grpc": None, "http": None}},
            "jaeger": {
                "protocols": {
                    "grpc": None,
                    "thrift_http": None,
                    "thrift_binary": None,
                    "thrift_compact": None,
                }
            },
            "zipkin": None,
        },
        "processors": {"batch": None},
        "exporters": {STORAGE_EXPORTER: {"trace_storage": "some_storage"}},
        "service": {
            "extensions": [STORAGE_EXTENSION, QUERY_EXTENSION],
            "pipelines": {
                "traces": {
                    "receivers": ["otlp", "jaeger", "zipkin"],
                    "processors": ["batch"],
                    "exporters": [STORAGE_EXPORTER],
                }
            },
        },
    }


def _config_flags(container: Container) -> list[str]:
    return [a for a in container.args if a == "--config" or a.startswith("--config=")]


def runs_all_in_one(container: Container) -> bool:
    """A Jaeger v2 container started without ``--config``: it runs the embedded
    all-in-one config. ``--set`` edits a config we cannot see, so it is not judged."""
    if component_of(container) is not Component.JAEGER_V2:
        return False
    args = container.args
    return not _config_flags(container) and not any(
        a == "--set" or a.startswith("--set=") for a in args
    )


def is_jaeger_config(data: Any) -> bool:
    """A collector config that uses Jaeger v2's own components."""
    extensions = mapping_at(data, ("extensions",))
    exporters = mapping_at(data, ("exporters",))
    return any(
        str(k).split("/", 1)[0] in (STORAGE_EXTENSION, QUERY_EXTENSION) for k in extensions
    ) or any(str(k).split("/", 1)[0] == STORAGE_EXPORTER for k in exporters)


@dataclass(frozen=True, slots=True)
class MemoryStore:
    """A ``memory`` trace backend of the ``jaeger_storage`` extension."""

    backend: str
    path: KeyPath  # of the ``memory`` mapping, inside the config
    max_traces: int | None  # None where templated (${env:..}) or not a number
    written: bool  # max_traces given (else the 1,000,000 default applies)
    raw: str | None = None  # the written value where it is not a number (${env:X})


def memory_stores(data: Any) -> Iterator[MemoryStore]:
    """Every in-memory trace backend of a Jaeger v2 config."""
    for ext, body in mapping_at(data, ("extensions",)).items():
        if str(ext).split("/", 1)[0] != STORAGE_EXTENSION:
            continue
        for name, backend in mapping_at(body, ("backends",)).items():
            if not isinstance(backend, dict) or "memory" not in backend:
                continue
            memory = backend["memory"]
            raw = get_in(memory, ("max_traces",))
            written = isinstance(memory, dict) and "max_traces" in memory
            yield MemoryStore(
                str(name),
                ("extensions", ext, "backends", name, "memory"),
                _count(raw) if written else DEFAULT_MAX_TRACES,
                written,
                raw if isinstance(raw, str) and _count(raw) is None else None,
            )


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        try:
            return integer(value)
        except ValueError:
            return None
    return None
