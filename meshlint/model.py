"""Frozen value objects shared by the engine, the rules and plugins.

This module imports nothing from meshlint, does no I/O and holds no state.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from meshlint.index import Index
    from meshlint.source import Document

PathPart = Union[str, int]  # noqa: UP007 - a runtime alias, valid on 3.10
Path = tuple[PathPart, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")

# The engine reports at most this many findings of one rule in one document, then
# one finding that counts the rest: 10,000 unknown keys or duplicates help nobody.
# A rule may skip costly work (a "did you mean") for violations past it.
MAX_FINDINGS_PER_RULE = 100


class Severity(enum.IntEnum):
    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]


def json_path(path: Path) -> str:
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
class Ignore:
    """One suppression directive. Empty ``tokens`` means every rule."""

    origin: str  # "comment", "file" or "annotation"
    file: str
    line: int
    column: int
    tokens: frozenset[str]
    reason: str = ""
    text: str = field(default="", compare=False)  # the directive's line, for display

    def covers(self, rule_id: str, slug: str) -> bool:
        return not self.tokens or rule_id in self.tokens or slug in self.tokens


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
    ignores: tuple[Ignore, ...] = ()  # directives that cover this place


@dataclass(frozen=True, slots=True)
class Violation:
    """What a check yields: where (a path into the document) and what is wrong.

    Cross-object checks, which run after every document has been read, give a
    pre-resolved ``anchor`` instead (see ``Document.anchor``).
    """

    path: Path
    message: str
    anchor: Location | None = None
    severity: Severity | None = None  # a rule with two levels (J001) picks one here


@dataclass(frozen=True, eq=False, slots=True)
class Finding:
    """A violation placed and judged by the engine.

    Findings sort by file, line, column and rule, and two findings are the same
    when they say the same thing at the same place (the key is derived, not
    stored: a run keeps every finding).
    """

    rule: str
    slug: str
    severity: Severity
    message: str
    location: Location

    @classmethod
    def make(cls, location: Location, rule: Rule, severity: Severity, message: str) -> Finding:
        return cls(rule.id, rule.slug, severity, message, location)

    def key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.rule)

    def __lt__(self, other: Finding) -> bool:
        return (self.key(), self.message) < (other.key(), other.message)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Finding):
            return NotImplemented
        return (self.key(), self.message, self.severity) == (
            other.key(),
            other.message,
            other.severity,
        )

    def __hash__(self) -> int:
        return hash((self.key(), self.message))

    def identity(self) -> tuple[str, str, str, str]:
        """What a baseline remembers: stable under edits that only move lines."""
        r = self.location.resource
        return (self.rule, self.location.file, str(r) if r else "", self.location.path)


@dataclass(frozen=True)
class Param:
    """A typed rule parameter, settable under ``rules: {ID: {name: value}}``."""

    name: str
    type: type
    default: Any
    help: str
    minimum: float | None = None  # a value outside the range would disable the rule silently
    maximum: float | None = None

    def validate(self, value: object) -> Any:
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type) or isinstance(value, bool) is not (self.type is bool):
            raise TypeError(f"{self.name} expects {self.type.__name__}, got {value!r}")
        if self.minimum is not None and value < self.minimum:  # type: ignore[operator]
            raise TypeError(f"{self.name} must be >= {self.minimum:g}, got {value!r}")
        if self.maximum is not None and value > self.maximum:  # type: ignore[operator]
            raise TypeError(f"{self.name} must be <= {self.maximum:g}, got {value!r}")
        return value


@dataclass(frozen=True)
class Context:
    """Everything a check may read besides the document.

    ``params`` holds the rule's parameters (defaults merged with config);
    ``kube_version`` the target cluster version. Cross-object checks also get
    the run-wide ``index`` and the ``facts`` their ``collect`` step produced.
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    kube_version: tuple[int, int] = (1, 30)
    index: Index | None = None
    facts: Sequence[Any] = ()


Check = Callable[["Document", Context], Iterator[Violation]]
Collect = Callable[["Document", Context], Iterator[Any]]
CheckRun = Callable[[Context], Iterator[Violation]]


@dataclass(frozen=True)
class Rule:
    """A rule: metadata plus pure functions.

    * ``check(doc, ctx)`` runs on each document whose kind is in ``kinds``
      (all documents when ``kinds`` is None);
    * ``collect(doc, ctx)`` gathers small picklable facts for a cross-object
      rule, and ``check_run(ctx)`` judges them once every file was read;
    * a rule with neither (M001, M002) is emitted by the loader itself.
    """

    id: str
    slug: str
    severity: Severity
    summary: str
    doc: str
    check: Check | None = None
    kinds: frozenset[str] | None = None
    params: tuple[Param, ...] = ()
    collect: Collect | None = None
    check_run: CheckRun | None = None

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def applies_to(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds
