"""Meta-tests: the catalogue, docs, fixtures, schemas and README stay in step."""

from __future__ import annotations

import ast
import importlib
import json
import re
from importlib.metadata import entry_points
from pathlib import Path

import jsonschema
import pytest

import meshlint.rules
from conftest import CHART_RULES, FIXTURES, ROOT, RULES, findings_of
from meshlint.cli import markdown_table
from meshlint.core.plugins import ID_PATTERN, SLUG_PATTERN

HEADINGS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## References",
)
YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.S)


def _section(doc: str, heading: str) -> str:
    start = doc.index(heading) + len(heading)
    end = doc.find("\n## ", start)
    return doc[start : end if end != -1 else len(doc)]


def test_ids_and_slugs_are_well_formed_unique_and_not_retired() -> None:
    slugs = [r.slug for r in RULES.values()]
    assert len(set(slugs)) == len(slugs)
    for rule in RULES.values():
        assert ID_PATTERN.match(rule.id) and SLUG_PATTERN.match(rule.slug)
        assert rule.id not in meshlint.rules.RETIRED


def test_every_rule_has_fixtures_and_no_fixture_is_orphaned() -> None:
    slugs = {r.slug for r in RULES.values()}
    dirs = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert dirs == slugs
    for slug in slugs - CHART_RULES:
        assert (FIXTURES / slug / "bad.yaml").is_file()
        assert (FIXTURES / slug / "good.yaml").is_file()
    for slug in CHART_RULES:
        assert (FIXTURES / slug / "bad" / "Chart.yaml").is_file()
        assert (FIXTURES / slug / "good" / "Chart.yaml").is_file()


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_docs_have_the_fixed_headings_in_order(rule_id: str) -> None:
    doc = RULES[rule_id].doc
    positions = [doc.find(h) for h in HEADINGS]
    assert all(p >= 0 for p in positions), f"{rule_id} docs lack one of {HEADINGS}"
    assert positions == sorted(positions)
    assert RULES[rule_id].summary and not RULES[rule_id].summary.endswith(".")


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_doc_examples_run(rule_id: str) -> None:
    """The Example fires the rule and the Use instead block is clean."""
    rule = RULES[rule_id]
    if rule.slug in CHART_RULES:
        pytest.skip("its examples are chart templates: tests/test_charts.py renders its fixtures")
    bad = YAML_BLOCK.findall(_section(rule.doc, "## Example"))
    good = YAML_BLOCK.findall(_section(rule.doc, "## Use instead"))
    assert bad and good
    for text in bad:
        assert findings_of(rule, text).findings, f"{rule_id} Example does not fire"
    for text in good:
        assert not findings_of(rule, text).findings, f"{rule_id} Use instead fires"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_module_is_named_after_its_slug(rule_id: str) -> None:
    rule = RULES[rule_id]
    function = rule.check or rule.collect or rule.check_run
    module = importlib.import_module(function.__module__) if function else None
    if module is None:  # the engine's own rules keep their docs in a module of their own
        module = importlib.import_module(f"meshlint.core.emitted.{rule.slug.replace('-', '_')}")
    assert module.__name__.rsplit(".", 1)[-1] == rule.slug.replace("-", "_")
    assert module.RULE is rule
    assert module.__doc__ == rule.doc


def test_readme_rule_table_is_fresh() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert table.strip() == markdown_table(RULES.values()).strip(), (
        "README rule table is stale: paste `meshlint rules --format markdown` between the markers"
    )


@pytest.mark.parametrize("schema", sorted((ROOT / "schemas").glob("*.json")), ids=lambda p: p.name)
def test_schemas_are_valid_json_schema(schema: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(schema.read_text(encoding="utf-8")))


def test_builtin_rules_load_through_the_entry_point() -> None:
    (builtin,) = [ep for ep in entry_points(group="meshlint") if ep.name == "builtin"]
    assert builtin.load() is meshlint.rules


def test_rules_use_only_the_public_engine_surface() -> None:
    """Rules may import meshlint's API and domain modules, never the engine or CLI."""
    forbidden = {"meshlint.core.engine", "meshlint.cli", "meshlint.output", "meshlint.core.config"}
    for path in (ROOT / "rules").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not any(node.module.startswith(f) for f in forbidden), (
                    f"{path}: {node.module}"
                )
