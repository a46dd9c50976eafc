"""Findings shown file by file while a run goes on, when the text report goes
to a terminal: a long run is not silent until its end.

Each file's own findings are shown as soon as that file is linted (in the order
files finish); the cross-object findings and M100, known only at the end,
follow, then the summary. Files and pipes get the sorted report instead.
"""

from __future__ import annotations

from collections.abc import Callable

from meshlint.core.model import Finding
from meshlint.core.report import Report
from meshlint.output import Options
from meshlint.output.text_format import finding_lines, fixes_line, summary

__all__ = ["Stream"]


class Stream:
    def __init__(
        self,
        options: Options,
        write: Callable[[str], None],
        accepted: Callable[[Finding], bool] = lambda finding: False,
    ) -> None:
        self.options = options
        self.write = write
        self.accepted = accepted  # the baseline's test
        self.shown: set[Finding] = set()

    def add(self, findings: list[Finding]) -> None:
        lines = []
        for finding in findings:
            if finding in self.shown or self.accepted(finding):
                continue
            self.shown.add(finding)
            lines += finding_lines(finding, self.options)
        if lines:
            self.write("\n".join(lines) + "\n")

    def finish(self, report: Report) -> str:
        """The rest of the report: what was not shown yet, and the summary."""
        lines = [
            line
            for finding in report.findings
            if finding not in self.shown
            for line in finding_lines(finding, self.options)
        ]
        if not self.options.quiet:
            if lines or self.shown:
                lines.append("")
            lines.append(summary(report))
            if (line := fixes_line(report, self.options)) is not None:
                lines.append(line)
        return "".join(line + "\n" for line in lines)
