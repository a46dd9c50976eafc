"""A large input as pieces for the workers: windows of whole stream documents
(``Reader.window``), linted apart and joined into the report that reading the
whole file gives (``engine``).

A piece is linted on assumptions about the text before it: how many objects
that text holds (document numbers), on which line its last stream document
ended (Helm ``# Source:`` attribution) and how many "did you mean" searches it
left (``SourceFile.searches``). The pieces run at once; once all are back the
true values are known, and a piece whose assumptions were wrong where it
mattered is linted again with the true ones (``PieceReport.holds``). A piece's own
results (its object count, where its documents end, the searches it made) do
not depend on those assumptions, so one more pass is always enough.

An input is not split where a piece could not be read on its own: anchors
and aliases (the alias budget is the whole file's), ``%YAML``/``%TAG`` directives (they
belong to the document after them) and line breaks other than LF and CR LF
(the pieces' first lines are counted as "\\n").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from meshlint.core.loading import LoadProblem, Reader, next_document_start
from meshlint.core.model.document import MAX_SEARCHES_PER_FILE
from meshlint.core.report import FileReport, Input

# An input this large is split (a smaller one is a small part of a run's work).
SPLIT_BYTES = 2_000_000
# A piece is at least this much text, and there are at most so many for each
# core: enough that the processes end together, few enough that what each
# piece costs beyond its documents (its report sent back) stays small.
PIECE_BYTES = 250_000
PIECES_PER_CORE = 32

# An anchor ("&name") and an alias ("*name") start only where a node starts: at
# the start of the text, or after a blank, a break, a flow indicator or a ":".
# Elsewhere ("a&b", a cron schedule "*/5") the character is text; a text that
# has both after a blank ("a && b", "* * * * *") is read whole, to be safe.
_ANCHOR = re.compile(r"(?:\A|(?<=[\s\[{,:]))&")
_ALIAS = re.compile(r"(?:\A|(?<=[\s\[{,:]))\*")
_ODD_BREAKS = re.compile("[\x85\u2028\u2029]")
# The guess of how many objects a text holds: its top-level "kind:" keys (right
# for a stream of objects; a List or a collector config is linted again),
# counted after their line breaks (a piece starts at a "---" line).
_KIND = "\nkind:"


@dataclass(frozen=True)
class Piece:
    """A window of ``item``'s text and what is assumed of the text before it."""

    item: Input
    # the whole input, read once: workers share its text, its Helm comments and
    # its line index (a fix needs it) through the fork
    reader: Reader
    begin: int  # text[begin:end], after decoding (see Reader)
    end: int
    line: int  # the 0-based line it starts on, a "---" line
    documents: int  # objects before it
    after: int  # the line where the stream document before it ended
    searches: int  # "did you mean" searches left
    total: int  # the file's lines, counted once for all its pieces


@dataclass
class PieceReport:
    """What linting a piece gave: its report (the findings of its documents with
    their lines, the directives written in it) and what the next pieces depend on."""

    report: FileReport
    problems: list[LoadProblem] = field(default_factory=list)  # M001/M002, not capped yet
    documents: int = 0  # objects read
    first_root: int | None = None  # the line of its first stream document, if any
    last_line: int = 0  # where its last stream document ended
    last_source: int | None = None  # see Reader.last_source
    searches: int = 0  # "did you mean" searches asked for

    def holds(self, piece: Piece, documents: int, after: int, searches: int) -> bool:
        """Whether linting ``piece`` with the true values would give the same report."""
        source = self.last_source
        return (
            piece.documents == documents
            and (source is None or (source >= piece.after) == (source >= after))
            and (piece.searches == searches or min(piece.searches, searches) >= self.searches)
        )


def split(item: Input, size: int, reader: Reader, cores: int) -> list[Piece]:
    """``item`` (read by ``reader``) in pieces at "---" lines, or [] where it
    is too small or cannot be split (see the module's docstring)."""
    text = reader.file.text
    count = min(size // PIECE_BYTES, PIECES_PER_CORE * cores)
    if (
        count < 2
        or reader.broken is not None
        or text.startswith("%")
        or "\n%" in text
        or (not text.isascii() and _ODD_BREAKS.search(text))
        or ("&" in text and _ANCHOR.search(text) and "*" in text and _ALIAS.search(text))
    ):
        return []
    starts = [0]
    for n in range(1, count):
        at = next_document_start(text, max(len(text) * n // count, starts[-1] + 1))
        if at is None:
            break
        if at > starts[-1]:
            starts.append(at)
    if len(starts) < 2:
        return []
    pieces, line, objects = [], 0, 0
    total = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    for n, (begin, end) in enumerate(zip(starts, [*starts[1:], len(text)], strict=True)):
        if n:
            line += text.count("\n", starts[n - 1], begin)
            objects += text.count(_KIND, starts[n - 1], begin)
            objects += int(n == 1 and text.startswith(_KIND[1:]))  # on the text's first line
        searches = MAX_SEARCHES_PER_FILE
        pieces.append(Piece(item, reader, begin, end, line, objects, line, searches, total))
    return pieces
