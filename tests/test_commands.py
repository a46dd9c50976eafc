"""The commands as a user meets them: rules, explain, init, --version, check's exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import RULES
from meshlint import __version__
from meshlint.cli import main

BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.3.0
          env:
            - {name: GOMEMLIMIT, value: 400Mi}
          resources:
            requests: {memory: 1Gi}
            limits: {memory: 1Gi}
"""


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return CliRunner()


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_rules_lists_every_rule_in_each_format(runner: CliRunner) -> None:
    text = runner.invoke(main, ["rules"]).output
    assert all(r.id in text and r.slug in text for r in RULES.values())
    rows = json.loads(runner.invoke(main, ["rules", "--format", "json"]).output)
    assert {r["id"] for r in rows} >= set(RULES)
    assert all(r["enabled"] for r in rows)


def test_explain_by_id_or_slug_prints_the_docs(runner: CliRunner) -> None:
    by_id = runner.invoke(main, ["explain", "K005"])
    by_slug = runner.invoke(main, ["explain", "gomemlimit-exceeds-limit"])
    assert by_id.exit_code == 0 and by_id.output == by_slug.output
    assert "## Why is this bad?" in by_id.output and "limit-percent" in by_id.output
    unknown = runner.invoke(main, ["explain", "K999"])
    assert unknown.exit_code == 2 and "unknown rule 'K999'" in unknown.output


def test_init_writes_a_config_that_check_accepts(runner: CliRunner) -> None:
    assert runner.invoke(main, ["init"]).exit_code == 0
    assert runner.invoke(main, ["init"]).exit_code == 2  # never overwrites silently
    Path("ok.yaml").write_text(BAD.replace("400Mi", "800MiB"))
    result = runner.invoke(main, ["check", "ok.yaml"])
    assert result.exit_code == 0, result.output


def test_check_exit_codes_follow_fail_on(runner: CliRunner) -> None:
    Path("bad.yaml").write_text(BAD)
    result = runner.invoke(main, ["check", "bad.yaml", "--no-color"])
    assert result.exit_code == 1
    assert "bad.yaml:12:41: K004 [error] gomemlimit-invalid" in result.output
    assert "12 |             - {name: GOMEMLIMIT, value: 400Mi}" in result.output
    assert runner.invoke(main, ["check", "bad.yaml", "--fail-on", "never"]).exit_code == 0
    assert runner.invoke(main, ["check", "bad.yaml", "--ignore", "K004"]).exit_code == 0


def test_check_reads_stdin_and_names_helm_sources(runner: CliRunner) -> None:
    stream = "---\n# Source: api/templates/deployment.yaml\n" + BAD
    result = runner.invoke(main, ["check", "-", "--format", "json"], input=stream)
    (finding,) = json.loads(result.output)["findings"]
    assert finding["file"] == "-" and finding["line"] == 14
    assert finding["source"] == "api/templates/deployment.yaml"
    assert finding["resource"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "namespace": None,
        "name": "api",
    }


def test_a_config_typo_exits_2_with_file_line_and_column(runner: CliRunner) -> None:
    Path(".meshlint.yaml").write_text("ignore: [K003]\nfail_on: error\n")
    Path("bad.yaml").write_text(BAD)
    result = runner.invoke(main, ["check", "bad.yaml"])
    assert result.exit_code == 2
    assert (
        ".meshlint.yaml:2:1: unknown key 'fail_on'; did you mean 'fail-on'?" in result.output
        and "Traceback" not in result.output
    )


def test_missing_paths_and_unknown_selectors_exit_2(runner: CliRunner) -> None:
    missing = runner.invoke(main, ["check", "nope.yaml"])
    assert missing.exit_code == 2 and "nope.yaml: no such file or directory" in missing.output
    unknown = runner.invoke(main, ["check", ".", "--select", "Z9"])
    assert unknown.exit_code == 2 and "--select: unknown rule 'Z9'" in unknown.output


def test_directories_are_walked_and_excludes_apply(runner: CliRunner) -> None:
    Path("deploy/legacy").mkdir(parents=True)
    Path("deploy/api.yaml").write_text(BAD)
    Path("deploy/legacy/old.yml").write_text(BAD)
    Path("deploy/notes.txt").write_text(BAD)
    result = runner.invoke(main, ["check", "deploy", "--statistics", "--exclude", "legacy/"])
    assert "in 1 document in 1 file." in result.output
    assert "     1  K004  gomemlimit-invalid" in result.output


def test_progress_shows_on_a_terminal_for_long_runs_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from meshlint import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert cli._progress(5000) is None  # piped: silent
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert cli._progress(20) is None  # short runs: silent
    show = cli._progress(5000)
    assert show is not None
    show(1, 5000)
    show(5000, 5000)
    err = capsys.readouterr().err
    assert "\rmeshlint: 1/5000 files" in err and err.endswith("\r\x1b[K")


def test_control_characters_in_the_echoed_line_never_reach_the_terminal(runner: CliRunner) -> None:
    # U+202E (right-to-left override) is valid YAML text; an escape (ESC) is not
    Path("rtl.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"
        'spec:\n  containers: [{name: "a\u202ecod.exe", image: b}]\n'
    )
    Path("esc.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"
        'spec:\n  containers: [{name: "a\x1b[2J", image: b}]\n'
    )
    result = runner.invoke(main, ["check", "rtl.yaml", "esc.yaml", "--no-color"])
    assert "\x1b" not in result.output and "\u202e" not in result.output
    # the finding's line is shown with the override as an escape, the caret under it
    assert 'rtl.yaml:5:16: K001 [warning] memory-limit-missing  Container "a\\u202ecod.exe"' in (
        result.output
    )
    assert '5 |   containers: [{name: "a\\u202ecod.exe", image: b}]' in result.output
    # a line that is not valid text (ESC) is reported, never echoed
    (esc,) = [line for line in result.output.splitlines() if line.startswith("esc.yaml:")]
    assert esc.startswith("esc.yaml:5:25: M001") and "#x001b" in esc
    assert "[2J" not in result.output


def test_statistics_is_refused_with_formats_that_list_every_finding(runner: CliRunner) -> None:
    Path("bad.yaml").write_text(BAD)
    result = runner.invoke(main, ["check", "bad.yaml", "--statistics", "--format", "sarif"])
    assert result.exit_code == 2 and "--statistics counts findings in text or json" in result.output


def test_rules_shows_the_configured_severity(runner: CliRunner) -> None:
    Path(".meshlint.yaml").write_text("severity: {K003: error}\nignore: [K005]\n")
    rows = {
        r["id"]: r for r in json.loads(runner.invoke(main, ["rules", "--format", "json"]).output)
    }
    assert rows["K003"]["severity"] == "error" and rows["K003"]["enabled"]
    assert rows["K005"]["enabled"] is False and rows["K001"]["severity"] == "warning"


def test_a_run_over_no_manifest_warns_instead_of_passing_silently(runner: CliRunner) -> None:
    Path("charts/templates").mkdir(parents=True)
    Path("charts/templates/deployment.tpl").write_text("{{ .Values.x }}")
    result = runner.invoke(main, ["check", "charts"])
    assert result.exit_code == 0
    assert "meshlint: warning: no *.yaml, *.yml or *.json files in charts" in result.output


def test_command_line_selection_is_a_layer_over_the_config(runner: CliRunner) -> None:
    Path(".meshlint.yaml").write_text("select: [K001, K002]\n")
    Path("bad.yaml").write_text(BAD.replace("limits: {memory: 1Gi}", "limits: {cpu: 1}"))
    assert "K001" in runner.invoke(main, ["check", "bad.yaml", "-q"]).output
    ignored = runner.invoke(main, ["check", "bad.yaml", "-q", "--ignore", "K"])
    assert ignored.exit_code == 0 and ignored.output == ""
    again = runner.invoke(main, ["check", "bad.yaml", "-q", "--select", "K004"])
    assert [line.split()[1] for line in again.output.splitlines()] == ["K004"]


def test_statistics_in_github_actions_without_a_format_prints_counts(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    Path("bad.yaml").write_text(BAD)
    result = runner.invoke(main, ["check", "bad.yaml", "--statistics"])
    assert result.exit_code == 1 and "     1  K004  gomemlimit-invalid" in result.output


def test_the_console_script_runs_its_command_with_the_cyclic_collector_off(
    monkeypatch: pytest.MonkeyPatch, runner: CliRunner
) -> None:
    # one command, then the process ends: a last collection would only walk the
    # report (meshlint.cli.run); the language server lives on and collects
    import gc

    import meshlint.cli as cli
    import meshlint.server

    seen: dict[str, bool] = {}
    monkeypatch.setattr(cli, "main", lambda: seen.setdefault("check", gc.isenabled()))
    monkeypatch.setattr(meshlint.server, "serve", lambda: seen.setdefault("server", gc.isenabled()))
    enabled = gc.isenabled()
    try:
        cli.run()
        assert runner.invoke(main, ["server"]).exit_code == 0
    finally:
        if enabled:
            gc.enable()
        else:
            gc.disable()
    assert seen == {"check": False, "server": True}
