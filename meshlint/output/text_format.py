"""Human output: one line per finding, then the source line with a caret (ruff style)."""

from __future__ import annotations

from collections import Counter

from meshlint.core.model import Finding, Severity
from meshlint.core.report import Report
from meshlint.output import Options, fixable
from meshlint.output.escape import line_start, visible
from meshlint.output.terminal import cut

_COLORS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36"}


def _printable(line: str) -> str:
    """The echoed line: a tab is a space, and control characters (a NUL, an escape
    sequence in a hostile file) are shown as escapes instead of reaching the terminal."""
    return visible(line.replace("\t", " "))


def _paint(text: str, code: str, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color else text


def _finding(f: Finding, options: Options) -> list[str]:
    loc, color = f.location, options.color
    head = (
        f"{_paint(f'{line_start(loc.file)}:{loc.line}:{loc.column}:', '1', color)} "
        f"{_paint(f.rule, '1;' + _COLORS[f.severity], color)} "
        f"[{_paint(str(f.severity), _COLORS[f.severity], color)}] {f.slug}  "
        f"{'[*] ' if fixable(f, options) else ''}{visible(f.message)}"
    )
    lines = [head]
    if loc.rendered is not None:
        rendered = f"{visible(loc.rendered.file)}:{loc.rendered.line}"
        lines.append(f"  rendered at {rendered} (from {visible(loc.source or '')})")
    elif loc.source:
        lines.append(f"  from {visible(loc.source)}")
    if loc.scenarios:
        lines.append(f"  values: {visible('; '.join(loc.scenarios))}")
    if loc.values is not None:
        key = loc.values
        where = f"{visible(key.file)}:{key.line}:{key.column}"
        lines.append(f"  value set at {where} ({visible(key.path.removeprefix('$.'))})")
    if loc.source_line and not options.quiet:
        number = str(loc.line)
        pad = " " * len(number)
        # cut before anything else: a minified manifest's line is megabytes long
        text, column = loc.source_line, loc.column
        if options.width:
            text, column = cut(text, column, options.width - len(number) - 3)
        # then escape: escapes are wider than what they stand for, the caret counts them
        column = len(_printable(text[: column - 1])) + 1
        text = _printable(text)
        lines += [
            f"{pad} |",
            f"{number} | {text}",
            f"{pad} | {' ' * (column - 1)}{_paint('^', _COLORS[f.severity], color)}",
        ]
    return lines


def finding_lines(f: Finding, options: Options) -> list[str]:
    """One finding as the text report shows it (for findings shown as they come)."""
    return _finding(f, options)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def fixes_line(report: Report, options: Options) -> str | None:
    """How many findings ``--fix`` would repair (ruff's ``[*]`` line), if any."""
    can = sum(fixable(f, options) for f in report.findings)
    hidden = sum(f.fix is not None for f in report.findings) - can
    if not can and not hidden:
        return None
    parts = [f"[*] {can} fixable with the `--fix` option"] if can else ["No fixes available"]
    if hidden:
        fixes = "1 hidden fix" if hidden == 1 else f"{hidden} hidden fixes"
        parts.append(f"({fixes} can be enabled with the `--unsafe-fixes` option)")
    return " ".join(parts) + "."


def summary(report: Report) -> str:
    levels = Counter(f.severity for f in report.findings)
    scope = f"{_count(report.documents, 'document')} in {_count(report.files, 'file')}"
    if report.skipped:
        scope += f", {report.skipped} without apiVersion/kind skipped"
    if report.templates:
        scope += (
            f", {_count(report.templates, 'Helm chart template')} skipped "
            "(lint `helm template` output)"
        )
    if report.not_manifests:
        n = report.not_manifests
        others = "1 file that is not a manifest" if n == 1 else f"{n} files that are not manifests"
        scope += f", {others} skipped"
    if report.baselined:
        scope += f", {report.baselined} accepted by the baseline"
    if report.errors and not report.findings:
        # errors mean something was not linted: never "passed"
        errors = _count(len(report.errors), "error")
        return f"No findings, but {errors}: not everything was linted ({scope})."
    fixed = f"Fixed {report.fixed}; " if report.fixed else ""
    if not report.findings:
        return f"{fixed}All checks passed ({scope})."
    parts = [
        _count(levels[s], str(s)) if s is not Severity.INFO else f"{levels[s]} info"
        for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
        if levels[s]
    ]
    found = f"Found {_count(len(report.findings), 'finding')} ({', '.join(parts)}) in {scope}"
    if report.errors:
        found += f", and {_count(len(report.errors), 'error')}"
    return f"{fixed}{found}."


def statistics(report: Report, options: Options) -> list[str]:
    counts = report.counts()
    lines = []
    if report.templates:
        lines.append(
            f"{report.templates:>6}  (skipped)  Helm chart templates: lint `helm template` output"
        )
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
        if (line := fixes_line(report, options)) is not None:
            lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")
