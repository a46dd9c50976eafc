"""Rules and what they are given: ``Rule``, ``Param``, ``Context``, and the
``Finding`` the engine makes of a rule's violation."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshlint.core.model.document import Document
from meshlint.core.model.facts import Cluster
from meshlint.core.model.index import Index
from meshlint.core.model.values import Fix, Location, Severity, Violation, brief

# The engine reports at most this many findings of one rule in one document, then
# one finding that counts the rest: 10,000 unknown keys or duplicates help nobody.
# A rule may skip costly work (a "did you mean") for violations past it.
MAX_FINDINGS_PER_RULE = 100


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
    fix: Fix | None = None

    @classmethod
    def make(
        cls,
        location: Location,
        rule: Rule,
        severity: Severity,
        message: str,
        fix: Fix | None = None,
    ) -> Finding:
        return cls(rule.id, rule.slug, severity, message, location, fix)

    def key(self) -> tuple[str, int, int, str]:
        loc = self.location
        return (loc.file, loc.line, loc.column, self.rule)

    def order(self) -> tuple[tuple[str, int, int, str], str]:
        """What findings sort by: ``sorted(findings, key=Finding.order)`` gives the
        order ``<`` gives, comparing tuples in C (100,000 findings of a stream
        sorted by ``<`` called Python twice per comparison, near two seconds)."""
        return (self.key(), self.message)

    def __lt__(self, other: Finding) -> bool:
        return self.order() < other.order()

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


@dataclass(frozen=True, kw_only=True)
class Param:
    """A typed rule parameter, settable under ``rules: {ID: {name: value}}``."""

    name: str
    type: type
    default: Any
    help: str
    minimum: float | None = None  # a value outside the range would disable the rule silently
    maximum: float | None = None

    def __post_init__(self) -> None:
        # a Rule is hashed (a set of rules, ``explain``'s de-duplication) and its
        # parameters key a run's shared collect results: defaults must be immutable
        object.__setattr__(self, "default", frozen(self.default))

    def validate(self, value: object) -> Any:
        """The value checked against the declared type and range, frozen as
        the default is (a list from the config becomes a tuple)."""
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.type is list and isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, self.type) or isinstance(value, bool) is not (self.type is bool):
            raise TypeError(f"{self.name} expects {self.type.__name__}, got {brief(value)}")
        if self.minimum is not None and value < self.minimum:  # type: ignore[operator]
            raise TypeError(f"{self.name} must be >= {self.minimum:g}, got {brief(value)}")
        if self.maximum is not None and value > self.maximum:  # type: ignore[operator]
            raise TypeError(f"{self.name} must be <= {self.maximum:g}, got {brief(value)}")
        return frozen(value)


def frozen(value: Any) -> Any:
    """``value`` made immutable and hashable: lists and tuples become tuples, sets
    frozensets, mappings sorted tuples of pairs; anything else as it is."""
    if isinstance(value, (list, tuple)):
        return tuple(frozen(v) for v in value)
    if isinstance(value, (set, frozenset)):
        return frozenset(frozen(v) for v in value)
    if isinstance(value, Mapping):
        return tuple(sorted((k, frozen(v)) for k, v in value.items()))
    return value


@dataclass(frozen=True, kw_only=True)
class Context:
    """Everything a check may read besides the document.

    ``params`` holds the rule's parameters (defaults merged with config);
    ``kube_version`` the target cluster version. Cross-object checks also get
    the scope's ``index``, the ``facts`` their ``collect`` step produced and
    the ``cluster`` facts (``meshlint.core.model.facts``).
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    kube_version: tuple[int, int] = (1, 30)
    index: Index | None = None
    facts: Sequence[Any] = ()
    cluster: Cluster | None = None  # cross-object checks: what runs in the scope


Check = Callable[[Document, Context], Iterator[Violation]]
Collect = Callable[[Document, Context], Iterator[Any]]
CheckRun = Callable[[Context], Iterator[Violation]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A rule: metadata plus pure functions.

    * ``check(doc, ctx)`` runs on each document whose kind is in ``kinds``
      (all documents when ``kinds`` is None);
    * ``collect(doc, ctx)`` gathers small picklable facts for a cross-object
      rule, and ``check_run(ctx)`` judges them once every file was read;
    * the engine emits M001, M002 and M100 itself (``meshlint.core.emitted``);
    * ``implied_by`` names stronger rules: where one of them reports a finding at
      the same place (file, object, JSONPath), this rule's finding there says
      nothing new and is not reported. Deselect the stronger rule and this one
      reports as before; suppressing its finding (a comment, an annotation,
      per-file-ignores) is one decision about the place and keeps the implied
      findings there silent too.
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
    implied_by: frozenset[str] = frozenset()

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def applies_to(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds
