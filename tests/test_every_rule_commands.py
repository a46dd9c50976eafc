"""Every registered rule through the installed console script: ``explain``,
``rules --format json`` and a ``check`` of its fixture pair, so no rule (a
parameter default, a doc, a check) can crash a command again."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from test_cli_installed import run

from conftest import FIXTURES, RULES
from meshlint.core.emitted import meshlint_rules
from meshlint.core.model import Rule
from meshlint.testing import marked

# A console-script run per rule and command (about 35 s): CI runs it, the
# default run checks the same fixtures in-process (test_rules.py)
pytestmark = pytest.mark.slow

# every registered rule: the packs' and the engine's own (M001, M002, M100)
CATALOGUE = sorted({**RULES, **{r.id: r for r in meshlint_rules()}}.values(), key=lambda r: r.id)


def test_rules_json_lists_every_rule_with_its_parameters(tmp_path: Path) -> None:
    done = run(tmp_path, "rules", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    listed = {r["id"]: r for r in json.loads(done.stdout)}
    assert set(listed) >= {r.id for r in CATALOGUE}
    for rule in CATALOGUE:
        assert listed[rule.id]["slug"] == rule.slug
        assert set(listed[rule.id]["parameters"]) == {p.name for p in rule.params}
    # a list default travels as a JSON list
    assert "url.full" in listed["O007"]["parameters"]["unbounded-attributes"]


@pytest.mark.parametrize("rule", CATALOGUE, ids=lambda r: r.id)
def test_explain(rule: Rule, tmp_path: Path) -> None:
    done = run(tmp_path, "explain", rule.id)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(f"# {rule.id} {rule.slug} ")
    for param in rule.params:
        assert f"`{param.name}`" in done.stdout


@pytest.mark.parametrize("rule", CATALOGUE, ids=lambda r: r.id)
def test_check_fixtures(rule: Rule, tmp_path: Path) -> None:
    folder = FIXTURES / rule.slug
    # M100 judges the other rules' ignores: every rule runs for it
    flags = ["--report-unused-ignores", "--select", "ALL"] if rule.id == "M100" else []
    for name in ("bad.yaml", "good.yaml"):
        path = folder / name
        if (folder / name.removesuffix(".yaml")).is_dir():  # a chart to render (M006)
            path = folder / name.removesuffix(".yaml")
        done = run(
            tmp_path,
            "check",
            "--isolated",
            "--format",
            "json",
            "-j",
            "1",
            "--select",
            rule.id,
            *flags,
            str(path),
        )
        assert done.returncode in (0, 1), done.stderr
        assert "internal error" not in done.stderr, done.stderr
        report = json.loads(done.stdout)
        got = Counter((f["line"], f["slug"]) for f in report["findings"] if f["rule"] == rule.id)
        sources = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
        expected = Counter()
        if name == "bad.yaml":
            for source in sources:
                expected += marked(source.read_text(encoding="utf-8"))
        expected = Counter({k: n for k, n in expected.items() if k[1] == rule.slug})
        assert got == expected, name


def test_a_list_parameter_from_the_config(tmp_path: Path) -> None:
    """A list set in .meshlint.yaml is frozen like the default: the run keys
    shared results by parameters, and explain still works."""
    (tmp_path / ".meshlint.yaml").write_text(
        "rules:\n  O007:\n    unbounded-attributes: [http.route]\n", encoding="utf-8"
    )
    bad = FIXTURES / "otel-connector-unbounded-cardinality" / "bad.yaml"
    done = run(tmp_path, "check", "--format", "json", "--select", "O007", str(bad))
    assert done.returncode == 1, done.stderr
    messages = [f["message"] for f in json.loads(done.stdout)["findings"]]
    assert not any('"url.full"' in m for m in messages)  # no longer listed
    assert run(tmp_path, "explain", "O007").returncode == 0
