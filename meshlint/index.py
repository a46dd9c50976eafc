"""The run-wide index, for cross-object rules: every Namespace, Service and
workload of the run, with its labels and selectors.

Each file's worker turns those documents into ``Entry`` values (identity,
labels, selectors and a resolved anchor); the engine joins them after every
file was read. Documents themselves are never kept, and other kinds are not
indexed: a rule that needs more about them gathers its own small facts with
``collect``. So memory follows the largest file, not the number of files.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from meshlint.k8s import WORKLOAD_KINDS, get_in, pod_labels, string_map
from meshlint.model import Location, Resource
from meshlint.source import Document


@dataclass(frozen=True, slots=True)
class Entry:
    resource: Resource
    labels: Mapping[str, str]  # a Namespace's labels ({} for other kinds)
    anchor: Location  # the object's metadata.name
    selector: Mapping[str, str] | None = None  # Service spec.selector, workload matchLabels
    pod_labels: Mapping[str, str] | None = None  # a workload's pod template labels


INDEXED_KINDS = WORKLOAD_KINDS | {"Namespace", "Service"}
# one shared empty mapping, not one per object (a dict: it travels between processes)
_NONE: Mapping[str, str] = {}


def entry_for(doc: Document) -> Entry:
    data, kind = doc.data, doc.kind
    selector = None
    if kind == "Service":
        selector = string_map(get_in(data, ("spec", "selector")))
    elif isinstance(get_in(data, ("spec", "selector", "matchLabels")), dict):
        selector = string_map(get_in(data, ("spec", "selector", "matchLabels")))
    template = pod_labels(data, kind)
    anchor = doc.anchor(("metadata", "name"))
    # kept for every indexed object of the run: only what the joins read
    return Entry(
        doc.resource,
        string_map(get_in(data, ("metadata", "labels"))) if kind == "Namespace" else _NONE,
        replace(anchor, path=sys.intern(anchor.path)),
        selector,
        template or None,
    )


def same_namespace(a: str | None, b: str | None) -> bool:
    """Objects rendered without a namespace land in whatever namespace is applied."""
    return a is None or b is None or a == b


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """A label selector matches: every pair is in ``labels`` (an empty one matches nothing)."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class Index:
    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._by_kind: dict[str, list[Entry]] = defaultdict(list)
        for entry in entries:
            self._by_kind[entry.resource.kind].append(entry)

    def __len__(self) -> int:
        return sum(map(len, self._by_kind.values()))

    def find(
        self, kind: str, *, namespace: str | None = None, name: str | None = None
    ) -> list[Entry]:
        """Objects of ``kind``, optionally by namespace and name."""
        return [
            e
            for e in self._by_kind.get(kind, ())
            if (name is None or e.resource.name == name)
            and same_namespace(namespace, e.resource.namespace)
        ]

    def selecting(self, pods: Entry, kind: str = "Service") -> list[Entry]:
        """Objects of ``kind`` whose selector matches the pods of workload ``pods``."""
        labels = pods.pod_labels or {}
        return [
            e
            for e in self._by_kind.get(kind, ())
            if e.selector is not None
            and same_namespace(e.resource.namespace, pods.resource.namespace)
            and selects(e.selector, labels)
        ]

    def selected_by(self, selector_of: Entry) -> list[Entry]:
        """Workloads whose pod labels match the selector of ``selector_of`` (a Service)."""
        return [
            e
            for entries in self._by_kind.values()
            for e in entries
            if e.pod_labels
            and same_namespace(e.resource.namespace, selector_of.resource.namespace)
            and selects(selector_of.selector or {}, e.pod_labels)
        ]
