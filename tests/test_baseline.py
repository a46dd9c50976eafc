"""Baselines: a finding is remembered by rule, file, resource and JSONPath, not
by line, so edits above it do not bring it back; identical identities count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import COLLECTOR, lint_text, run_check
from meshlint.cli import main
from meshlint.core import baseline

QUERY = """\
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-query
  namespace: observability
spec:
  template:
    spec:
      containers:
        - name: jaeger-query
          image: jaegertracing/jaeger-query:1.62.0
          env:
            - {name: GOMEMLIMIT, value: 1.5GiB}
          resources:
            requests: {memory: 2Gi}
            limits: {memory: 2Gi}
"""


@pytest.fixture
def runner(cli_runner: CliRunner) -> CliRunner:
    Path("deploy").mkdir()
    Path("deploy/collector.yaml").write_text(COLLECTOR, encoding="utf-8")
    return cli_runner


def check(runner: CliRunner, *args: str) -> Result:
    return run_check(runner, "--format", "json", *args)


def reported(result: Result) -> list[tuple[str, str, int]]:
    data = json.loads(result.stdout)
    return [(f["rule"], f["resource"]["name"], f["line"]) for f in data["findings"]]


def test_round_trip_survives_edits_above_and_reports_new_findings(runner: CliRunner) -> None:
    written = check(runner, "deploy", "--write-baseline", "meshlint-baseline.json")
    assert written.exit_code == 0  # recording a baseline accepts what it found
    assert [r for r, _, _ in reported(written)] == ["K004", "K003"]
    data = json.loads(Path("meshlint-baseline.json").read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert [(e["rule"], e["file"], e["resource"], e["path"], e["count"]) for e in data["findings"]] == [
        ("K003", "deploy/collector.yaml", "Deployment/observability/otel-collector",
         "$.spec.template.spec.containers[0].resources.requests.memory", 1),
        ("K004", "deploy/collector.yaml", "Deployment/observability/otel-collector",
         "$.spec.template.spec.containers[0].env[0].value", 1),
    ]  # fmt: skip

    clean = check(runner, "deploy", "--baseline", "meshlint-baseline.json")
    assert clean.exit_code == 0 and reported(clean) == []
    assert json.loads(clean.stdout)["summary"]["baselined"] == 2

    # Lines added above move every finding down: still the same findings.
    header = "# Rendered from charts/collector; edit values.yaml instead.\n# Owner: observability\n"
    Path("deploy/collector.yaml").write_text(header + COLLECTOR + QUERY, encoding="utf-8")
    moved = check(runner, "deploy", "--baseline", "meshlint-baseline.json")
    # the new object's findings, and only them: its EOL v1 image and its bad GOMEMLIMIT
    assert reported(moved) == [("J005", "jaeger-query", 34), ("K004", "jaeger-query", 36)]
    assert moved.exit_code == 1
    text = runner.invoke(
        main, ["check", "--isolated", "deploy", "--baseline", "meshlint-baseline.json"]
    )
    assert "2 accepted by the baseline" in text.stdout


def test_identical_identities_are_counted(runner: CliRunner) -> None:
    # The same object rendered twice (two releases of one chart in one stream).
    Path("deploy/collector.yaml").write_text(COLLECTOR + "---\n" + COLLECTOR, encoding="utf-8")
    assert check(runner, "deploy", "--select", "K004", "--write-baseline", "b.json").exit_code == 0
    (entry,) = json.loads(Path("b.json").read_text(encoding="utf-8"))["findings"]
    assert entry["count"] == 2
    triple = COLLECTOR + "---\n" + COLLECTOR + "---\n" + COLLECTOR
    Path("deploy/collector.yaml").write_text(triple, encoding="utf-8")
    result = check(runner, "deploy", "--select", "K004", "--baseline", "b.json")
    assert reported(result) == [("K004", "otel-collector", 55)]


def test_files_are_relative_to_the_baseline(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing_dir = check(runner, "deploy", "--write-baseline", "ci/baseline.json")
    assert missing_dir.exit_code == 2 and "ci/baseline.json: cannot write" in missing_dir.output
    Path("ci").mkdir()
    assert check(runner, "deploy", "--write-baseline", "ci/baseline.json").exit_code == 0
    entries = json.loads(Path("ci/baseline.json").read_text(encoding="utf-8"))["findings"]
    assert {e["file"] for e in entries} == {"../deploy/collector.yaml"}
    monkeypatch.chdir("deploy")
    result = check(runner, "collector.yaml", "--baseline", "../ci/baseline.json")
    assert result.exit_code == 0 and reported(result) == []


@pytest.mark.parametrize(
    "content",
    ["", "not json", '{"version": 2, "findings": []}', '{"version": 1, "findings": [{"rule": 1}]}',
     '{"version": 1, "findings": [{"rule": "K004", "file": "a", "resource": "", "path": "$", "count": 0}]}'],
)  # fmt: skip
def test_a_broken_baseline_exits_2(runner: CliRunner, content: str) -> None:
    Path("b.json").write_text(content, encoding="utf-8")
    result = check(runner, "deploy", "--baseline", "b.json")
    assert result.exit_code == 2
    assert "b.json" in result.output and "Traceback" not in result.output


def test_a_missing_baseline_exits_2(runner: CliRunner) -> None:
    result = check(runner, "deploy", "--baseline", "nowhere.json")
    assert result.exit_code == 2 and "cannot read baseline" in result.output


def test_apply_keeps_unknown_findings(tmp_path: Path) -> None:
    report = lint_text(COLLECTOR, name=str(tmp_path / "a.yaml"))
    path = tmp_path / "baseline.json"
    baseline.write(report.findings[:1], path)
    kept = baseline.apply(report, path)
    assert kept.findings == report.findings[1:] and kept.baselined == 1
