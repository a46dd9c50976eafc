"""The model layer: values every other layer shares, and the read side of a document.

Domain code imports this package and nothing else of the core.
"""

from __future__ import annotations

from meshlint.core.model.document import Document, ParseError, SourceFile
from meshlint.core.model.editing import Slot
from meshlint.core.model.facts import Cluster, Deferred, Fact, Part
from meshlint.core.model.index import Entry, Index, same_namespace, selects
from meshlint.core.model.lazy import cached
from meshlint.core.model.rule import (
    MAX_FINDINGS_PER_RULE,
    Check,
    CheckRun,
    Collect,
    Context,
    Finding,
    Param,
    Rule,
)
from meshlint.core.model.values import (
    Applicability,
    Change,
    Edit,
    Fix,
    Intent,
    KeyPath,
    Location,
    PathPart,
    Resource,
    Severity,
    Violation,
    json_path,
    pickled_as_fields,
)

__all__ = [
    "MAX_FINDINGS_PER_RULE",
    "Applicability",
    "Change",
    "Check",
    "CheckRun",
    "Cluster",
    "Collect",
    "Context",
    "Deferred",
    "Document",
    "Edit",
    "Entry",
    "Fact",
    "Finding",
    "Fix",
    "Index",
    "Intent",
    "KeyPath",
    "Location",
    "Param",
    "ParseError",
    "Part",
    "PathPart",
    "Resource",
    "Rule",
    "Severity",
    "Slot",
    "SourceFile",
    "Violation",
    "cached",
    "json_path",
    "pickled_as_fields",
    "same_namespace",
    "selects",
]
