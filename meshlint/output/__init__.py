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
from typing import TYPE_CHECKING

from meshlint.core.model import Applicability, Finding, Rule, Severity

if TYPE_CHECKING:  # the report module pulls in the loader: not at start-up
    from meshlint.core.report import Report

FORMATS = ("text", "json", "sarif", "junit", "github")

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
    # SARIF: file URIs are relative to this directory (default: the working one)
    sarif_root: str | None = None
    # text: the widest an echoed source line may be (None: as it is)
    width: int | None = None
    unsafe_fixes: bool = False  # unsafe fixes count as fixable (they apply with --fix)


Renderer = Callable[["Report", Options], str]


def renderer(name: str) -> Renderer:
    """The render function of a format, imported only when that format is asked for."""
    if name not in FORMATS:
        raise ValueError(f"unknown format {name!r}; expected one of {', '.join(FORMATS)}")
    module = import_module(f"meshlint.output.{name}_format")
    render: Renderer = module.render
    return render


def fixable(finding: Finding, options: Options) -> bool:
    """``--fix`` (with the options given) would repair ``finding``."""
    fix = finding.fix
    return fix is not None and (options.unsafe_fixes or fix.applicability is Applicability.SAFE)


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
            f"- `{p.name}` ({p.type.__name__}, default {json.dumps(p.default)}): {p.help}"
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


_FENCE = re.compile(r"^```")
_HEADING = re.compile(r"^#{1,6}\s+")
_INLINE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def plain_text(markdown: str) -> str:
    """Markdown as a plain-text reader wants it: headings without ``#``, code
    blocks indented instead of fenced, no backticks, links as "text (url)"."""
    out: list[str] = []
    code = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            code = not code
            continue
        if code:
            out.append(f"    {line}" if line else "")
        elif _HEADING.match(line):
            out.append(
                _HEADING.sub("", line).upper() if line.startswith("## ") else _HEADING.sub("", line)
            )
        else:
            out.append(_LINK.sub(r"\1 (\2)", _INLINE.sub(r"\1", line)))
    return "\n".join(out)


DOCS_BASE = "https://github.com/meshlint/meshlint/blob/main/"


def rule_url(rule: Rule) -> str | None:
    """Where a built-in rule's documentation (its module's docstring) is read
    online; None for a plugin's rule."""
    from meshlint.core import emitted

    for module in (
        emitted.yaml_syntax_error,
        emitted.duplicate_key,
        emitted.helm_template_source,
        emitted.unused_ignore,
    ):
        if getattr(module, "RULE", None) is rule:
            return DOCS_BASE + module.__name__.replace(".", "/") + ".py"
    function = rule.check or rule.collect or rule.check_run
    name = getattr(function, "__module__", "") or ""
    if name.startswith("meshlint.rules."):
        return DOCS_BASE + "rules/" + name.removeprefix("meshlint.rules.").replace(".", "/") + ".py"
    return None
