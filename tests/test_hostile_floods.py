"""Floods of findings (issue #18, item 2): each is placed without rescanning the
file, and a rule reports at most MAX_FINDINGS_PER_RULE per document, then one
finding that counts the rest. tests/stress.py runs them at 20,000 and more."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from conftest import lint_text
from meshlint.cli import main
from meshlint.core.model import MAX_FINDINGS_PER_RULE, Finding

sys.path.insert(0, str(Path(__file__).parent))
from stress import LIMITED, OK, deployment


def _by_rule(findings: list[Finding], rule: str) -> list[Finding]:
    return [f for f in findings if f.rule == rule]


def _env(rows: str) -> str:
    return deployment(
        "        - name: app\n          image: app:1\n"
        "          resources: {limits: {memory: 1Gi}}\n          env:\n" + rows
    )


def _capped(findings: list[Finding], rule: str, total: int) -> Finding:
    """The rule's findings are the first MAX_FINDINGS_PER_RULE, then one that counts the rest."""
    found = _by_rule(findings, rule)
    assert len(found) == MAX_FINDINGS_PER_RULE + 1, len(found)
    summary = [f for f in found if "not shown" in f.message]
    assert len(summary) == 1
    more = total - MAX_FINDINGS_PER_RULE
    assert summary[0].message.startswith(f"{more:,} more ")
    assert f"at most {MAX_FINDINGS_PER_RULE} per rule and document" in summary[0].message
    return summary[0]


def test_duplicate_keys_are_placed_and_capped() -> None:
    rows = "".join(f"            - {{name: V{i}, value: a, value: b}}\n" for i in range(1_000))
    report = lint_text(_env(rows), select=["M002"])
    summary = _capped(report.findings, "M002", 1_000)
    first = sorted(report.findings)[0]
    assert first.location.path == "$.spec.template.spec.containers[0].env[0].value"
    assert (first.location.line, summary.location.line) == (15, 15 + MAX_FINDINGS_PER_RULE)


def test_thousands_of_unknown_proxy_config_keys_are_capped() -> None:
    keys = "".join(f"          unknownField{i}: 1\n" for i in range(1_000))
    text = deployment(LIMITED, "        proxy.istio.io/config: |\n" + keys)
    report = lint_text(text, select=["M004"])
    _capped(report.findings, "M004", 1_000)
    first = sorted(report.findings)[0]
    assert (first.location.line, first.location.column) == (9, 11)  # the key, in the host
    assert 'unknown field "unknownField0"' in first.message


def test_a_workload_of_thousands_of_containers_is_capped_per_rule() -> None:
    rows = "".join(f"        - {{name: c{i}, image: app:1}}\n" for i in range(2_000))
    _capped(lint_text(deployment(rows), select=["K001"]).findings, "K001", 2_000)
    # each rule is capped on its own (with K001, K002 is implied and dropped)
    _capped(lint_text(deployment(rows), select=["K002"]).findings, "K002", 2_000)


def test_broken_documents_without_an_object_are_capped_per_file() -> None:
    report = lint_text("---\n".join(["a: [\n"] * 300 + [OK]))
    _capped(report.findings, "M001", 300)
    assert _by_rule(report.findings, "K001")[0].location.line == 300 * 2 + 5


def test_a_long_argument_list_is_read_to_its_end() -> None:
    args = "".join(f"            - --arg{i}\n" for i in range(20_000))
    container = (
        "        - name: collector\n          image: jaegertracing/jaeger-collector:1.57\n"
        "          resources: {limits: {memory: 1Gi}}\n          args:\n" + args
    )
    report = lint_text(deployment(container), select=["J004"])
    _capped(report.findings, "J004", 20_000)


def test_findings_on_a_long_line_echo_a_window_of_it(tmp_path: Path) -> None:
    items = ", ".join(f"{{name: c{i}, image: app:1}}" for i in range(5_000))
    (tmp_path / "pod.yaml").write_text(
        "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [" + items + "]}}\n"
    )
    result = CliRunner().invoke(
        main,
        ["check", str(tmp_path), "--isolated", "--select", "K001", "--no-color"],
        env={"COLUMNS": "120"},
    )
    lines = result.output.splitlines()
    echoed = [line for line in lines if line.startswith("1 | ")]
    assert len(echoed) == MAX_FINDINGS_PER_RULE + 1
    assert max(map(len, echoed)) <= 120
    head, _, shown, caret = lines[-6:-2]  # the last finding: 2,500 characters into the line
    assert int(head.split(":")[2]) > 2_000
    assert shown[caret.index("^") :].startswith("{name: c100,")  # the caret still points at it
