"""Bytes -> Documents: decoding, multi-document streams, positions, Helm
``# Source:`` attribution, ``kind: List`` items and embedded YAML configs.

Loading is safe: libyaml composes nodes and ``yamlnodes`` converts them to
plain values; no tag ever constructs an object.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from meshlint.model import Location, Path, Resource, json_path
from meshlint.suppress import Suppressions, annotation_ignores
from meshlint.yamlnodes import (
    TOO_DEEP,
    Converter,
    Loader,
    TooDeep,
    locate,
    node_at,
    path_to,
    reader_message,
    stack_headroom,
    too_deep,
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
    echo: bool = True  # False: the line is not valid text and is never shown


@dataclass
class SourceFile:
    """One input: its name, its text split in lines, and file-wide suppressions."""

    name: str
    text: str
    lines: list[str] = field(default_factory=list)
    suppressions: Suppressions = field(default_factory=Suppressions)

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

    @property
    def kind(self) -> str:
        kind = self.data.get("kind")
        return kind if isinstance(kind, str) else ""

    @property
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

    def position(self, path: Path) -> tuple[int, int]:
        """1-based (line, column) in the file of the node at ``path``."""
        mark, _ = locate(self.node, path)
        if self.host is None:
            return mark.line + 1, mark.column + 1
        line, column = self.mapper(mark.line, mark.column)
        return line, column

    def written(self, path: Path) -> str | None:
        """The scalar at ``path`` as the file spells it (``no``, where the value
        is False), for messages that quote the user; None where it is no scalar."""
        node = node_at(self.node, path)
        return node.value if isinstance(node, ScalarNode) else None

    def anchor(self, path: Path) -> Location:
        """A resolved Location for ``path``, for findings yielded outside ``check``.

        One object per path and document: rules that point at the same place
        (K001 and K002 at a container) share it, and so does the run's memory.
        """
        found = self._anchors.get(path)
        if found is None:
            found = self._anchors[path] = self._locate(path)
        return found

    def _locate(self, path: Path) -> Location:
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
        node = node_at(self.node, path)
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
            return Problem("M004", reader_message(exc), line, col, path, self, echo=False)
        roots = [r for r in roots if r is not None]
        if len(roots) != 1 or not isinstance(roots[0], MappingNode):
            return None
        converter = Converter()
        try:
            with stack_headroom():
                data = converter.convert(roots[0])
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
    """The outcome of reading one input."""

    file: SourceFile
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0  # documents without apiVersion/kind
    last_line: int = 0  # where the previous document ended, for Helm attribution
    deep_input: bool = False  # nesting could overflow libyaml's C stack


def decode(data: bytes) -> str:
    """Decode by BOM (UTF-8/16/32), else strict UTF-8; raises UnicodeDecodeError."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    return data.decode("utf-8")


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    if exc.problem and (translated := too_deep_message(exc.problem)):
        return translated
    parts = [p for p in (exc.context, exc.problem) if p]
    return ", ".join(parts) if parts else str(exc).splitlines()[0]


# YAML's line breaks (libyaml also counts NEL): libyaml reads CR LF, CR and NEL
# as LF in every value, so turning them into LF first changes no value and lets
# every position (ignore comments, "---" lines, Helm comments) count LF alone.
_BREAKS = re.compile("\r\n?|\x85")
# str.splitlines would also split at \v, \f and \x1c-\x1e, which YAML does not
_LINES = re.compile("[\n\u2028\u2029]")


def normalize_breaks(text: str) -> str:
    """``text`` with every CR LF, lone CR and NEL as LF (what libyaml reads)."""
    return _BREAKS.sub("\n", text) if "\r" in text or "\x85" in text else text


def text_lines(text: str) -> list[str]:
    """The lines of a normalized text as YAML numbers them (LS and PS break lines too)."""
    lines = _LINES.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # the break that ends the last line starts no line of its own
    return lines


def parse_bytes(name: str, data: bytes) -> Parsed:
    try:
        text = decode(data)
    except UnicodeDecodeError as exc:
        before = text_lines(normalize_breaks(data[: exc.start].decode(exc.encoding, "replace")))
        ends_line = data[: exc.start].endswith((b"\n", b"\r"))
        line = len(before) + (1 if ends_line or not before else 0)
        column = 1 if ends_line or not before else len(before[-1]) + 1
        file = SourceFile(name, "")
        byte = data[exc.start : exc.start + 1].hex()
        message = f"invalid {exc.encoding} byte 0x{byte}"
        problem = Problem("M001", message, line, column, echo=False)
        return Parsed(file, problems=[problem])
    return parse_text(name, text)


def parse_text(name: str, text: str) -> Parsed:
    """Parse a (possibly multi-document) YAML or JSON stream."""
    with stack_headroom():
        return _parse_text(name, text)


def _parse_text(name: str, text: str) -> Parsed:
    if name.endswith(".json") and "\t" in text:
        text = text.replace("\t", " ")  # JSON allows tabs where YAML does not; same width
    text = normalize_breaks(text)
    file = SourceFile(name, text, text_lines(text), Suppressions.scan(text, name))
    deep_input = _could_be_too_deep(file)
    parsed = Parsed(file, deep_input=deep_input)
    sources = _helm_sources(text)
    try:
        _compose(text, 0, parsed, sources)
    except (yaml.YAMLError, TooDeep, RecursionError):
        # Start again document by document so that one broken document does
        # not hide the others: each chunk between "---" lines parses alone.
        parsed = Parsed(file, deep_input=deep_input)
        for offset, chunk in _chunks(text):
            try:
                _compose(chunk, offset, parsed, sources)
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = (mark.line if mark else offset) + 1
                column = (mark.column if mark else 0) + 1
                parsed.problems.append(Problem("M001", _yaml_message(exc), line, column))
            except yaml.reader.ReaderError as exc:
                # libyaml reports a forbidden character by offset, not by mark
                prefixed = "\n" * offset + chunk
                line = prefixed.count("\n", 0, exc.position) + 1
                column = exc.position - prefixed.rfind("\n", 0, exc.position)
                message = reader_message(exc)
                parsed.problems.append(Problem("M001", message, line, column, echo=False))
            except yaml.YAMLError as exc:
                message = reader_message(exc)
                parsed.problems.append(Problem("M001", message, offset + 1, 1, echo=False))
            except TooDeep as exc:
                line = exc.mark.line + 1
                parsed.problems.append(Problem("M001", str(exc), line, exc.mark.column + 1))
            except RecursionError:  # a last resort: the depth checks come first
                parsed.problems.append(Problem("M001", TOO_DEEP, offset + 1, 1))
    return parsed


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """(line offset, text) of each part of the stream between '---' lines."""
    starts = [0] + [m.start() for m in _DOC_START.finditer(text) if m.start()]
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        yield text.count("\n", 0, begin), text[begin:end]


def _could_be_too_deep(file: SourceFile) -> bool:
    """Cheap bound: nesting needs a bracket or one more column per level.

    libyaml's composer recurses in C and overflows the stack on hostile nesting
    (a segfault, past ~50,000 levels) before Python can notice, so only texts
    whose bound passes _C_SAFE_DEPTH pay for the event-based check below.
    """
    widest = max(map(len, file.lines), default=0)
    return file.text.count("[") + file.text.count("{") + widest > _C_SAFE_DEPTH


def _compose(text: str, offset: int, parsed: Parsed, sources: list[tuple[int, str]]) -> None:
    text = "\n" * offset + text  # keeps libyaml's line numbers absolute
    if parsed.deep_input and (deep := too_deep(text)) is not None:
        raise TooDeep(deep)
    file = parsed.file
    for root in yaml.compose_all(text, Loader=Loader):
        if root is None or (isinstance(root, ScalarNode) and root.value == "" and not root.style):
            continue  # an empty document ("---" followed by nothing)
        converter = Converter()
        data = converter.convert(root)
        source = _source_for(sources, parsed.last_line, root.start_mark.line)
        parsed.last_line = root.end_mark.line
        docs, skipped = _documents(data, root, file, len(parsed.documents), source)
        parsed.documents.extend(docs)
        parsed.skipped += skipped
        for knode, holder in converter.duplicates:
            path = (*path_to(root, holder), knode.value)
            doc = _holder(docs, path)
            parsed.problems.append(
                Problem(
                    "M002",
                    f"duplicate key {knode.value!r}: the API server keeps only the last one",
                    knode.start_mark.line + 1,
                    knode.start_mark.column + 1,
                    path[len(doc.base_path) :] if doc else path,
                    doc,
                )
            )


def _holder(docs: list[Document], path: Path) -> Document | None:
    """The object a path into the stream document belongs to (a List's item)."""
    for doc in docs:
        if path[: len(doc.base_path)] == doc.base_path:
            return doc
    return None


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
    return [(text.count("\n", 0, m.start()), m.group(1)) for m in _HELM_SOURCE.finditer(text)]


def _source_for(sources: list[tuple[int, str]], after: int, line: int) -> str | None:
    """The last Source comment between the previous document and this one."""
    found = None
    for at, name in sources:
        if at > line:
            break
        if at >= after:
            found = name
    return found
