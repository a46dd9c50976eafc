"""The example plugin, tested the way a plugin author would: with meshlint.testing."""

from __future__ import annotations

import example_plugin
from meshlint.testing import assert_fixtures, lint


def test_the_example_plugins_fixtures() -> None:
    assert_fixtures(example_plugin.RULE, example_plugin.BAD, example_plugin.GOOD)


def test_a_wrong_marker_fails_the_fixture_check() -> None:
    wrong = example_plugin.BAD.replace("# [acme-mutable-image]", "") + "# [acme-mutable-image]\n"
    try:
        assert_fixtures(example_plugin.RULE, wrong, example_plugin.GOOD)
    except AssertionError:
        return
    raise AssertionError("a marker on the wrong line was accepted")


def test_lint_runs_the_engines_own_rules_too() -> None:
    report = lint("a: [\n", [example_plugin.RULE])
    assert [f.rule for f in report.findings] == ["M001"]
