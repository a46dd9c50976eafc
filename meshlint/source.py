"""Bytes -> Documents: decoding, multi-document streams, positions, Helm
``# Source:`` attribution, ``kind: List`` items and embedded YAML configs.

Loading is safe: libyaml composes nodes and ``yamlnodes`` converts them to
plain values; no tag ever constructs an object.
"""

from __future__ import annotations

import codecs
import functools
import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from meshlint.model import Location, Path, Resource, json_path
from meshlint.suppress import Suppressions, annotation_ignores
from meshlint.yamlnodes import (
    MAX_DEPTH,
    TOO_DEEP,
    AliasBudget,
    Converter,
    Loader,
    Lookup,
    TooDeep,
    locate,
    node_at,
    paths_to,
    stack_headroom,
    too_deep_message,
)

_C_SAFE_DEPTH = 10_000  # libyaml composed 20,000 levels here without trouble
_HELM_SOURCE = re.compile(r"^# Source: (.+?)\s*$", re.M)
_DOC_START = re.compile(r"^---(?=[ \t]|$)", re.M)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


@dataclass(frozen=True)
class Problem:
    """A loader finding (M001 syntax error, M002 duplicate key)."""

    rule: str
    message: str
    line: int
    column: int
    path: Path = ()
    document: Document | None = None


@dataclass
class SourceFile:
    """One input: its name, its text split in lines, and file-wide suppressions."""

    name: str
    text: str
    lines: list[str] = field(default_factory=list)
    suppressions: Suppressions = field(default_factory=Suppressions)
    # what aliases may still add, shared by the file's documents and embedded configs
    aliases: AliasBudget = field(default_factory=AliasBudget, repr=False, compare=False)

    def line(self, number: int) -> str:
        return self.lines[number - 1] if 0 < number <= len(self.lines) else ""


# A mapper turns a (0-based line, 0-based column) inside an embedded config into
# the host file's; None means "the host scalar's own start".
Mapper = Any


@dataclass
class Document:
    """One Kubernetes object: its values, its nodes and where it came from."""

    data: dict[str, Any]
    node: Node
    file: SourceFile
    index: int
    source: str | None = None
    base_path: Path = ()  # ("items", 3) for an item of a kind: List
    host: Document | None = None  # set on configs embedded in a string
    host_path: Path = ()
    mapper: Mapper = None
    # embedded configs parsed and anchors resolved so far: several rules ask alike
    _embedded: dict[Path, Any] = field(default_factory=dict, repr=False, compare=False)
    _anchors: dict[Path, Location] = field(default_factory=dict, repr=False, compare=False)
    lookup: Lookup = field(default_factory=Lookup, repr=False, compare=False)
    # what domain modules read from this document for several rules, by function
    memo: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    @cached_property  # every rule asks, for every document
    def kind(self) -> str:
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else ""

    @cached_property
    def api_version(self) -> str:
        version = self.data.get("apiVersion")
        return version if isinstance(version, str) else ""

    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.data.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @cached_property
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

    def position(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """1-based (line, column) in the file of the node at ``path`` (with ``key``,
        of its key)."""
        mark, _ = locate(self.node, path, key=key, lookup=self.lookup)
        if self.host is None:
            return mark.line + 1, mark.column + 1
        line, column = self.mapper(mark.line, mark.column)
        return line, column

    def anchor(self, path: Path) -> Location:
        """A resolved Location for ``path``, for findings yielded outside ``check``.

        One object per path and document: rules that point at the same place
        (K001 and K002 at a container) share it, and so does the run's memory.
        """
        found = self._anchors.get(path)
        if found is None:
            found = self._anchors[path] = self.locate(path)
        return found

    def release(self) -> None:
        """Drop what was cached for the rules: embedded configs and memos point back
        at this document, and with the cyclic collector paused (engine) the cycle
        would keep every document of a file alive until the file is done."""
        self._embedded.clear()
        self.memo.clear()

    def ignores_at(self, path: Path) -> tuple[Any, ...]:
        """The directives that cover the node at ``path``: its line's, the object's."""
        suppressions = self.file.suppressions
        line = self.position(path)[0] if suppressions.by_line else 0  # no comment, no search
        return suppressions.at(line) + (self.host or self).annotation_ignores()

    def locate(self, path: Path) -> Location:
        """The Location of ``path``, not remembered (see ``anchor``)."""
        line, column = self.position(path)
        root = self.host or self
        full = (*root.base_path, *self.host_path, *path)
        return Location(
            file=self.file.name,
            line=line,
            column=column,
            path=json_path(full),
            resource=root.resource,
            source=root.source,
            ignores=self.file.suppressions.at(line) + root.annotation_ignores(),
        )

    @cached_property
    def _annotation_ignores(self) -> tuple[Any, ...]:
        return annotation_ignores(self)

    def annotation_ignores(self) -> tuple[Any, ...]:
        """The ``meshlint.io/ignore`` annotations that cover this document."""
        return self._annotation_ignores

    def embedded(self, path: Path) -> Document | Problem | None:
        """Parse the YAML string at ``path`` as a config with host positions.

        Returns None when there is no string there, a Problem (for M004) when
        it does not parse, else a Document whose positions map into this file.
        Parsed once per document, however many rules ask.
        """
        if path not in self._embedded:
            self._embedded[path] = self._parse_embedded(path)
        found: Document | Problem | None = self._embedded[path]
        return found

    def _parse_embedded(self, path: Path) -> Document | Problem | None:
        node = node_at(self.node, path, self.lookup)
        if not isinstance(node, ScalarNode) or not isinstance(node.value, str):
            return None
        mapper = _mapper_for(node, self.file)
        try:
            roots = list(yaml.compose_all(node.value, Loader=Loader))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = mapper(mark.line, mark.column) if mark else mapper(0, 0)
            return Problem("M004", _yaml_message(exc), line, col, path, self)
        except yaml.YAMLError as exc:  # a control character, reported by offset
            line, col = mapper(0, 0)
            return Problem("M004", _reader_message(exc), line, col, path, self)
        roots = [r for r in roots if r is not None]
        if len(roots) != 1 or not isinstance(roots[0], MappingNode):
            return None
        converter = Converter(self.file.aliases)
        try:
            with stack_headroom():
                data = converter.convert(roots[0])
            converter.settle()
        except TooDeep as exc:
            line, col = mapper(exc.mark.line, exc.mark.column)
            return Problem("M004", str(exc), line, col, path, self)
        return Document(
            data,
            roots[0],
            self.file,
            self.index,
            host=self.host or self,
            host_path=(*self.host_path, *path),
            mapper=mapper,
        )


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


@dataclass
class Parsed:
    """The outcome of reading one input, whole (see ``Reader`` for one document at a time)."""

    file: SourceFile
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0  # documents without apiVersion/kind


def decode(data: bytes) -> str:
    """Decode by BOM (UTF-8/16/32), else strict UTF-8; raises UnicodeDecodeError."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    return data.decode("utf-8")


def _reader_message(exc: yaml.YAMLError) -> str:
    """One line for an error without a mark (a forbidden character)."""
    if isinstance(exc, yaml.reader.ReaderError):
        char = exc.character
        shown = f"#x{char:04x}" if isinstance(char, int) else repr(char)
        return f"unacceptable character {shown}: {exc.reason}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    if exc.problem and (translated := too_deep_message(exc.problem)):
        return translated
    parts = [p for p in (exc.context, exc.problem) if p]
    return ", ".join(parts) if parts else str(exc).splitlines()[0]


def parse_bytes(name: str, data: bytes) -> Parsed:
    return _collect(read_bytes(name, data))


def parse_text(name: str, text: str) -> Parsed:
    """Parse a (possibly multi-document) YAML or JSON stream."""
    return _collect(Reader(name, text))


def _collect(reader: Reader) -> Parsed:
    parsed = Parsed(reader.file)
    for found in reader:
        if isinstance(found, Problem):
            parsed.problems.append(found)
        else:
            parsed.documents.append(found)
    parsed.skipped = reader.skipped
    return parsed


def read_bytes(name: str, data: bytes) -> Reader:
    """A Reader of ``data``, decoded by BOM or as UTF-8 (invalid text is one M001)."""
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start : exc.start + 1].hex()
        problem = Problem("M001", f"invalid {exc.encoding} byte 0x{byte}", line, column)
        return Reader(name, None, problem)
    return Reader(name, text)


class Reader:
    """One input read a document at a time: iterating yields its Documents and
    Problems in file order, so a file of 200,000 documents is never held whole.
    ``documents`` and ``skipped`` count what was read so far.

    The stream is composed whole; where a document breaks it, reading goes on
    chunk by chunk (the parts between "---" lines) after the last document read,
    so one broken document does not hide the others.
    """

    def __init__(self, name: str, text: str | None, problem: Problem | None = None) -> None:
        if text is not None and name.endswith(".json") and "\t" in text:
            text = text.replace("\t", " ")  # JSON allows tabs where YAML does not; same width
        text = text or ""
        self.file = SourceFile(name, text, text.splitlines(), Suppressions.scan(text, name))
        self.documents = 0
        self.skipped = 0
        self._problem = problem  # the text did not decode
        self._last_line = 0  # where the previous document ended, for Helm attribution
        self._deep = _could_be_too_deep(self.file)
        self._sources = _helm_sources(text)

    def __iter__(self) -> Iterator[Document | Problem]:
        if self._problem is not None:
            yield self._problem
            return
        text = self.file.text
        try:
            yield from self._compose(text, 0)
        except (yaml.YAMLError, TooDeep, RecursionError):
            resume = self._last_line
            for offset, chunk in _chunks(text):
                if offset >= resume:
                    yield from self._chunk(chunk, offset)

    def _chunk(self, chunk: str, offset: int) -> Iterator[Document | Problem]:
        """The documents of one chunk, or the M001 that stops it."""
        try:
            yield from self._compose(chunk, offset)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = (mark.line if mark else 0) + offset + 1
            column = (mark.column if mark else 0) + 1
            yield Problem("M001", _yaml_message(exc), line, column)
        except yaml.reader.ReaderError as exc:
            # libyaml reports a forbidden character by offset, not by mark
            line = offset + chunk.count("\n", 0, exc.position) + 1
            column = exc.position - chunk.rfind("\n", 0, exc.position)
            yield Problem("M001", _reader_message(exc), line, column)
        except yaml.YAMLError as exc:
            yield Problem("M001", _reader_message(exc), offset + 1, 1)
        except TooDeep as exc:
            yield Problem("M001", str(exc), exc.mark.line + 1, exc.mark.column + 1)
        except RecursionError:  # a last resort: the depth checks come first
            yield Problem("M001", TOO_DEEP, offset + 1, 1)

    def _compose(self, text: str, offset: int) -> Iterator[Document | Problem]:
        """The documents of ``text``, which starts on line ``offset`` of the file."""
        if self._deep and (deep := _too_deep(text)) is not None:
            raise TooDeep(_shifted(deep, offset))
        roots = yaml.compose_all(text, Loader=Loader)
        while True:
            with stack_headroom():
                try:
                    root = next(roots)
                except StopIteration:
                    return
                if root is None or (
                    isinstance(root, ScalarNode) and root.value == "" and not root.style
                ):
                    continue  # an empty document ("---" followed by nothing)
                if offset:
                    _shift(root, offset)
                found = self._document(root)
            yield from found

    def _document(self, root: Node) -> list[Document | Problem]:
        """The objects of one stream document, then its duplicate keys."""
        file = self.file
        converter = Converter(file.aliases)
        data = converter.convert(root)
        converter.settle()
        source = _source_for(self._sources, self._last_line, root.start_mark.line)
        self._last_line = root.end_mark.line
        docs, skipped = _documents(data, root, file, self.documents, source)
        self.documents += len(docs)
        self.skipped += skipped
        return [*docs, *_duplicates(root, docs, converter.duplicates)]


def _duplicates(root: Node, docs: list[Document], found: list[Any]) -> Iterator[Problem]:
    """M002 for each repeated key, with the object it belongs to: the document, or a List's item."""
    if not found:
        return
    paths = paths_to(root, [holder for _, holder in found])
    whole = docs[0] if len(docs) == 1 and not docs[0].base_path else None
    items = {doc.base_path: doc for doc in docs}
    for knode, holder in found:
        path = (*paths[id(holder)], knode.value)
        doc = whole or items.get(path[:2])
        yield Problem(
            "M002",
            f"duplicate key {knode.value!r}: the API server keeps only the last one",
            knode.start_mark.line + 1,
            knode.start_mark.column + 1,
            path[len(doc.base_path) :] if doc else path,
            doc,
        )


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """(line offset, text) of each part of the stream between '---' lines."""
    starts = [0] + [m.start() for m in _DOC_START.finditer(text) if m.start()]
    line = 0
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        chunk = text[begin:end]
        yield line, chunk
        line += chunk.count("\n")


def _could_be_too_deep(file: SourceFile) -> bool:
    """Cheap bound: nesting needs a bracket or one more column per level.

    libyaml's composer recurses in C and overflows the stack on hostile nesting
    (a segfault, past ~50,000 levels) before Python can notice, so only texts
    whose bound passes _C_SAFE_DEPTH pay for the event-based check below, and
    only with a libyaml older than 0.2.6, which stops at 1,000 levels itself
    (the check costs as much as composing a text of many flow collections).
    """
    if _libyaml_stops_deep_nesting():
        return False
    widest = max(map(len, file.lines), default=0)
    return file.text.count("[") + file.text.count("{") + widest > _C_SAFE_DEPTH


@functools.cache
def _libyaml_stops_deep_nesting() -> bool:
    if Loader.__mro__[1] is not getattr(yaml, "CSafeLoader", None):
        return False  # the pure-Python composer: a RecursionError, caught as a last resort
    try:
        from yaml import _yaml
    except ImportError:  # pragma: no cover - CSafeLoader implies it
        return False
    return tuple(_yaml.get_version()) >= (0, 2, 6)


def _too_deep(text: str) -> Any:
    """Where nesting passes MAX_DEPTH, from libyaml events (no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return None


def _shifted(mark: yaml.Mark, lines: int) -> yaml.Mark:
    return yaml.Mark(mark.name, mark.index, mark.line + lines, mark.column, None, 0)


def _shift(root: Node, lines: int) -> None:
    """Move a chunk's node marks down by ``lines``: positions in the whole file.

    Cheaper than composing the chunk behind ``lines`` newlines, which made a
    stream of many documents quadratic as soon as one of them was broken.
    """
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        node.start_mark = _shifted(node.start_mark, lines)
        node.end_mark = _shifted(node.end_mark, lines)
        if isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif not isinstance(node, ScalarNode):
            stack.extend(node.value)


def _is_object(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and isinstance(data.get("apiVersion"), str)
        and isinstance(data.get("kind"), str)
    )


def _documents(
    data: Any, root: Node, file: SourceFile, index: int, source: str | None
) -> tuple[list[Document], int]:
    """The objects of one stream document, and how many were skipped (no apiVersion/kind)."""
    if not _is_object(data):
        return [], 1
    kind: str = data["kind"]
    items = data.get("items")
    if kind.endswith("List") and isinstance(items, list) and isinstance(root, MappingNode):
        items_node = node_at(root, ("items",))
        docs = []
        for i, item in enumerate(items):
            item_node = node_at(items_node, (i,)) if items_node is not None else None
            if _is_object(item) and item_node is not None:
                docs.append(Document(item, item_node, file, index + i, source, ("items", i)))
        return docs, len(items) - len(docs)
    return [Document(data, root, file, index, source)], 0


def _helm_sources(text: str) -> list[tuple[int, str]]:
    """(0-based line, template path) of each Helm ``# Source:`` comment."""
    if "# Source: " not in text:
        return []
    found, line, counted = [], 0, 0
    for m in _HELM_SOURCE.finditer(text):
        line += text.count("\n", counted, m.start())
        counted = m.start()
        found.append((line, m.group(1)))
    return found


def _source_for(sources: list[tuple[int, str]], after: int, line: int) -> str | None:
    """The last Source comment between the previous document and this one."""
    last = bisect_right(sources, line, key=itemgetter(0)) - 1
    return sources[last][1] if last >= 0 and sources[last][0] >= after else None
