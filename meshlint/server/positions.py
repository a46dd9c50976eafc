"""Positions of one text, in the units of both sides.

meshlint places a finding at a 1-based line and column (characters, lines
broken as YAML breaks them: LF, CR LF, a lone CR, LS, PS) and a fix at byte
offsets of the UTF-8 text. LSP counts 0-based lines broken at LF, CR LF and CR
only, and columns in the negotiated encoding (UTF-16 code units unless the
client offers another). An emoji or a CJK name in a manifest is where the two
part; both are converted here through character offsets.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from meshlint.core.loading import line_starts

_LSP_BREAK = re.compile("\r\n|\r|\n")


def units(text: str, encoding: str) -> int:
    """The length of ``text`` in the client's position units."""
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    if encoding == "utf-32" or text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class Lines:
    """A text and its line starts, for both numberings."""

    def __init__(self, text: str, encoding: str = "utf-16") -> None:
        self.text = text
        self.encoding = encoding
        self.ascii = text.isascii()
        self._yaml = line_starts(text)
        self._lsp = [0, *(m.end() for m in _LSP_BREAK.finditer(text))]
        self._data: bytes | None = None

    def data(self) -> bytes:
        """The bytes meshlint lints: the text in UTF-8."""
        if self._data is None:
            self._data = self.text.encode("utf-8", "surrogatepass")
        return self._data

    def offset(self, line: int, column: int) -> int:
        """The character offset of meshlint's 1-based ``line``:``column``."""
        index = min(max(line, 1), len(self._yaml)) - 1
        start = self._yaml[index]
        end = self._yaml[index + 1] if index + 1 < len(self._yaml) else len(self.text)
        return min(start + max(column, 1) - 1, end)

    def from_byte(self, offset: int) -> int:
        """The character offset of a byte offset of ``data()``."""
        if self.ascii:
            return offset
        return len(self.data()[:offset].decode("utf-8", "replace"))

    def position(self, offset: int) -> tuple[int, int]:
        """The LSP (line, character) of a character offset."""
        line = bisect_right(self._lsp, offset) - 1
        start = self._lsp[line]
        return line, units(self.text[start:offset], self.encoding)

    def to_offset(self, line: int, character: int) -> int:
        """The character offset of an LSP position (clamped to its line)."""
        if line >= len(self._lsp):
            return len(self.text)
        start = self._lsp[line]
        end = self._lsp[line + 1] if line + 1 < len(self._lsp) else len(self.text)
        text = self.text[start:end].rstrip("\r\n")
        if self.encoding == "utf-32" or text.isascii():
            return start + min(character, len(text))
        count = 0
        for index, char in enumerate(text):
            if count >= character:
                return start + index
            count += units(char, self.encoding)
        return start + len(text)

    def span(self, line: int, column: int) -> tuple[int, int]:
        """The characters a finding at ``line``:``column`` marks: from there to the
        end of the line, without a trailing comment or blanks (at least one
        character, where the line has one)."""
        start = self.offset(line, column)
        lsp_line = bisect_right(self._lsp, start) - 1
        following = self._lsp[lsp_line + 1] if lsp_line + 1 < len(self._lsp) else len(self.text)
        rest = self.text[start:following].rstrip("\r\n")
        comment = re.search(r"\s#", rest)
        if comment is not None and comment.start() > 0:
            rest = rest[: comment.start()]
        rest = rest.rstrip()
        return start, start + max(len(rest), 1 if start < len(self.text) else 0)

    def line_text(self, lsp_line: int) -> str:
        """An LSP line's text, without its break."""
        start = self._lsp[lsp_line]
        end = self._lsp[lsp_line + 1] if lsp_line + 1 < len(self._lsp) else len(self.text)
        return self.text[start:end].rstrip("\r\n")

    def line_start(self, lsp_line: int) -> int:
        return self._lsp[min(lsp_line, len(self._lsp) - 1)]

    @property
    def line_count(self) -> int:
        return len(self._lsp)
