"""The real-world corpus (../shared/corpus/real) lints with no crash and no internal error."""

from __future__ import annotations

from pathlib import Path

from conftest import RULES
from meshlint.core.config import Config
from meshlint.core.engine import lint
from meshlint.core.inputs import discover
from meshlint.core.plan import Plan


def test_the_whole_corpus_lints_without_errors(corpus: Path) -> None:
    found = discover([str(corpus)])
    assert not found.errors
    report = lint(found.inputs, Plan.build(RULES, Config()), jobs=2)
    assert report.errors == []
    assert report.files > 2000 and report.documents > 4500
    for finding in report.findings:
        loc = finding.location
        assert loc.line >= 1 and loc.column >= 1 and loc.path.startswith("$")
        assert finding.message and finding.rule in RULES
