"""A run's inputs and results: what is linted, what one file yields, what the
run reports; and the echo of each finding's source line."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from meshlint.core.loading import decode, normalize_breaks
from meshlint.core.model import Entry, Finding, Fix, Location, Resource, Severity
from meshlint.core.model.document import text_lines
from meshlint.core.suppression import Directives, Ignore


@dataclass(frozen=True, slots=True)
class Input:
    name: str  # as shown in findings
    path: str | None = None  # read from here, or
    data: bytes | None = None  # already read (stdin)
    rel: str = ""  # relative to the config root, for per-file-ignores
    scope: str = "."  # the files cross-object rules may join it with (core.scopes)

    @property
    def file(self) -> str:
        """Where to read it from."""
        return self.path or self.name


class Linted(NamedTuple):
    """An object that was linted: the file and the resource, nothing more."""

    file: str
    resource: Resource


class Candidate(NamedTuple):
    """A violation placed in its file, not yet judged (severity, suppression)."""

    rule: str
    location: Location
    message: str
    severity: Severity | None  # the rule's own choice, when it has two levels
    fix: Fix | None = None  # resolved against the file: byte edits


@dataclass
class FileReport:
    """What a worker sends back for one file: small, picklable values only."""

    file: str = ""
    scope: str = "."
    candidates: list[Candidate] = field(default_factory=list)
    directives: Directives = field(default_factory=Directives)
    facts: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    entries: list[Entry] = field(default_factory=list)
    resources: list[Linted] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    documents: int = 0
    skipped: int = 0


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0
    documents: int = 0
    skipped: int = 0
    suppressed: int = 0
    unused_ignores: list[Ignore] = field(default_factory=list)
    # Every linted object, in reading order, for per-resource reports (JUnit).
    resources: list[Linted] = field(default_factory=list)
    baselined: int = 0  # findings hidden by --baseline
    templates: int = 0  # Helm chart templates a directory walk left out
    fixed: int = 0  # findings --fix repaired before this report was made

    def counts(self) -> Counter[str]:
        return Counter(f.rule for f in self.findings)


def with_line(location: Location, lines: list[str]) -> Location:
    if location.source_line or not location.echo or not 0 < location.line <= len(lines):
        return location
    return replace(location, source_line=lines[location.line - 1])


def echo(findings: list[Finding], inputs: list[Input]) -> list[Finding]:
    """Give the findings still without their line (cross-object, M100) its text,
    reading each such file once, from where it was linted."""
    by_name = {i.name: i for i in inputs}  # others are read again by their name
    out: list[Finding] = []
    lines: list[str] = []
    current = None
    for finding in findings:
        if finding.location.source_line or not finding.location.echo:
            out.append(finding)
            continue
        if finding.location.file != current:
            current = finding.location.file
            lines = _lines(by_name.get(current) or Input(current))
        out.append(replace(finding, location=with_line(finding.location, lines)))
    return out


def _lines(item: Input) -> list[str]:
    data = item.data
    if data is None:
        try:
            with open(item.file, "rb") as handle:
                data = handle.read()
        except OSError:
            return []
    try:
        return text_lines(normalize_breaks(decode(data)))
    except UnicodeDecodeError:
        return []  # not text: its only finding (M001) is never echoed
