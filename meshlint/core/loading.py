"""Bytes -> Documents: decoding, multi-document streams, Helm ``# Source:``
attribution and ``kind: List`` items; what does not load is a ``LoadProblem``
(M001, M002) for the engine to emit.

Loading is safe: libyaml composes nodes and ``model.nodes`` converts them to
plain values; no tag ever constructs an object.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from meshlint.core.emitted import DUPLICATE_KEY, HELM_TEMPLATE_SOURCE, YAML_SYNTAX_ERROR
from meshlint.core.model import Document, KeyPath, Location, SourceFile, json_path
from meshlint.core.model.document import reader_message, yaml_message
from meshlint.core.model.nodes import (
    TOO_DEEP,
    Converter,
    Loader,
    RedefiningLoader,
    TooDeep,
    node_at,
    path_to,
    redefines_an_anchor,
    stack_headroom,
    too_deep,
)
from meshlint.domain.otel.config import COLLECTOR_FILE, is_collector_config

_C_SAFE_DEPTH = 10_000  # libyaml composed 20,000 levels here without trouble
_HELM_SOURCE = re.compile(r"^# Source: (.+?)\s*$", re.M)
_DOC_START = re.compile(r"^---(?=[ \t\r]|$)", re.M)  # CR: the end of a CR LF line
_BOMS = (  # the BOM, and the codec of what follows it
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class LoadProblem(NamedTuple):
    """Input that does not load: M001 (not YAML, not text) or M002 (a repeated key)."""

    rule: str
    message: str
    at: Location


def _syntax_error(
    file: SourceFile, message: str, line: int, column: int, *, echo: bool = True
) -> LoadProblem:
    """M001; ``echo`` False where the line is not valid text (never shown)."""
    location = Location(file.name, line, column, echo=echo)
    return LoadProblem(YAML_SYNTAX_ERROR.id, message, location)


@dataclass
class Parsed:
    """The outcome of reading one input."""

    file: SourceFile
    documents: list[Document] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    skipped: int = 0  # documents without apiVersion/kind
    skipped_at: list[int] = field(default_factory=list)  # their first lines
    last_line: int = 0  # where the previous document ended, for Helm attribution
    deep_input: bool = False  # nesting could overflow libyaml's C stack
    helm_rendered: bool = False  # the stream has Helm "# Source:" comments


def decode(data: bytes) -> str:
    """Decode by BOM (UTF-8/16/32), else strict UTF-8; raises UnicodeDecodeError."""
    bom, codec = encoding_of(data)
    return data[len(bom) :].decode(codec)


def encoding_of(data: bytes) -> tuple[bytes, str]:
    """The byte-order mark ``data`` starts with (or b"") and the codec after it."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return bom, codec
    return b"", "utf-8"


# A lone CR ends a line in YAML (libyaml reads it as LF in every value). Turned
# into LF, one character for one, it changes no value and no offset, and lets
# every position (ignore comments, "---" lines, Helm comments) count LF alone.
_LONE_CR = re.compile("\r(?!\n)")
# str.splitlines would also split at \v, \f and \x1c-\x1e, which YAML does not
_LINES = re.compile("\r?\n|[\u2028\u2029]")


def normalize_breaks(text: str) -> str:
    """``text`` with every lone CR as LF (CR LF is kept: LF already ends its line)."""
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def text_lines(text: str) -> list[str]:
    """The lines of a text as YAML numbers them (LS and PS break lines too)."""
    lines = _LINES.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # the break that ends the last line starts no line of its own
    return lines


def parse_bytes(name: str, data: bytes) -> Parsed:
    bom, codec = encoding_of(data)
    try:
        text = data[len(bom) :].decode(codec)
    except UnicodeDecodeError as exc:
        start = len(bom) + exc.start
        prefix = data[len(bom) : start].decode(codec, "replace")
        before = text_lines(normalize_breaks(prefix))
        ends_line = prefix.endswith(("\n", "\r"))
        line = len(before) + (1 if ends_line or not before else 0)
        column = 1 if ends_line or not before else len(before[-1]) + 1
        file = SourceFile(name, "")
        byte = data[start : start + 1].hex()
        message = f"invalid {exc.encoding} byte 0x{byte}"
        return Parsed(file, problems=[_syntax_error(file, message, line, column, echo=False)])
    parsed = parse_text(name, text)
    parsed.file.bom, parsed.file.codec = bom, codec
    return parsed


def parse_text(name: str, text: str) -> Parsed:
    """Parse a (possibly multi-document) YAML or JSON stream."""
    with stack_headroom():
        parsed = _parse_text(name, text)
    if "{{" in text and any(p.rule == YAML_SYNTAX_ERROR.id for p in parsed.problems):
        # Go template actions broke the YAML: one finding that says what it is
        problems = [p for p in parsed.problems if p.rule != YAML_SYNTAX_ERROR.id]
        parsed.problems = [template_source(parsed.file, "holds Go template actions"), *problems]
    return parsed


def template_source(file: SourceFile, what: str) -> LoadProblem:
    """M005 at the file's first ``{{``: a Helm template is not a manifest."""
    offset = file.text.find("{{")
    line = file.text.count("\n", 0, offset) + 1 if offset >= 0 else 1
    column = offset - file.text.rfind("\n", 0, offset) if offset >= 0 else 1
    message = (
        f"{what}: a Helm template becomes YAML only when rendered; lint "
        "`helm template RELEASE CHART | meshlint check - --chart-dir CHART` instead"
    )
    return LoadProblem(HELM_TEMPLATE_SOURCE.id, message, Location(file.name, line, column))


def _parse_text(name: str, text: str) -> Parsed:
    if name.endswith(".json") and "\t" in text:
        text = text.replace("\t", " ")  # JSON allows tabs where YAML does not; same width
    normalized = normalize_breaks(text)
    file = SourceFile(name, normalized, text_lines(normalized))
    file.lone_cr = normalized is not text and normalized != text
    text = normalized
    deep_input = _could_be_too_deep(file)
    sources = _helm_sources(text)
    parsed = Parsed(file, deep_input=deep_input, helm_rendered=bool(sources))
    try:
        _compose_tolerant(text, 0, parsed, sources)
    except (yaml.YAMLError, TooDeep, RecursionError):
        # Start again document by document so that one broken document does
        # not hide the others: each chunk between "---" lines parses alone.
        parsed = Parsed(file, deep_input=deep_input, helm_rendered=bool(sources))
        for offset, chunk in _chunks(text):
            try:
                _compose_tolerant(chunk, offset, parsed, sources)
            except yaml.MarkedYAMLError as exc:
                mark = exc.problem_mark or exc.context_mark
                line = (mark.line if mark else offset) + 1
                column = (mark.column if mark else 0) + 1
                parsed.problems.append(_syntax_error(file, yaml_message(exc), line, column))
            except yaml.reader.ReaderError as exc:
                # libyaml reports a forbidden character by offset, not by mark
                prefixed = "\n" * offset + chunk
                line = prefixed.count("\n", 0, exc.position) + 1
                column = exc.position - prefixed.rfind("\n", 0, exc.position)
                problem = _syntax_error(file, reader_message(exc), line, column, echo=False)
                parsed.problems.append(problem)
            except yaml.YAMLError as exc:
                problem = _syntax_error(file, reader_message(exc), offset + 1, 1, echo=False)
                parsed.problems.append(problem)
            except TooDeep as exc:
                line = exc.mark.line + 1
                parsed.problems.append(_syntax_error(file, str(exc), line, exc.mark.column + 1))
            except RecursionError:  # a last resort: the depth checks come first
                parsed.problems.append(_syntax_error(file, TOO_DEEP, offset + 1, 1))
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


def _compose_tolerant(
    text: str, offset: int, parsed: Parsed, sources: list[tuple[int, str]]
) -> None:
    """Compose with libyaml; where a document reuses an anchor name, again with
    the composer that accepts it (what kubectl does)."""
    kept = (len(parsed.documents), len(parsed.problems), parsed.skipped, parsed.last_line)
    kept_at = len(parsed.skipped_at)
    try:
        _compose(text, offset, parsed, sources, Loader)
    except yaml.YAMLError as exc:
        if not redefines_an_anchor(exc):
            raise
        del parsed.documents[kept[0] :], parsed.problems[kept[1] :], parsed.skipped_at[kept_at:]
        parsed.skipped, parsed.last_line = kept[2], kept[3]
        _compose(text, offset, parsed, sources, RedefiningLoader)


def _compose(
    text: str, offset: int, parsed: Parsed, sources: list[tuple[int, str]], loader: type
) -> None:
    text = "\n" * offset + text  # keeps libyaml's line numbers absolute
    if parsed.deep_input and (deep := too_deep(text)) is not None:
        raise TooDeep(deep)
    file = parsed.file
    for root in yaml.compose_all(text, Loader=loader):
        if root is None or (isinstance(root, ScalarNode) and root.value == "" and not root.style):
            continue  # an empty document ("---" followed by nothing)
        converter = Converter()
        data = converter.convert(root)
        source = _source_for(sources, parsed.last_line, root.start_mark.line)
        parsed.last_line = root.end_mark.line
        docs, skipped = _documents(data, root, file, len(parsed.documents), source)
        parsed.documents.extend(docs)
        parsed.skipped += skipped
        if skipped and not docs:
            parsed.skipped_at.append(root.start_mark.line + 1)
        for knode, holder in converter.duplicates:
            path = (*path_to(root, holder), knode.value)
            doc = _holder(docs, path)
            at = Location(
                file.name,
                knode.start_mark.line + 1,
                knode.start_mark.column + 1,
                json_path(path),
                resource=doc.resource if doc else None,
                source=doc.source if doc else None,
                document=doc.number if doc else -1,
            )
            message = f"duplicate key {knode.value!r}: " + (
                # the collector's confmap decodes with yaml.v3, which refuses the file
                "the collector refuses to load the config"
                if doc is not None and doc.standalone
                else "the API server keeps only the last one"
            )
            parsed.problems.append(LoadProblem(DUPLICATE_KEY.id, message, at))


def _holder(docs: list[Document], path: KeyPath) -> Document | None:
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
        if is_collector_config(data):  # a collector or Jaeger v2 config file of its own
            return [Document(data, root, file, index, source, standalone=COLLECTOR_FILE)], 0
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
