"""Frozen value objects shared by the engine, the rules and plugins.

This module imports nothing from meshlint, does no I/O and holds no state (a
cache of one pure function aside).
Public types are built with keywords only.
"""

from __future__ import annotations

import enum
import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from operator import attrgetter
from types import MemberDescriptorType
from typing import Any, TypeVar, Union

PathPart = Union[str, int]  # noqa: UP007 - a runtime alias, valid on 3.10
# Keys and list indexes from a document's root: ("spec", "containers", 0, "env").
KeyPath = tuple[PathPart, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
T = TypeVar("T")


def pickled_as_fields(cls: type[T]) -> type[T]:
    """Pickle a frozen dataclass as its class and its field values: what it
    holds is what its fields say (no field outside ``__init__``, no
    ``__post_init__``).

    Reports travel from workers to the run's process pickled, a stream of many
    objects sends hundreds of thousands of these, and dataclasses pickle a
    slotted class through ``__getstate__``/``__setstate__`` in Python, which
    look the fields up for every object: two to three times the cost both ways.
    A slotted class is rebuilt without ``__init__``, each field written to its
    slot: half the time of a frozen ``__init__``, which calls
    ``object.__setattr__`` once a field (a Location has 14).
    """
    found = fields(cls)  # type: ignore[arg-type]
    if (
        not cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        or hasattr(cls, "__post_init__")
        or not all(f.init for f in found)
    ):
        raise TypeError(f"{cls.__name__} is not a frozen dataclass built from its fields alone")
    names = tuple(f.name for f in found)
    values: Callable[[Any], tuple[Any, ...]] = (
        attrgetter(*names)
        if len(names) > 1
        else (lambda obj: (getattr(obj, names[0]),))
        if names
        else (lambda obj: ())
    )
    _FIELDS[cls] = names, any(f.kw_only for f in found)

    def reduce(obj: Any) -> tuple[Any, ...]:
        return _rebuilt, (cls, values(obj))

    setattr(cls, "__reduce__", reduce)  # noqa: B010 - a method mypy would not let be assigned
    return cls


_FIELDS: dict[type, tuple[tuple[str, ...], bool]] = {}  # names, and whether keyword-only
# How each class is rebuilt from its values: made when the first one arrives
# (start-up is a budget; most runs unpickle nothing).
_BUILDERS: dict[type, Callable[..., Any]] = {}


def _rebuilt(cls: type[T], values: tuple[Any, ...]) -> T:
    build = _BUILDERS.get(cls)
    if build is None:
        build = _BUILDERS[cls] = _builder(cls, *_FIELDS[cls])
    built: T = build(*values)
    return built


def _builder(cls: type[T], names: tuple[str, ...], kw_only: bool) -> Callable[..., T]:
    """A function of the field values, in order, that makes an instance of ``cls``."""
    slots = [cls.__dict__.get(name) for name in names]
    if all(isinstance(slot, MemberDescriptorType) for slot in slots):
        # what dataclasses would generate, minus the frozen __setattr__ detour;
        # no field name appears in the source, so none can shadow a name in it
        params = ", ".join(f"a{i}" for i in range(len(names)))
        body = "".join(f"    __set{i}(__obj, a{i})\n" for i in range(len(names)))
        source = f"def build({params}):\n    __obj = __new(__cls)\n{body}    return __obj\n"
        scope: dict[str, Any] = {"__new": object.__new__, "__cls": cls}
        scope.update((f"__set{i}", slot.__set__) for i, slot in enumerate(slots))  # type: ignore[union-attr]
        exec(source, scope)  # the source is built from indexes alone
        build: Callable[..., T] = scope["build"]
        return build
    if kw_only:
        return lambda *values: cls(**dict(zip(names, values, strict=True)))
    return cls


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
        if isinstance(part, int) and not isinstance(part, bool):
            out.append(f"[{part}]")
            continue
        if not isinstance(part, str):  # a key written as true, 1.5 or null
            part = _key_text(part)
        out.append(_key_step(part))
    return "".join(out)


@functools.lru_cache(maxsize=4096)  # every finding renders its path; documents share keys
def _key_step(key: str) -> str:
    """One string key of a JSONPath: ``.name``, or ``['a.b']`` where it needs quoting."""
    if _PLAIN_KEY.match(key):
        return f".{key}"
    escaped = key.replace("\\", "\\\\").replace("'", "\\'")
    return f"['{escaped}']"


def _key_text(key: object) -> str:
    """A mapping key that is not a string, as YAML writes it."""
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


@pickled_as_fields
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


@pickled_as_fields
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
    # a Helm finding moved to its chart template (core.helm): where it was in
    # the rendered stream
    rendered: Location | None = None
    echo: bool = True  # False: the line is not valid text (a NUL, a stray byte): never shown
    # a finding of a Helm chart linted as a directory (core.charts): the values
    # scenarios that render it, and the values file key its template line inserts
    scenarios: tuple[str, ...] = ()
    values: Location | None = None


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
    fix: Fix | None = None  # how to repair it (``Fix.safe``/``Fix.unsafe`` over Document edits)
    # a verdict that depends on what runs: resolved against the scope's facts
    # at the end of the run (``meshlint.core.model.facts.Deferred``)
    when: Any = None


class Applicability(enum.Enum):
    """Whether ``--fix`` applies a fix (safe) or only ``--unsafe-fixes`` does."""

    SAFE = "safe"  # keeps the meaning the user intended (GOMEMLIMIT 400Mi -> 400MiB)
    UNSAFE = "unsafe"  # changes behaviour the user may have chosen (a grace period)

    def __str__(self) -> str:
        return self.value


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Edit:
    """Replace bytes ``[start, end)`` of the input file by ``content`` (text, in the
    file's own encoding and line endings); ``start == end`` inserts."""

    start: int
    end: int
    content: str


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Intent:
    """What an edit means for the data: after it, the value at ``path`` of object
    ``document`` (``Document.number``) is ``value``, or with ``present`` False the
    key or item is gone. ``embedded`` is the path of the YAML string the path is
    inside, for a config embedded in the object."""

    document: int
    path: KeyPath
    value: Any = None
    present: bool = True
    embedded: KeyPath | None = None


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Change:
    """One edit of a document (``Document.set_value`` and friends): the bytes and
    their meaning, so that the fixed file can be checked before it is written."""

    edits: tuple[Edit, ...]
    intents: tuple[Intent, ...]


@pickled_as_fields
@dataclass(frozen=True, slots=True, kw_only=True)
class Fix:
    """A repair a finding carries: edits of its file, what they mean, and whether
    ``--fix`` may apply it on its own."""

    title: str  # what it does, for people: "set GOMEMLIMIT to 409MiB"
    applicability: Applicability
    edits: tuple[Edit, ...]
    intents: tuple[Intent, ...] = ()

    @classmethod
    def safe(cls, title: str, *changes: Change | None) -> Fix | None:
        """A safe fix of ``changes``; None when any of them cannot be made."""
        return cls._of(title, Applicability.SAFE, changes)

    @classmethod
    def unsafe(cls, title: str, *changes: Change | None) -> Fix | None:
        """An unsafe fix of ``changes``; None when any of them cannot be made."""
        return cls._of(title, Applicability.UNSAFE, changes)

    @classmethod
    def _of(
        cls, title: str, applicability: Applicability, changes: tuple[Change | None, ...]
    ) -> Fix | None:
        if not changes or any(c is None for c in changes):
            return None
        if len(changes) == 1 and changes[0] is not None and len(changes[0].edits) == 1:
            # one change of one edit (most fixes): nothing to sort or overlap
            change = changes[0]
            return cls(
                title=title,
                applicability=applicability,
                edits=change.edits,
                intents=change.intents,
            )
        made = [c for c in changes if c is not None]
        edits = tuple(sorted((e for c in made for e in c.edits), key=lambda e: (e.start, e.end)))
        if any(a.end > b.start for a, b in itertools.pairwise(edits)):
            return None  # a fix never overlaps itself
        return cls(
            title=title,
            applicability=applicability,
            edits=edits,
            intents=tuple(i for c in made for i in c.intents),
        )


def brief(value: object, limit: int = 24) -> str:
    """A configured value for an error message: short scalars as written, only the
    start of a long one, no contents of a collection (a config can hold anything)."""
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 4] + "...'"
