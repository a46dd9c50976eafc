"""The one pass every finding takes, in the parent, after the workers return.

A check yields a ``Violation``; the worker places it in its file (``Document.
locate``: only the worker holds the node tree) and sends a ``Candidate``. Here,
and only here, a candidate is judged: per-file ignores, comment and annotation
suppression, the configured severity; then M100 for the directives that
suppressed nothing, and the source line of every finding.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from meshlint.core.config import matches
from meshlint.core.emitted import UNUSED_IGNORE
from meshlint.core.globs import matches_any, relative
from meshlint.core.model import Applicability, Edit, Finding, Fix, Location
from meshlint.core.plan import Plan
from meshlint.core.report import Candidate, Input, echo
from meshlint.core.suppression import Directives, Ignore, directive_reports


def _place(location: Location) -> tuple[str, int, str]:
    """What "the same place" means for implied findings."""
    return (location.file, location.document, location.path)


class PostPass:
    """Judges the candidates of a run, file by file and then cross-object."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.findings: list[Finding] = []
        self.suppressed = 0
        self._directives: dict[str, Directives] = {}
        self._order: list[Ignore] = []  # every directive of the run, in reading order
        self._used: set[Ignore] = set()
        self._file_ignores: dict[str, list[frozenset[str]]] = {}
        # Places where a finding was suppressed, with its rule: a suppressed
        # finding still implies the weaker ones at its place (one decision, one ignore).
        self._silenced: dict[tuple[str, int, str], set[str]] = {}

    def add_directives(self, file: str, directives: Directives) -> None:
        if directives:
            self._directives[file] = directives
            self._order.extend(directives.all())

    def judge(self, candidate: Candidate) -> None:
        active = self.plan.get(candidate.rule)
        if active is None:
            return
        rule, location = active.rule, candidate.location
        ignored = self._ignored_in(location.file)
        if any(matches(token, rule) for tokens in ignored for token in tokens):
            self._silence(location, rule.id)
            return
        directives = self._directives.get(location.file)
        if directives is not None:
            for ignore in directives.covering(location):
                if ignore.covers(rule.id, rule.slug):
                    self._used.add(ignore)
                    self.suppressed += 1
                    self._silence(location, rule.id)
                    return
        fixed = active.fixed_severity or candidate.severity is None
        level = active.severity if fixed else candidate.severity
        finding = Finding.make(location, rule, level, candidate.message, candidate.fix)  # type: ignore[arg-type]
        self.findings.append(finding)

    def _silence(self, location: Location, rule: str) -> None:
        if any(rule in a.rule.implied_by for a in self.plan.rules):
            self._silenced.setdefault(_place(location), set()).add(rule)

    def finish(
        self, inputs: list[Input], by_name: Mapping[str, tuple[str, ...] | None]
    ) -> tuple[list[Finding], list[Ignore]]:
        """The run's findings, sorted, with M100 and every source line (see
        ``echo``); and the directives that suppressed nothing."""
        directives = list(dict.fromkeys(self._order))
        unused = [i for i in directives if i not in self._used]
        findings = self.without_implied(self.findings)
        findings.extend(self._directive_findings(directives))
        return echo(sorted(dict.fromkeys(findings), key=Finding.order), inputs, by_name), unused

    def without_implied(self, findings: list[Finding]) -> list[Finding]:
        """One finding per cause: drop those a stronger rule reports at the same
        place, or would have reported there had it not been suppressed."""
        implied = {a.rule.id: a.rule.implied_by for a in self.plan.rules if a.rule.implied_by}
        if not implied:
            return findings
        reported: dict[tuple[str, int, str], set[str]] = {
            place: set(rules) for place, rules in self._silenced.items()
        }
        for f in findings:
            reported.setdefault(_place(f.location), set()).add(f.rule)
        return [
            f
            for f in findings
            if not (f.rule in implied and implied[f.rule] & reported[_place(f.location)])
        ]

    def _ignored_in(self, file: str) -> list[frozenset[str]]:
        """The per-file-ignores that apply to ``file``, matched once per file."""
        if not self.plan.per_file_ignores:
            return []
        found = self._file_ignores.get(file)
        if found is None:
            rel = relative(file, self.plan.root)
            found = self._file_ignores[file] = [
                frozenset(tokens)
                for pattern, tokens in self.plan.per_file_ignores
                if matches_any(rel, [pattern])
            ]
        return found

    def _directive_findings(self, directives: list[Ignore]) -> Iterator[Finding]:
        """M100: directives that cannot be read or name unknown rules, and with
        ``--report-unused-ignores`` those that suppressed nothing."""
        active = self.plan.get(UNUSED_IGNORE.id)
        if active is None:
            return
        plan = self.plan
        ran = {
            t for a in plan.rules if a.rule is not UNUSED_IGNORE for t in (a.rule.id, a.rule.slug)
        }
        reports = directive_reports(
            directives, self._used, ran, plan.known, report_unused=plan.report_unused
        )
        for ignore, message in reports:
            location = Location(ignore.file, ignore.line, ignore.column, source_line=ignore.text)
            yield Finding.make(location, active.rule, active.severity, message, _removal(ignore))


def _removal(ignore: Ignore) -> Fix | None:
    """Delete an unused comment directive (its line, when it has one of its own);
    one that cannot be read is left for the user to mend, not removed."""
    if ignore.span is None or ignore.problem:
        return None
    start, end = ignore.span
    return Fix(
        title="remove the unused directive",
        applicability=Applicability.SAFE,
        edits=(Edit(start, end, ""),),
    )
