"""Frozen value objects shared by the engine, the rules and plugins.

This module imports nothing from meshlint, does no I/O and holds no state.
Public types are built with keywords only.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Union

PathPart = Union[str, int]  # noqa: UP007 - a runtime alias, valid on 3.10
# Keys and list indexes from a document's root: ("spec", "containers", 0, "env").
KeyPath = tuple[PathPart, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


def json_path(path: KeyPath) -> str:
    """Render a path as JSONPath: ``$.spec.containers[0].env[3].value``."""
    out = ["$"]
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.match(part):
            out.append(f".{part}")
        else:
            escaped = part.replace("\\", "\\\\").replace("'", "\\'")
            out.append(f"['{escaped}']")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Resource:
    """Which Kubernetes object a finding belongs to."""

    api_version: str = ""
    kind: str = ""
    namespace: str | None = None
    name: str | None = None

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind}/{ns}{self.name or '<unnamed>'}"


@dataclass(frozen=True, slots=True)
class Location:
    """A resolved place in an input file. Lines and columns are 1-based."""

    file: str
    line: int
    column: int
    path: str = "$"
    resource: Resource | None = None
    source: str | None = None  # Helm "# Source:" template of the document
    source_line: str = ""  # the text of the offending line, for the caret display
    document: int = -1  # which object of the file (Document.number); -1: none
    # lines whose ignore comments also cover this place: the enclosing container's
    # "- name:" line, the object's first line and its "kind:" line
    enclosing: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """What a check yields: where and what is wrong.

    ``at`` is a path into the document being checked (what the user must change:
    the value, or for "missing X" the mapping that should hold X), or a
    ``Location`` from ``Document.locate`` for cross-object checks, which run
    after every document was read. The engine does the rest: position, severity,
    suppression.
    """

    at: KeyPath | Location
    message: str
    severity: Severity | None = None  # a rule with two levels (J001) picks one here
