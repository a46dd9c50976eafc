"""Apply the fixes findings carry to one file's bytes, and prove the result.

Fixes whose edits do not overlap are applied together; the others wait for the
next round (the run lints the fixed text again). The fixed bytes are parsed
again and every object must equal what the fixes intended (the original data
with each ``Intent`` applied), compared type for type; a fix whose result does
not is skipped and reported, never written half-done.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from meshlint.core.emitted import YAML_SYNTAX_ERROR
from meshlint.core.files import decode, encoding_of
from meshlint.core.fsguard import WriteRefused, write_file
from meshlint.core.loading import Parsed, parse_bytes
from meshlint.core.model import Document, Edit, Finding, Intent, KeyPath

_GONE = object()


@dataclass
class Outcome:
    """What fixing one file's findings did."""

    data: bytes
    applied: list[Finding] = field(default_factory=list)
    rejected: list[Finding] = field(default_factory=list)  # the result was not the intent
    deferred: list[Finding] = field(default_factory=list)  # overlapped another fix


def apply(name: str, data: bytes, findings: Sequence[Finding]) -> Outcome:
    """Apply the non-overlapping fixes of ``findings`` to ``data``, verified."""
    outcome = Outcome(data)
    chosen: list[Finding] = []
    taken: list[Edit] = []
    for finding in sorted(findings, key=_first_edit):
        assert finding.fix is not None
        if any(_overlap(edit, other) for edit in finding.fix.edits for other in taken):
            outcome.deferred.append(finding)
            continue
        chosen.append(finding)
        taken.extend(finding.fix.edits)
    if not chosen:
        return outcome
    before = parse_bytes(name, data, whole=True)
    fixed = _edited(data, chosen)
    if verify(before, parse_bytes(name, fixed, whole=True), chosen):
        outcome.data, outcome.applied = fixed, chosen
        return outcome
    good: list[Finding] = []  # one at a time: find the fixes that do not keep their promise
    for finding in chosen:
        alone = parse_bytes(name, _edited(data, [finding]), whole=True)
        (good if verify(before, alone, [finding]) else outcome.rejected).append(finding)
    if good:
        fixed = _edited(data, good)
        if verify(before, parse_bytes(name, fixed, whole=True), good):
            outcome.data, outcome.applied = fixed, good
        else:  # fine alone, not together: one now, the rest in the next round
            outcome.data = _edited(data, good[:1])
            outcome.applied, outcome.deferred = good[:1], outcome.deferred + good[1:]
    return outcome


def apply_to_data(data: bytes, findings: Sequence[Finding], load: Any) -> Outcome:
    """Apply ``findings``' fixes to a file of plain data (a chart's values file),
    whose single document ``load`` reads: all of them or none, and only when the
    result reads back as the data before with exactly the intents applied."""
    outcome = Outcome(data)
    edits = [e for f in findings if f.fix is not None for e in f.fix.edits]
    if not edits or any(_overlap(a, b) for i, a in enumerate(edits) for b in edits[i + 1 :]):
        return outcome
    fixed = _edited(data, findings)
    try:
        before, after = load(data), load(fixed)
    except ValueError:
        return outcome
    intents = [i for f in findings if f.fix is not None for i in f.fix.intents]
    if same(_applied(before, intents), after):
        outcome.data, outcome.applied = fixed, list(findings)
    else:
        outcome.rejected = list(findings)
    return outcome


def _first_edit(finding: Finding) -> tuple[int, int]:
    assert finding.fix is not None
    edit = finding.fix.edits[0]
    return edit.start, edit.end


def _overlap(a: Edit, b: Edit) -> bool:
    if a.start == a.end == b.start == b.end:
        return True  # two insertions at one place: their order would be a guess
    return a.start < b.end and b.start < a.end


def _edited(data: bytes, findings: Iterable[Finding]) -> bytes:
    parsed_edits = sorted(
        (e for f in findings if f.fix is not None for e in f.fix.edits),
        key=lambda e: (e.start, e.end),
        reverse=True,
    )
    _, codec = encoding_of(data)
    out = data
    for edit in parsed_edits:
        out = out[: edit.start] + edit.content.encode(codec) + out[edit.end :]
    return out


def verify(before: Parsed, after: Parsed, findings: Sequence[Finding]) -> bool:
    """``after`` holds exactly ``before``'s objects with the findings' intents
    applied, and every document that is not an object as it was (parsed ``whole``)."""
    if len(after.problems) > len(before.problems) or after.skipped != before.skipped:
        return False
    if any(p.rule == YAML_SYNTAX_ERROR.id for p in after.problems):
        return False  # what a broken document holds is unknown: nothing to compare
    if len(after.others) != len(before.others) or not all(
        same(a, b) for a, b in zip(before.others, after.others, strict=True)
    ):
        return False
    if len(after.documents) != len(before.documents):
        return False
    intents: dict[int, list[Intent]] = {}
    for finding in findings:
        assert finding.fix is not None
        for intent in finding.fix.intents:
            intents.setdefault(intent.document, []).append(intent)
    for old, new in zip(before.documents, after.documents, strict=True):
        if old.number != new.number or old.base_path != new.base_path:
            return False
        if not _document_as_intended(old, new, intents.get(old.number, [])):
            return False
    return True


def _document_as_intended(old: Document, new: Document, intents: list[Intent]) -> bool:
    own = [i for i in intents if i.embedded is None]
    expected = _applied(old.data, own) if own else old.data
    inner: dict[KeyPath, list[Intent]] = {}
    for intent in intents:
        if intent.embedded is not None:
            inner.setdefault(intent.embedded, []).append(intent)
    if not inner:
        return same(expected, new.data)
    host_old, host_new = _unshared(expected), _unshared(new.data)
    for path, found in inner.items():
        was, now = old.embedded(path), new.embedded(path)
        if not isinstance(was, Document) or not isinstance(now, Document):
            return False
        if not same(_applied(was.data, found), now.data):
            return False
        if not (_blank(host_old, path) and _blank(host_new, path)):
            return False
    return same(host_old, host_new)


def _blank(data: Any, path: KeyPath) -> bool:
    """Put a marker in place of the embedded string at ``path`` (compared on its own)."""
    *parents, last = path
    for part in parents:
        data = data[part] if _has(data, part) else None
    if not _has(data, last):
        return False
    data[last] = _GONE
    return True


def _has(data: Any, part: Any) -> bool:
    if isinstance(data, dict):
        return part in data
    return isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)


def _applied(data: Any, intents: list[Intent]) -> Any:
    """``data`` with the intents applied: values set first, then removals, last
    index first so that earlier indexes still mean what they meant. Aliases are
    copied apart: an edit at an anchor changes every alias, an intent one place."""
    out = _unshared(data)
    sets = [i for i in intents if i.present]
    removals = sorted((i for i in intents if not i.present), key=_order, reverse=True)
    for intent in [*sets, *removals]:
        *parents, last_part = intent.path
        last: Any = last_part
        holder: Any = out
        for part in parents:
            if not _has(holder, part):
                return _GONE
            holder = holder[part]
        if intent.present:
            if isinstance(holder, dict) or (isinstance(holder, list) and _has(holder, last)):
                holder[last] = _unshared(intent.value)
            else:
                return _GONE
        elif _has(holder, last):
            del holder[last]
        else:
            return _GONE
    return out


def _unshared(data: Any) -> Any:
    """A copy of ``data``'s lists and maps (none shared), without recursion: a
    document nested 500 levels deep is still checked."""
    if not isinstance(data, (dict, list)):
        return data
    top: Any = {} if isinstance(data, dict) else [None] * len(data)
    stack = [(data, top)]
    while stack:
        source, copy = stack.pop()
        for key, value in source.items() if isinstance(source, dict) else enumerate(source):
            if isinstance(value, dict):
                copy[key] = {}
                stack.append((value, copy[key]))
            elif isinstance(value, list):
                copy[key] = [None] * len(value)
                stack.append((value, copy[key]))
            else:
                copy[key] = value
    return top


def _order(intent: Intent) -> list[tuple[int, int, str]]:
    return [(1, p, "") if isinstance(p, int) else (0, 0, str(p)) for p in intent.path]


def same(a: Any, b: Any) -> bool:
    """Equal, type for type (``1 == True == 1.0`` in Python, not in a manifest);
    without recursion, so that any depth the loader accepts is compared."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if x.keys() != y.keys():
                return False
            stack.extend((v, y[k]) for k, v in x.items())
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif not bool(x == y):
            return False
    return True


def write(path: str, original: bytes, data: bytes) -> str | None:
    """Replace the file at ``path`` by ``data`` (``meshlint.core.fsguard.write_file``:
    atomically, its mode and owner kept, never through a link, and only while
    it still holds ``original``); None on success, else why it was left alone."""
    try:
        write_file(path, data, expected=original, owned=True)
    except WriteRefused as exc:
        return exc.reason
    except OSError as exc:
        return f"cannot write: {exc.strerror or exc}"
    return None


def diff(name: str, before: bytes, after: bytes) -> str:
    """A unified diff of one file's fix."""
    old = decode(before).splitlines(keepends=True)
    new = decode(after).splitlines(keepends=True)
    lines = difflib.unified_diff(old, new, fromfile=f"a/{name}", tofile=f"b/{name}")
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
