"""The read side of one Kubernetes object, as rules and domain code see it.

A ``Document`` holds an object's plain values (``data``), the libyaml node tree
they came from, and the file they were read from. ``locate`` turns a path into
a ``Location`` (line, column, JSONPath, object) and ``embedded`` parses a YAML
string inside the object (a collector config in a ConfigMap, a
``proxy.istio.io/config`` annotation) into a Document whose positions map into
the host file.
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from meshlint.core.model.editing import Editor, NotEditable, Slot
from meshlint.core.model.lazy import cached
from meshlint.core.model.nodes import (
    AliasBudget,
    Converter,
    Loader,
    Lookup,
    RedefiningLoader,
    TooDeep,
    locate,
    node_at,
    redefines_an_anchor,
    stack_headroom,
    too_deep_message,
)
from meshlint.core.model.values import Change, KeyPath, Location, Resource, json_path

# The lists of a pod spec whose items are containers: an ignore comment on an
# item's first line covers what is found inside that container.
CONTAINER_LISTS = frozenset({"containers", "initContainers", "ephemeralContainers"})

# Turns a (0-based line, 0-based column) inside an embedded config into the host
# file's 1-based (line, column).
Mapper = Callable[[int, int], tuple[int, int]]
T = TypeVar("T")
_UNSET: Any = object()  # no memo value yet (None is one)
# About a second of "did you mean" searches per file; more suggestions than this
# help no reader.
MAX_SEARCHES_PER_FILE = 500
# str.splitlines would also split at \v, \f and \x1c-\x1e, which YAML does not
# What every suppression comment holds (``# meshlint: ignore[...]``): a text
# without it has none (core.suppression scans for them, core.loading outlines
# only documents without one).
DIRECTIVE_MARK = "meshlint:"
LINE_BREAK = re.compile("\r?\n|[\u2028\u2029]")
# line breaks a fix cannot keep byte-exact (LF and CR LF it can)
_ODD_BREAKS = re.compile("\r(?!\n)|[\x85\u2028\u2029]")


def text_lines(text: str) -> list[str]:
    """The lines of a text as YAML numbers them (LS and PS break lines too)."""
    if "\r" in text or "\u2028" in text or "\u2029" in text:
        lines = LINE_BREAK.split(text)
    else:  # the common case, several times faster than the expression
        lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the break that ends the last line starts no line of its own
    return lines


@dataclass(frozen=True, slots=True)
class ParseError:
    """Where and why a YAML text does not load (M001 for a file, M004 embedded)."""

    message: str
    at: Location


@dataclass
class SourceFile:
    """One input: its name and its text, split in lines."""

    name: str
    text: str
    bom: bytes = b""  # the byte-order mark the text was decoded after
    codec: str = "utf-8"  # how the text after the BOM is encoded
    lone_cr: bool = False  # the input ended lines with a lone CR, read here as LF
    # what aliases may still add, shared by the file's documents and embedded configs
    aliases: AliasBudget = field(default_factory=AliasBudget, repr=False, compare=False)
    # "did you mean" searches left for the file's findings (Document.may_search)
    searches: int = field(default=MAX_SEARCHES_PER_FILE, repr=False, compare=False)
    # a kuttl or chainsaw test step (core.inputs): its objects live for one test
    test_step: bool = field(default=False, repr=False, compare=False)

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""

    @cached
    def lines(self) -> list[str]:
        """The text's lines, split only when a finding or a fix needs one."""
        return text_lines(self.text)

    @cached
    def mentions_meshlint(self) -> bool:
        """Whether DIRECTIVE_MARK occurs in the text at all: without it there is
        no comment directive to scan for (``core.suppression``). Asked once per
        file, not once per piece of a file split for the workers (36 ms on a
        67 MB stream)."""
        return DIRECTIVE_MARK in self.text

    @cached
    def line_starts(self) -> list[int]:
        """The text index where each 0-based line starts (one more: the end)."""
        starts = [0]
        text, find = self.text, self.text.find
        at = find("\n")
        while at >= 0:
            starts.append(at + 1)
            at = find("\n", at + 1)
        if starts[-1] != len(text):
            starts.append(len(text))
        return starts

    @cached
    def newline(self) -> str:
        """The line ending most of the file's lines end with (one CR LF line in
        an LF file does not make an inserted line CR LF)."""
        crlf = self.text.count("\r\n")
        return "\r\n" if crlf and crlf * 2 > self.text.count("\n") else "\n"

    @cached
    def odd_breaks(self) -> bool:
        """A line ends in something other than LF or CR LF (a lone CR, NEL, LS, PS)."""
        text = self.text
        if self.lone_cr or "\x85" in text or "\u2028" in text or "\u2029" in text:
            return True
        # a substring test runs at memory speed; the expression only where a CR is
        return "\r" in text and bool(_ODD_BREAKS.search(text))

    def byte_offset(self, index: int) -> int:
        """The byte offset in the input of text index ``index``.

        Costs the line ``index`` is on, not the text before it: every document of
        a stream asks (ignore comments, fixes), and a scan from the file's start
        made a file of many documents quadratic.
        """
        if self._ascii_utf8:
            return len(self.bom) + index
        starts = self.line_starts
        line = bisect_right(starts, index) - 1
        head = self.text[starts[line] : index].encode(self.codec)
        return len(self.bom) + self._byte_starts[line] + len(head)

    @cached
    def _ascii_utf8(self) -> bool:
        return self.codec == "utf-8" and self.text.isascii()

    @cached
    def _byte_starts(self) -> list[int]:
        """The byte offset (after the BOM) where each of ``line_starts`` starts."""
        text, codec, starts = self.text, self.codec, self.line_starts
        found, total = [0], 0
        for begin, end in pairwise(starts):
            total += len(text[begin:end].encode(codec))
            found.append(total)
        return found


@dataclass
class Document:
    """One Kubernetes object: its values, its nodes and where it came from."""

    data: dict[str, Any]
    node: Node
    file: SourceFile
    number: int  # which object of the file, from 0; its comments' and annotations' scope
    source: str | None = None  # Helm "# Source:" template that rendered it
    base_path: KeyPath = ()  # ("items", 3) for an item of a kind: List
    host: Document | None = None  # set on configs embedded in a string
    host_path: KeyPath = ()
    mapper: Mapper | None = None
    # a file that is a config of its own, without apiVersion/kind (a collector
    # config kept beside a kustomize configMapGenerator): meshlint's name for it
    standalone: str = ""
    # embedded configs parsed, places located and memo values so far: several rules ask alike
    _embedded: dict[KeyPath, Any] = field(default_factory=dict, repr=False, compare=False)
    _located: dict[KeyPath, Location] = field(default_factory=dict, repr=False, compare=False)
    _memo: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)
    # finds a key in a large mapping without a scan, for each finding placed there
    lookup: Lookup = field(default_factory=Lookup, repr=False, compare=False)

    @cached  # every rule asks, for every document
    def kind(self) -> str:
        if self.standalone:
            return self.standalone
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else ""

    @cached
    def api_version(self) -> str:
        version = self.data.get("apiVersion")
        return version if isinstance(version, str) else ""

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.data.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @cached
    def resource(self) -> Resource:
        if self.host is not None:
            return self.host.resource
        meta = self.metadata
        ns, name = meta.get("namespace"), meta.get("name")
        return Resource(
            self.api_version,
            self.kind,
            ns if isinstance(ns, str) else None,
            name if isinstance(name, str) else None,
        )

    def position(self, path: KeyPath, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) in the file of the node at ``path`` (with ``key``,
        of the key that holds it)."""
        mark, _ = locate(self.node, path, key=key, lookup=self.lookup)
        if self.mapper is None:
            return mark.line + 1, mark.column + 1
        return self.mapper(mark.line, mark.column)

    def written(self, path: KeyPath) -> str | None:
        """The scalar at ``path`` as the file spells it (``no``, where the value
        is False), for messages that quote the user; None where it is no scalar."""
        node = node_at(self.node, path)
        return node.value if isinstance(node, ScalarNode) else None

    def locate(self, path: KeyPath) -> Location:
        """The place of ``path`` in the file, for a finding there.

        One object per path and document: rules that point at the same place
        (K001 and K002 at a container) share it, and so does the run's memory.
        """
        found = self._located.get(path)
        if found is None:
            line, column = self.position(path)
            root = self.host or self
            full = (*self.host_path, *path) if self.host_path else path
            base = root.base_path
            found = self._located[path] = Location(
                file=self.file.name,
                line=line,
                column=column,
                # interned: every document of a run names the same few paths, and
                # a run keeps one Location per indexed object (core.indexing)
                path=sys.intern(json_path((*base, *full) if base else full)),
                resource=root.resource,
                source=root.source,
                document=root.number,
                enclosing=root._enclosing(full),
            )
        return found

    def _enclosing(self, path: KeyPath) -> tuple[int, ...]:
        """The lines whose directives cover ``path`` besides its own: the line that
        starts its container (``- name: api``), and the object's first and
        ``kind:`` lines."""
        lines = self._object_lines
        for i, part in enumerate(path[:-1]):
            if part in CONTAINER_LISTS and isinstance(path[i + 1], int):
                return (self.position(path[: i + 2])[0], *lines)
        return lines

    @cached
    def _object_lines(self) -> tuple[int, ...]:
        first = self.node.start_mark.line + 1
        kind = self.position(("kind",))[0]
        return (first,) if kind == first else (first, kind)

    def may_search(self) -> bool:
        """Whether a costly search for a finding's message (a "did you mean" over
        a catalogue) may still run in this document's file; each call that says
        yes spends one of MAX_SEARCHES_PER_FILE. A file that names a hundred
        thousand unknown settings gets its first suggestions, not a run of hours."""
        self.file.searches -= 1
        return self.file.searches >= 0

    def memo(self, key: Hashable, factory: Callable[[], T]) -> T:
        """``factory()``, computed once per document and ``key``.

        The engine runs every rule on a document before the next one, and rules
        of one pack ask the same questions about it (its collected facts, the
        Istio mesh it describes on its own): the answer is worked out once, and
        kept until ``forget_memo`` or the document's end.
        """
        found: T = self._memo.get(key, _UNSET)  # one lookup: keys are tuples, hashed anew
        if found is _UNSET:
            found = self._memo[key] = factory()
        return found

    def forget_memo(self) -> None:
        """Drop the memo values once no rule will ask again (every rule has run):
        a large file's documents then hold no more than their own data. The
        embedded configs go too: they point back at this document, and with the
        cyclic collector paused (engine) that cycle would keep the document alive,
        and so would an embedded config's own memo (an ``Editor`` for its fix
        points back at the config, which points at this document)."""
        self._memo.clear()
        for found in self._embedded.values():
            if isinstance(found, Document):
                found.forget_memo()
        self._embedded.clear()

    # -- edits, for a finding's Fix: None where the place cannot be edited byte-exactly

    def set_value(self, path: KeyPath, value: Any) -> Change | None:
        """Replace the scalar at ``path`` (in its quoting style), or add the missing
        last key to the mapping that should hold it."""
        return self._edit(lambda editor: editor.set_value(path, value))

    def remove(self, path: KeyPath) -> Change | None:
        """Remove a mapping entry or a sequence item, with its own lines."""
        return self._edit(lambda editor: editor.remove(path))

    def move_first(self, path: KeyPath) -> Change | None:
        """Move the sequence item at ``path`` to the front of its sequence."""
        data = _value_at(self.data, path[:-1])
        if not isinstance(data, list):
            return None
        return self._edit(lambda editor: editor.move_first(path, data))

    def append(self, path: KeyPath, value: Any) -> Change | None:
        """Add ``value`` to the sequence at ``path``, creating it when missing."""
        data = _value_at(self.data, path)
        return self._edit(
            lambda editor: editor.append(path, value, data if isinstance(data, list) else None)
        )

    def rename_key(self, path: KeyPath, key: str) -> Change | None:
        """Rename the mapping key at the end of ``path`` to ``key`` (None where
        ``key`` is there already)."""
        value = _value_at(self.data, path)
        return self._edit(lambda editor: editor.rename_key(path, key, value))

    def slot(self, path: KeyPath, *, add: bool = False) -> Slot | None:
        """The one-line scalar at ``path`` (with ``add``, the place of the missing
        last key) as a ``Slot``: set later, when the document is gone (a fact a
        cross-object rule judges in ``check_run``)."""
        try:
            editor = self.memo(Editor, lambda: Editor(self))
            return editor.slot(path, add=add)
        except NotEditable:
            return None

    def _edit(self, make: Callable[[Editor], Change]) -> Change | None:
        try:
            editor = self.memo(Editor, lambda: Editor(self))
            return make(editor)
        except NotEditable:
            return None

    def embedded(self, path: KeyPath) -> Document | ParseError | None:
        """Parse the YAML string at ``path`` as a config with host positions.

        Returns None when there is no string there, a ParseError when it does not
        parse, else a Document whose positions map into this file. Parsed once
        per document, however many rules ask.
        """
        if path not in self._embedded:
            self._embedded[path] = self._parse_embedded(path)
        found: Document | ParseError | None = self._embedded[path]
        return found

    def _parse_embedded(self, path: KeyPath) -> Document | ParseError | None:
        node = node_at(self.node, path, self.lookup)
        if not isinstance(node, ScalarNode) or not isinstance(node.value, str):
            return None
        mapper = _mapper_for(node, self.file)

        def error(message: str, line: int, column: int, echo: bool = True) -> ParseError:
            at = replace(self.locate(path), line=line, column=column, echo=echo)
            return ParseError(message, at)

        try:
            try:
                roots = list(yaml.compose_all(node.value, Loader=Loader))
            except yaml.YAMLError as exc:
                if not redefines_an_anchor(exc):
                    raise
                roots = list(yaml.compose_all(node.value, Loader=RedefiningLoader))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = mapper(mark.line, mark.column) if mark else mapper(0, 0)
            return error(yaml_message(exc), line, col)
        except yaml.YAMLError as exc:  # a control character: not text, never echoed
            return error(reader_message(exc), *mapper(0, 0), echo=False)
        roots = [r for r in roots if r is not None]
        if len(roots) != 1 or not isinstance(roots[0], MappingNode):
            return None
        converter = Converter(self.file.aliases)
        try:
            with stack_headroom():
                data = converter.convert(roots[0])
            converter.settle()
        except TooDeep as exc:
            return error(str(exc), *mapper(exc.mark.line, exc.mark.column))
        return Document(
            data,
            roots[0],
            self.file,
            self.number,
            host=self.host or self,
            host_path=(*self.host_path, *path),
            mapper=mapper,
        )


def _value_at(data: Any, path: KeyPath) -> Any:
    for part in path:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def _mapper_for(node: ScalarNode, file: SourceFile) -> Mapper:
    """Positions inside a literal block scalar map line for line into the host."""
    start = node.start_mark
    fallback = (start.line + 1, start.column + 1)
    if node.style != "|":
        return lambda line, column: fallback
    first = start.line + 1  # content starts on the line after the indicator
    indent = None
    for number in range(first, node.end_mark.line + 1):
        text = file.line(number + 1)
        if text.strip():
            indent = len(text) - len(text.lstrip(" "))
            break
    if indent is None:
        return lambda line, column: fallback
    return lambda line, column: (first + line + 1, indent + column + 1)


def reader_message(exc: yaml.YAMLError) -> str:
    """One line for an error without a mark (a forbidden character)."""
    if isinstance(exc, yaml.reader.ReaderError):
        char = exc.character
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        return f"unacceptable character {shown}: {exc.reason}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def yaml_message(exc: yaml.MarkedYAMLError) -> str:
    """One line for a YAML error, in meshlint's words where libyaml's vary."""
    if exc.problem and (translated := too_deep_message(exc.problem)):
        return translated
    parts = [p for p in (exc.context, exc.problem) if p]
    return ", ".join(parts) if parts else str(exc).splitlines()[0]
