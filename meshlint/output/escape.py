"""Text from input, made safe to print.

File names, object names and values come from the files being linted. Printed
raw, a newline starts a line of the attacker's choosing (``::error ...`` is a
GitHub workflow command) and an escape sequence reaches the terminal. A name
that is not UTF-8 (``bad\\xff.yaml``) arrives as a lone surrogate that no UTF-8
stream can encode. ``visible`` turns every such character into an escape that
shows what was there.
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, line and paragraph separators, bidirectional and
# other format characters, lone surrogates, and the two non-characters
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\x1b": "\\e"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


# Azure Pipelines' logging commands, and the ``##[command]`` form GitHub's runner
# still reads, wherever they stand in a line: their bracket is escaped
_LOGGING = re.compile(r"##(?:vso)?\[")


def visible(text: str) -> str:
    """``text`` with control and invisible characters as escapes (``\\n``, ``\\e``,
    ``\\x00``, ``\\u202e``), and bytes that were not UTF-8 as ``\\xff``. A tab stays.
    A runner's logging command (``##[error]``, ``##vso[``) loses its bracket
    (``##\\x5berror]``)."""
    shown = _UNSAFE.sub(_escape, text)
    return _LOGGING.sub(lambda m: m.group()[:-1] + "\\x5b", shown) if "##" in shown else shown


def unsafe(text: str) -> bool:
    """Whether ``visible`` would change ``text``."""
    return _UNSAFE.search(text) is not None


# What a CI runner reads as a command at the start of a line: GitHub's workflow
# commands (``::error ...``) and Azure Pipelines' logging commands (``##vso[``,
# ``##[error]``).
_COMMANDS = ("::", "##")


def line_start(name: str) -> str:
    """A file name that starts a line of a report: escaped, and with ``./`` where
    the name itself would make the line a runner's command (runners ignore the
    blanks before one)."""
    shown = visible(name)
    # every blank Unicode has (a no-break space too): the runner strips them all
    if not shown.lstrip().startswith(_COMMANDS):
        return shown
    blanks = len(shown) - len(shown.lstrip())
    return f"{shown[:blanks]}./{shown[blanks:]}"


def message(text: str) -> str:
    """One printed line (an error, a warning, a note) that may quote input: every
    control character escaped, a newline too, so it stays one line that no runner
    reads as a command."""
    return line_start(text)


def lines(text: str) -> str:
    """A block of printed lines (a diff, a listing): each line between newlines
    made safe as ``message`` does, the newlines kept. The pieces of a line that
    come from input must be escaped where the line is built (``visible``), or a
    newline in them would already have started a line here."""
    return "\n".join(_line(line) for line in text.split("\n"))


def _line(line: str) -> str:
    # a CRLF file's line keeps its CR before the newline: harmless there, and the
    # diff of a CRLF file stays one that applies
    if line.endswith("\r"):
        return line_start(line[:-1]) + "\r"
    return line_start(line)
