"""Code actions and hovers on findings.

Every fix a finding carries is a quick fix, with the edits ``--fix`` would
make, offered only when ``--fix`` would apply it (the fixed text reads back as
intended); an unsafe one says so in its title. Each finding can be ignored on
its line or in its file with the comment directives meshlint reads
(``core.suppression``); "fix all" applies every safe fix, round after round, as
``--fix`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from lsprotocol import types

from meshlint.api import applicable
from meshlint.core import fixing
from meshlint.core.files import decode
from meshlint.core.loading import line_starts
from meshlint.core.model import Applicability, Finding
from meshlint.core.suppression import ignore_edit
from meshlint.output import rule_doc
from meshlint.server.positions import Lines
from meshlint.server.session import Session, name_of

FIX_ALL = "source.fixAll.meshlint"


class Host(Protocol):
    """What the actions ask of the server."""

    session: Session
    resolve: bool  # the client fills in an action's edit when it is chosen

    def texts(self) -> dict[str, bytes]: ...

    def document(self, uri: str) -> tuple[Lines, int | None]: ...


def _wanted(only: Sequence[str] | None, kind: str) -> bool:
    return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)


def _range(lines: Lines, start: int, end: int) -> types.Range:
    return types.Range(
        start=types.Position(*lines.position(start)), end=types.Position(*lines.position(end))
    )


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _comments(name: str, lines: Lines) -> bool:
    """Whether the file can hold a comment (YAML, not JSON)."""
    return not name.endswith(".json") and not lines.text.lstrip("\ufeff \t\r\n").startswith(
        ("{", "[")
    )


def for_range(
    ls: Host,
    name: str,
    uri: str,
    lines: Lines,
    findings: list[Finding],
    params: types.CodeActionParams,
) -> list[types.CodeAction]:
    only = params.context.only
    out: list[types.CodeAction] = []
    if _wanted(only, types.CodeActionKind.QuickFix):
        starts = line_starts(lines.text) if _comments(name, lines) else None
        for finding in findings:
            diagnostic = ls.session.diagnostic(finding, lines)
            if not _overlaps(diagnostic.range, params.range):
                continue
            fix = _quick_fix(name, uri, lines, finding, diagnostic)
            if fix is not None:
                out.append(fix)
            if starts is not None:
                for whole_file in (False, True):
                    action = _ignore(uri, lines, starts, finding, diagnostic, whole_file)
                    if action is not None:
                        out.append(action)
    if _wanted(only, FIX_ALL) and any(applicable(f, False) for f in findings):
        _, version = ls.document(uri)
        action = types.CodeAction(
            title="meshlint: fix all safe fixes",
            kind=FIX_ALL,
            data={"uri": uri, "version": version},
        )
        out.append(action if ls.resolve else resolve(ls, action))
    return out


def _quick_fix(
    name: str, uri: str, lines: Lines, finding: Finding, diagnostic: types.Diagnostic
) -> types.CodeAction | None:
    fix = finding.fix
    if fix is None:
        return None
    outcome = fixing.apply(name, lines.data(), [finding])
    if finding not in outcome.applied:
        return None  # --fix would not apply it either
    edits = [
        types.TextEdit(
            range=_range(lines, lines.from_byte(e.start), lines.from_byte(e.end)),
            new_text=e.content,
        )
        for e in fix.edits
    ]
    safe = fix.applicability is Applicability.SAFE
    return types.CodeAction(
        title=f"{finding.rule}: {fix.title}" + ("" if safe else " (unsafe fix)"),
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=safe,
        edit=types.WorkspaceEdit(changes={uri: edits}),
    )


def _ignore(
    uri: str,
    lines: Lines,
    starts: list[int],
    finding: Finding,
    diagnostic: types.Diagnostic,
    whole_file: bool,
) -> types.CodeAction | None:
    loc = finding.location
    edit = ignore_edit(lines.text, starts, loc.line, finding.rule, whole_file=whole_file)
    if edit is None:
        return None
    start, end, text = edit
    where = "for this file" if whole_file else "on this line"
    return types.CodeAction(
        title=f"Ignore {finding.rule} {where}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(
            changes={uri: [types.TextEdit(range=_range(lines, start, end), new_text=text)]}
        ),
    )


def resolve(ls: Host, action: types.CodeAction) -> types.CodeAction:
    """Fill in "fix all": every safe fix of the document, as ``--fix`` applies them."""
    data: Any = action.data
    if action.kind != FIX_ALL or not isinstance(data, dict) or "uri" not in data:
        return action
    uri = str(data["uri"])
    name = name_of(uri)
    project = ls.session.project
    if name is None or project is None:
        return action
    texts = ls.texts()
    if name not in texts:
        return action
    lines, _ = ls.document(uri)
    fixed = project.fix(name, texts)
    if fixed != texts[name]:
        whole = _range(lines, 0, len(lines.text))
        action.edit = types.WorkspaceEdit(
            changes={uri: [types.TextEdit(range=whole, new_text=decode(fixed))]}
        )
    return action


def hover(
    session: Session, lines: Lines, findings: list[Finding], position: types.Position
) -> types.Hover | None:
    """The documentation of the rules whose findings cover ``position``."""
    at = types.Range(start=position, end=position)
    found: dict[str, types.Range] = {}
    for finding in findings:
        diagnostic = session.diagnostic(finding, lines)
        if _overlaps(diagnostic.range, at) and finding.rule not in found:
            found[finding.rule] = diagnostic.range
    rules = [
        r for r in (session.project.rules.get(k) if session.project else None for k in found) if r
    ]
    if not rules:
        return None
    text = "\n\n---\n\n".join(rule_doc(rule) for rule in rules)
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=next(iter(found.values())),
    )
