"""Report formats: one module per format, each with ``render(report, options) -> str``.

A format's module is imported only when that format is asked for, so start-up
stays cheap; the helpers here are shared by several formats.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module

from meshlint.core.model import Rule, Severity
from meshlint.core.report import Report

FORMATS = ("text", "json", "sarif", "junit", "github")
# Characters of a finding's source line shown with it. A minified manifest is one
# line of megabytes, and echoing it whole for each of its findings made the
# report grow with (findings x line length).
ECHO_WIDTH = 200

_SECTION = re.compile(r"^## What it does\s*\n(?P<body>.*?)(?=^## |\Z)", re.M | re.S)


@dataclass(frozen=True)
class Options:
    rules: Mapping[str, Rule] = field(default_factory=dict)
    color: bool = False
    quiet: bool = False
    statistics: bool = False
    # the gate: findings at or above it fail the run (JUnit fails only those
    # testcases); None: nothing fails
    fail_on: Severity | None = Severity.WARNING


Renderer = Callable[[Report, Options], str]


def renderer(name: str) -> Renderer:
    """The render function of a format, imported only when that format is asked for."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; expected one of {', '.join(FORMATS)}")
    module = import_module(f"meshlint.output.{name}_format")
    render: Renderer = module.render
    return render


def echo_window(line: str, column: int) -> tuple[str, int]:
    """At most ECHO_WIDTH characters of ``line`` around 1-based ``column`` ("..."
    where it was cut), and the column of the same character in what is shown."""
    if len(line) <= ECHO_WIDTH:
        return line, column
    start = max(0, min(column - 1 - ECHO_WIDTH // 2, len(line) - ECHO_WIDTH))
    head = "..." if start else ""
    tail = "..." if start + ECHO_WIDTH < len(line) else ""
    return f"{head}{line[start : start + ECHO_WIDTH]}{tail}", column - start + len(head)


def relative_path(name: str) -> str:
    """``name`` relative to the working directory, with ``/`` separators.

    CI systems resolve report paths against the checkout, and an absolute path
    would leak the runner's layout; ``-`` (stdin) stays as it is.
    """
    if name == "-":
        return name
    path = name
    if os.path.isabs(name):
        try:
            path = os.path.relpath(name)
        except ValueError:  # another drive on Windows: nothing relative exists
            path = name
    return path.replace(os.sep, "/")


def rule_doc(rule: Rule) -> str:
    """A rule's documentation as markdown: the docstring plus its parameters."""
    lines = [f"# {rule.id} {rule.slug} ({rule.severity})", "", rule.doc.strip()]
    if rule.params:
        # a doc that explains its parameters already has the heading: one per page
        own = re.search(r"^## Parameters$", rule.doc, re.M) is not None
        lines += ["", "## Parameter settings" if own else "## Parameters", ""]
        lines += [
            f"- `{p.name}` ({p.type.__name__}, default {p.default!r}): {p.help}"
            for p in rule.params
        ]
        lines += ["", "Set them in .meshlint.yaml:", "", "```yaml", "rules:", f"  {rule.id}:"]
        lines += [f"    {p.name}: {json.dumps(p.default)}" for p in rule.params]
        lines += ["```"]
    return "\n".join(lines)


def rule_description(rule: Rule) -> str:
    """The "What it does" paragraph of a rule's documentation, on one line."""
    match = _SECTION.search(rule.doc)
    text = " ".join(match["body"].split()) if match else ""
    return text or rule.summary
