"""What a first day meets, through the installed console script: chart
templates, messages about the run, terminal output, SARIF that renders,
discovery, help and docs."""

from __future__ import annotations

import importlib.util
import json
import os
import pty
import re
import shlex
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_cli_installed import console_script, run

from conftest import COLLECTOR, ROOT

CLEAN = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shop.fullname" . }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
"""


GOMEMLIMIT_ABOVE_LIMIT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: collector, namespace: obs}
spec:
  template:
    spec:
      containers:
        - name: otel-collector
          image: otel/opentelemetry-collector-contrib:0.115.0
          env:
            - {name: GOMEMLIMIT, value: "900MiB"}
          resources:
            requests: {memory: 256Mi}
            limits: {memory: 512Mi}
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# -- 2. Go templates given directly ---------------------------------------------


def test_a_chart_template_named_directly_is_one_clear_finding(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {"charts/shop/Chart.yaml": "name: shop\n", "charts/shop/templates/d.yaml": TEMPLATE},
    )
    # without Helm (--no-render: as where neither helm nor helm-python-sdk is installed)
    done = run(tmp_path, "check", "--isolated", "--no-render", "charts/shop/templates/d.yaml")
    assert done.returncode == 1
    (head,) = [line for line in done.stdout.splitlines() if ": M" in line]
    assert head.startswith("charts/shop/templates/d.yaml:4:9: M005 [error] helm-template-source")
    assert "helm template RELEASE CHART | meshlint check - --chart-dir CHART" in head
    assert "M001" not in done.stdout
    if importlib.util.find_spec("helm_python") is None:
        return
    # with Helm, the template's chart is rendered (docs/charts.md): Helm refuses it
    rendered = run(tmp_path, "check", "--isolated", "charts/shop/templates/d.yaml")
    (head,) = [line for line in rendered.stdout.splitlines() if ": M" in line]
    assert head.startswith("charts/shop/Chart.yaml:1:1: M006 [error] helm-render-error")
    assert "chart.metadata.version is required" in head


def test_walks_skip_chart_templates_and_say_so(tmp_path: Path) -> None:
    _write(tmp_path, {
        "charts/shop/Chart.yaml": "name: shop\n",
        "charts/shop/templates/d.yaml": TEMPLATE,
        "charts/shop/templates/svc.yaml": CLEAN,
        "deploy/ns.yaml": CLEAN,
    })  # fmt: skip
    done = run(tmp_path, "check", "--isolated", "--no-render", ".")
    assert done.returncode == 0, done.stdout
    # Chart.yaml is read, and skipped as a document without apiVersion/kind
    assert done.stdout == (
        "All checks passed (1 document in 2 files, 1 without apiVersion/kind skipped, "
        "2 Helm chart templates skipped (lint `helm template` output)).\n"
    )
    stats = run(tmp_path, "check", "--isolated", "--no-render", ".", "--statistics")
    assert "     2  (skipped)  Helm chart templates: lint `helm template` output" in stats.stdout
    data = json.loads(
        run(tmp_path, "check", "--isolated", "--no-render", ".", "--format", "json").stdout
    )
    assert data["summary"]["helm_templates"] == 2


def test_go_actions_that_break_yaml_outside_a_chart_are_one_finding(tmp_path: Path) -> None:
    _write(tmp_path, {"k8s/d.yaml": TEMPLATE})
    done = run(tmp_path, "check", "--isolated", "--format", "json", "k8s/d.yaml")
    assert [(f["rule"], f["line"]) for f in json.loads(done.stdout)["findings"]] == [("M005", 4)]
    # a walk skips a Go template outside templates/ and counts it
    walked = json.loads(run(tmp_path, "check", "--isolated", "--format", "json", "k8s").stdout)
    assert walked["findings"] == [] and walked["summary"]["not_manifests"] == 1


# -- 3. Messages about the run --------------------------------------------------


def test_a_missing_path_never_reads_as_a_pass(tmp_path: Path) -> None:
    done = run(tmp_path, "check", "--isolated", "nope")
    assert done.returncode == 2
    assert "All checks passed" not in done.stdout
    assert "No findings, but 1 error: not everything was linted" in done.stdout
    assert "meshlint: error: nope: no such file or directory" in done.stderr


def test_a_file_named_explicitly_is_linted_unless_force_exclude(tmp_path: Path) -> None:
    _write(tmp_path, {".meshlint.yaml": 'exclude: ["legacy/**"]\n', "legacy/c.yaml": COLLECTOR})
    done = run(tmp_path, "check", "legacy/c.yaml")
    assert done.returncode == 1 and "K004" in done.stdout
    forced = run(tmp_path, "check", "--force-exclude", "legacy/c.yaml")
    assert forced.returncode == 0
    assert "nothing to lint: legacy/c.yaml excluded by the configuration" in forced.stderr
    # pre-commit names every staged file: there the excludes hold without the flag
    assert run(tmp_path, "check", "legacy/c.yaml", PRE_COMMIT="1").returncode == 0
    # and a walk never enters what is excluded
    assert run(tmp_path, "check", ".").returncode == 0


def test_counts_are_singular_when_one(tmp_path: Path) -> None:
    _write(tmp_path, {"ns.yaml": CLEAN})
    done = run(tmp_path, "check", "--isolated", "ns.yaml")
    assert done.stdout == "All checks passed (1 document in 1 file).\n"
    # one unsafe fix, one walked file that is no manifest (newline-delimited JSON)
    _write(
        tmp_path,
        {
            "deploy/collector.yaml": GOMEMLIMIT_ABOVE_LIMIT,
            "deploy/spans.json": '{"traceId": "5b8e"}\n{"traceId": "eee1"}\n',
        },
    )
    done = run(tmp_path, "check", "--isolated", "deploy")
    assert done.stdout.splitlines()[-2:] == [
        "Found 1 finding (1 warning) in 1 document in 2 files, 1 file that is not a manifest "
        "skipped.",
        "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option).",
    ]


def test_write_baseline_says_what_it_wrote_and_stale_entries_are_reported(tmp_path: Path) -> None:
    _write(tmp_path, {"deploy/c.yaml": COLLECTOR})
    wrote = run(tmp_path, "check", "--isolated", "deploy", "--write-baseline", "b.json")
    assert wrote.returncode == 0
    assert wrote.stdout == ""  # the findings went into the baseline, not to the screen
    assert wrote.stderr == "meshlint: wrote 2 entries (2 findings) to b.json\n"
    # K004 fixed: its entry matches nothing any more
    fixed = COLLECTOR.replace("value: 400Mi", "value: 400MiB")
    _write(tmp_path, {"deploy/c.yaml": fixed})
    done = run(tmp_path, "check", "--isolated", "deploy", "--baseline", "b.json")
    assert done.returncode == 0
    assert "1 baseline entry matches no finding any more (fixed?)" in done.stderr
    assert "deploy/c.yaml: K004 Deployment/observability/otel-collector" in done.stderr
    # a run over other files or other rules says nothing of those entries
    partial = run(
        tmp_path, "check", "--isolated", "deploy", "--baseline", "b.json", "--select", "K003"
    )
    assert "baseline" not in partial.stderr
    pruned = run(
        tmp_path, "check", "--isolated", "deploy", "--baseline", "b.json", "--prune-baseline"
    )
    assert "removed 1 stale baseline entries from b.json" in pruned.stderr
    entries = json.loads((tmp_path / "b.json").read_text())["findings"]
    assert [e["rule"] for e in entries] == ["K003"]
    assert (
        "baseline"
        not in run(tmp_path, "check", "--isolated", "deploy", "--baseline", "b.json").stderr
    )


def test_ctrl_c_exits_130(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [console_script(), "check", "--isolated", "-"],
        cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        time.sleep(1.5)  # started, waiting for stdin
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    assert b"meshlint: interrupted" in stderr


# -- 4. Output that fits a terminal ---------------------------------------------


def test_long_source_lines_are_cut_around_the_caret(tmp_path: Path) -> None:
    env = ", ".join(f'{{"name": "V{i}", "value": "{i}"}}' for i in range(200))
    minified = (
        '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "m"}, "spec": '
        '{"template": {"spec": {"containers": [{"name": "m", "image": "m:1", "env": ['
        + env
        + ', {"name": "GOMEMLIMIT", "value": "400Mi"}], "resources": {"limits": {"memory": "512Mi"}}}]}}}}\n'
    )
    _write(tmp_path, {"m.json": minified})
    done = run(tmp_path, "check", "--isolated", "--select", "K004", "m.json", COLUMNS="80")
    lines = done.stdout.splitlines()
    echoed = next(line for line in lines if line.startswith("1 | "))
    caret = lines[lines.index(echoed) + 1]
    assert len(echoed) <= 80 and echoed.startswith("1 | …") and echoed.endswith("…")
    assert echoed[caret.index("^") :].startswith('"400Mi"')
    piped = run(tmp_path, "check", "--isolated", "--select", "K004", "m.json")
    assert max(len(line) for line in piped.stdout.splitlines() if line.startswith("1 | ")) <= 200


@pytest.mark.parametrize(
    ("args", "env", "colour"),
    [
        (("--color", "always"), {}, True),
        (("--color", "never"), {"FORCE_COLOR": "1"}, False),
        ((), {"FORCE_COLOR": "1"}, True),
        ((), {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        ((), {"FORCE_COLOR": ""}, False),
        ((), {}, False),  # a pipe
    ],
)
def test_colour_choice(
    tmp_path: Path, args: tuple[str, ...], env: dict[str, str], colour: bool
) -> None:
    _write(tmp_path, {"c.yaml": COLLECTOR})
    done = run(tmp_path, "check", "--isolated", "c.yaml", *args, **env)
    assert ("\x1b[" in done.stdout) is colour


def test_a_terminal_sees_findings_per_file_then_the_rest(tmp_path: Path) -> None:
    _write(tmp_path, {"a/c.yaml": COLLECTOR, "b/c.yaml": COLLECTOR})
    primary, secondary = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    process = subprocess.Popen(
        [console_script(), "check", "--isolated", "--color", "never", "a", "b"],
        cwd=tmp_path, stdout=secondary, stderr=subprocess.PIPE, env=environ,
    )  # fmt: skip
    os.close(secondary)
    chunks = []
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=60)
    os.close(primary)
    shown = b"".join(chunks).decode().replace("\r\n", "\n")
    piped = run(tmp_path, "check", "--isolated", "a", "b").stdout
    # the same findings and summary as a pipe gets, all of them shown
    assert sorted(shown.splitlines()) == sorted(piped.splitlines())
    assert "\nFound 4 findings (2 errors, 2 info) in 4 documents in 2 files.\n" in shown


# -- 5. SARIF that renders ------------------------------------------------------


def test_sarif_help_is_markdown_and_plain_text_with_a_help_uri(tmp_path: Path) -> None:
    _write(tmp_path, {"c.yaml": COLLECTOR})
    sarif = json.loads(run(tmp_path, "check", "--isolated", "c.yaml", "--format", "sarif").stdout)
    rules = {r["id"]: r for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    k004 = rules["K004"]
    assert k004["help"]["markdown"].startswith("# K004 gomemlimit-invalid")
    assert "```" in k004["help"]["markdown"]
    text = k004["help"]["text"]
    assert "```" not in text and not any(line.startswith("#") for line in text.splitlines())
    assert "WHAT IT DOES" in text
    assert k004["helpUri"].endswith("/rules/kubernetes/gomemlimit_invalid.py")
    assert rules["M001"]["helpUri"].endswith("/meshlint/core/emitted/yaml_syntax_error.py")


def test_sarif_never_writes_dotdot_uris(tmp_path: Path) -> None:
    _write(tmp_path, {"outside/c.yaml": COLLECTOR, "work/x": ""})
    done = run(tmp_path / "work", "check", "--isolated", "../outside/c.yaml", "--format", "sarif")
    run_ = json.loads(done.stdout)["runs"][0]
    artifact = run_["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": (tmp_path / "outside" / "c.yaml").as_uri()}
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == (tmp_path / "work").as_uri() + "/"
    rooted = run(tmp_path / "work", "check", "--isolated", "../outside/c.yaml", "--format", "sarif",
                 "--sarif-root", "..")  # fmt: skip
    run_ = json.loads(rooted.stdout)["runs"][0]
    artifact = run_["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "outside/c.yaml", "uriBaseId": "%SRCROOT%"}
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"


# -- 6. Discovery as users expect -----------------------------------------------


def test_walks_honour_gitignore_and_skip_hidden_directories(tmp_path: Path) -> None:
    _write(tmp_path, {
        ".git/info/exclude": "scratch/\n",
        ".gitignore": "build/\n*.generated.yaml\n!keep.generated.yaml\n",
        "deploy/c.yaml": COLLECTOR,
        "deploy/.cache/c.yaml": COLLECTOR,
        "build/c.yaml": COLLECTOR,
        "scratch/c.yaml": COLLECTOR,
        "deploy/x.generated.yaml": COLLECTOR,
        "deploy/keep.generated.yaml": COLLECTOR,
        "deploy/sub/.gitignore": "/local.yaml\n",
        "deploy/sub/local.yaml": COLLECTOR,
        "deploy/sub/other/local.yaml": COLLECTOR,
    })  # fmt: skip
    listed = run(tmp_path, "check", "--isolated", "--show-files").stdout.splitlines()
    assert listed == [
        "deploy/c.yaml",
        "deploy/keep.generated.yaml",
        "deploy/sub/other/local.yaml",
    ]
    everything = run(tmp_path, "check", "--isolated", "--show-files", "--no-respect-gitignore")
    assert "build/c.yaml" in everything.stdout.splitlines()
    assert "deploy/.cache/c.yaml" not in everything.stdout  # hidden: never walked
    # a hidden directory named on the command line is linted
    assert run(tmp_path, "check", "--isolated", "--show-files", "deploy/.cache").stdout == (
        "deploy/.cache/c.yaml\n"
    )


def test_show_files_names_skipped_documents_and_show_settings_the_config(tmp_path: Path) -> None:
    _write(tmp_path, {
        ".meshlint.yaml": "ignore: [K003]\nexclude: [\"old/**\"]\n",
        "deploy/c.yaml": COLLECTOR + "---\nreceivers: {otlp: {}}\n",
    })  # fmt: skip
    files = run(tmp_path, "check", "--show-files").stdout
    assert files == "deploy/c.yaml\n  line 22: document skipped: no apiVersion/kind\n"
    settings = run(tmp_path, "check", "--show-settings").stdout
    assert "config file:" in settings and str(tmp_path / ".meshlint.yaml") in settings
    assert "exclude:             old/**" in settings
    assert " K003 " not in settings.split("rules enabled:")[1].splitlines()[0] + " "
    isolated = run(tmp_path, "check", "--isolated", "--show-settings").stdout
    assert "config file:         none (--isolated)" in isolated


# -- 7. Help and docs -----------------------------------------------------------


def test_check_help_states_defaults_exit_codes_and_comma_lists(tmp_path: Path) -> None:
    help_text = " ".join(run(tmp_path, "check", "--help").stdout.split())
    assert "PATHS defaults to the current directory (.)" in help_text
    assert (
        "Exit codes: 0 no finding at or above --fail-on 1 findings at or above --fail-on"
        in help_text
    )
    assert "130 interrupted (Ctrl-C)" in help_text
    assert "a comma list or repeated" in help_text


def test_the_usage_page_lists_every_check_option() -> None:
    from meshlint.cli import check

    usage = (ROOT / "docs" / "usage.md").read_text(encoding="utf-8")
    options = [o for p in check.params for o in p.opts if o.startswith("-")]
    missing = [o for o in options if f"`{o}" not in usage]
    assert missing == []


def test_the_set_up_command_shows_findings_and_ends_green() -> None:
    """A newcomer's first command lints the README's example and exits 0, and the
    README shows what it prints."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("```sh\n", 1)[1].split("\n```", 1)[0]
    lint = shlex.split(setup.split(" && meshlint ", 1)[1])
    done = run(ROOT, *lint, "--no-color")
    assert done.returncode == 0, done.stderr
    assert "[error]" in done.stdout
    shown = readme.split("```console\n", 1)[1].split("```", 1)[0]
    assert [line for line in done.stdout.splitlines() if ": " in line and "[" in line] == [
        line for line in shown.splitlines() if ": " in line and "[" in line
    ]


def test_no_recipe_installs_an_unpublished_package() -> None:
    """Nothing is on PyPI yet: every install line names the repository."""
    for page in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        text = page.read_text(encoding="utf-8")
        assert not re.search(
            r"pip install meshlint(\s|$)", text.replace("`pip install meshlint`", "")
        ), page


def test_rules_has_a_header_and_explains_its_marks(tmp_path: Path) -> None:
    _write(tmp_path, {".meshlint.yaml": "ignore: [K005]\n"})
    lines = run(tmp_path, "rules").stdout.splitlines()
    assert lines[0].split() == ["ID", "SLUG", "SEVERITY", "SUMMARY"]
    assert any(line.startswith("- K005 ") for line in lines)
    assert lines[-1].startswith("- before an id: not enabled by this project's selection")


def test_explain_takes_several_ids_and_suggests_the_nearest(tmp_path: Path) -> None:
    both = run(tmp_path, "explain", "K001", "gomemlimit-invalid").stdout
    assert "# K001 memory-limit-missing" in both and "# K004 gomemlimit-invalid" in both
    wrong = run(tmp_path, "explain", "gomemlimit-invaild")
    assert wrong.returncode == 2
    assert wrong.stderr == (
        "meshlint: error: unknown rule 'gomemlimit-invaild'; did you mean 'gomemlimit-invalid'?\n"
    )
    assert "did you mean 'K004'?" in run(tmp_path, "check", "--select", "K04", ".").stderr


def test_a_rule_is_named_the_same_way_everywhere(tmp_path: Path) -> None:
    """`--select J` works, so `explain J` and `severity: {J: ...}` do too."""
    by_prefix = run(tmp_path, "explain", "j")
    assert by_prefix.returncode == 0, by_prefix.stderr
    titles = [line for line in by_prefix.stdout.splitlines() if line.startswith("# J0")]
    assert titles and all(t.startswith("# J") for t in titles)
    assert len(titles) == len(run(tmp_path, "rules", "--format", "json").stdout.split('"J0')) - 1
    assert run(tmp_path, "explain", "Q").returncode == 2
    # the most specific entry decides, as with select/ignore
    _write(tmp_path, {".meshlint.yaml": "severity: {K: error, K005: info}\n"})
    rows = {
        r["id"]: r["severity"]
        for r in json.loads(run(tmp_path, "rules", "--format", "json").stdout)
    }
    assert rows["K001"] == "error" and rows["K004"] == "error" and rows["K005"] == "info"
    assert rows["J003"] == "warning" and rows["I002"] == "warning"  # K names no J or I rule


def test_config_errors_share_one_prefix_and_suggest_rules(tmp_path: Path) -> None:
    _write(tmp_path, {".meshlint.yaml": "select: [K001]\nseverity:\n  K0003: warning\n"})
    done = run(tmp_path, "check", ".")
    assert done.stderr == (
        f"meshlint: error: {tmp_path / '.meshlint.yaml'}:3:3: severity: unknown rule "
        "'K0003'; did you mean 'K003'?\n"
    )
    _write(tmp_path, {".meshlint.yaml": "rules:\n  K005:\n    limit-percnt: 80\n"})
    done = run(tmp_path, "check", ".")
    assert f"{tmp_path / '.meshlint.yaml'}:3:5: rules.K005: unknown parameter" in done.stderr


def test_a_failing_plugin_import_names_its_config_line(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {".meshlint.yaml": "select: [ALL]\nplugins:\n  - acme_rules_missing\n", "ns.yaml": CLEAN},
    )
    done = run(tmp_path, "check", "ns.yaml")
    assert done.returncode == 2
    assert (
        f"meshlint: error: {tmp_path / '.meshlint.yaml'}:3:5: plugins[0]: plugin module "
        "'acme_rules_missing' failed to import" in done.stderr
    )
