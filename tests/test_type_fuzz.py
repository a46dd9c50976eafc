"""Type confusion: every value of every rule fixture replaced by values of other types.

Each ``bad.yaml`` and ``good.yaml`` is read as meshlint reads it; then, one at a
time, every value in it (scalars and collections, and every value inside the
YAML configs embedded in its strings) is replaced by an int, a float, NaN, a
bool, null, a string, a list, a map or an explicitly tagged scalar, and the
whole file is linted again with every rule. The README promises that wrong
types read as absent: no replacement may end in an internal error.

The normal suite tries one replacement per value and key (chosen with a fixed
seed, so a failure reproduces; about a minute); nightly, try them all:

    MESHLINT_TYPE_FUZZ=all pytest tests/test_type_fuzz.py -q

``python tests/test_type_fuzz.py [all|N]`` prints the count of internal errors
and the distinct messages instead of asserting.
"""

from __future__ import annotations

import math
import os
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import FIXTURES, lint_text
from meshlint.core.model.nodes import Converter, Loader

# every value of every fixture replaced: minutes; CI runs it (pytest -m slow)
pytestmark = pytest.mark.slow

SEED = 19
# Replacements tried per value in the normal suite; "all" (or a larger number) nightly.
SETTING = os.environ.get("MESHLINT_TYPE_FUZZ", "1")


class Tagged:
    """A scalar written with an explicit tag (``!!bool x``) that does not fit it."""

    def __init__(self, tag: str, text: str) -> None:
        self.tag, self.text = tag, text

    def __repr__(self) -> str:
        return f"!!{self.tag} {self.text!r}"


REPLACEMENTS: tuple[Any, ...] = (
    5,
    -1,
    0,
    10**30,
    10**400,  # past what a float holds
    0.5,
    -0.5,
    math.nan,
    math.inf,
    True,
    False,
    None,
    "",
    "x",
    "5",
    "400Mi",
    [],
    [1],
    ["x"],
    [None],
    [[]],
    [{"a": 1}],
    {},
    {"a": 1},
    {"a": [1]},
    Tagged("bool", "x"),
    Tagged("int", ""),
    Tagged("float", ""),
)
# What a mapping key can become (YAML keys are scalars here; the rest read as text).
KEY_REPLACEMENTS: tuple[Any, ...] = (5, 1.5, True, None, "", Tagged("int", ""))


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Multi-line strings (embedded configs) as literal blocks, as people write them."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value and value.strip() == value.rstrip("\n").strip() else None
    try:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)
    except yaml.YAMLError:  # pragma: no cover - a string a literal block cannot hold
        return dumper.represent_scalar("tag:yaml.org,2002:str", value)


def _represent_tagged(dumper: yaml.SafeDumper, value: Tagged) -> yaml.Node:
    return dumper.represent_scalar(f"tag:yaml.org,2002:{value.tag}", value.text, style='"')


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(Tagged, _represent_tagged)
_Dumper.ignore_aliases = lambda self, data: True  # type: ignore[method-assign]


def dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000)


def load_stream(text: str) -> list[Any]:
    """The stream's documents as meshlint sees them (merge keys applied, safe)."""
    return [Converter().convert(root) for root in yaml.compose_all(text, Loader=Loader) if root]


def load_fixture(text: str) -> list[Any]:
    """The documents of a fixture that parse (yaml-syntax-error's do not all)."""
    docs = []
    for chunk in re.split(r"^---[ \t]*$", text, flags=re.M):
        try:
            docs += load_stream(chunk)
        except yaml.YAMLError:
            continue
    return docs


def _embedded(value: str) -> dict[Any, Any] | None:
    if "\n" not in value and not value.lstrip().startswith("{"):
        return None
    try:
        docs = load_stream(value)
    except (yaml.YAMLError, RecursionError):
        return None
    return docs[0] if len(docs) == 1 and isinstance(docs[0], dict) and docs[0] else None


Step = Any  # a key, an index, EMBEDDED (into the YAML of a string) or a Key to rename
EMBEDDED = object()


@dataclass(frozen=True)
class Key:
    """The last step of a path that replaces a mapping's key, not its value."""

    name: Any


def values(data: Any, path: tuple[Step, ...] = ()) -> Iterator[tuple[Step, ...]]:
    """The path of every value and key under ``data``, embedded configs included."""
    if path:
        yield path
    if isinstance(data, dict):
        for key, item in data.items():
            yield (*path, Key(key))
            yield from values(item, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from values(item, (*path, index))
    elif isinstance(data, str) and (inner := _embedded(data)) is not None:
        yield from values(inner, (*path, EMBEDDED))


def replaced(data: Any, path: tuple[Step, ...], new: Any) -> Any:
    """A copy of ``data`` with the value at ``path`` replaced (the rest shared)."""
    if not path:
        return new
    step, rest = path[0], path[1:]
    if isinstance(step, Key):
        return {new if k == step.name else k: v for k, v in data.items()}
    if step is EMBEDDED:
        inner = _embedded(data)
        return dump(replaced(inner, rest, new))
    if isinstance(data, dict):
        return {k: replaced(v, rest, new) if k == step else v for k, v in data.items()}
    copy = list(data)
    copy[step] = replaced(copy[step], rest, new)
    return copy


@dataclass(frozen=True)
class Case:
    fixture: str
    document: int
    path: tuple[Step, ...]
    replacement: Any

    def __str__(self) -> str:
        where = "/".join(
            "<embedded>" if s is EMBEDDED else f"<key {s.name}>" if isinstance(s, Key) else str(s)
            for s in self.path
        )
        return f"{self.fixture} doc {self.document} {where} := {self.replacement!r}"


def fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*/*.yaml"))


def cases(path: Path, per_value: int | None) -> Iterator[tuple[Case, str]]:
    """Each mutation of one fixture and the text to lint; ``per_value`` None: all."""
    docs = load_fixture(path.read_text(encoding="utf-8"))
    dumped = [dump(doc) for doc in docs]  # the documents left alone, written once
    rng = random.Random(f"{SEED}:{path.parent.name}/{path.name}")
    name = f"{path.parent.name}/{path.name}"
    for number, doc in enumerate(docs):
        for where in values(doc):
            pool = KEY_REPLACEMENTS if isinstance(where[-1], Key) else REPLACEMENTS
            chosen = pool if per_value is None else rng.sample(pool, min(per_value, len(pool)))
            for new in chosen:
                stream = [*dumped[:number], dump(replaced(doc, where, new)), *dumped[number + 1 :]]
                yield Case(name, number, where, new), "---\n".join(stream)


def per_value(setting: str) -> int | None:
    if setting == "all":
        return None
    return min(max(int(setting), 1), len(REPLACEMENTS))


def internal_errors(text: str) -> list[str]:
    """The internal errors of one run over ``text`` (an exception out of lint counts)."""
    try:
        report = lint_text(text, name="fuzz.yaml")
    except Exception as exc:
        return [f"run aborted: {type(exc).__name__}: {exc}"]
    return [e for e in report.errors if "internal error" in e]


@pytest.mark.parametrize("fixture", fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_wrong_types_in_fixtures_read_as_absent(fixture: Path) -> None:
    failures = []
    for case, text in cases(fixture, per_value(SETTING)):
        failures += [f"{case}: {error}" for error in internal_errors(text)]
    assert failures == [], f"{len(failures)} internal errors, first: {failures[:5]}"


def _record_places(places: dict[str, str]) -> None:
    """Wrap every rule so that a failure records where it was raised."""
    import traceback
    from dataclasses import replace

    import conftest

    def wrap(rule: Any, func: Any) -> Any:
        def wrapper(*args: Any) -> Any:
            try:
                yield from func(*args)
            except Exception as exc:
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                where = f"{Path(frame.filename).name}:{frame.lineno}"
                places.setdefault(f"{where} {type(exc).__name__}", rule.id)
                raise

        return wrapper

    for key, rule in list(conftest.RULES.items()):
        conftest.RULES[key] = replace(
            rule,
            **{
                name: wrap(rule, getattr(rule, name))
                for name in ("check", "collect", "check_run")
                if getattr(rule, name) is not None
            },
        )


def main(setting: str) -> int:
    """Count internal errors over every fixture (for measuring, not for CI)."""
    total = runs = 0
    places: dict[str, str] = {}
    _record_places(places)
    examples: dict[str, str] = {}
    for fixture in fixtures():
        for case, text in cases(fixture, per_value(setting)):
            runs += 1
            for error in internal_errors(text):
                total += 1
                examples.setdefault(
                    error.split(" on ", 1)[0].split(": ", 1)[-1], f"{case}: {error}"
                )
    for example in examples.values():
        print(f"- {example[:300]}")
    for place, rule in sorted(places.items()):
        print(f"  {place} ({rule})")
    print(f"{runs} runs, {total} internal errors, {len(places)} distinct places raised")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "all"))
