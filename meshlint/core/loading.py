"""Bytes -> Documents: decoding, multi-document streams, Helm ``# Source:``
attribution and ``kind: List`` items; what does not load is a ``LoadProblem``
(M001, M002) for the engine to emit. A ``Reader`` yields them one document at a
time, in linear time however many documents a stream holds.

Loading is safe: libyaml composes nodes and ``model.nodes`` converts them to
plain values; no tag ever constructs an object.
"""

from __future__ import annotations

import copy
import functools
import re
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from meshlint.core.emitted import DUPLICATE_KEY, HELM_TEMPLATE_SOURCE, YAML_SYNTAX_ERROR
from meshlint.core.files import encoding_of
from meshlint.core.model import Document, Location, SourceFile, json_path
from meshlint.core.model.document import (
    DIRECTIVE_MARK,
    LINE_BREAK,
    reader_message,
    text_lines,
    yaml_message,
)
from meshlint.core.model.nodes import (
    TOO_DEEP,
    Converter,
    Loader,
    RedefiningLoader,
    TooDeep,
    each_node,
    node_at,
    paths_to,
    redefines_an_anchor,
    stack_headroom,
    too_deep,
)
from meshlint.core.outline import Outline, outline
from meshlint.domain.otel.config import COLLECTOR_FILE, is_collector_config

_C_SAFE_DEPTH = 10_000  # libyaml composed 20,000 levels here without trouble
# Not anchored with "^": a pattern that starts with its text is searched for
# that text (twice as fast); _helm_sources keeps the matches at a line's start.
_HELM_SOURCE = re.compile(r"# Source: (.+?)\s*$", re.M)
# A "---" line, after any break YAML knows (NEL, LS and PS end lines too: a
# broken document in a file of them must not hide every later one); CR: the end
# of a CR LF line. Searched for "---" first (a pattern that starts with a
# lookbehind is tried at every character, a third of a second on the corpus),
# then _document_starts keeps those at a line's start.
_DOC_START = re.compile("---(?=[ \t\r\x85\u2028\u2029]|$)", re.M)
_LINE_ENDS = "\n\x85\u2028\u2029"
# A "---" line with a comment right after it (see Reader.__iter__).
_DASHES_COMMENT = re.compile("(?:^|(?<=[\x85\u2028\u2029]))---#", re.M)


def _document_starts(text: str, at: int = 0) -> Iterator[int]:
    """Where each "---" line of ``text`` at or after ``at`` starts."""
    for found in _DOC_START.finditer(text, at):
        start = found.start()
        if not start or text[start - 1] in _LINE_ENDS:
            yield start


_YAML_BREAKS = ("\n", "\x85", "\u2028", "\u2029")


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
    """The outcome of reading one input, whole (``Reader`` reads a document at a time)."""

    file: SourceFile
    documents: list[Document] = field(default_factory=list)
    problems: list[LoadProblem] = field(default_factory=list)
    skipped: int = 0  # documents without apiVersion/kind
    skipped_at: list[int] = field(default_factory=list)  # their first lines
    helm_rendered: bool = False  # the stream has Helm "# Source:" comments
    others: list[Any] = field(default_factory=list)  # their values, with ``whole``


# A lone CR ends a line in YAML (libyaml reads it as LF in every value). Turned
# into LF, one character for one, it changes no value and no offset, and lets
# every position (ignore comments, "---" lines, Helm comments) count LF alone.
_LONE_CR = re.compile("\r(?!\n)")


def normalize_breaks(text: str) -> str:
    """``text`` with every lone CR as LF (CR LF is kept: LF already ends its line)."""
    return _LONE_CR.sub("\n", text) if "\r" in text else text


def parse_bytes(name: str, data: bytes, *, whole: bool = False) -> Parsed:
    """Parse an input's bytes; ``whole`` keeps the values of skipped documents too."""
    reader = read_bytes(name, data)
    if whole:
        reader.others = []
    return _collect(reader)


def parse_text(name: str, text: str) -> Parsed:
    """Parse a (possibly multi-document) YAML or JSON stream."""
    return _collect(Reader(name, text))


def _collect(reader: Reader) -> Parsed:
    parsed = Parsed(reader.file, helm_rendered=reader.helm_rendered)
    for found in reader:
        if isinstance(found, LoadProblem):
            parsed.problems.append(found)
        else:
            parsed.documents.append(found)
    parsed.problems = without_template_errors(parsed.file, parsed.problems)
    parsed.skipped, parsed.skipped_at = reader.skipped, reader.skipped_at
    parsed.others = reader.others or []
    return parsed


def without_template_errors(file: SourceFile, problems: list[LoadProblem]) -> list[LoadProblem]:
    """Where Go template actions broke the YAML, one M005 that says what the file
    is instead of its syntax errors."""
    if any(p.rule == YAML_SYNTAX_ERROR.id for p in problems) and "{{" in file.text:
        rest = [p for p in problems if p.rule != YAML_SYNTAX_ERROR.id]
        return [template_source(file, "holds Go template actions"), *rest]
    return problems


# A line that starts a Kubernetes object or a collector config, in YAML or JSON.
_MANIFEST_KEY = re.compile(
    r"^[ \t]*(?:- )?[\"']?(?:apiVersion|kind|receivers|exporters)[\"']?[ \t]*:", re.M
)
NOT_MANIFEST_RULES = frozenset({YAML_SYNTAX_ERROR.id, HELM_TEMPLATE_SOURCE.id})


def not_a_manifest(reader: Reader, problems: list[LoadProblem]) -> bool:
    """Whether a file that yielded no document is something other than a broken
    manifest: a Go template (M005: its actions broke the YAML), or text that
    does not parse and has no line that starts an object or a collector config
    (newline-delimited JSON, data). A Helm stream is always a manifest."""
    if reader.helm_rendered or reader.broken is not None or not problems:
        return False  # undecodable bytes stay an error: the text cannot tell
    rules = {p.rule for p in problems}
    if HELM_TEMPLATE_SOURCE.id in rules:
        return True
    return YAML_SYNTAX_ERROR.id in rules and not _MANIFEST_KEY.search(reader.file.text)


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


def read_bytes(name: str, data: bytes) -> Reader:
    """A Reader of ``data``, decoded by BOM or as UTF-8 (invalid text is one M001)."""
    bom, codec = encoding_of(data)
    try:
        text = data[len(bom) :].decode(codec)
    except UnicodeDecodeError as exc:
        start = len(bom) + exc.start
        # counted as YAML counts lines (a lone CR, LS and PS end one too)
        prefix = data[len(bom) : start].decode(codec, "replace")
        before = text_lines(normalize_breaks(prefix))
        ends_line = prefix.endswith(("\n", "\r"))
        line = len(before) + (1 if ends_line or not before else 0)
        column = 1 if ends_line or not before else len(before[-1]) + 1
        byte = data[start : start + 1].hex()
        reader = Reader(name, None)
        message = f"invalid {exc.encoding} byte 0x{byte}"
        # the line is not text: never echoed
        reader.broken = _syntax_error(reader.file, message, line, column, echo=False)
        return reader
    reader = Reader(name, text)
    reader.file.bom, reader.file.codec = bom, codec
    return reader


class Reader:
    """One input read a document at a time: iterating yields its Documents and
    LoadProblems in file order, so a file of 200,000 documents is never held
    whole. ``documents`` and ``skipped`` count what was read so far.

    The stream is composed whole; where a document breaks it, reading goes on
    chunk by chunk (the parts between "---" lines) after the last document read,
    so one broken document does not hide the others.
    """

    def __init__(self, name: str, text: str | None) -> None:
        if text is not None and name.endswith(".json") and "\t" in text:
            text = text.replace("\t", " ")  # JSON allows tabs where YAML does not; same width
        text = text or ""
        normalized = normalize_breaks(text)
        self.file = SourceFile(name, normalized)
        self.file.lone_cr = normalized is not text and normalized != text
        text = normalized
        self.documents = 0
        self.skipped = 0
        self.skipped_at: list[int] = []  # the first lines of the documents skipped
        self.broken: LoadProblem | None = None  # the bytes are not text
        self._last_line = 0  # where the previous document ended, for Helm attribution
        self._deep = _could_be_too_deep(self.file)
        self._sources = _helm_sources(text)
        self.helm_rendered = bool(self._sources)
        # called with each stream document's node tree (objects or not), while
        # it is at hand: suppression tells comments from strings with it
        self.on_root: Callable[[Node], None] | None = None
        # with a list here: the values of what is skipped (documents without
        # apiVersion/kind, a List's items that are not objects), in order
        self.others: list[Any] | None = None
        # which kinds of object nothing reads past their identity (no rule, fact
        # or index entry): their Documents hold only IDENTITY (see _convert)
        self.identity_only: Callable[[str], bool] | None = None
        self._window: tuple[int, int, int] | None = None  # see window()
        self._outlined: dict[int, _Outlined] = {}  # see _skim()
        self.first_root: int | None = None  # the line of the first stream document read

    def window(self, begin: int, end: int, line: int, documents: int, after: int) -> Reader:
        """A reader of only ``text[begin:end]`` that shares this one's file:
        whole stream documents from a "---" line, line ``line`` (0-based), on,
        read as reading the whole file reads them: numbered from ``documents``
        (the objects the text before holds), the last document before the
        window taken to end on line ``after`` (Helm attribution), each composed
        on its own after one breaks."""
        part = copy.copy(self)
        part._window = (begin, end, line)
        part._outlined = {}
        part.documents, part.skipped, part.skipped_at = documents, 0, []
        part._last_line = after
        part.first_root = None
        return part

    @property
    def last_line(self) -> int:
        """The 0-based line where the last stream document read ended."""
        return self._last_line

    def last_source(self) -> int | None:
        """The line of the last Helm ``# Source:`` comment at or above the first
        stream document read: whether it names that document depends on where
        the document before it ended."""
        if self.first_root is None:
            return None
        last = bisect_right(self._sources, self.first_root, key=itemgetter(0)) - 1
        return self._sources[last][0] if last >= 0 else None

    def __iter__(self) -> Iterator[Document | LoadProblem]:
        if self.broken is not None:
            yield self.broken
            return
        text = self.file.text
        begin, end, first = self._window or (0, len(text), 0)
        if (begin, end) != (0, len(text)):
            text = text[begin:end]
        if "---#" in text:
            # "---# note": kubectl's reader and Helm's splitter end a document
            # there, libyaml reads a scalar. Only the text composed gets the
            # blank (marks count lines; Mark.index is never read): the file's
            # text, its echoed lines and fix offsets stay as written.
            text = _DASHES_COMMENT.sub("--- #", text)
        if self.identity_only is not None and not self._deep:
            text = self._skim(text, first)
        try:
            # below ``first`` empty lines, a window's marks are the file's lines
            # (cheaper than moving every node's marks, see _shift)
            yield from self._compose("\n" * first + text if first else text, 0)
        except (yaml.YAMLError, TooDeep, RecursionError):
            resume = self._last_line
            for offset, chunk in _chunks(text):
                if offset + first >= resume:
                    yield from self._chunk(chunk, offset + first)

    def _chunk(self, chunk: str, offset: int) -> Iterator[Document | LoadProblem]:
        """The documents of one chunk, or the M001 that stops it."""
        file = self.file
        try:
            yield from self._compose(chunk, offset)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = (mark.line if mark else 0) + offset + 1
            column = (mark.column if mark else 0) + 1
            yield _syntax_error(file, yaml_message(exc), line, column)
        except yaml.reader.ReaderError as exc:
            # libyaml reports a forbidden character by offset, not by mark
            line = offset + chunk.count("\n", 0, exc.position) + 1
            column = exc.position - chunk.rfind("\n", 0, exc.position)
            yield _syntax_error(file, reader_message(exc), line, column, echo=False)
        except yaml.YAMLError as exc:
            yield _syntax_error(file, reader_message(exc), offset + 1, 1, echo=False)
        except TooDeep as exc:
            yield _syntax_error(file, str(exc), exc.mark.line + 1, exc.mark.column + 1)
        except RecursionError:  # a last resort: the depth checks come first
            yield _syntax_error(file, TOO_DEEP, offset + 1, 1)

    def _compose(self, text: str, offset: int) -> Iterator[Document | LoadProblem]:
        """The documents of ``text``, which starts on line ``offset`` of the file.

        Composed with libyaml; from a document that reuses an anchor name on,
        with the composer that accepts it (what kubectl does).
        """
        if self._deep and (deep := too_deep(text)) is not None:
            raise TooDeep(_shifted(deep, offset))
        roots = yaml.compose_all(text, Loader=Loader)
        taken = 0  # documents composed so far, to skip when composing again
        while True:
            with stack_headroom():
                try:
                    root = next(roots)
                except StopIteration:
                    return
                except yaml.YAMLError as exc:
                    if not redefines_an_anchor(exc) or isinstance(roots, _Skipping):
                        raise
                    roots = _Skipping(yaml.compose_all(text, Loader=RedefiningLoader), taken)
                    continue
                taken += 1
                if root is None or (
                    isinstance(root, ScalarNode) and root.value == "" and not root.style
                ):
                    continue  # an empty document ("---" followed by nothing)
                if offset:
                    _shift(root, offset)
                outlined = self._outlined.get(root.start_mark.line)
                if outlined is not None and isinstance(root, MappingNode):
                    found = self._document_outlined(root, outlined)
                else:
                    found = self._document(root)
            yield from found

    def _skim(self, text: str, first: int) -> str:
        """``text`` with each stream document that ``outline`` proves to be an
        object of an ``identity_only`` kind, with no directive comment, in the
        subset it reads (a CRD, as controller-gen writes one) cut down to its
        identity entries, on their own lines (``_identity_text``): composing it
        then costs next to nothing, and its root stands for the document, in
        order (``_document_outlined``). ``first`` is the line ``text`` starts on."""
        unread = self.identity_only
        assert unread is not None
        if not any(_unread(unread, kind) for kind in _top_kinds(text)):
            return text
        parts = []
        for offset, chunk in _chunks(text):
            kind = next(_top_kinds(chunk), None)
            if (
                kind is not None
                and _unread(unread, kind)
                and DIRECTIVE_MARK not in chunk
                and (written := outline(chunk)) is not None
                and written.entries[0][0] in IDENTITY
            ):
                line = offset + first
                # keyed by the line of its root, its first key
                self._outlined[line + written.entries[0][1]] = _Outlined(chunk, line, kind)
                chunk = _identity_text(written)
            parts.append(chunk)
        return "".join(parts) if self._outlined else text

    def _document_outlined(
        self, root: MappingNode, outlined: _Outlined
    ) -> list[Document | LoadProblem]:
        """The object an outlined stream document (``_skim``) holds, from the
        root its identity text composed to: the values and nodes a whole
        document's identity gives (``Converter.identity``), with the same
        marks. Composed whole where that fails."""
        root.value = [(k, v) for k, v in root.value if k.value in IDENTITY]
        converter = Converter(self.file.aliases)
        data = converter.identity(root, IDENTITY)
        if data is not None and _is_object(data) and data["kind"] == outlined.kind:
            return self._document(root, (converter, data))
        # the outline proved there is nothing else to find: never reached
        del self._outlined[root.start_mark.line]  # pragma: no cover
        return list(self._compose(outlined.text, outlined.line))  # pragma: no cover

    def _document(
        self, root: Node, converted: tuple[Converter, Any] | None = None
    ) -> list[Document | LoadProblem]:
        """The objects of one stream document, then its duplicate keys;
        ``converted``: its converter and values, when already known."""
        file = self.file
        if self.on_root is not None:
            self.on_root(root)
        converter, data = converted or self._convert(root)
        converter.settle()
        if self.first_root is None:
            self.first_root = root.start_mark.line
        source = _source_for(self._sources, self._last_line, root.start_mark.line)
        self._last_line = root.end_mark.line
        docs, skipped = _documents(data, root, file, self.documents, source)
        self.documents += len(docs)
        self.skipped += skipped
        if skipped and self.others is not None:  # what a fix must leave as it was
            items = data.get("items") if docs and isinstance(data, dict) else None
            others = [i for i in items if not _is_object(i)] if isinstance(items, list) else data
            self.others.append(others)
        if skipped and not docs:
            self.skipped_at.append(root.start_mark.line + 1)
        return [*docs, *_duplicates(file, root, docs, converter.duplicates)]

    def _convert(self, root: Node) -> tuple[Converter, Any]:
        """The values of one stream document, and the Converter that made them.

        An object of a kind that ``identity_only`` names gets the values of its
        IDENTITY entries alone, where that is all the converter would find (see
        ``Converter.identity``): a CRD's schema is most of a cluster's YAML, and
        no rule reads it. Anything else, a ``kind: List`` among them, is
        converted whole.
        """
        unread = self.identity_only
        kind = _kind_written(root) if unread is not None else None
        if unread is not None and kind and not kind.endswith("List") and unread(kind):
            converter = Converter(self.file.aliases)
            data = converter.identity(root, IDENTITY)
            if data is not None and _is_object(data) and data["kind"] == kind:
                return converter, data
        converter = Converter(self.file.aliases)
        return converter, converter.convert(root)


# What an object's Document holds when nothing reads the rest: what names it
# (Document.resource), its labels (Istio-generated objects) and annotations
# (meshlint.io/ignore).
IDENTITY = frozenset({"apiVersion", "kind", "metadata"})


class _Outlined(NamedTuple):
    """A stream document ``outline`` read: its text, the line it starts on, the
    kind it names."""

    text: str
    line: int
    kind: str


def _identity_text(written: Outline) -> str:
    """An outlined document with only its identity entries, each on its own
    lines, and the key line ``_:`` where each other entry starts: a block
    collection that ends an identity entry ends where it ended (a mark is where
    the next key is), and the root ends where the document did."""
    lines, entries = written
    kept = [""] * len(lines)
    head = entries[0][1]
    kept[:head] = lines[:head]  # the "---" line and comments above the first key
    for (key, begin), (_, end) in zip(entries, [*entries[1:], ("", len(lines))], strict=True):
        if key in IDENTITY:
            kept[begin:end] = lines[begin:end]
        else:
            kept[begin] = _PLACEHOLDER
    if lines[-1] and not kept[-1]:
        kept[-1] = " "  # the text still ends past its last line break
    return "\n".join(kept)


# The first line of an entry left out of an outlined document's identity text;
# _document_outlined drops its entries from the root.
_PLACEHOLDER = "_:"
# A top-level "kind:" line with a plain kind: the documents _skim may outline.
# Searched from its line break (a pattern that starts with "^" is tried at
# every character); _top_kinds adds a text's first line.
_TOP_KIND = re.compile(r"\nkind: *([A-Za-z][A-Za-z0-9]*) *$", re.M)


def _top_kinds(text: str) -> Iterator[str]:
    """The kind of each top-level ``kind:`` line of ``text``."""
    if text.startswith("kind:") and (first := _TOP_KIND.match("\n" + text.partition("\n")[0])):
        yield first.group(1)
    yield from (m.group(1) for m in _TOP_KIND.finditer(text))


def _unread(unread: Callable[[str], bool], kind: str) -> bool:
    return not kind.endswith("List") and unread(kind)


def _kind_written(root: Node) -> str | None:
    """The text of a mapping's last ``kind:`` entry, when it is a scalar."""
    if isinstance(root, MappingNode):
        for knode, vnode in reversed(root.value):
            if knode.value == "kind":
                return vnode.value if isinstance(vnode, ScalarNode) else None
    return None


class _Skipping:
    """The documents of ``roots`` after the first ``skip`` (composed again)."""

    def __init__(self, roots: Iterator[Any], skip: int) -> None:
        self._roots = roots
        self._skip = skip

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        while self._skip:
            next(self._roots)
            self._skip -= 1
        return next(self._roots)


def _duplicates(
    file: SourceFile, root: Node, docs: list[Document], found: list[Any]
) -> Iterator[LoadProblem]:
    """M002 for each repeated key, with the object it belongs to (a List's item)."""
    if not found:
        return
    found, glued = _one_per_missing_separator(root, found)
    paths = paths_to(root, [holder for _, holder in found])
    whole = docs[0] if len(docs) == 1 and not docs[0].base_path else None
    items = {doc.base_path: doc for doc in docs}
    for knode, holder in found:
        key = _key_text(knode)
        path = (*paths[id(holder)], key)
        doc = whole or items.get(path[:2])
        at = Location(
            file.name,
            knode.start_mark.line + 1,
            knode.start_mark.column + 1,
            json_path(path),
            resource=doc.resource if doc else None,
            source=doc.source if doc else None,
            document=doc.number if doc else -1,
        )
        what = f"duplicate key {key!r}: "
        if (names := glued.get(id(knode))) is not None:
            keys = ", ".join(repr(k) for k in names)
            what = f"duplicate keys {keys}: another object starts here without a '---' line: "
        message = what + (
            # the collector's confmap decodes with yaml.v3, which refuses the file
            "the collector refuses to load the config"
            if doc is not None and doc.standalone
            else "kubectl (apply, create, apply --server-side) and Helm keep only the last "
            "value, dropping the others before the request; kustomize (kubectl -k) refuses the file"
        )
        yield LoadProblem(DUPLICATE_KEY.id, message, at)


def _one_per_missing_separator(
    root: Node, found: list[Any]
) -> tuple[list[Any], dict[int, tuple[str, ...]]]:
    """Where a document's own ``apiVersion`` (else ``kind``) is repeated, an
    object was written after another with no "---" line between them: one
    M002 for each such place, at that key, naming every key the document
    repeats from there to the next, not one per key. The repeats still to
    report, and the names by the id of each such key's node."""
    own = sorted(
        (knode for knode, holder in found if holder is root),
        key=lambda k: (k.start_mark.line, k.start_mark.column),
    )
    starts = [k for k in own if isinstance(k, ScalarNode) and k.value == "apiVersion"] or [
        k for k in own if isinstance(k, ScalarNode) and k.value == "kind"
    ]
    if not starts:
        return found, {}
    groups: dict[int, list[str]] = {}
    placed: dict[int, int] = {}  # each own repeat -> the start it comes under
    current = None
    for knode in own:
        if any(knode is s for s in starts):
            current = knode
        if current is not None:
            groups.setdefault(id(current), []).append(_key_text(knode))
            placed[id(knode)] = id(current)
    kept = [
        (knode, holder)
        for knode, holder in found
        if holder is not root or placed.get(id(knode), id(knode)) == id(knode)
    ]
    return kept, {start: tuple(dict.fromkeys(names)) for start, names in groups.items()}


def _key_text(knode: Node) -> str:
    """A mapping key as the converter keys it: a collection (``? [a]``) by its
    values' text, never by its nodes."""
    return knode.value if isinstance(knode, ScalarNode) else str(Converter().convert(knode))


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """(line offset, text) of each part of the stream between '---' lines."""
    starts = [0, *(start for start in _document_starts(text) if start)]
    # lines as libyaml's marks count them, which _last_line is in (ASCII text
    # can hold no break but LF)
    breaks = ("\n",) if text.isascii() else _YAML_BREAKS
    line = 0
    for begin, end in zip(starts, [*starts[1:], len(text)], strict=True):
        chunk = text[begin:end]
        yield line, chunk
        line += sum(map(chunk.count, breaks))


def next_document_start(text: str, at: int) -> int | None:
    """Where the first "---" line that starts at or after ``at`` starts."""
    return next(_document_starts(text, at), None)


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


def _shifted(mark: yaml.Mark, lines: int) -> yaml.Mark:
    return yaml.Mark(mark.name, mark.index, mark.line + lines, mark.column, None, 0)


def _shift(root: Node, lines: int) -> None:
    """Move a chunk's node marks down by ``lines``: positions in the whole file.

    Cheaper than composing the chunk behind ``lines`` newlines, which made a
    stream of many documents quadratic as soon as one of them was broken.
    """
    for node in each_node(root):
        node.start_mark = _shifted(node.start_mark, lines)
        node.end_mark = _shifted(node.end_mark, lines)


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
    found, line, counted = [], 0, 0
    for m in _HELM_SOURCE.finditer(text):
        start = m.start()
        if start and text[start - 1] != "\n":
            continue  # not at a line's start: no comment line of its own
        line += text.count("\n", counted, start)
        counted = start
        found.append((line, m.group(1)))
    return found


def _source_for(sources: list[tuple[int, str]], after: int, line: int) -> str | None:
    """The last Source comment between the previous document and this one."""
    last = bisect_right(sources, line, key=itemgetter(0)) - 1
    return sources[last][1] if last >= 0 and sources[last][0] >= after else None


def line_starts(text: str) -> list[int]:
    """Where each line of ``text`` starts (offsets into ``text``), numbered as
    ``text_lines`` numbers them: a lone CR, CR LF, LF, LS and PS end a line."""
    return [0, *(m.end() for m in LINE_BREAK.finditer(normalize_breaks(text)))]
