"""Edits of a document's text that touch nothing but what they change.

A fix never re-renders a file: each operation here works out the few bytes
that must change (a scalar, an entry's own lines, the items of one flow list)
from the node tree's marks, and leaves every other byte as it was: comments,
quoting, flow or block style, indentation, key order, line endings. What is
inserted follows the document's indentation and sequence style; ruamel.yaml
renders an inserted collection. Each ``Change`` also says what it means
(``Intent``), so that the fixed file can be re-parsed and checked.

Positions inside a config embedded in a literal block scalar (``data.x: |``)
map line for line into the host file, with the block's indentation.
"""

from __future__ import annotations

import io
import json
import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Protocol

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from meshlint.core.model.nodes import Loader, _find_pair, node_at, own_pair, scalar
from meshlint.core.model.values import Change, Edit, Intent, KeyPath


class Document(Protocol):
    """What an edit reads of a ``meshlint.core.model.Document``."""

    node: Node
    file: Any  # SourceFile
    number: int
    host: Any  # the host Document, for an embedded config
    host_path: KeyPath


_BLOCK_HEADER = re.compile(r"\|[+-]?[ \t]*(#.*)?\r?$")
_DASH = re.compile(r"[ \t]*-[ \t]+$")


_MARK = "\0"  # where a slot's value goes, in a rendering of its surroundings


class NotEditable(Exception):
    """This place cannot be edited byte-exactly (a folded string, a tab, an alias)."""


class Text:
    """The text a document's marks index into, and the way to the file's bytes."""

    def __init__(self, doc: Document) -> None:
        file = doc.file
        self.file = file
        if file.odd_breaks:
            raise NotEditable("line breaks other than LF and CRLF")
        self.block: tuple[int, int] | None = None  # embedded: (host line of line 0, indent)
        self.text: str
        self.starts: list[int]
        if doc.host is None:
            self.text = file.text
            self.starts = file.line_starts
            return
        node = node_at(doc.host.node, doc.host_path)
        if not isinstance(node, ScalarNode) or node.style != "|":
            raise NotEditable("only a literal block scalar maps line for line into its host")
        line = node.start_mark.line
        header = file.line(line + 1)[node.start_mark.column :]
        if not _BLOCK_HEADER.match(header):
            raise NotEditable("a block scalar with an indentation indicator")
        self.text = node.value
        self.starts = _line_starts(self.text)
        indent = None
        for number in range(line + 1, node.end_mark.line + 1):
            content = file.line(number + 1)
            if content.strip():
                indent = len(content) - len(content.lstrip(" "))
                break
        if indent is None:
            raise NotEditable("an empty block scalar")
        self.block = (line + 1, indent)

    def index(self, node: Node, *, end: bool = False) -> int:
        mark = node.end_mark if end else node.start_mark
        return self.starts[mark.line] + mark.column

    def may_alias(self, node: Node) -> bool:
        """Whether ``node`` may hold an alias: one is written ``*name``, so where
        its text has no ``*`` no node below it is reached twice (and a walk over
        every node to find those is not needed)."""
        try:
            start, end = self.index(node), self.index(node, end=True)
        except IndexError:
            return True
        return self.text.find("*", start, end) >= 0

    def line_start(self, index: int) -> int:
        return self.text.rfind("\n", 0, index) + 1

    def next_line(self, index: int) -> int | None:
        """Where the line after ``index`` starts; None on the last line."""
        found = self.text.find("\n", index)
        return None if found < 0 else found + 1

    def edit(self, start: int, end: int, content: str) -> Edit:
        """An edit of ``[start, end)`` of this text, as bytes of the file."""
        newline = self.file.newline
        if self.block is None:
            host_start, host_end = start, end
            content = content.replace("\n", newline)
        else:
            first, indent = self.block
            host_start, at_line_start = self._host(start, first, indent)
            host_end, _ = self._host(end, first, indent)
            pad = " " * indent
            parts = content.split("\n")
            lines = [(pad if at_line_start and parts[0] else "") + parts[0]]
            lines += [pad + p if p else p for p in parts[1:]]
            content = newline.join(lines)
        return Edit(self.file.byte_offset(host_start), self.file.byte_offset(host_end), content)

    def _host(self, index: int, first: int, indent: int) -> tuple[int, bool]:
        line = bisect_right(self.starts, index) - 1
        if line >= len(self.starts) - 1 and index == len(self.text) and self.text.endswith("\n"):
            line = len(self.starts) - 1  # after the last line break
        column = index - self.starts[line] if line < len(self.starts) else 0
        host_starts = self.file.line_starts
        if first + line >= len(host_starts):
            raise NotEditable("past the end of the file")
        if column == 0:
            return host_starts[first + line], True
        return host_starts[first + line] + indent + column, False


def _line_starts(text: str) -> list[int]:
    starts = [0]
    at = text.find("\n")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


# -- rendering -------------------------------------------------------------------


@lru_cache(maxsize=1024)  # a pure function; a stream's fixes write the same few values
def _plain_ok(text: str) -> bool:
    """``text`` written plain reads back as the same string."""
    if not text or text != text.strip() or "\n" in text or ": " in text or " #" in text:
        return False
    try:
        node = yaml.compose(text, Loader=Loader)
    except yaml.YAMLError:
        return False
    return isinstance(node, ScalarNode) and not node.style and scalar(node) == text


def scalar_text(value: Any, style: str | None = None) -> str:
    """A scalar as YAML, quoted as ``style`` asks where that is possible."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value)
    if style == "'" and "\n" not in text:
        return "'" + text.replace("'", "''") + "'"
    if style == '"' or not _plain_ok(text):
        return json.dumps(text, ensure_ascii=False)
    return text


def flow_text(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar_text(k)}: {flow_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow_text(v) for v in value) + "]"
    return scalar_text(value)


def json_text(value: Any) -> str:
    """``value`` as JSON (on one line, as flow YAML reads it too)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _json_style(doc: Document) -> bool:
    """The document is written as JSON: a ``.json`` file, or a document that is
    one flow collection. What a fix writes there is JSON too."""
    name = getattr(doc.file, "name", "")
    node = doc.node if doc.host is None else None
    return str(name).endswith(".json") or (node is not None and _flow(node))


class Style:
    """How a document indents: mapping indent, and a sequence's dash offset and
    item indent under its key (``offset`` 0 is ``key:\\n- a``)."""

    def __init__(self, root: Node) -> None:
        self.mapping, self.offset, self.item = 2, 0, 2
        found_map = found_seq = False
        stack = [root]
        seen = 0
        while stack and not (found_map and found_seq) and seen < 5000:
            node = stack.pop()
            seen += 1
            if isinstance(node, SequenceNode):
                stack.extend(reversed(node.value))
                continue
            if not isinstance(node, MappingNode) or node.flow_style:
                continue
            for knode, vnode in node.value:
                column = knode.start_mark.column
                below = vnode.start_mark.line > knode.start_mark.line
                block = isinstance(vnode, (MappingNode, SequenceNode)) and not vnode.flow_style
                if isinstance(vnode, MappingNode) and block and below and vnode.value:
                    if not found_map:
                        self.mapping = max(1, vnode.value[0][0].start_mark.column - column)
                    found_map = True
                seq = isinstance(vnode, SequenceNode) and block and below and vnode.value
                if seq and not found_seq:
                    self.offset = max(0, vnode.start_mark.column - column)
                    first = vnode.value[0]
                    start = (
                        first.value[0][0]
                        if isinstance(first, MappingNode) and first.value
                        else first
                    )
                    self.item = max(2, start.start_mark.column - vnode.start_mark.column)
                    found_seq = True
            stack.extend(reversed([v for _, v in node.value]))

    def block(self, value: Any, column: int) -> str:
        """``value`` (a mapping or a list) in block style, each line at ``column``."""
        from ruamel.yaml import YAML

        dumper = YAML()
        dumper.indent(mapping=self.mapping, sequence=self.offset + self.item, offset=self.offset)
        dumper.width = 4096
        buffer = io.StringIO()
        dumper.dump(value, buffer)
        pad = " " * column
        return "".join(
            pad + line if line.strip() else line for line in buffer.getvalue().splitlines(True)
        )


@dataclass(frozen=True, slots=True)
class Slot:
    """Where one scalar of a file is written, kept to be set later.

    A cross-object rule decides a value in ``check_run``, once every file was
    read and the document is gone: the worker keeps this instead (two byte
    offsets, the text around the value, its quoting: small and picklable), and
    ``set`` makes the ``Change`` for any value. ``before`` and ``after`` hold
    what an added key needs (its line break, indentation and ``key: ``).
    """

    start: int
    end: int
    before: str
    after: str
    style: str | None  # the quoting of the value replaced
    text: bool  # the value replaced is a string: a number is written as one
    intent: Intent  # the document and path; ``set`` fills in the value
    json: bool = False  # the document is JSON: the value is written as JSON

    def set(self, value: Any) -> Change:
        """Write ``value`` here: a whole float as an integer (``10``, not ``10.0``),
        a number as a string where the old value was one, quoted as it was."""
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if self.text and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        shown = json_text(value) if self.json else scalar_text(value, self.style)
        content = self.before + shown + self.after
        return Change((Edit(self.start, self.end, content),), (replace(self.intent, value=value),))


# -- the operations ---------------------------------------------------------------


def _flow(node: Node) -> bool:
    return bool(getattr(node, "flow_style", False))


def _walk(
    root: Node, path: KeyPath, merged: list[bool] | None = None
) -> list[tuple[Node, Node | None, Node]]:
    """(container, key node, child) for each part of ``path`` that exists; with
    ``merged``, whether any step's key is one a merge key brings in, not one of
    its mapping's own entries, is appended there."""
    steps: list[tuple[Node, Node | None, Node]] = []
    node = root
    for part in path:
        if isinstance(node, MappingNode):
            # the mapping's own entries first, the last duplicate winning (as
            # ``_find_pair``); only a key none of them holds is looked for in
            # merge sources
            pair = own_pair(node, part)
            if pair is None:
                pair = _find_pair(node, part)
                if pair is None:
                    break
                if merged is not None and all(k is not pair[0] for k, _ in node.value):
                    merged.append(True)
            steps.append((node, pair[0], pair[1]))
            node = pair[1]
        elif (
            isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value)
        ):
            steps.append((node, None, node.value[part]))
            node = node.value[part]
        else:
            break
    return steps


def _shared(root: Node) -> frozenset[int]:
    """The ids of the nodes reached more than once: each anchored node an alias
    names (with a merge key's sources); their children need no mark of their own,
    a walk to them passes through the shared node."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for knode, vnode in node.value:
                stack.extend((knode, vnode))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return frozenset(shared)


def _end(text: Text, node: Node) -> int:
    """Where the content of ``node`` ends: after its last character that is not
    a trailing line break or comment of a block collection."""
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    end = text.index(node, end=True)
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        while end > 0 and text.text[end - 1] in " \t\r\n":
            end -= 1
    return end


def _after_line(text: Text, index: int) -> tuple[int, str]:
    """Where a line inserted after the line of ``index`` goes, and what must
    precede it (a line break when that line is the last, without one)."""
    following = text.next_line(index)
    if following is None:
        return len(text.text), "\n"
    return following, ""


def _lines_of(text: Text, start: int, end: int, *, item: bool = False) -> tuple[int, int]:
    """The whole lines from the one holding ``start`` to the one holding ``end``,
    with the last one's line break (or the previous one's, at the end); the
    first line holds nothing before ``start`` but indentation (and an item's dash)."""
    first = text.line_start(start)
    before = text.text[first:start]
    if before.strip(" \t") and not (item and _DASH.match(before)):
        raise NotEditable("another entry shares the line")
    following = text.next_line(end)
    if following is None:
        while first > 0 and text.text[first - 1] in "\r\n":
            first -= 1
        return first, len(text.text)
    return first, following


_REST_OF_LINE = re.compile(r"[ \t]*,?[ \t]*(?:#[^\n]*)?\n")


def _flow_removal(
    text: Text,
    opening: int,
    items: list[tuple[Node, Node]],
    position: int,
    span: tuple[int, int],
) -> list[tuple[int, int, str]]:
    """The edits that take item ``position`` (``[start, end)``) out of a flow
    collection. Where the item has lines of its own, those lines go (with its
    own trailing comment) and a comment of a neighbour stays; on one line, the
    item goes with the separator after it (before it, for the last one).
    ``opening`` is where the collection's bracket is."""
    start, end = span
    last = position + 1 == len(items)
    following = len(text.text) if last else text.index(items[position + 1][0])
    previous = _end(text, items[position - 1][1])
    first = text.line_start(start)
    rest = _REST_OF_LINE.match(text.text, end)
    alone = not text.text[first:start].strip(" \t") and rest is not None
    if alone and rest is not None and opening < first:
        edits = [(first, rest.end(), "")]  # the item's own lines, its comment with them
        if last:  # the comma after the item before it ends the collection now
            comma = text.text.find(",", previous, first)
            if comma < 0 or "#" in text.text[previous:comma]:
                raise NotEditable("no comma after the item before")
            edits.insert(0, (comma, comma + 1, ""))
        elif "," not in text.text[end : rest.end()]:
            raise NotEditable("no comma after the item")
        return edits
    if "#" in text.text[previous if last else end : start if last else following]:
        raise NotEditable("a comment between flow items")
    return [(start, following, "")] if not last else [(previous, end, "")]


class Editor:
    """The edits of one document (or embedded config)."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.text = Text(doc)
        host = doc.host
        self.document = host.number if host is not None else doc.number
        self.embedded = doc.host_path if host is not None else None
        self.shared = _shared(doc.node) if self.text.may_alias(doc.node) else frozenset()
        self.json = _json_style(doc)

    def _scalar(self, value: Any, style: str | None = None) -> str:
        """A scalar in the document's own syntax (JSON in a JSON document)."""
        return json_text(value) if self.json else scalar_text(value, style)

    def _flow_text(self, value: Any) -> str:
        return json_text(value) if self.json else flow_text(value)

    def _walk(self, path: KeyPath) -> list[tuple[Node, Node | None, Node]]:
        """The steps to ``path``; NotEditable where one passes through a node that
        aliases share (an anchor) or a key a merge key brings in: an edit there
        would change every alias, not the one place the intent names."""
        merged: list[bool] = []
        steps = _walk(self.doc.node, path, merged)
        if merged:
            raise NotEditable("a key a merge key brings in, from an anchored mapping")
        if self.shared:
            for _, _, node in steps:
                if id(node) in self.shared:
                    raise NotEditable("inside an anchored node that aliases share")
        return steps

    def _intent(self, path: KeyPath, value: Any = None, *, present: bool = True) -> Intent:
        return Intent(self.document, path, value, present, self.embedded)

    def _change(self, edits: Sequence[tuple[int, int, str]], intents: Sequence[Intent]) -> Change:
        return Change(tuple(self.text.edit(*e) for e in edits), tuple(intents))

    def set_value(self, path: KeyPath, value: Any) -> Change:
        steps = self._walk(path)
        if len(steps) == len(path) and path:
            node = self._one_line(steps[-1][2])
            start, end = self.text.index(node), self.text.index(node, end=True)
            shown = self._scalar(value, node.style)
            return self._change([(start, end, shown)], [self._intent(path, value)])
        if len(steps) == len(path) - 1:
            holder = steps[-1][2] if steps else self.doc.node
            key = path[-1]
            if isinstance(holder, MappingNode) and isinstance(key, str):
                return self._insert(holder, key, value, path)
        raise NotEditable("the place does not exist")

    @staticmethod
    def _one_line(node: Node) -> ScalarNode:
        if not isinstance(node, ScalarNode) or node.style in ("|", ">"):
            raise NotEditable("only a one-line scalar is replaced")
        if node.start_mark.line != node.end_mark.line:
            raise NotEditable("a scalar over several lines")
        return node

    def slot(self, path: KeyPath, *, add: bool = False) -> Slot:
        """The scalar at ``path``, to be set later; with ``add``, the missing last
        key of the mapping that should hold it (inserted as ``set_value`` does)."""
        steps = self._walk(path)
        if len(steps) == len(path) and path:
            node = self._one_line(steps[-1][2])
            start, end = self.text.index(node), self.text.index(node, end=True)
            rendered, style, text = _MARK, node.style, isinstance(scalar(node), str)
        elif add and len(steps) == len(path) - 1 and isinstance(path[-1], str):
            holder = steps[-1][2] if steps else self.doc.node
            if not isinstance(holder, MappingNode):
                raise NotEditable("not a mapping")
            start, end, rendered = self._scalar_entry(holder, path[-1], _MARK)
            style, text = None, False
        else:
            raise NotEditable("the place does not exist")
        edit = self.text.edit(start, end, rendered)
        before, after = edit.content.split(_MARK)
        intent = self._intent(path)
        return Slot(edit.start, edit.end, before, after, style, text, intent, self.json)

    def rename_key(self, path: KeyPath, key: str, value: Any) -> Change:
        """Rename the last key of ``path`` to ``key``; ``value`` is what it holds."""
        steps = self._walk(path)
        if len(steps) != len(path) or not path:
            raise NotEditable("the place does not exist")
        holder, knode, _ = steps[-1]
        if not isinstance(holder, MappingNode) or knode is None:
            raise NotEditable("not a mapping entry")
        if _find_pair(holder, key) is not None:
            raise NotEditable("the new key is there already")
        node = self._one_line(knode)
        start, end = self.text.index(node), self.text.index(node, end=True)
        renamed = (*path[:-1], key)
        intents = [self._intent(renamed, value), self._intent(path, present=False)]
        return self._change([(start, end, self._scalar(key, node.style))], intents)

    def _insert(self, mapping: MappingNode, key: str, value: Any, path: KeyPath) -> Change:
        intent = [self._intent(path, value)]
        if _flow(mapping) or not isinstance(value, (dict, list)):
            shown = self._flow_text(value) if _flow(mapping) else self._scalar(value)
            return self._change([self._scalar_entry(mapping, key, shown)], intent)
        if not mapping.value:
            raise NotEditable("an empty block mapping")
        column = mapping.value[0][0].start_mark.column
        at, before = _after_line(self.text, _end(self.text, mapping.value[-1][1]))
        rendered = Style(self.doc.node).block({key: value}, column)
        if before:
            rendered = before + rendered.rstrip("\n")
        return self._change([(at, at, rendered)], intent)

    def _scalar_entry(self, mapping: MappingNode, key: str, shown: str) -> tuple[int, int, str]:
        """The edit that adds ``key: shown`` to ``mapping``: after its last entry,
        on a line of its own at the entries' column, or inside its braces."""
        text = self.text
        if _flow(mapping):
            close = text.index(mapping, end=True) - 1
            if text.text[close] != "}":
                raise NotEditable("a flow mapping without its brace")
            entry = f"{self._scalar(key)}: {shown}"
            if not mapping.value:
                return close, close, entry
            at = _end(text, mapping.value[-1][1])
            return at, at, ", " + entry
        if not mapping.value:
            raise NotEditable("an empty block mapping")
        column = mapping.value[0][0].start_mark.column
        at, before = _after_line(text, _end(text, mapping.value[-1][1]))
        rendered = f"{' ' * column}{self._scalar(key)}: {shown}\n"
        if before:
            rendered = before + rendered.rstrip("\n")
        return at, at, rendered

    def remove(self, path: KeyPath) -> Change:
        steps = self._walk(path)
        if len(steps) != len(path) or not path:
            raise NotEditable("the place does not exist")
        holder, knode, node = steps[-1]
        intent = [self._intent(path, present=False)]
        text = self.text
        items: list[tuple[Node, Node]] = (
            list(holder.value)
            if isinstance(holder, MappingNode)
            else [(item, item) for item in holder.value]
        )
        position = next(
            i for i, (k, v) in enumerate(items) if v is node and (knode is None or k is knode)
        )
        start, end = text.index(items[position][0]), _end(text, node)
        if len(items) == 1:
            return self._empty(steps[:-1], holder, path[:-1], intent)
        if _flow(holder):
            edits = _flow_removal(text, text.index(holder), items, position, (start, end))
            return self._change(edits, intent)
        first, last = _lines_of(text, start, end, item=knode is None)
        return self._change([(first, last, "")], intent)

    def _empty(
        self,
        steps: list[tuple[Node, Node | None, Node]],
        holder: Node,
        path: KeyPath,
        intent: list[Intent],
    ) -> Change:
        """Make a collection empty: ``{}`` or ``[]`` in its place."""
        empty = "{}" if isinstance(holder, MappingNode) else "[]"
        intent = [self._intent(path, {} if empty == "{}" else [])]
        text = self.text
        if _flow(holder):
            start, end = text.index(holder), text.index(holder, end=True)
            return self._change([(start, end, empty)], intent)
        if not steps or steps[-1][1] is None:
            raise NotEditable("a block collection that is not a mapping's value")
        key = steps[-1][1]
        colon = text.text.find(":", text.index(key, end=True))
        if colon < 0:
            raise NotEditable("no colon after the key")
        end = _end(text, holder)
        if (
            text.line_start(end) != text.line_start(text.index(holder))
            and "#" in text.text[colon:end]
        ):
            raise NotEditable("comments inside the collection")
        return self._change([(colon + 1, end, " " + empty)], intent)

    def move_first(self, path: KeyPath, data: list[Any]) -> Change:
        """Move the sequence item at ``path`` to the front; ``data`` is the sequence."""
        steps = self._walk(path)
        if len(steps) != len(path) or not path or not isinstance(path[-1], int):
            raise NotEditable("the place does not exist")
        seq, _, node = steps[-1]
        index = path[-1]
        moved = [data[index], *data[:index], *data[index + 1 :]]
        intent = [self._intent(path[:-1], moved)]
        text = self.text
        if _flow(seq):
            spans = [(text.index(item), _end(text, item)) for item in seq.value]
            pieces = [text.text[s:e] for s, e in spans]
            order = [pieces[index], *pieces[:index], *pieces[index + 1 :]]
            edits = [
                (s, e, new)
                for (s, e), old, new in zip(spans, pieces, order, strict=True)
                if old != new
            ]
            return self._change(edits, intent)
        first_start = text.line_start(text.index(seq.value[0]))
        start, end = _lines_of(text, text.index(node), _end(text, node), item=True)
        if end == len(text.text) and not text.text.endswith("\n"):
            raise NotEditable("the last line has no line break")
        if not _DASH.match(text.text[first_start : text.index(seq.value[0])]):
            raise NotEditable("the first item shares its line")
        segment = text.text[start:end]
        return self._change([(first_start, first_start, segment), (start, end, "")], intent)

    def append(self, path: KeyPath, value: Any, data: list[Any] | None) -> Change:
        """Add ``value`` at the end of the sequence at ``path`` (created when missing)."""
        steps = self._walk(path)
        if len(steps) < len(path):
            return self.set_value(path, [value])
        seq = steps[-1][2] if steps else self.doc.node
        if not isinstance(seq, SequenceNode) or data is None:
            raise NotEditable("not a sequence")
        intent = [self._intent(path, [*data, value])]
        text = self.text
        if _flow(seq):
            close = text.index(seq, end=True) - 1
            if not seq.value:
                return self._change([(close, close, self._flow_text(value))], intent)
            at = _end(text, seq.value[-1])
            return self._change([(at, at, ", " + self._flow_text(value))], intent)
        last = seq.value[-1]
        dash = seq.start_mark.column
        at, before = _after_line(text, _end(text, last))
        if isinstance(value, dict) and isinstance(last, MappingNode) and _flow(last):
            rendered = f"{' ' * dash}- {self._flow_text(value)}\n"
        elif isinstance(value, (dict, list)):
            style = Style(self.doc.node)
            first = last.value[0][0] if isinstance(last, MappingNode) and last.value else last
            style.offset, style.item = 0, max(2, first.start_mark.column - dash)
            rendered = style.block([value], dash)
        else:
            rendered = f"{' ' * dash}- {self._scalar(value)}\n"
        if before:
            rendered = before + rendered.rstrip("\n")
        return self._change([(at, at, rendered)], intent)
