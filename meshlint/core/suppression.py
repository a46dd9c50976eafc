"""Suppression: ``# meshlint: ignore[...]`` comments and ``meshlint.io/ignore`` annotations.

Comments are found with one regular expression over the text, so a look-alike
line inside a block scalar counts too (a known, documented limit). A directive
on a line of its own covers the next line; a trailing one covers its own line.
``# meshlint: ignore-file[...]`` anywhere covers the whole file. Without a
bracket a directive covers every rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field

from meshlint.core.model import Document, Location
from meshlint.domain.k8s.objects import mapping_at, pod_template_metadata

ANNOTATION = "meshlint.io/ignore"
REASON_ANNOTATION = "meshlint.io/ignore-reason"

_DIRECTIVE = re.compile(
    r"#\s*meshlint:\s*(?P<kind>ignore-file|ignore)(?:\[(?P<rules>[^\]]*)\])?(?P<reason>.*)$",
    re.M,
)


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
    # the bytes that removing the comment deletes (its own line, or the comment
    # and the blanks before it): M100's fix
    span: tuple[int, int] | None = field(default=None, compare=False)

    def covers(self, rule_id: str, slug: str) -> bool:
        return not self.tokens or rule_id in self.tokens or slug in self.tokens


def split_tokens(text: str) -> frozenset[str]:
    return frozenset(t.strip() for t in text.split(",") if t.strip())


@dataclass
class Directives:
    """The suppressions of one file: comments by the line they cover, file-wide
    comments, and ``meshlint.io/ignore`` annotations by object (Document.number)."""

    by_line: dict[int, tuple[Ignore, ...]] = field(default_factory=dict)
    file_wide: tuple[Ignore, ...] = ()
    by_document: dict[int, tuple[Ignore, ...]] = field(default_factory=dict)

    @classmethod
    def scan(
        cls, text: str, name: str, byte_offset: Callable[[int], int] | None = None
    ) -> Directives:
        """The comment directives of a file's text (``byte_offset`` turns a text
        index into the file's byte offset, for the span that removes one)."""
        found = cls()
        if "meshlint:" not in text:
            return found
        by_line: dict[int, list[Ignore]] = {}
        file_wide: list[Ignore] = []
        for match in _DIRECTIVE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            line_start = text.rfind("\n", 0, match.start()) + 1
            column = match.start() - line_start + 1
            tokens = split_tokens(match["rules"] or "")
            reason = match["reason"].strip()
            shown = text[line_start : match.end()]
            own_line = not text[line_start : match.start()].strip()
            span = _span(text, match, line_start, own_line, byte_offset)
            if match["kind"] == "ignore-file":
                file_wide.append(Ignore("file", name, line, column, tokens, reason, shown, span))
                continue
            ignore = Ignore("comment", name, line, column, tokens, reason, shown, span)
            by_line.setdefault(line + 1 if own_line else line, []).append(ignore)
        found.by_line = {k: tuple(v) for k, v in by_line.items()}
        found.file_wide = tuple(file_wide)
        return found

    def add_annotations(self, doc: Document) -> None:
        if found := annotation_ignores(doc):
            self.by_document[doc.number] = found

    def covering(self, location: Location) -> tuple[Ignore, ...]:
        """The directives that cover a finding at ``location``, in the order they apply."""
        return (
            self.file_wide
            + self.by_line.get(location.line, ())
            + self.by_document.get(location.document, ())
        )

    def all(self) -> list[Ignore]:
        return [
            *self.file_wide,
            *(i for group in self.by_line.values() for i in group),
            *(i for group in self.by_document.values() for i in group),
        ]

    def __bool__(self) -> bool:
        return bool(self.by_line or self.file_wide or self.by_document)


def _span(
    text: str,
    match: re.Match[str],
    line_start: int,
    own_line: bool,
    byte_offset: Callable[[int], int] | None,
) -> tuple[int, int] | None:
    if byte_offset is None:
        return None
    end = match.end()
    if text[end - 1 : end] == "\r":  # "$" stops at "\n" only
        end -= 1
    if own_line:
        following = text.find("\n", end)
        start, end = line_start, len(text) if following < 0 else following + 1
    else:
        start = len(text[: match.start()].rstrip(" \t"))
    return byte_offset(start), byte_offset(end)


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
