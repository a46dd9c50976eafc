"""Suppression: ``# meshlint: ignore[...]`` comments and ``meshlint.io/ignore`` annotations.

Comments are found with one regular expression over the text, so a look-alike
line inside a block scalar counts too (a known, documented limit). A directive
on a line of its own covers the next line; a trailing one covers its own line.
``# meshlint: ignore-file[...]`` anywhere covers the whole file. Without a
bracket a directive covers every rule.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from meshlint.k8s import mapping_at, pod_template_metadata
from meshlint.model import Ignore

if TYPE_CHECKING:
    from meshlint.source import Document

ANNOTATION = "meshlint.io/ignore"
REASON_ANNOTATION = "meshlint.io/ignore-reason"

_DIRECTIVE = re.compile(
    r"#\s*meshlint:\s*(?P<kind>ignore-file|ignore)(?:\[(?P<rules>[^\]]*)\])?(?P<reason>.*)$",
    re.M,
)


def split_tokens(text: str) -> frozenset[str]:
    return frozenset(t.strip() for t in text.split(",") if t.strip())


@dataclass
class Suppressions:
    """The comment directives of one file, by the line they cover."""

    by_line: dict[int, tuple[Ignore, ...]] = field(default_factory=dict)
    file_wide: tuple[Ignore, ...] = ()

    @classmethod
    def scan(cls, text: str, name: str) -> Suppressions:
        found = cls()
        if "meshlint:" not in text:
            return found
        by_line: dict[int, list[Ignore]] = {}
        file_wide: list[Ignore] = []
        line, counted = 1, 0  # counted as the matches go: many directives stay linear
        for match in _DIRECTIVE.finditer(text):
            line += text.count("\n", counted, match.start())
            counted = match.start()
            line_start = text.rfind("\n", 0, match.start()) + 1
            column = match.start() - line_start + 1
            tokens = split_tokens(match["rules"] or "")
            reason = match["reason"].strip()
            shown = text[line_start : match.end()]
            if match["kind"] == "ignore-file":
                file_wide.append(Ignore("file", name, line, column, tokens, reason, shown))
                continue
            own_line = not text[line_start : match.start()].strip()
            ignore = Ignore("comment", name, line, column, tokens, reason, shown)
            by_line.setdefault(line + 1 if own_line else line, []).append(ignore)
        found.by_line = {k: tuple(v) for k, v in by_line.items()}
        found.file_wide = tuple(file_wide)
        return found

    def at(self, line: int) -> tuple[Ignore, ...]:
        return self.file_wide + self.by_line.get(line, ())

    def all(self) -> list[Ignore]:
        return [*self.file_wide, *(i for group in self.by_line.values() for i in group)]


def annotation_ignores(doc: Document) -> tuple[Ignore, ...]:
    """The ``meshlint.io/ignore`` annotations of an object and its pod template."""
    found = []
    for meta in (("metadata",), pod_template_metadata(doc.kind)):
        if meta is None:
            continue
        annotations = mapping_at(doc.data, (*meta, "annotations"))
        if ANNOTATION not in annotations:
            continue
        line, column = doc.position((*meta, "annotations", ANNOTATION))
        reason = annotations.get(REASON_ANNOTATION)
        found.append(
            Ignore(
                "annotation",
                doc.file.name,
                line,
                column,
                split_tokens(str(annotations[ANNOTATION])),
                reason if isinstance(reason, str) else "",
                doc.file.line(line),
            )
        )
    return tuple(found)


_WHERE = {
    "comment": "`# meshlint: ignore{rules}`",
    "file": "`# meshlint: ignore-file{rules}`",
    "annotation": 'annotation `meshlint.io/ignore: "{plain}"`',
}


def unused_reports(
    unused: Iterable[Ignore], active: Collection[str], known: Collection[str]
) -> Iterator[tuple[Ignore, str]]:
    """(directive, message) for each unused directive worth reporting (M100).

    ``active`` holds the ids and slugs of the rules that ran, ``known`` those of
    every rule in the catalogue. A directive naming only known rules that did
    not run says nothing about this run and is left alone.
    """
    for ignore in unused:
        tokens = sorted(ignore.tokens)
        unknown = [t for t in tokens if t not in known]
        if tokens and not unknown and not any(t in active for t in tokens):
            continue
        plain = ",".join(tokens)
        where = _WHERE[ignore.origin].format(rules=f"[{plain}]" if tokens else "", plain=plain)
        if unknown:
            names = ", ".join(repr(t) for t in unknown)
            yield ignore, f"{where} names unknown rule {names}; `meshlint rules` lists them"
        else:
            yield ignore, f"{where} suppresses nothing: no finding of {plain or 'any rule'} here"
