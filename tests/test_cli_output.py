"""check's output options through click's runner: several --format/--output
pairs, the automatic GitHub format, --report-unused-ignores."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import COLLECTOR as MANIFEST
from conftest import run_check as check
from meshlint.cli import main
from meshlint.output import targets

CLEAN = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations:
    meshlint.io/ignore: "K003"
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.3.0
          # meshlint: ignore[K001] limits are set by the namespace's LimitRange
          resources:
            requests: {memory: 512Mi}
            limits: {memory: 512Mi}
"""


@pytest.fixture
def runner(cli_runner: CliRunner) -> CliRunner:
    Path("collector.yaml").write_text(MANIFEST, encoding="utf-8")
    return cli_runner


def test_one_run_writes_json_and_sarif_to_their_files(runner: CliRunner) -> None:
    result = check(
        runner,
        "collector.yaml",
        "--format", "json", "--output", "a.json",
        "--format", "sarif", "--output", "b.sarif",
    )  # fmt: skip
    assert result.exit_code == 1 and result.stdout == ""
    findings = json.loads(Path("a.json").read_text(encoding="utf-8"))["findings"]
    results = json.loads(Path("b.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]
    assert [f["rule"] for f in findings] == [r["ruleId"] for r in results] == ["K004", "K003"]


def test_a_format_without_output_goes_to_stdout(runner: CliRunner) -> None:
    result = check(
        runner, "collector.yaml", "--format", "junit", "-o", "r.xml", "--format", "github"
    )
    assert result.exit_code == 1
    assert result.stdout.startswith("::error file=collector.yaml,line=13,col=41,")
    assert ET.parse("r.xml").getroot().tag == "testsuites"


def test_output_without_format_writes_text(runner: CliRunner) -> None:
    result = check(runner, "collector.yaml", "--output", "report.txt")
    assert result.exit_code == 1 and result.stdout == ""
    assert "K004 [error] gomemlimit-invalid" in Path("report.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "json", "--format", "sarif"),  # two reports on stdout
        ("--format", "json", "-o", "a", "-o", "b"),  # an output without a format
        ("--format", "json", "-o", "a", "--format", "sarif", "-o", "a"),  # one file twice
    ],
)
def test_ambiguous_outputs_are_usage_errors(runner: CliRunner, args: tuple[str, ...]) -> None:
    result = check(runner, "collector.yaml", *args)
    assert result.exit_code == 2
    assert "Error:" in result.output


def test_github_actions_gets_annotations_unless_a_format_is_asked(runner: CliRunner) -> None:
    env = {"GITHUB_ACTIONS": "true"}
    auto = check(runner, "collector.yaml", env=env)
    assert auto.exit_code == 1
    assert auto.stdout.splitlines() == [
        line for line in auto.stdout.splitlines() if line.startswith(("::error ", "::notice "))
    ]
    assert len(auto.stdout.splitlines()) == 2
    asked = check(runner, "collector.yaml", "--format", "text", env=env)
    assert asked.stdout.startswith("collector.yaml:13:41: K004 [error]")
    assert check(runner, "collector.yaml", env={"GITHUB_ACTIONS": "false"}).stdout.startswith(
        "collector.yaml:13:41:"
    )


def test_unused_ignores_are_findings_when_asked(runner: CliRunner) -> None:
    Path("api.yaml").write_text(CLEAN, encoding="utf-8")
    assert check(runner, "api.yaml").exit_code == 0
    result = check(runner, "api.yaml", "--report-unused-ignores", "--format", "json")
    assert result.exit_code == 1
    found = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["slug"], f["severity"], f["line"]) for f in found] == [
        ("M100", "unused-ignore", "warning", 6),
        ("M100", "unused-ignore", "warning", 13),
    ]
    assert "suppresses nothing" in found[1]["message"]
    # A warning: below an error threshold it reports without failing, like any warning.
    assert check(runner, "api.yaml", "--report-unused-ignores", "--fail-on", "error").exit_code == 0


def test_used_and_unselected_ignores_are_not_reported(runner: CliRunner) -> None:
    used = MANIFEST.replace("value: 400Mi}", "value: 400Mi}  # meshlint: ignore[K004] tracked")
    Path("used.yaml").write_text(used, encoding="utf-8")
    result = check(
        runner, "used.yaml", "--report-unused-ignores", "--format", "json", "--select", "K004"
    )
    assert json.loads(result.stdout)["findings"] == []
    assert result.exit_code == 0
    Path("api.yaml").write_text(CLEAN, encoding="utf-8")
    only_k004 = check(runner, "api.yaml", "--report-unused-ignores", "--select", "K004")
    assert only_k004.exit_code == 0, only_k004.output


def test_an_unknown_rule_in_an_ignore_is_reported(runner: CliRunner) -> None:
    Path("typo.yaml").write_text(
        MANIFEST.replace("value: 400Mi}", "value: 400Mi}  # meshlint: ignore[K04]"),
        encoding="utf-8",
    )
    result = check(runner, "typo.yaml", "--report-unused-ignores", "--format", "sarif")
    run = json.loads(result.stdout)["runs"][0]
    unused = [r for r in run["results"] if r["ruleId"] == "M100"]
    assert len(unused) == 1 and "unknown rule 'K04'" in unused[0]["message"]["text"]
    rules = run["tool"]["driver"]["rules"]
    assert rules[unused[0]["ruleIndex"]]["name"] == "unused-ignore"


def test_each_output_belongs_to_the_format_before_it(runner: CliRunner) -> None:
    result = check(
        runner, "collector.yaml", "--format", "github", "--format", "sarif", "-o", "x.sarif"
    )
    assert result.stdout.startswith("::error file=collector.yaml,")
    assert json.loads(Path("x.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--format", "json", "--output", "a.json", "--format", "sarif", "--output", "b.sarif"],
         [("json", "a.json"), ("sarif", "b.sarif")]),
        (["--format", "github", "--format=sarif", "--output=b.sarif"],
         [("github", None), ("sarif", "b.sarif")]),
        (["-o", "a.json", "--format", "json", "--format", "text"], [("json", "a.json"), ("text", None)]),
        (["-qo", "r.txt", "--select", "--format", "-j2"], [("text", "r.txt")]),
        (["--output", "a.txt", "--output", "b.txt"], [("text", "a.txt"), ("text", "b.txt")]),
        (["--", "--format", "json"], [("text", None)]),
        ([], [("text", None)]),
    ],
)  # fmt: skip
def test_formats_and_outputs_pair_in_command_line_order(
    args: list[str], expected: list[tuple[str, str | None]]
) -> None:
    assert targets.pair(targets.scan(args), default="text") == expected


def test_explain_knows_the_unused_ignore_finding(runner: CliRunner) -> None:
    result = runner.invoke(main, ["explain", "M100"])
    assert result.exit_code == 0 and "## What it does" in result.stdout
