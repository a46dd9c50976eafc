"""What one stream document holds, proved from its text alone where it is
written in a plain subset of block YAML: its lines, and the keys of its
top-level mapping with the line each entry starts on.

A CRD's schema is three quarters of a cluster's YAML and no rule reads it; the
loader needs to know only that the schema is YAML (no M001) and repeats no key
(no M002). ``outline`` proves both for a subset that libyaml composes without
error in every case: block mappings and sequences, keys that are plain words or
one-line quoted strings, plain, quoted, literal and folded scalars, and ``{}``,
``[]`` or a one-line list of words as flow values. Anything else -- an anchor,
alias, tag or merge key, a tab or a CR, a key written twice, a comment inside a
multi-line plain scalar, an indentation it does not expect -- returns None, and
the document is composed as before. ``tests/test_outline.py`` holds the subset
to libyaml on every corpus document and on thousands of mutations of them.

It reads a line in well under a microsecond where composing costs several
(a node and two marks for each key and value), which is why it is one loop.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from yaml.nodes import ScalarNode

from meshlint.core.model.nodes import Loader


class Outline(NamedTuple):
    lines: list[str]  # the text split at LF
    entries: list[tuple[str, int]]  # the top-level mapping's keys, and their lines


@functools.cache
def _outside() -> re.Pattern[str]:
    """Characters outside the subset: tabs and CR (indentation and line ends
    libyaml reads its own way), NEL, LS and PS (line breaks too), the BOM, and
    what libyaml refuses to read at all. Compiled when non-ASCII text first
    needs it: compiling costs 5 ms, a fiftieth of a run's start."""
    return re.compile("[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


# The same for ASCII text, as bytes translate() deletes (eight times faster).
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_$/.][A-Za-z0-9_$/.@~+-]*")
_QUOTED_KEY = re.compile(r"('[^']*(?:''[^']*)*'|\"[^\"\\]*\"):(?: |$)")
_KEY_LENGTH = 1000  # libyaml looks no further than 1,024 characters for a key's ":"
# "|" or ">", then a chomping indicator and an indentation indicator, in either order
_BLOCK_HEADER = re.compile(r"[|>](?:[+-]?([1-9])?|([1-9])[+-])(?: +#.*| *)")
_WORD = r"(?:[A-Za-z0-9_./-]+|\"[^\"\\]*\"|'[^']*')"
_FLOW = re.compile(rf"(?:\{{\}}|\[ *(?:{_WORD} *(?:, *{_WORD} *)*)?\])(?: +#.*| *)")
_AFTER = re.compile(r"(?: +#.*| *)")  # what may follow a closing quote, or "---"
# up to and including a quoted scalar's closing quote, from just after the opening one
_SINGLE_END = re.compile(r"(?:[^']|'')*'(?!')")
_DOUBLE_END = re.compile(r'(?:[^"\\]|\\.)*"')
_ESCAPE = re.compile(
    r"\\(?:[0abtnvfre \"/\\N_LP]|x[0-9A-Fa-f]{2}|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8}))"
)
# first characters that make a value something other than a plain scalar ("-"
# only when a blank follows: "-1" is plain; "?x" and ":x" are kept out)
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_MAX_DEPTH = 200  # deeper nesting is composed, where the depth checks live
_STR = "tag:yaml.org,2002:str"
_RESOLVER = Loader("")


def outline(text: str) -> Outline | None:
    """The lines of the one stream document ``text`` and its top-level
    mapping's entries (key, index of the line it starts on), in order, when the
    text is in the subset: libyaml composes it whole without error, no mapping
    in it repeats a key, every key is a string, and nothing in it is an anchor,
    alias or tag. Otherwise None. ``text`` may start with a ``---`` line and
    must hold no other."""
    if not _readable(text):
        return None
    lines = text.split("\n")
    entries = _entries(lines)
    return Outline(lines, entries) if entries else None


def _readable(text: str) -> bool:
    """Whether ``text`` holds only characters of the subset (see _outside)."""
    if text.isascii():
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)
    return _outside().search(text) is None


def _entries(lines: list[str]) -> list[tuple[str, int]] | None:
    entries: list[tuple[str, int]] = []
    # the open block collections, innermost last: the column of their entries,
    # and the keys seen so far (None: a sequence); the root mapping is the first
    root: set[str] = set()
    indents: list[int] = [0]
    keysets: list[set[str] | None] = [root]
    top, keys = 0, keysets[0]  # the innermost's
    pending = -1  # after "key:" or "-" with no value: the column a nested collection follows
    pending_key = False  # ... and whether it was a key's (a sequence may then start at it)
    mode = _STRUCTURE  # or inside a scalar that goes on over the next lines:
    more = ""  # plain: a line with this indentation goes on with it
    body = ""  # literal or folded: the indentation of its lines, once known ...
    parent = widest = 0  # ... the column of its collection; the widest blank line before it
    quote = ""  # quoted: its quote
    start = 0
    if lines[0].startswith("---"):
        if not _AFTER.fullmatch(lines[0], 3):
            return None  # "--- value", "--- !tag", "--- |": not a mapping
        start = 1
    read = _READ
    for index in range(start, len(lines)):
        line = lines[index]
        if mode:
            if mode == _IN_BLOCK:
                if line.startswith(body) or not line.strip(" "):
                    continue
            elif mode == _IN_PLAIN:
                if line.startswith(more):
                    stripped = line.lstrip(" ")
                    if stripped and not _continues_plain(stripped):
                        return None
                    continue
            elif mode == _IN_QUOTE:  # no indentation wanted, only no "---" or "..." line
                if line.startswith(("---", "...")):
                    return None
                end = _closing(quote, line, 0)
                if end is None:
                    return None
                if end >= 0:
                    if not _AFTER.fullmatch(line, end):
                        return None
                    mode = _STRUCTURE
                continue
            else:  # a block scalar's first line decides its column; blank lines before it are no wider
                stripped = line.lstrip(" ")
                if not stripped:
                    widest = max(widest, len(line))
                    continue
                indent = len(line) - len(stripped)
                if widest > indent or (indent <= parent and widest > parent):
                    return None
                if indent > parent:
                    mode, body = _IN_BLOCK, " " * indent
                    continue
                # an empty scalar: this line is the structure's again
        parsed = read.get(line)
        if parsed is None:
            parsed = _read(line)
            if len(read) < _READ_ENTRIES and len(line) <= _READ_LENGTH:
                read[line] = parsed
        indent, shape, column, key, value, written = parsed
        if shape < _DASH:
            if shape == _BLANK:
                continue  # a plain scalar may go on after it
            mode = _STRUCTURE
            if shape == _COMMENT:
                continue
            return None  # _OUT
        mode = _STRUCTURE
        # a structural line: "- ", "key:", or both
        dash = shape == _DASH
        if pending >= 0:
            if indent > pending or (indent == pending and dash and pending_key):
                if len(indents) >= _MAX_DEPTH:
                    return None
                top, keys = indent, None if dash else set()
                indents.append(top)
                keysets.append(keys)
            pending = -1
        while top > indent:  # never past the root: its column is 0
            indents.pop()
            keysets.pop()
            top, keys = indents[-1], keysets[-1]
        if top != indent:
            return None
        if dash:
            if keys is not None:
                return None  # "- " where a key belongs
            if key is None and value == _NONE:
                pending, pending_key = indent, False
                continue
        elif keys is None:
            # a sequence at its key's own column ends where its mapping goes on
            indents.pop()
            keysets.pop()
            top, keys = indents[-1], keysets[-1]
            if top != indent or keys is None:
                return None
        if key is not None:
            if dash:  # "- key: ...": a mapping at the key's column
                if len(indents) >= _MAX_DEPTH:
                    return None
                top, keys = column, set()
                indents.append(top)
                keysets.append(keys)
            assert keys is not None
            if key in keys:
                return None
            keys.add(key)
            if keys is root:
                entries.append((key, index))
            if value == _NONE:
                pending, pending_key = column, True
                continue
            at = column
        else:
            at = indent  # a dash's scalar
        if value == _PLAIN:
            mode, more = _IN_PLAIN, " " * (at + 1)
        elif value == _BLOCK:
            if written:  # its lines' column, written
                mode, body = _IN_BLOCK, " " * (at + written)
            else:
                mode, parent, widest = _BLOCK_START, at, 0
        elif value == _SINGLE:
            mode, quote = _IN_QUOTE, "'"
        elif value == _DOUBLE:
            mode, quote = _IN_QUOTE, '"'
    if mode == _IN_QUOTE:
        return None  # a quoted scalar the text does not close
    return entries


# Where _entries is: in the structure, or in a scalar that goes on over lines.
_STRUCTURE, _IN_PLAIN, _IN_BLOCK, _BLOCK_START, _IN_QUOTE = range(5)
# How _read sees a line (its shape) and the value that starts on it.
_BLANK, _COMMENT, _OUT, _DASH, _KEYED = range(5)
# the values: none (a nested collection may follow), a scalar ended on the line
# or one that may go on: plain, literal or folded, single- or double-quoted
_NONE, _DONE, _PLAIN, _BLOCK, _SINGLE, _DOUBLE = range(6)
Read = tuple[int, int, int, "str | None", int, int]
# Lines read so far, by text: a CRD writes "type: string" thousands of times at
# a few dozen indentations. Bounded in entries and in the length of a line kept.
_READ: dict[str, Read] = {}
_READ_ENTRIES = 100_000
_READ_LENGTH = 160


def _read(line: str) -> Read:
    """One line on its own, as the structure reads it: (indent, shape, column of
    its key or dash scalar, the key, the value that starts here, a block
    scalar's written indentation)."""
    stripped = line.lstrip(" ")
    if not stripped:
        return (-1, _BLANK, 0, None, _NONE, 0)
    indent = len(line) - len(stripped)
    first = stripped[0]
    if first == "#":
        return (indent, _COMMENT, 0, None, _NONE, 0)
    shape, content, column = _KEYED, stripped, indent
    if first == "-" and (len(stripped) == 1 or stripped[1] == " "):
        shape = _DASH
        content = stripped[1:].lstrip(" ")
        column = indent + len(stripped) - len(content)
        if not content or content[0] == "#":
            return (indent, _DASH, column, None, _NONE, 0)
    key: str | None = None
    value = content
    if content[0] == "'" or content[0] == '"':
        quoted = _QUOTED_KEY.match(content)
        if quoted is not None:
            written = quoted.group(1)
            if len(written) > _KEY_LENGTH:
                return (indent, _OUT, 0, None, _NONE, 0)
            key = written[1:-1].replace("''", "'") if written[0] == "'" else written[1:-1]
            value = content[quoted.end() :].lstrip(" ")
    else:
        colon = content.find(":")
        if colon > 0 and (colon + 1 == len(content) or content[colon + 1] == " "):
            key = _plain_key(content[:colon])
            if key is None:
                return (indent, _OUT, 0, None, _NONE, 0)
            value = content[colon + 1 :].lstrip(" ")
    if key is None and shape != _DASH:
        return (indent, _OUT, 0, None, _NONE, 0)  # a scalar where a key belongs
    if key is not None and (not value or value[0] == "#"):
        return (indent, shape, column, key, _NONE, 0)
    kind, extra = _value(value)
    if kind < 0:
        return (indent, _OUT, 0, None, _NONE, 0)
    return (indent, shape, column, key, kind, extra)


def _value(value: str) -> tuple[int, int]:
    """What the scalar that starts a line's ``value`` is (-1: none the subset reads)."""
    first = value[0]
    if first == "|" or first == ">":
        header = _BLOCK_HEADER.fullmatch(value)
        if header is None:
            return -1, 0
        return _BLOCK, int(header.group(1) or header.group(2) or 0)
    if first == "'" or first == '"':
        end = _closing(first, value, 1)
        if end is None:
            return -1, 0
        if end < 0:
            return (_SINGLE if first == "'" else _DOUBLE), 0
        return (_DONE, 0) if _AFTER.fullmatch(value, end) else (-1, 0)
    if first == "{" or first == "[":
        return (_DONE, 0) if _FLOW.fullmatch(value) else (-1, 0)
    if first in _INDICATORS and (first != "-" or len(value) == 1 or value[1] == " "):
        return -1, 0
    hash_at = value.find(" #")
    scalar = value if hash_at < 0 else value[:hash_at]
    if ": " in scalar or scalar[-1] == ":":
        return -1, 0
    return (_PLAIN, 0) if hash_at < 0 else (_DONE, 0)


def _continues_plain(stripped: str) -> bool:
    """Whether a more indented line goes on with a multi-line plain scalar: not
    a comment, and nothing in it that ends the scalar or starts a mapping."""
    return not (stripped[0] == "#" or " #" in stripped or ": " in stripped or stripped[-1] == ":")


def _closing(quote: str, line: str, at: int) -> int | None:
    """Where a quoted scalar's closing quote ends in ``line``, from ``at``
    (just after the opening quote, or the line's start): -1 when the line does
    not close it, None when it holds a backslash libyaml reads no escape in."""
    found = (_SINGLE_END if quote == "'" else _DOUBLE_END).match(line, at)
    end = -1 if found is None else found.end()
    if (
        quote == '"'
        and "\\" in line
        and not _escapes_valid(line[at:end] if end >= 0 else line[at:])
    ):
        return None
    return end


def _escapes_valid(text: str) -> bool:
    """Whether every backslash in (part of) a double-quoted scalar starts an
    escape libyaml reads: not a surrogate, not past U+10FFFF, not a line break."""
    at = 0
    for found in _ESCAPE.finditer(text):
        if text.count("\\", at, found.start()):
            return False  # a backslash that starts no escape
        at = found.end()
        code = found.group(1) or found.group(2)
        if code is not None and (0xD800 <= int(code, 16) <= 0xDFFF or int(code, 16) > 0x10FFFF):
            return False
    return not text.count("\\", at)


def _plain_key(written: str) -> str | None:
    """The string a plain key is, or None: not a word, too long, or a plain
    scalar YAML 1.1 reads as something else (``true``, ``1``, ``2001-12-14``)."""
    if len(written) > _KEY_LENGTH or not _PLAIN_KEY.fullmatch(written):
        return None
    return written if _RESOLVER.resolve(ScalarNode, written, (True, False)) == _STR else None
