"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per finding.

The runner turns each line into an annotation on the file and line. Escaping
follows the runner's rules: in the message ``%``, ``\\r`` and ``\\n``; in
property values also ``:`` and ``,``, which would end the value early.
"""

from __future__ import annotations

from meshlint.core.model import Finding, Severity
from meshlint.core.report import Report
from meshlint.output import Options, relative_path

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(f: Finding) -> str:
    loc = f.location
    properties = {
        "file": relative_path(loc.file),
        "line": str(loc.line),
        "col": str(loc.column),
        "title": f"{f.rule} {f.slug}",
    }
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    message = f.message
    if loc.rendered is not None:
        message += f" (rendered at {loc.rendered.file}:{loc.rendered.line})"
    elif loc.source:
        message += f" (Helm template {loc.source})"
    return f"::{COMMANDS[f.severity]} {props}::{escape_data(message)}"


def render(report: Report, options: Options) -> str:
    lines = [command(f) for f in report.findings]
    lines += [f"::error title=meshlint::{escape_data(error)}" for error in report.errors]
    return "".join(line + "\n" for line in lines)
