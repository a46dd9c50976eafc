"""Big but legitimate inputs (issue #18, item 3): many documents, long lists, read
in linear time and still placed right. tests/stress.py runs them at 200,000
documents and a million entries, beside the parse-only limit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conftest import lint_text
from meshlint.core.model import Finding
from meshlint.core.model.nodes import TOO_DEEP

sys.path.insert(0, str(Path(__file__).parent))
from stress import OK, deployment


def _by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def _env(rows: str) -> str:
    return deployment(
        "        - name: app\n          image: app:1\n"
        "          resources: {limits: {memory: 1Gi}}\n          env:\n" + rows
    )


def test_many_documents_with_a_broken_one_keep_lines_and_helm_sources() -> None:
    docs = [
        f"# Source: chart/templates/cm{i}.yaml\napiVersion: v1\nkind: ConfigMap\n"
        f"metadata: {{name: c{i}}}\ndata: {{k: v}}\n"
        for i in range(3_000)
    ]
    docs[1_500] = "# Source: chart/templates/broken.yaml\nkey: [unclosed\n"
    docs[2_999] = "# Source: chart/templates/pod.yaml\n" + OK
    text = "---\n" + "---\n".join(docs)
    report = lint_text(text)
    assert report.documents == 2_999
    (broken,) = _by_rule(report.findings, "M001")
    (last,) = _by_rule(report.findings, "K001")
    lines = text.splitlines()
    assert broken.location.line == lines.index("key: [unclosed") + 2  # where the chunk ends
    assert last.location.line == len(lines)  # the last line of the file
    assert last.location.source == "chart/templates/pod.yaml"


def test_a_long_env_is_read_to_its_end() -> None:
    rows = "".join(f"            - {{name: V{i}, value: x}}\n" for i in range(20_000))
    rows += "            - {name: GOMEMLIMIT, value: 400Mi}\n"
    report = lint_text(_env(rows), select=["K004"])
    (finding,) = report.findings
    assert finding.location.line == 15 + 20_000


def test_without_libyamls_own_limit_deep_nesting_is_still_one_finding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """libyaml 0.2.6+ stops deep nesting itself, so flow-heavy text skips the slow
    event pre-check; with an older libyaml the pre-check still runs."""
    import meshlint.core.loading

    checked: list[str] = []
    pre_check = meshlint.core.loading.too_deep  # model.nodes' check, as loading imports it
    monkeypatch.setattr(
        meshlint.core.loading, "too_deep", lambda t: checked.append(t) or pre_check(t)
    )
    deep = "apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 20_000 + "]" * 20_000
    lint_text(deep + "\n---\n" + OK)
    if meshlint.core.loading._libyaml_stops_deep_nesting():  # as the pinned PyYAML's does
        assert checked == []
    monkeypatch.setattr(meshlint.core.loading, "_libyaml_stops_deep_nesting", lambda: False)
    report = lint_text(deep + "\n---\n" + OK)
    assert checked
    assert [f.rule for f in _by_rule(report.findings, "M001")] == ["M001"]
    assert TOO_DEEP in _by_rule(report.findings, "M001")[0].message
    assert _by_rule(report.findings, "K001")  # the next document is linted
