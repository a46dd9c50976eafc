"""A testing kit for rule authors (meshlint's own rule tests use it too).

Lint a text with a few rules, and check a bad/good fixture pair: ``bad`` marks
each expected finding with ``# [slug]`` at the end of the line it is reported
on (several: ``# [slug-a, slug-b]``); ``good`` must give none::

    from meshlint.testing import assert_fixtures

    def test_acme_mutable_image():
        assert_fixtures(RULE, BAD, GOOD)
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from meshlint.core.config import Config
from meshlint.core.emitted import UNUSED_IGNORE, meshlint_rules
from meshlint.core.engine import lint as _lint
from meshlint.core.model import Rule
from meshlint.core.plan import Plan
from meshlint.core.report import Input, Report

__all__ = ["assert_fixtures", "findings_of", "lint", "marked"]

_MARKER = re.compile(r"#\s*\[(?P<slugs>[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\]")


def lint(
    text: str | bytes,
    catalogue: Iterable[Rule],
    *,
    select: Iterable[str] = ("ALL",),
    name: str = "manifest.yaml",
    list_resources: bool = False,
    **config: Any,
) -> Report:
    """Lint ``text`` with the rules of ``catalogue`` (and the engine's own M001,
    M002, M100) that ``select`` selects.

    ``config`` takes the keys of ``meshlint.core.config.Config``:
    ``rules={"ACM001": {"param": 1}}``, ``kube_version=(1, 27)``,
    ``report_unused_ignores=True``...
    """
    rules = {r.id: r for r in (*meshlint_rules(), *catalogue)}
    plan = Plan.build(rules, Config(select=tuple(select), **config), list_resources=list_resources)
    data = text.encode() if isinstance(text, str) else text
    return _lint([Input(name=name, data=data, rel=name)], plan)


def findings_of(
    rule: Rule, text: str, *, catalogue: Iterable[Rule] = (), name: str = "manifest.yaml"
) -> Report:
    """Lint ``text`` for ``rule`` alone and keep only its findings.

    M100 judges the other rules' ignores, so for it every rule of ``catalogue`` runs.
    """
    rules = [*catalogue, rule]
    select = ["ALL"] if rule is UNUSED_IGNORE else [rule.id]
    report = lint(text, rules, select=select, name=name, report_unused_ignores=True)
    report.findings = [f for f in report.findings if f.rule == rule.id]
    return report


def marked(text: str) -> Counter[tuple[int, str]]:
    """The findings a fixture expects: (line, slug) for each ``# [slug]`` marker."""
    return Counter(
        (number, slug.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if (match := _MARKER.search(line))
        for slug in match["slugs"].split(",")
    )


def assert_fixtures(
    rule: Rule, bad: str, good: str, *, catalogue: Iterable[Rule] = (), name: str = ""
) -> None:
    """``bad`` gives exactly its marked findings of ``rule``, ``good`` none, and
    neither makes a rule fail."""
    catalogue = tuple(catalogue)
    where = name or rule.slug
    clean = findings_of(rule, good, catalogue=catalogue, name=f"{where}/good.yaml")
    assert not clean.errors, clean.errors
    assert [(f.location.line, f.message) for f in clean.findings] == []
    report = findings_of(rule, bad, catalogue=catalogue, name=f"{where}/bad.yaml")
    assert not report.errors, report.errors
    expected = marked(bad)
    assert expected, "the bad fixture has no # [slug] marker"
    assert Counter((f.location.line, f.slug) for f in report.findings) == expected
