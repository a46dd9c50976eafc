"""Documents -> index entries, in each file's worker.

Only Namespaces, Services and workloads are indexed, and only what the joins
read (identity, labels, selectors and the place of the name): the engine joins
the entries after every file was read, so memory follows the largest file, not
the number of files. A rule that needs more about other kinds gathers its own
small facts with ``collect``.
"""

from __future__ import annotations

from collections.abc import Mapping

from meshlint.core.model.document import Document
from meshlint.core.model.index import Entry
from meshlint.domain.k8s.objects import WORKLOAD_KINDS, get_in, pod_labels, string_map

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
    anchor = doc.locate(("metadata", "name"))
    # kept for every indexed object of the run: only what the joins read
    return Entry(
        doc.resource,
        string_map(get_in(data, ("metadata", "labels"))) if kind == "Namespace" else _NONE,
        anchor,  # its path is interned (Document.locate): one string per path, not per object
        selector,
        template or None,
    )
