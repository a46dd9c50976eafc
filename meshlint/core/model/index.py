"""The run-wide index that cross-object rules query: every Namespace, Service
and workload of the run, with its labels and selectors (``Context.index``).

The engine builds it from ``Entry`` values that each file's worker makes
(``meshlint.core.indexing``); documents themselves are never kept.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from meshlint.core.model.values import Location, Resource, pickled_as_fields


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Entry:
    resource: Resource
    labels: Mapping[str, str]  # a Namespace's labels ({} for other kinds)
    anchor: Location  # the object's metadata.name
    selector: Mapping[str, str] | None = None  # Service spec.selector, workload matchLabels
    pod_labels: Mapping[str, str] | None = None  # a workload's pod template labels


def same_namespace(a: str | None, b: str | None) -> bool:
    """Whether two objects of one scope land in one namespace.

    An object without ``metadata.namespace`` lands in whatever namespace it is
    applied to: it joins others without one (a chart rendered without
    ``--namespace``), not every namespace of the run.
    """
    return a == b


def selects(
    selector: Mapping[str, str] | None,
    labels: Mapping[str, str],
    *,
    absent_selects_all: bool = False,
) -> bool:
    """Whether an equality label selector selects an object with ``labels``.

    Every pair must be in ``labels``. An empty selector selects nothing, as a
    Kubernetes Service's empty ``spec.selector`` selects no pods. An absent one
    (None) selects nothing either, unless ``absent_selects_all``: a policy that
    names no workload applies to its whole namespace (Istio's
    ``workloadSelector`` and ``selector``).
    """
    if selector is None:
        return absent_selects_all
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


class _Any:
    """The type of ANY: no filter on the namespace."""


ANY = _Any()


class Index:
    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._by_kind: dict[str, list[Entry]] = defaultdict(list)
        # lookups by name and by pod label: rules ask once per object, and a
        # scan per question would make a run of thousands of objects quadratic
        self._by_name: dict[tuple[str, str | None], list[Entry]] = defaultdict(list)
        self._by_pod_label: dict[tuple[str | None, str, str], list[Entry]] = defaultdict(list)
        for entry in entries:
            self._by_kind[entry.resource.kind].append(entry)
            self._by_name[entry.resource.kind, entry.resource.name].append(entry)
            for key, value in (entry.pod_labels or {}).items():
                self._by_pod_label[entry.resource.namespace, key, value].append(entry)

    def __len__(self) -> int:
        return sum(map(len, self._by_kind.values()))

    def find(
        self, kind: str, *, namespace: str | _Any | None = ANY, name: str | None = None
    ) -> list[Entry]:
        """Objects of ``kind``, optionally by name and by namespace (None: the
        objects without one)."""
        found = self._by_kind.get(kind, ()) if name is None else self._by_name.get((kind, name), ())
        if namespace is ANY:
            return list(found)
        return [e for e in found if same_namespace(namespace, e.resource.namespace)]  # type: ignore[arg-type]

    def selected_by(self, selector_of: Entry) -> list[Entry]:
        """Workloads whose pod labels match the selector of ``selector_of`` (a Service)."""
        selector = selector_of.selector
        if not selector:
            return []  # selects nothing (see ``selects``)
        key, value = next(iter(selector.items()))
        candidates = self._by_pod_label.get((selector_of.resource.namespace, key, value), ())
        return [e for e in candidates if e.pod_labels and selects(selector, e.pod_labels)]
