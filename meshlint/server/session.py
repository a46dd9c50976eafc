"""What the language server knows between requests: the project as ``check .``
sees it, the findings of the join scopes linted last, and what each file's
diagnostics were when last sent.

State grows with the workspace (files, findings), never with the number of
edits: each lint replaces the findings of the scopes it covered, and a closed
document's text and diagnostics are dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace

from lsprotocol import types

from meshlint.api import Project, Settings, UsageError
from meshlint.core import helm
from meshlint.core.config import ConfigError
from meshlint.core.files import decode
from meshlint.core.model import Finding, Severity
from meshlint.core.plugins import PluginError
from meshlint.output import rule_url
from meshlint.server.positions import Lines

SEVERITIES = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}
CONFIG_NAMES = frozenset({".meshlint.yaml", ".meshlint.yml", "pyproject.toml"})


class Session:
    """One workspace (the server's working directory)."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        self.project: Project | None = None
        self.config_error: str | None = None
        self.charts = helm.Charts()
        self.findings: dict[str, list[Finding]] = {}  # by file name, of the scopes linted
        self.dirty: set[str] = set()  # scopes whose findings are out of date
        self.errors: list[str] = []  # of the last lint: unreadable files, rule bugs

    def load(self) -> str | None:
        """(Re)read the configuration and walk the workspace. A broken
        configuration keeps the last good one (the defaults at first) and
        returns its one-line message, once per distinct error."""
        try:
            project = Project.load(self.settings)
        except (ConfigError, UsageError, PluginError) as exc:
            message = f"meshlint: configuration error: {exc}"
            if self.project is None:
                self.project = Project.load(replace(self.settings, isolated=True))
                self._found()
            new = message != self.config_error
            self.config_error = message
            return message if new else None
        self.project, self.config_error = project, None
        self._found()
        self.findings.clear()
        return None

    def _found(self) -> None:
        assert self.project is not None
        dirs = {os.path.dirname(n) or "." for n in self.project.files if _is_chart_file(n)}
        self.charts = helm.Charts.from_dirs(sorted(dirs))

    def lintable(self, name: str) -> bool:
        return self.project is not None and not self.project.excluded(name)

    def scope_of(self, name: str) -> str:
        assert self.project is not None
        return self.project.scope_of(name)

    def names_in(self, scopes: Iterable[str]) -> list[str]:
        assert self.project is not None
        wanted = set(scopes)
        return [n for n, i in self.project.files.items() if i.scope in wanted]

    def lint(self, texts: dict[str, bytes], scopes: set[str]) -> list[str]:
        """Lint ``scopes`` with the open documents' ``texts``; the names whose
        findings were replaced."""
        assert self.project is not None
        inside = {n: t for n, t in texts.items() if self.scope_of(n) in scopes}
        report = self.project.lint(inside, scopes=scopes)
        self.errors = [*self.project.errors, *report.errors]
        names = set(self.names_in(scopes)) | set(inside)
        for name in names:
            self.findings[name] = []
        for finding in report.findings:
            self.findings.setdefault(finding.location.file, []).append(finding)
            names.add(finding.location.file)
        self.dirty -= scopes
        return sorted(names)

    def forget(self, name: str) -> None:
        """A closed document: its findings go with it (the scope is linted again)."""
        self.findings.pop(name, None)

    def diagnostic(self, finding: Finding, lines: Lines) -> types.Diagnostic:
        loc = finding.location
        start, end = lines.span(loc.line, loc.column)
        assert self.project is not None
        rule = self.project.rules.get(finding.rule)
        url = rule_url(rule) if rule is not None else None
        return types.Diagnostic(
            range=types.Range(
                start=types.Position(*lines.position(start)),
                end=types.Position(*lines.position(end)),
            ),
            message=finding.message,
            severity=SEVERITIES[finding.severity],
            code=finding.rule,
            code_description=types.CodeDescription(href=url) if url else None,
            source="meshlint",
            related_information=self._related(finding) or None,
        )

    def _related(self, finding: Finding) -> list[types.DiagnosticRelatedInformation]:
        """The Helm template a rendered finding came from, where it is in the workspace."""
        if not finding.location.source:
            return []
        moved = helm.relocate(
            [finding], replace(self.charts, stdin=frozenset({finding.location.file}))
        )
        loc = moved.findings[0].location if moved.moved else None
        if loc is None:
            return []
        lines = read_lines(loc.file)
        if lines is None:
            return []
        start, end = lines.span(loc.line, loc.column)
        where = types.Location(
            uri=uri_of(loc.file),
            range=types.Range(
                start=types.Position(*lines.position(start)),
                end=types.Position(*lines.position(end)),
            ),
        )
        return [
            types.DiagnosticRelatedInformation(
                location=where, message=f"rendered from the Helm template {loc.file}"
            )
        ]


def _is_chart_file(name: str) -> bool:
    return os.path.basename(name) == "Chart.yaml"


def name_of(uri: str) -> str | None:
    """The name ``check .`` gives a file URI's file; None for other schemes."""
    from pygls.uris import to_fs_path

    if not uri.startswith("file:"):
        return None
    path = to_fs_path(uri)
    return Project.name_of(path) if path else None


def uri_of(name: str) -> str:
    from pygls.uris import from_fs_path

    return str(from_fs_path(os.path.abspath(name)))


def read_lines(name: str, encoding: str = "utf-16") -> Lines | None:
    """A file on disk, for positions of findings in files not open."""
    try:
        with open(name, "rb") as handle:
            return Lines(decode(handle.read()), encoding)
    except (OSError, UnicodeDecodeError):
        return None
