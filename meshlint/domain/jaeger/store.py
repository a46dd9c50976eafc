"""Jaeger v1's in-memory span store: which processes use it and how many
traces it may hold.

* The storage type comes from ``SPAN_STORAGE_TYPE`` (comma list: every type
  is written to), else the deprecated ``--span-storage.type`` arg, else
  ``cassandra``; all-in-one sets the env to ``memory`` when it is empty, so
  its args cannot change it (jaegertracing/jaeger ``cmd/all-in-one/main.go``,
  ``plugin/storage/factory_config.go`` at v1.60.0).
* ``--memory.max-traces`` (``MEMORY_MAX_TRACES``) defaults to 0, no limit
  (``plugin/storage/memory/options.go``).
* The jaeger-operator deploys a ``Jaeger`` CR whose ``spec.storage.type`` is
  empty or unknown with ``memory`` storage, as all-in-one, and passes
  ``spec.storage.options`` (``memory.max-traces``) and ``spec.allInOne.options``
  to it as args (jaeger-operator ``pkg/strategy/controller.go``,
  ``pkg/deployment/all_in_one.go``); it sets no trace limit of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import Document, KeyPath
from meshlint.domain.components import Component
from meshlint.domain.jaeger.settings import (
    FlagValue,
    Process,
    cr_processes,
    flatten_options,
    workload_processes,
)
from meshlint.domain.k8s.objects import get_in, str_at
from meshlint.domain.k8s.quantity import Quantity
from meshlint.domain.numbers import integer

MAX_TRACES = "memory.max-traces"
_STORAGE_TYPE = "span-storage.type"
_CR_STORAGE_TYPES = frozenset(
    {"memory", "cassandra", "elasticsearch", "kafka", "badger", "grpc", "grpc-plugin"}
)


@dataclass(frozen=True, slots=True)
class V1Store:
    """A v1 process that keeps spans in memory."""

    label: str  # 'jaeger-all-in-one container "jaeger"', 'Jaeger "simplest" allInOne'
    max_traces: int | None  # 0: unbounded; None: not known (templated)
    setting: FlagValue | None  # where max-traces is set, if it is
    anchor: KeyPath  # where to add the flag when it is not set
    limit: Quantity | None
    limit_path: KeyPath | None


def _count(setting: FlagValue | None) -> int | None:
    if setting is None:
        return 0
    text = (setting.value or "").strip()
    if not text.lstrip("-").isdigit():
        return None
    try:
        return integer(text)
    except ValueError:
        return None


def _storage_types(process: Process) -> list[str]:
    env = [s for s in process.settings if s.flag == _STORAGE_TYPE and s.source == "env"]
    if env:
        return (env[-1].value or "").split(",")
    if process.component is Component.JAEGER_ALL_IN_ONE:
        return ["memory"]
    arg = process.setting(_STORAGE_TYPE)
    return (arg.value or "").split(",") if arg is not None else ["cassandra"]


def _container_path(process: Process) -> KeyPath:
    """The container (whose args would take the flag): ``resources_path`` is its
    ``resources`` when it has one, else the container itself."""
    path = process.resources_path
    return path[:-1] if path and path[-1] == "resources" else path


def workload_stores(doc: Document) -> Iterator[V1Store]:
    for process in workload_processes(doc):
        if process.component not in (Component.JAEGER_ALL_IN_ONE, Component.JAEGER_COLLECTOR):
            continue
        if "memory" not in (t.strip() for t in _storage_types(process)):
            continue
        setting = process.setting(MAX_TRACES)
        yield V1Store(
            process.label,
            _count(setting),
            setting,
            _container_path(process),
            process.limit,
            process.memory_paths[1],
        )


def cr_store(data: Any) -> Iterator[V1Store]:
    """The all-in-one memory store of a ``kind: Jaeger`` CR."""
    storage = str_at(data, ("spec", "storage", "type"))
    if storage is None and _other_backend(get_in(data, ("spec", "storage", "options"))):
        return  # options of another backend: a patch to a CR that names it (kuttl steps)
    storage = (storage or "memory").lower()
    if storage in _CR_STORAGE_TYPES and storage != "memory":
        return
    process = next(
        (p for p in cr_processes(data) if p.component is Component.JAEGER_ALL_IN_ONE), None
    )
    if process is None:
        return  # production strategy: the operator falls back, but sizes nothing we can read
    options = get_in(data, ("spec", "storage", "options"))
    base: KeyPath = ("spec", "storage", "options")
    found = [s for s in flatten_options(options, base) if s.flag == MAX_TRACES]
    setting = process.setting(MAX_TRACES) or (found[-1] if found else None)
    anchor: KeyPath = (
        ("spec", "storage")
        if get_in(data, ("spec", "storage"))
        else ("spec",)
        if isinstance(get_in(data, ("spec",)), dict)
        else ()
    )
    yield V1Store(
        process.label,
        _count(setting),
        setting,
        anchor,
        process.limit,
        process.memory_paths[1],
    )


def _other_backend(options: Any) -> bool:
    """Storage options for a backend other than memory (``es``, ``cassandra``...)."""
    names = {str(k).split(".", 1)[0] for k in options} if isinstance(options, dict) else set()
    return bool(names - {"memory"})


def v1_stores(doc: Document) -> Iterator[V1Store]:
    """Every Jaeger v1 in-memory span store of a document."""
    if doc.kind == "Jaeger":
        yield from cr_store(doc.data)
    else:
        yield from workload_stores(doc)
