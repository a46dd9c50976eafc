"""Alias bombs wherever rules walk (issue #18, item 1): aliases share values, and
what they would add to a walk over them is capped per file, so each bomb is one
finding and costs time linear in its text. tests/stress.py runs the 9**9 sizes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import lint_text, run_meshlint
from meshlint.core.model import Finding
from meshlint.core.model.nodes import ALIAS_ALLOWANCE

sys.path.insert(0, str(Path(__file__).parent))
from stress import LIMITED, OK, deployment, laughs

# 6 levels of 6 aliases: 55,986 nodes when walked, well past ALIAS_ALLOWANCE,
# yet small enough that a regression still ends (and fails) in a second
BOMB = {"levels": 6, "width": 6}


def _by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


BOMBS: dict[str, tuple[str, str]] = {
    "jaeger-options": (
        "apiVersion: jaegertracing.io/v1\nkind: Jaeger\nmetadata: {name: j}\n"
        "spec:\n  strategy: production\n  collector:\n    options:\n" + laughs("      ", **BOMB),
        "M001",
    ),
    "istio-operator": (
        "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: i}\n"
        "spec:\n  meshConfig:\n    defaultConfig:\n      proxyMetadata:\n"
        + laughs("        ", **BOMB),
        "M001",
    ),
    "envoy-filter": (
        "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\n"
        "metadata: {name: f, namespace: istio-system}\nspec:\n  configPatches:\n"
        "    - applyTo: HTTP_FILTER\n      patch:\n        operation: MERGE\n        value:\n"
        + laughs("          ", **BOMB),
        "M001",
    ),
    "mesh-config-map": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\n"
        "data:\n  mesh: |\n    defaultConfig:\n      proxyMetadata:\n" + laughs("        ", **BOMB),
        "M004",
    ),
    "proxy-config-sequences": (
        deployment(
            LIMITED,
            "        proxy.istio.io/config: |\n          proxyMetadata:\n"
            + laughs("            ", mapping=False, **BOMB)
            + "          concurrency: *l5\n",
        ),
        "M004",
    ),
    "proxy-config-mappings": (
        deployment(
            LIMITED,
            "        proxy.istio.io/config: |\n          proxyMetadata:\n"
            + laughs("            ", **BOMB)
            + "          concurrency: *l5\n",
        ),
        "M004",
    ),
    "resources": (
        deployment(
            "        - name: app\n          image: app:1\n          x-anchors:\n"
            + laughs("            ", **BOMB)
            + "          resources: {limits: {memory: *l5}}\n"
        ),
        "M001",
    ),
}


@pytest.mark.parametrize("place", sorted(BOMBS))
def test_an_alias_bomb_where_rules_walk_is_one_finding_and_the_rest_is_linted(
    place: str,
) -> None:
    text, rule = BOMBS[place]
    report = lint_text(text + "---\n" + OK)
    bombs = [f for f in report.findings if "aliases expand beyond" in f.message]
    assert [f.rule for f in bombs] == [rule], report.findings
    assert report.errors == []
    second = text.count("\n") + 2  # the next document is still linted
    assert [f.location.line for f in _by_rule(report.findings, "K001")][-1] > second


def test_anchors_used_as_people_use_them_are_linted() -> None:
    containers = "".join(
        f"        - name: c{i}\n          image: app:1\n          resources: "
        + ("&r {limits: {memory: 1Gi}}\n" if i == 0 else "*r\n")
        for i in range(200)
    )
    report = lint_text(deployment(containers))
    assert report.findings == [] and report.documents == 1


def test_aliases_may_not_outgrow_the_allowance_however_the_file_is_cut() -> None:
    """The allowance is the file's, not each document's: many small bombs add up."""
    one = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata:\n" + laughs(
        "  ", levels=3, width=20
    )  # about 8,800 nodes when walked: one document fits, several do not
    report = lint_text("---\n".join([one] * 5), select=["M001"])
    assert 1 <= report.documents < 5
    assert all("aliases expand beyond" in f.message for f in report.findings)
    assert len(report.findings) == 5 - report.documents
    assert ALIAS_ALLOWANCE < 5 * 8_800


def test_an_alias_bomb_in_the_config_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(OK)
    (tmp_path / ".meshlint.yaml").write_text(
        "anchors:\n" + laughs("  ", mapping=False, **BOMB) + "exclude: *l5\n"
    )
    run = run_meshlint("check", ".", cwd=tmp_path)
    assert run.returncode == 2
    assert ".meshlint.yaml:" in run.stderr and "aliases expand beyond" in run.stderr
