"""Human output: one line per finding, then the source line with a caret (ruff style)."""

from __future__ import annotations

from collections import Counter

from meshlint.core.model import Finding, Severity
from meshlint.core.report import Report
from meshlint.output import Options, echo_window

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def _printable(line: str) -> str:
    """The echoed line, one column per character: a tab is a space, and control
    characters (a NUL, an escape sequence in a hostile file) are shown as U+FFFD
    instead of reaching the terminal."""
    return "".join(" " if c == "\t" else "\ufffd" if not c.isprintable() else c for c in line)


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _finding(f: Finding, options: Options) -> list[str]:
    loc, color = f.location, options.color
    head = (
        f"{_paint(f'{loc.file}:{loc.line}:{loc.column}:', '1', color)} "
        f"{_paint(f.rule, '1;' + _COLORS[f.severity], color)} "
        f"[{_paint(str(f.severity), _COLORS[f.severity], color)}] {f.slug}  {f.message}"
    )
    lines = [head]
    if loc.source:
        lines.append(f"  from {loc.source}")
    if loc.source_line and not options.quiet:
        number = str(loc.line)
        pad = " " * len(number)
        shown, column = echo_window(loc.source_line, loc.column)
        text = _printable(shown)
        lines += [
            f"{pad} |",
            f"{number} | {text}",
            f"{pad} | {' ' * (column - 1)}{_paint('^', _COLORS[f.severity], color)}",
        ]
    return lines


def summary(report: Report) -> str:
    levels = Counter(f.severity for f in report.findings)
    scope = f"{report.documents} documents in {report.files} files"
    if report.skipped:
        scope += f", {report.skipped} without apiVersion/kind skipped"
    if report.baselined:
        scope += f", {report.baselined} accepted by the baseline"
    if not report.findings:
        return f"All checks passed ({scope})."
    parts = [
        f"{levels[s]} {s}" for s in (Severity.ERROR, Severity.WARNING, Severity.INFO) if levels[s]
    ]
    noun = "finding" if len(report.findings) == 1 else "findings"
    return f"Found {len(report.findings)} {noun} ({', '.join(parts)}) in {scope}."


def statistics(report: Report, options: Options) -> list[str]:
    counts = report.counts()
    lines = []
    for rule_id, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        rule = options.rules.get(rule_id)
        slug = rule.slug if rule else ""
        lines.append(f"{count:>6}  {rule_id}  {slug}")
    return lines


def render(report: Report, options: Options) -> str:
    if options.statistics:
        lines = statistics(report, options)
    else:
        lines = [line for f in report.findings for line in _finding(f, options)]
    if not options.quiet:
        if lines:
            lines.append("")
        lines.append(summary(report))
    return "\n".join(lines) + ("\n" if lines else "")
