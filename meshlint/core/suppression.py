"""Suppression: ``# meshlint: ignore[...]`` comments and ``meshlint.io/ignore`` annotations.

Comments are found with one regular expression over the text: a ``#`` at the
start of a line or after a blank, up to the line's end (LF, NEL, LS or PS end a
line, as YAML reads them). Once the file is composed, a look-alike that lies
inside a string is dropped (``url: http://x/#meshlint:ignore`` has no blank
before its ``#``; ``motd: |`` text and quoted values are strings), except in a
literal block scalar that holds YAML itself: there it is a comment of the
embedded config (a collector config in a ConfigMap). A directive
on a line of its own covers the next line; a trailing one covers its own line.
A directive on the line that starts a container (``- name: api``), or just above
it, covers what is found inside that container; on the object's first line or
its ``kind:`` line, the whole object. ``# meshlint: ignore-file[...]`` anywhere
covers the whole file. Without a bracket a directive covers every rule. Rule
ids and slugs are matched in any case.

A directive that cannot be read (``# meshlint: ignore K005``, ``ignore: K003``,
an unclosed or empty bracket) covers nothing and is reported, as is a directive
that names a rule that does not exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from meshlint.core.model import Document, Location
from meshlint.core.model.document import DIRECTIVE_MARK
from meshlint.core.model.nodes import Loader, each_node, stack_headroom
from meshlint.domain.k8s.objects import mapping_at, pod_template_metadata

ANNOTATION = "meshlint.io/ignore"
REASON_ANNOTATION = "meshlint.io/ignore-reason"

# "#" opens a comment only at a line's start or after a blank; a line ends at LF,
# NEL, LS or PS (CR LF ends in LF, a lone CR was read as LF)
_DIRECTIVE = re.compile(
    r"(?<![^ \t\n\x85\u2028\u2029])#[ \t]*" + re.escape(DIRECTIVE_MARK) + r"[ \t]*"
    r"(?P<kind>ignore-file|ignore)(?P<rest>[^\n\x85\u2028\u2029]*)"
)
_BREAK = re.compile("[\n\x85\u2028\u2029]")
_BRACKETS = re.compile(r"\[(?P<rules>[^\]]*)\](?P<reason>.*)$")
_ID_LIKE = re.compile(r"^[A-Za-z]{1,4}[0-9]+$")
# A bare directive's reason that starts like a rule is a bracket forgotten.
_LOOKS_LIKE_RULE = re.compile(r"^(?:[A-Za-z]{1,4}[0-9]{3}|[a-z0-9]+(?:-[a-z0-9]+)+)\b[,]?")


@dataclass(frozen=True, slots=True)
class Ignore:
    """One suppression directive. Empty ``tokens`` means every rule."""

    origin: str  # "comment", "file" or "annotation"
    file: str
    line: int
    column: int
    tokens: frozenset[str]  # canonical case: ids upper, slugs lower
    reason: str = ""
    text: str = field(default="", compare=False)  # the directive's line, for display
    problem: str = ""  # why it cannot be read; such a directive covers nothing
    # the bytes that removing the comment deletes (its own line, or the comment
    # and the blanks before it): M100's fix
    span: tuple[int, int] | None = field(default=None, compare=False)

    def covers(self, rule_id: str, slug: str) -> bool:
        if self.problem:
            return False
        return not self.tokens or rule_id in self.tokens or slug in self.tokens


def canonical(token: str) -> str:
    """Rule ids in upper case, slugs in lower case, as the
    catalogue spells them."""
    return token.upper() if _ID_LIKE.match(token) else token.lower()


def split_tokens(text: str) -> frozenset[str]:
    return frozenset(canonical(t.strip()) for t in text.split(",") if t.strip())


def _parse(kind: str, rest: str) -> tuple[frozenset[str], str, str]:
    """(rules, reason, problem) of the text after ``ignore``/``ignore-file``."""
    if rest.startswith("["):
        brackets = _BRACKETS.match(rest)
        if brackets is None:
            return frozenset(), "", f"`{kind}[` is not closed"
        tokens = split_tokens(brackets["rules"])
        if not tokens:
            return tokens, "", f"`{kind}[]` names no rule; write `{kind}` alone for every rule"
        return tokens, brackets["reason"].strip(), ""
    if rest and not rest[0].isspace():
        return frozenset(), "", f"`{kind}{rest[:1]}` is not a directive; write `{kind}[ID] reason`"
    reason = rest.strip()
    if _LOOKS_LIKE_RULE.match(reason):
        rule = reason.split()[0].rstrip(",")
        return frozenset(), reason, f"rules go in brackets: `{kind}[{rule}]`, not `{kind} {rule}`"
    return frozenset(), reason, ""


@dataclass
class Directives:
    """The suppressions of one file: comments by the line they cover, file-wide
    comments, and ``meshlint.io/ignore`` annotations by object (Document.number)."""

    by_line: dict[int, tuple[Ignore, ...]] = field(default_factory=dict)
    file_wide: tuple[Ignore, ...] = ()
    by_document: dict[int, tuple[Ignore, ...]] = field(default_factory=dict)

    @classmethod
    def scan(
        cls, text: str, name: str, byte_offset: Callable[[int], int] | None = None
    ) -> Directives:
        """The comment directives of a file's text (``byte_offset`` turns a text
        index into the file's byte offset, for the span that removes one)."""
        found = cls()
        if DIRECTIVE_MARK not in text:
            return found
        by_line: dict[int, list[Ignore]] = {}
        file_wide: list[Ignore] = []
        # lines counted as YAML counts them, as the matches go: many directives
        # stay linear
        line, counted, line_start = 1, 0, 0
        for match in _DIRECTIVE.finditer(text):
            for brk in _BREAK.finditer(text, counted, match.start()):
                line += 1
                line_start = brk.end()
            counted = match.start()
            column = match.start() - line_start + 1
            tokens, reason, problem = _parse(match["kind"], match["rest"])
            shown = text[line_start : match.end()]
            own_line = not text[line_start : match.start()].strip()
            span = _span(text, match, line_start, own_line, byte_offset)
            if match["kind"] == "ignore-file" or problem:
                origin = "file" if match["kind"] == "ignore-file" else "comment"
                file_wide.append(
                    Ignore(origin, name, line, column, tokens, reason, shown, problem, span)
                )
                continue
            ignore = Ignore("comment", name, line, column, tokens, reason, shown, span=span)
            by_line.setdefault(line + 1 if own_line else line, []).append(ignore)
        found.by_line = {k: tuple(v) for k, v in by_line.items()}
        found.file_wide = tuple(file_wide)
        return found

    def drop_strings(self, root: Node) -> None:
        """Drop the directives that lie inside a string of the composed document
        ``root`` (text, not comments); see the module's docstring. In a document
        without apiVersion/kind (Helm values, a kustomization) a directive keeps
        no removal: M100 reports it, ``--fix`` leaves it to the user."""
        comments = [*self.file_wide, *(i for g in self.by_line.values() for i in g)]
        if not comments:
            return
        first, last = root.start_mark.line + 1, root.end_mark.line + 1
        if root.end_mark.column == 0:
            last -= 1  # a block collection ends at the start of the next line
        here = {(i.line - 1, i.column - 1) for i in comments if first <= i.line <= last}
        if not here:
            return
        inside = _inside_strings(root, here)
        keep_fix = _is_object(root)

        def kept(group: Iterable[Ignore]) -> tuple[Ignore, ...]:
            return tuple(
                i if keep_fix or (i.line - 1, i.column - 1) not in here else replace(i, span=None)
                for i in group
                if (i.line - 1, i.column - 1) not in inside
            )

        self.file_wide = kept(self.file_wide)
        self.by_line = {line: group for line, old in self.by_line.items() if (group := kept(old))}

    def written_on(self, lines: range) -> Directives:
        """The comments written on ``lines``, and every annotation: what a window
        of a file's documents (``core.pieces``) owns of the file's directives."""
        return Directives(
            {k: g for k, old in self.by_line.items() if (g := _on(old, lines))},
            _on(self.file_wide, lines),
            self.by_document,
        )

    @classmethod
    def joined(cls, parts: Iterable[Directives]) -> Directives:
        """The directives of a file from those of its windows, in file order."""
        found = cls()
        for part in parts:
            for line, group in part.by_line.items():
                found.by_line[line] = found.by_line.get(line, ()) + group
            found.file_wide += part.file_wide
            found.by_document.update(part.by_document)
        return found

    def add_annotations(self, doc: Document) -> None:
        if found := annotation_ignores(doc):
            self.by_document[doc.number] = found

    def covering(self, location: Location) -> tuple[Ignore, ...]:
        """The directives that cover a finding at ``location``, in the order they apply."""
        found = self.file_wide + self.by_line.get(location.line, ())
        for line in location.enclosing:
            if line != location.line:
                found += self.by_line.get(line, ())
        return found + self.by_document.get(location.document, ())

    def all(self) -> list[Ignore]:
        return [
            *self.file_wide,
            *(i for group in self.by_line.values() for i in group),
            *(i for group in self.by_document.values() for i in group),
        ]

    def __bool__(self) -> bool:
        return bool(self.by_line or self.file_wide or self.by_document)


def _on(group: tuple[Ignore, ...], lines: range) -> tuple[Ignore, ...]:
    return tuple(i for i in group if i.line in lines)


def _span(
    text: str,
    match: re.Match[str],
    line_start: int,
    own_line: bool,
    byte_offset: Callable[[int], int] | None,
) -> tuple[int, int] | None:
    if byte_offset is None:
        return None
    end = match.end()
    if text[end - 1 : end] == "\r":  # "$" stops at "\n" only
        end -= 1
    if own_line:
        following = _BREAK.search(text, end)
        start, end = line_start, len(text) if following is None else following.end()
    else:
        start = len(text[: match.start()].rstrip(" \t"))
    return byte_offset(start), byte_offset(end)


def _is_object(root: Node) -> bool:
    """A stream document that is a Kubernetes object (apiVersion and kind)."""
    if not isinstance(root, MappingNode):
        return False
    keys = {
        k.value for k, v in root.value if isinstance(k, ScalarNode) and isinstance(v, ScalarNode)
    }
    return {"apiVersion", "kind"} <= keys


def _inside_strings(root: Node, positions: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """The (0-based line, column) ``positions`` that lie inside a scalar of
    ``root``, other than a literal block scalar holding a YAML collection."""
    found: set[tuple[int, int]] = set()
    for node in each_node(root):
        if not isinstance(node, ScalarNode):
            continue
        start = (node.start_mark.line, node.start_mark.column)
        end = (node.end_mark.line, node.end_mark.column)
        block = node.style in ("|", ">")
        inside = {
            p
            for p in positions
            if start <= p < end and not (block and p[0] == start[0])  # a header's comment
        }
        if inside and not (node.style == "|" and _holds_yaml(node.value)):
            found |= inside
    return found


def _holds_yaml(text: str) -> bool:
    """A block scalar's text is a YAML mapping or sequence (an embedded config)."""
    try:
        with stack_headroom():
            root = yaml.compose(text, Loader=Loader)
    except (yaml.YAMLError, RecursionError):
        return False
    return isinstance(root, (MappingNode, SequenceNode))


def annotation_ignores(doc: Document) -> tuple[Ignore, ...]:
    """The ``meshlint.io/ignore`` annotations of an object and its pod template."""
    found = []
    for meta in (("metadata",), pod_template_metadata(doc.kind)):
        if meta is None:
            continue
        annotations = mapping_at(doc.data, (*meta, "annotations"))
        if ANNOTATION not in annotations:
            continue
        line, column = doc.position((*meta, "annotations", ANNOTATION))
        reason = annotations.get(REASON_ANNOTATION)
        found.append(
            Ignore(
                "annotation",
                doc.file.name,
                line,
                column,
                split_tokens(str(annotations[ANNOTATION])),
                reason if isinstance(reason, str) else "",
                doc.file.line(line),
            )
        )
    return tuple(found)


_WHERE = {
    "comment": "`# meshlint: ignore{rules}`",
    "file": "`# meshlint: ignore-file{rules}`",
    "annotation": 'annotation `meshlint.io/ignore: "{plain}"`',
}


def directive_reports(
    directives: Iterable[Ignore],
    used: Collection[Ignore],
    active: Collection[str],
    known: Collection[str],
    *,
    report_unused: bool,
) -> Iterator[tuple[Ignore, str]]:
    """(directive, message) for each directive worth an M100 finding.

    A directive that cannot be read or names an unknown rule is always reported;
    one that suppressed nothing only with ``report_unused``. ``active`` holds the
    ids and slugs of the rules that ran, ``known`` those of the whole catalogue:
    a directive naming only known rules that did not run says nothing about this
    run and is left alone.
    """
    for ignore in directives:
        tokens = sorted(ignore.tokens)
        plain = ",".join(tokens)
        where = _WHERE[ignore.origin].format(rules=f"[{plain}]" if tokens else "", plain=plain)
        if ignore.problem:
            yield ignore, f"this ignore comment suppresses nothing: {ignore.problem}"
            continue
        unknown = [t for t in tokens if t not in known]
        if unknown:
            names = ", ".join(repr(t) for t in unknown)
            yield ignore, f"{where} names unknown rule {names}; `meshlint rules` lists them"
            continue
        if not report_unused or ignore in used:
            continue
        if tokens and not any(t in active for t in tokens):
            continue
        yield ignore, f"{where} suppresses nothing: no finding of {plain or 'any rule'} here"


def ignore_edit(
    text: str, starts: Sequence[int], line: int, rule: str, *, whole_file: bool = False
) -> tuple[int, int, str] | None:
    """The edit of ``text`` (character offsets and the new text) that makes a
    comment directive ignore ``rule`` on 1-based ``line`` (``whole_file``: in
    the whole file): ``rule`` added to the bracket of the directive already
    there, else a directive on a line of its own above ``line`` (or at the top).
    ``starts`` are the line starts (``core.loading.line_starts``). None when a
    directive already covers it."""
    token = canonical(rule)

    def added(match: re.Match[str], start: int) -> tuple[int, int, str] | None:
        brackets = _BRACKETS.match(match["rest"])
        if brackets is None:
            return None
        close = start + match.start("rest") + brackets.end("rules")
        return close, close, f", {rule}"

    def line_text(index: int) -> tuple[int, str]:
        start = starts[index]
        end = starts[index + 1] if index + 1 < len(starts) else len(text)
        return start, text[start:end].rstrip("\r\n\u2028\u2029")

    newline = "\r\n" if "\r\n" in text else "\n"
    if whole_file:
        for directive in _DIRECTIVE.finditer(text):
            if directive["kind"] == "ignore-file" and directive["rest"].startswith("["):
                return added(directive, 0) if token not in _tokens(directive) else None
        top = 1 if text.startswith("\ufeff") else 0
        return top, top, f"# meshlint: ignore-file[{rule}]{newline}"
    index = min(max(line, 1), len(starts)) - 1
    start, own = line_text(index)
    match = _DIRECTIVE.search(own)
    trailing = match and match["kind"] == "ignore" and own[: match.start()].strip()
    if match and trailing and match["rest"].startswith("["):  # it covers its own line
        return added(match, start) if token not in _tokens(match) else None
    if index > 0:
        above_start, above = line_text(index - 1)
        match = _DIRECTIVE.search(above)
        if (
            match
            and match["kind"] == "ignore"
            and not above[: match.start()].strip()
            and match["rest"].startswith("[")
        ):
            return added(match, above_start) if token not in _tokens(match) else None
    indent = own[: len(own) - len(own.lstrip(" "))]
    return start, start, f"{indent}# meshlint: ignore[{rule}]{newline}"


def _tokens(match: re.Match[str]) -> frozenset[str]:
    brackets = _BRACKETS.match(match["rest"])
    return split_tokens(brackets["rules"]) if brackets else frozenset()
