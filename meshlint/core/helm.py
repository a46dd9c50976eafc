"""Helm findings on the chart's own files.

``helm template`` writes every manifest after a ``# Source: <chart>/templates/<file>``
comment. A finding in that stream is moved to the template in the repository
when the template can be found: the chart directories given with ``--chart-dir``
(named by their ``Chart.yaml``), or, for stdin, the ``# Source:`` path itself
when it names a file under the working directory.

The line is the template's own when it can be told without rendering: the
template is read as a YAML *skeleton* (each line's key and indentation, every
``{{ }}`` action blanked out), and the finding's key path is matched against
the chains of keys in it. A unique exact match is the line that writes the key;
else, where the nearest unique ancestor's block holds exactly one action that
emits text (``toYaml``, ``include``, ``tpl``, a value), that action's line
renders the rest. Anything else is ambiguous: line 1, with the rendered line
named in the message.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

import yaml

from meshlint.core.files import LEAVES, MAX_CHART_FILE_BYTES, Refused, decode, read_file
from meshlint.core.fsguard import areas, argument_leaves, contained, real_path
from meshlint.core.model import Finding, Location

__all__ = [
    "ChartError",
    "Charts",
    "Moved",
    "Skeleton",
    "chart_name",
    "place",
    "relocate",
    "template_line",
]

# actions that print nothing: control flow, definitions, assignments, comments
_SILENT = re.compile(
    r"^\{\{-?\s*(?:/\*.*\*/|if\b|else\b|end\b|with\b|range\b|define\b|block\b|break\b"
    r"|continue\b|\$[A-Za-z0-9_]*\s*:?=)",
    re.S,
)
_KEY = re.compile(
    r"""^(?P<indent>[ ]*)(?P<dashes>(?:-[ ]+)*)"""
    r"""(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s'"#\-{\[][^:#]*?|-[^\s:][^:#]*?)"""
    r"""[ ]*:(?:[ ]+(?P<value>.*)|$)"""
)
_DOC_START = re.compile(r"^---(?:[ \t]|$)")
_PATH_PART = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")
SILENT_MARK, OUTPUT_MARK = "\x01", "\x02"


class ChartError(Exception):
    """A --chart-dir that is not a chart."""


@dataclass(frozen=True, slots=True)
class Key:
    line: int  # 1-based
    column: int  # 1-based column of the key's first character
    name: str | None  # None: the key is templated
    parent: int  # index in Skeleton.keys, -1 at a document's top
    document: int  # which document of the template (split on ---)
    value: str  # the rest of the line, actions blanked
    item: bool  # the first key of a list item ("- name: x")
    emits: tuple[int, ...]  # lines in its block (or its own) whose actions print text


@dataclass(frozen=True)
class Skeleton:
    """A template's keys, with every action blanked out."""

    keys: tuple[Key, ...]
    roots: tuple[tuple[int, ...], ...]  # per document: action lines printing at its top
    lines: tuple[str, ...]  # the template's text, to echo and to read actions from

    @classmethod
    def parse(cls, text: str, first_line: int = 1, lines: Sequence[str] = ()) -> Skeleton:
        """``text`` starts at ``first_line`` of a file whose ``lines`` are given
        (a named template inside a helpers file), else of its own."""
        blanked = _blanked(text)
        keys: list[Key] = []
        roots: list[list[int]] = [[]]
        stack: list[int] = []  # open keys, innermost last
        emitting: dict[int, list[int]] = {}
        scalar_above: int | None = None  # indent of a key whose block scalar we are in
        document = 0
        for number, line in enumerate(blanked.splitlines(), first_line):
            bare = line.replace(SILENT_MARK, "").replace(OUTPUT_MARK, "")
            content = bare.strip()
            if _DOC_START.match(bare) and not line.startswith(" "):
                document += 1
                roots.append([])
                stack.clear()
                scalar_above = None
                continue
            indent = len(line) - len(line.lstrip(" "))
            if scalar_above is not None:
                if not content or indent > scalar_above:
                    if OUTPUT_MARK in line and stack:
                        emitting.setdefault(stack[-1], []).append(number)
                    continue
                scalar_above = None
            if not content:
                if OUTPUT_MARK in line:  # a line of actions only: it prints into a block
                    owner = _owner(keys, stack, indent)
                    if owner is None:
                        roots[document].append(number)
                    else:
                        emitting.setdefault(owner, []).append(number)
                continue
            if content.startswith("#"):
                continue
            match = _KEY.match(line.replace(SILENT_MARK, "").replace("\t", " "))
            if match is None:
                continue
            column = len(match["indent"]) + len(match["dashes"]) + 1
            while stack and keys[stack[-1]].column >= column:
                stack.pop()
            raw = match["key"]
            name = None if OUTPUT_MARK in raw else _unquote(raw.strip())
            value = (match["value"] or "").split(" #")[0].strip()
            parent = stack[-1] if stack else -1
            keys.append(
                Key(number, column, name, parent, document, value, bool(match["dashes"]), ())
            )
            index = len(keys) - 1
            if OUTPUT_MARK in value:
                emitting.setdefault(index, []).append(number)
            if value.startswith(("|", ">")):
                scalar_above = column - 1
            stack.append(index)
        keys = [replace(k, emits=tuple(emitting.get(i, ()))) for i, k in enumerate(keys)]
        own = tuple(lines) or tuple(text.splitlines())
        return cls(tuple(keys), tuple(map(tuple, roots)), own)

    def chain(self, index: int) -> tuple[str | None, ...]:
        names: list[str | None] = []
        while index >= 0:
            key = self.keys[index]
            names.append(key.name)
            index = key.parent
        return tuple(reversed(names))

    def documents_for(self, kind: str | None, name: str | None) -> set[int]:
        """The template's documents that can have rendered a ``kind`` object named
        ``name``: literal kinds and names must agree, templated parts match anything."""
        written = {k.document for k in self.keys}
        found = {n for n, roots in enumerate(self.roots) if roots or n in written}
        for index, key in enumerate(self.keys):
            chain = self.chain(index)
            if chain == ("kind",) and kind and not _could_be(key.value, kind):
                found.discard(key.document)
            if chain == ("metadata", "name") and name and not _could_be(key.value, name):
                found.discard(key.document)
        return found


def _could_be(template: str, rendered: str) -> bool:
    """Whether a template value (actions blanked) can render as ``rendered``."""
    value = template.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    parts = re.split(f"{OUTPUT_MARK}+", value)
    if len(parts) == 1:
        return value == rendered
    # the literal parts in order, the first a prefix and the last a suffix: a
    # pattern of them joined by ".*" backtracks over every placement (a name of
    # a dozen templated parts: years)
    first, *middle, last = parts
    if len(first) + len(last) > len(rendered):
        return False
    if not (rendered.startswith(first) and rendered.endswith(last)):
        return False
    at, end = len(first), len(rendered) - len(last)
    for part in middle:
        found = rendered.find(part, at, end)
        if found < 0:
            return False
        at = found + len(part)
    return True


def _actions(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """Where each ``{{ ... }}`` action of ``text`` after ``start`` begins and ends.

    One pass: an action that never closes ends the search, since no later one
    can close either (a pattern search would scan to the end again from every
    unclosed ``{{``, hours for a few hundred KB of them).
    """
    while (opens := text.find("{{", start)) >= 0:
        closes = text.find("}}", opens + 2)
        if closes < 0:
            return
        start = closes + 2
        yield opens, start


def _blanked(text: str) -> str:
    """``text`` with each action as one mark per character (newlines kept, so
    lines stay lines)."""
    parts: list[str] = []
    done = 0
    for opens, closes in _actions(text):
        action = text[opens:closes]
        mark = SILENT_MARK if _SILENT.match(action) else OUTPUT_MARK
        parts += [text[done:opens], "".join(c if c == "\n" else mark for c in action)]
        done = closes
    parts.append(text[done:])
    return "".join(parts)


def _owner(keys: list[Key], stack: list[int], indent: int) -> int | None:
    """The open key whose block a line at ``indent`` belongs to."""
    for index in reversed(stack):
        if keys[index].column - 1 < indent:
            return index
    return None


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] == "'":
        return raw[1:-1].replace("''", "'")
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            return raw[1:-1]
        return str(value)
    return raw


def key_chain(path: str) -> tuple[str, ...] | None:
    """The mapping keys of a JSONPath as meshlint writes it (list indexes dropped)."""
    if not path.startswith("$"):
        return None
    keys: list[str] = []
    position = 1
    while position < len(path):
        match = _PATH_PART.match(path, position)
        if match is None:
            return None
        if match[1] is not None:
            keys.append(match[1])
        elif match[3] is not None:
            keys.append(match[3].replace("\\'", "'").replace("\\\\", "\\"))
        position = match.end()
    return tuple(keys)


Named = Callable[[str], "tuple[str, Skeleton] | None"]  # define name -> (file, body)
Place = tuple[str, int, int]  # file, line, column


def template_line(
    skeleton: Skeleton,
    path: str,
    kind: str | None = None,
    name: str | None = None,
    *,
    file: str = "",
    named: Named = lambda _: None,
) -> Place | None:
    """(file, line, column) of the template text that renders ``path`` of the
    ``kind`` object called ``name``, or None when it cannot be told unambiguously.
    An ``include``/``template`` action that renders it is followed into the named
    template ``named`` finds."""
    chain = key_chain(path)
    if chain is None:
        return None
    documents = skeleton.documents_for(kind, name)
    found = _match(skeleton, chain, documents, file, named, (kind, name), 0)
    if found is None or not _INDEXED.search(path):
        return found
    # "containers[0]": the item's first line, when the list has one literal item
    inner_file, line, _ = found
    inner = skeleton if inner_file == file else (named_skeleton(inner_file, line, named))
    if inner is None:
        return found
    at = next((i for i, k in enumerate(inner.keys) if k.line == line), None)
    items = [k for k in inner.keys if at is not None and k.parent == at and k.item]
    return (inner_file, items[0].line, items[0].column) if len(items) == 1 else found


def named_skeleton(file: str, line: int, named: Named) -> Skeleton | None:
    """The skeleton of the named template in ``file`` that holds ``line``."""
    del named
    templates = _templates_dir(file)
    for define_file, body in _defines(templates).values() if templates else ():
        if define_file == file and any(k.line == line for k in body.keys):
            return body
    return None


def _match(
    skeleton: Skeleton,
    chain: tuple[str, ...],
    documents: set[int],
    file: str,
    named: Named,
    identity: tuple[str | None, str | None],
    depth: int,
) -> Place | None:
    by_chain: dict[tuple[str | None, ...], list[Key]] = {}
    for index, key in enumerate(skeleton.keys):
        if key.document in documents:
            by_chain.setdefault(skeleton.chain(index), []).append(key)
    exact = by_chain.get(chain, [])
    if len(exact) == 1:
        return file, exact[0].line, exact[0].column
    if exact or not chain:
        return None
    for matched in range(len(chain) - 1, -1, -1):
        if matched:
            found = by_chain.get(chain[:matched], [])
            if not found:
                continue
            if len(found) > 1:
                return None
            emits = found[0].emits
        else:  # nothing of the path is literal: actions at the top rendered it
            emits = tuple(line for d in sorted(documents) for line in skeleton.roots[d])
        if len(emits) > 1 and all(_calls(skeleton, line) for line in emits):
            # several includes: the one whose template can make such an object
            emits = tuple(line for line in emits if _can_render(skeleton, line, named, identity))
        if len(emits) != 1:
            return None  # nothing or several actions could have written the rest
        line = emits[0]
        text = skeleton.lines[line - 1] if line <= len(skeleton.lines) else ""
        calls = _CALL.findall(text)
        if len(calls) == 1 and depth < _MAX_INCLUDES and (body := named(calls[0])) is not None:
            inner_file, inner = body
            rest = chain[matched:]
            documents = inner.documents_for(*identity)
            into = _match(inner, rest, documents, inner_file, named, identity, depth + 1)
            if into is not None:
                return into
        column = text.index("{{") + 1 if "{{" in text else 1
        return file, line, column
    return None


def _can_render(
    skeleton: Skeleton, line: int, named: Named, identity: tuple[str | None, str | None]
) -> bool:
    """Whether the action on ``line`` may render the object: it includes one named
    template, and that template does not write another kind or name."""
    calls = _calls(skeleton, line)
    body = named(calls[0]) if len(calls) == 1 else None
    return body is not None and bool(body[1].documents_for(*identity))


def _calls(skeleton: Skeleton, line: int) -> list[str]:
    """The named templates the action on ``line`` includes."""
    text = skeleton.lines[line - 1] if line <= len(skeleton.lines) else ""
    return _CALL.findall(text)


_INDEXED = re.compile(r"\[\d+\]$")
_CALL = re.compile(r"\b(?:include|template)\s+\"([^\"]+)\"")
_MAX_INCLUDES = 8
_DEFINE = re.compile(r"\{\{-?\s*define\s+\"([^\"]+)\"\s*-?\}\}")
_OPENS = re.compile(r"^\{\{-?\s*(?:if|with|range|define|block)\b")
_ENDS = re.compile(r"^\{\{-?\s*end\b")


def named_templates(text: str) -> dict[str, tuple[int, str]]:
    """Each ``define`` of a template file: name -> (first line, body text)."""
    found: dict[str, tuple[int, str]] = {}
    # one pass over the actions with a stack of open blocks: a define's body ends
    # at its own end (scanning on from each define again was quadratic in a file
    # of unclosed defines)
    opened: list[tuple[str, int] | None] = []  # (name, body start) of a define, else None
    line, counted = 1, 0
    for opens, closes in _actions(text):
        action = text[opens:closes]
        if define := _DEFINE.match(action):
            opened.append((define[1], closes))
        elif _OPENS.match(action):
            opened.append(None)
        elif _ENDS.match(action) and opened and (block := opened.pop()) is not None:
            name, body_start = block
            if body_start < counted:  # a define inside another (Go refuses it anyway)
                line, counted = 1, 0
            line += text.count("\n", counted, body_start)
            counted = body_start
            found.setdefault(name, (line, text[body_start:opens]))
    return found


# A chart's files come with the pull request: a template or Chart.yaml that is a
# FIFO, a device or a link to one would block or never end; a huge one is no chart.
# A template larger than MAX_CHART_FILE_BYTES is not read (its findings stay on
# the rendered stream), and at most MAX_DEFINE_BYTES of a chart's files are
# searched for named templates.
MAX_DEFINE_BYTES = 8 * 2**20
# Chart.yaml is read for the chart's name with a pure-Python YAML loader (about
# 90 bytes of memory per byte): a real one is a few KB.
MAX_CHART_YAML_BYTES = 256 * 2**10


@lru_cache(maxsize=64)
def _text(file: str) -> tuple[str, tuple[str, ...]] | None:
    """A chart file's text and lines: read only inside its chart's tree and
    repository (a template linked to ``/proc/self/environ`` is not read)."""
    try:
        text = decode(read_file(file, MAX_CHART_FILE_BYTES, _chart_areas(file)))
    except (Refused, OSError, UnicodeDecodeError):
        return None
    return text, tuple(text.splitlines())


@lru_cache(maxsize=16)
def _skeleton(file: str) -> Skeleton | None:
    read = _text(file)
    return Skeleton.parse(read[0]) if read else None


@lru_cache(maxsize=64)
def _defines(templates: str) -> dict[str, tuple[str, Skeleton]]:
    """Every named template of a chart's ``templates/`` directory."""
    found: dict[str, tuple[str, Skeleton]] = {}
    budget = MAX_DEFINE_BYTES
    for directory, dirs, names in os.walk(templates):
        dirs.sort()
        for name in sorted(names):
            file = os.path.join(directory, name)
            read = _text(file) if "define" in name or name.endswith(_TEMPLATE_FILES) else None
            if read is None:
                continue
            text, lines = read
            budget -= len(text)
            if budget < 0:
                return found  # the rest of a chart this large places nothing
            for define, (line, body) in named_templates(text).items():
                found.setdefault(define, (file, Skeleton.parse(body, line, lines)))
    return found


_TEMPLATE_FILES = (".tpl", ".yaml", ".yml", ".txt")


def _chart_areas(file: str) -> tuple[str, ...]:
    """Where a chart file may really lie: its chart's tree (the directory above
    its ``templates/``) and that tree's repository; outside a chart, the working
    directory's tree and repository."""
    templates = _templates_dir(file)
    return _areas(os.path.dirname(templates) if templates else os.curdir)


@lru_cache(maxsize=64)
def _areas(directory: str) -> tuple[str, ...]:
    return areas(directory)


def _templates_dir(template: str) -> str | None:
    """The chart's ``templates/`` directory that holds ``template``."""
    directory = os.path.dirname(template)
    while directory and os.path.basename(directory) != "templates":
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent
    return directory or None


def is_chart_template(file: str) -> bool:
    """Whether ``file`` sits under a chart's ``templates/`` (``Chart.yaml`` beside it)."""
    parts = os.path.normpath(os.path.abspath(file)).split(os.sep)
    return any(
        part == "templates" and is_chart(os.sep.join(parts[:i]) or os.sep)
        for i, part in enumerate(parts[:-1])
    )


@lru_cache(maxsize=1024)
def is_chart(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "Chart.yaml"))


def chart_name(directory: str) -> str:
    """The ``name`` in a chart directory's Chart.yaml (how ``# Source:`` names it)."""
    chart = os.path.join(directory, "Chart.yaml")
    if argument_leaves(directory):  # its templates would be read wherever it points
        raise ChartError(f"{directory}: {LEAVES}")
    try:
        data = yaml.safe_load(decode(read_file(chart, MAX_CHART_YAML_BYTES, _areas(directory))))
    except OSError as exc:
        raise ChartError(f"{directory}: not a Helm chart (no Chart.yaml: {exc.strerror})") from exc
    except Refused as exc:
        raise ChartError(f"{chart}: cannot read the chart's name: {exc}") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        message = " ".join(str(exc).split())
        raise ChartError(f"{chart}: cannot read the chart's name: {message}") from exc
    except RecursionError as exc:  # the loader recurses once per level of nesting
        raise ChartError(f"{chart}: cannot read the chart's name: nested too deeply") from exc
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        raise ChartError(f"{chart}: no 'name'")
    return name


def template_text(file: str) -> tuple[str, tuple[str, ...]] | None:
    """A chart file's text and lines, read as placement reads it (None: unreadable)."""
    return _text(file)


def template_skeleton(file: str, line: int) -> Skeleton | None:
    """The skeleton that holds ``line`` of ``file``: a named template's in a
    helpers file, else the file's own."""
    templates = _templates_dir(file)
    for define_file, body in _defines(templates).values() if templates else ():
        if define_file == file and (
            any(k.line == line or line in k.emits for k in body.keys)
            or any(line in roots for roots in body.roots)
        ):
            return body
    return _skeleton(file)


@dataclass(frozen=True)
class Charts:
    """Where the charts of a run live, to find a ``# Source:`` template on disk."""

    dirs: Mapping[str, str] = field(default_factory=dict)  # chart name -> directory
    stdin: frozenset[str] = frozenset({"-"})  # names stdin findings carry
    # streams the run rendered itself (core.charts): input name -> chart directory
    renders: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_dirs(cls, directories: Iterable[str], stdin: Iterable[str] = ("-",)) -> Charts:
        return cls({chart_name(d): os.path.normpath(d) for d in directories}, frozenset(stdin))

    def template(self, finding_file: str, source: str) -> str | None:
        """The template file in the repository, or None.

        A ``# Source:`` line is text a template can print: one with ``..`` or an
        absolute path, or that a symbolic link takes out of the chart's tree and
        repository (the working directory's, for stdin), names no template.
        """
        head, _, rest = source.partition("/")
        if finding_file in self.renders and rest:
            top = self.renders[finding_file]
        elif head in self.dirs and rest:
            top = self.dirs[head]
        elif finding_file in self.stdin:
            top, rest = os.curdir, source
        else:
            return None
        return chart_file(top, rest)


def chart_file(top: str, rest: str) -> str | None:
    """The file ``rest`` names below the chart directory ``top``, when it is one.

    ``rest`` is text a template can print (a ``# Source:`` line, a place in
    Helm's ``{{ fail }}`` message): one that climbs out (``..``, an absolute
    path), or that a symbolic link takes out of the chart's tree and repository,
    names no file of the chart."""
    inner = os.path.normpath(rest)
    if os.path.isabs(inner) or inner == os.pardir or inner.startswith(os.pardir + os.sep):
        return None
    candidate = os.path.normpath(os.path.join(top, inner))
    if not contained(real_path(candidate), _areas(top)):
        return None
    return candidate if os.path.isfile(candidate) else None


def place(template: str, loc: Location) -> Place | None:
    """Where in the chart the rendered ``loc`` was written, if it can be told."""
    skeleton = _skeleton(template)
    if skeleton is None:
        return None
    templates = _templates_dir(template)
    defines = _defines(templates) if templates else {}
    resource = loc.resource
    return template_line(
        skeleton,
        loc.path,
        resource.kind if resource else None,
        resource.name if resource else None,
        file=template,
        named=defines.get,
    )


@dataclass
class Moved:
    """What ``relocate`` did: findings moved to a template, and how many of
    them to the line that writes the key."""

    findings: list[Finding]
    moved: int = 0
    placed: int = 0


def relocate(findings: Sequence[Finding], charts: Charts) -> Moved:
    """Findings rendered from a template found on disk, moved to it."""
    out = Moved([])
    for finding in findings:
        loc = finding.location
        template = charts.template(loc.file, loc.source) if loc.source else None
        if template is None or _text(template) is None:
            out.findings.append(finding)
            continue
        at = place(template, loc)
        message = finding.message
        if at is None:
            file, line, column = template, 1, 1
            rendered = " ".join(loc.source_line.split())
            message += f" (rendered at {loc.file}:{loc.line}: {rendered!r})"
        else:
            file, line, column = at
            out.placed += 1
        out.moved += 1
        read = _text(file)
        lines = read[1] if read else ()
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        new = replace(loc, file=file, line=line, column=column, source_line=text, rendered=loc)
        # a fix's edits are offsets in the rendered stream, not in the template
        out.findings.append(replace(finding, message=message, location=new, fix=None))
    out.findings.sort()
    return out
