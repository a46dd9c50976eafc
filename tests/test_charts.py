"""Helm chart directories as targets (``meshlint.core.charts``), through the
installed console script.

``fixtures/charts`` holds three real charts, copied with their licences:
``opentelemetry-collector`` (open-telemetry/opentelemetry-helm-charts, three of
its ``ci/*-values.yaml``), ``jaeger`` (jaegertracing/helm-charts, with the
bitnami ``common`` library chart it depends on vendored under ``charts/``) and
``istio-gateway`` (istio/istio ``manifests/charts/gateway``); and two of
meshlint's own: ``shop`` (values scenarios in ``ci/``, a subchart, one scenario
that Helm refuses) and ``broken`` (a template that does not parse).

Helm renders them: helm-python-sdk in CI (the ``helm`` extra), or the ``helm``
on PATH where there is one.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import sys
from pathlib import Path

import jsonschema
import pytest
from test_cli_installed import run

from conftest import ROOT

pytest.importorskip("helm_python", reason="the helm extra renders the charts")

CHARTS = Path(__file__).parent / "fixtures" / "charts"
RULE_CHARTS = Path(__file__).parent / "rules" / "helm-render-error"
MEMORYQOS_ON = "cluster:\n  feature-gates: {MemoryQoS: true}\n"
NO_HELM_ON_PATH = {"PATH": os.path.dirname(sys.executable)}  # helm-python-sdk renders


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(CHARTS, tmp_path / "charts")
    (tmp_path / ".git").mkdir()  # the repository the charts are in
    # the cluster these charts deploy to runs MemoryQoS, so K003 judges them
    (tmp_path / ".meshlint.yaml").write_text(MEMORYQOS_ON)
    return tmp_path


def check_json(cwd: Path, *args: str, **env: str) -> dict:
    done = run(cwd, "check", "--format", "json", *args, **{**NO_HELM_ON_PATH, **env})
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    assert report["errors"] == [], report["errors"]
    return report


def places(report: dict) -> set[tuple[str, str, int]]:
    return {(f["rule"], f["file"], f["line"]) for f in report["findings"]}


def test_real_charts_render_and_findings_land_on_their_template_lines(repo: Path) -> None:
    report = check_json(
        repo, "charts/opentelemetry-collector", "charts/jaeger", "charts/istio-gateway"
    )
    found = places(report)
    otel = "charts/opentelemetry-collector/templates"
    # memory_limiter's percentage of an unlimited container: the line of the
    # configmap's config, rendered by the chart's _config.tpl
    assert ("O002", f"{otel}/_config.tpl", 146) in found
    # the collector container of _pod.tpl has no memory limit in ci/GOMEMLIMIT-values.yaml
    assert ("K001", f"{otel}/_pod.tpl", 18) in found
    assert ("K001", "charts/jaeger/templates/jaeger/jaeger-deploy.yaml", 44) in found
    assert ("K003", "charts/istio-gateway/templates/deployment.yaml", 106) in found
    for finding in report["findings"]:
        assert finding["scenarios"], finding
        assert (repo / finding["file"]).is_file(), finding["file"]
    by_place = {(f["rule"], f["file"], f["line"]): f for f in report["findings"]}
    # chart-testing's convention: the ci/ files are the scenarios where a chart has them
    assert by_place["K001", f"{otel}/_pod.tpl", 18]["scenarios"] == ["ci/GOMEMLIMIT-values.yaml"]
    assert by_place["K003", "charts/istio-gateway/templates/deployment.yaml", 106]["scenarios"] == [
        "default values"
    ]


def test_scenarios_are_named_and_one_cause_is_reported_once(repo: Path) -> None:
    report = check_json(repo, "charts/shop")
    schema = json.loads((ROOT / "schemas" / "findings.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(report)
    by_rule: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        by_rule.setdefault(finding["rule"], []).append(finding)
    # GOMEMLIMIT comes from values.yaml in both scenarios that render: one finding
    (k004,) = by_rule["K004"]
    assert (k004["file"], k004["line"]) == ("charts/shop/templates/collector.yaml", 23)
    assert k004["scenarios"] == ["ci/large-values.yaml", "ci/small-values.yaml"]
    assert k004["values"] == {
        "file": "charts/shop/values.yaml",
        "line": 7,
        "column": 3,
        "key": "$.collector.gomemlimit",
    }
    # the request below the limit is the small scenario's alone, set in its own file
    (k003,) = by_rule["K003"]
    assert k003["scenarios"] == ["ci/small-values.yaml"]
    assert (k003["file"], k003["line"]) == ("charts/shop/templates/collector.yaml", 26)
    assert k003["values"]["file"] == "charts/shop/ci/small-values.yaml"
    assert k003["values"]["key"] == "$.collector.resources.requests.memory"
    assert k003["values"]["line"] == 5


def test_text_report_names_the_scenarios_and_the_values_key(repo: Path) -> None:
    done = run(repo, "check", "charts/shop", **NO_HELM_ON_PATH)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if " K004 " in line)
    assert lines[head].startswith("charts/shop/templates/collector.yaml:23:15: K004")
    assert "  values: ci/large-values.yaml; ci/small-values.yaml" in lines[head : head + 4]
    assert (
        "  value set at charts/shop/values.yaml:7:3 (collector.gomemlimit)"
        in lines[head : head + 5]
    )


def test_a_template_that_does_not_render_is_m006_and_other_charts_are_linted(
    repo: Path,
) -> None:
    report = check_json(repo, "charts/broken", "charts/shop")
    m006 = {
        (f["file"], f["line"], f["column"]): f for f in report["findings"] if f["rule"] == "M006"
    }
    broken = m006["charts/broken/templates/deployment.yaml", 7, 1]
    assert (
        "parse error at (broken/templates/deployment.yaml:7): missing value for if"
        in (broken["message"])
    )
    assert broken["scenarios"] == ["default values"]
    required = m006["charts/shop/templates/configmap.yaml", 7, 34]
    assert "otel.endpoint is required when otel.enabled is true" in required["message"]
    assert required["scenarios"] == ["ci/otel-values.yaml"]
    # shop's other scenarios still render and are linted
    assert any(f["rule"] == "K004" for f in report["findings"])
    assert report["summary"]["by_rule"]["M006"] == 2


def test_helm_render_error_fixture_pair(tmp_path: Path) -> None:
    shutil.copytree(RULE_CHARTS, tmp_path / "charts")
    bad = check_json(tmp_path, "charts/bad")
    marked = [
        n
        for n, line in enumerate(
            (RULE_CHARTS / "bad/templates/configmap.yaml").read_text().splitlines(), 1
        )
        if "# [helm-render-error]" in line
    ]
    assert [(f["rule"], f["line"]) for f in bad["findings"]] == [("M006", marked[0])]
    good = check_json(tmp_path, "charts/good")
    assert not [f for f in good["findings"] if f["rule"] == "M006"]


def test_fix_edits_the_values_file_not_the_template(repo: Path) -> None:
    values = repo / "charts/shop/values.yaml"
    template = repo / "charts/shop/templates/collector.yaml"
    before, template_before = values.read_text(), template.read_text()
    done = run(repo, "check", "--fix", "charts/shop", **NO_HELM_ON_PATH)
    assert done.returncode == 1, done.stderr  # M006 and what the new value shows are left
    after = values.read_text()
    assert after == before.replace("gomemlimit: 400Mi\n", "gomemlimit: 400MiB\n")
    assert template.read_text() == template_before
    # the chart rendered again from the fixed values: 400MiB is past the small limit
    assert " K004 " not in done.stdout
    assert "K005 [warning] gomemlimit-exceeds-limit" in done.stdout


def test_diff_shows_the_values_edit_and_writes_nothing(repo: Path) -> None:
    values = repo / "charts/shop/values.yaml"
    before = values.read_text()
    done = run(repo, "check", "--diff", "charts/shop", **NO_HELM_ON_PATH)
    assert done.returncode == 1, done.stderr
    assert "-  gomemlimit: 400Mi\n+  gomemlimit: 400MiB\n" in done.stdout
    assert values.read_text() == before


def test_sarif_points_at_files_in_the_repository(repo: Path) -> None:
    done = run(
        repo, "check", "--format", "sarif", "charts/shop",
        "charts/opentelemetry-collector", "charts/jaeger", "charts/istio-gateway",
        **NO_HELM_ON_PATH,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    results = json.loads(done.stdout)["runs"][0]["results"]
    assert len(results) >= 5
    for result in results:
        for location in result["locations"] + result.get("relatedLocations", []):
            artifact = location["physicalLocation"]["artifactLocation"]
            assert artifact["uriBaseId"] == "%SRCROOT%"
            assert (repo / artifact["uri"]).is_file(), artifact["uri"]
        assert result["properties"]["helmValuesScenarios"]
    (k004,) = [r for r in results if r["ruleId"] == "K004"]
    related = k004["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"] == "charts/shop/values.yaml"
    assert related["region"]["startLine"] == 7
    change = k004["fixes"][0]["artifactChanges"][0]
    assert change["artifactLocation"]["uri"] == "charts/shop/values.yaml"


def test_subchart_findings_are_its_own_and_can_be_excluded(repo: Path) -> None:
    report = check_json(repo, "charts/shop")
    agent = "charts/shop/charts/agent/templates/daemonset.yaml"
    assert ("K001", agent, 15) in places(report)
    (repo / ".meshlint.yaml").write_text(MEMORYQOS_ON + 'exclude: ["charts/*/charts/**"]\n')
    done = run(repo, "check", "--format", "json", "charts/shop", **NO_HELM_ON_PATH)
    excluded = json.loads(done.stdout)
    assert not [f for f in excluded["findings"] if f["file"] == agent]
    assert any(f["rule"] == "K004" for f in excluded["findings"])
    # a pattern for templates (once the way to keep Go text out of walks) hides nothing
    (repo / ".meshlint.yaml").write_text(MEMORYQOS_ON + 'exclude: ["charts/**/templates/**"]\n')
    done = run(repo, "check", "--format", "json", "charts/shop", **NO_HELM_ON_PATH)
    assert ("K001", agent, 15) in places(json.loads(done.stdout))


def test_command_line_values_and_set_name_the_one_scenario(repo: Path) -> None:
    (repo / "prod.yaml").write_text("collector:\n  gomemlimit: 800MiB\n")
    report = check_json(repo, "charts/shop", "--values", "prod.yaml", "--set", "replicaCount=5")
    scenarios = {s for f in report["findings"] for s in f["scenarios"]}
    assert scenarios == {"command line: prod.yaml --set replicaCount=5"}
    assert not [f for f in report["findings"] if f["rule"] in ("K004", "M006")]
    # a value --set gives has no values file line: none is named
    report = check_json(repo, "charts/shop", "--set", "collector.gomemlimit=1G")
    (k004,) = [f for f in report["findings"] if f["rule"] == "K004"]
    assert "'1G'" in k004["message"] and "values" not in k004


def test_config_charts_entry_sets_scenarios_release_and_namespace(repo: Path) -> None:
    (repo / "prod-values.yaml").write_text("collector:\n  gomemlimit: 600MiB\n")
    (repo / ".meshlint.yaml").write_text(
        "charts:\n"
        '  "charts/shop":\n'
        "    values: [prod-values.yaml]\n"
        "    ci: false\n"
        "    release: web\n"
        "    namespace: shop-prod\n"
    )
    done = run(repo, "check", "--format", "json", "charts/shop", **NO_HELM_ON_PATH)
    report = json.loads(done.stdout)
    assert report["errors"] == []
    k005 = [f for f in report["findings"] if f["rule"] == "K005"]
    assert k005 and k005[0]["scenarios"] == ["prod-values.yaml"]
    assert k005[0]["resource"]["name"] == "web-shop-collector"
    assert k005[0]["resource"]["namespace"] == "shop-prod"


def test_config_charts_entry_is_validated(repo: Path) -> None:
    (repo / ".meshlint.yaml").write_text('charts:\n  "charts/shop":\n    valuez: [a.yaml]\n')
    done = run(repo, "check", "charts/shop", **NO_HELM_ON_PATH)
    assert done.returncode == 2
    assert ".meshlint.yaml:3:5: charts.charts/shop: unknown key 'valuez'" in done.stderr


def test_a_changed_file_under_a_chart_lints_that_chart(repo: Path) -> None:
    """pre-commit names the staged files: a template or values file of a chart
    renders the chart (once), and nothing is linted as a template."""
    done = run(
        repo, "check", "--format", "json", "--isolated", "--",
        "charts/shop/templates/collector.yaml", "charts/shop/values.yaml",
        "charts/shop/templates/_helpers.tpl",
        PRE_COMMIT="1", **NO_HELM_ON_PATH,
    )  # fmt: skip
    report = json.loads(done.stdout)
    rules = {f["rule"] for f in report["findings"]}
    assert "M005" not in rules and "K004" in rules
    # shop's scenarios, rendered once each: two streams linted, one M006
    assert report["summary"]["files"] == 2
    assert report["summary"]["by_rule"]["M006"] == 1


EXAMPLE_OUTPUT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-example, namespace: shop}
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/shop:1.4.0
"""


def test_a_chart_s_other_files_are_manifests_linted_as_named(repo: Path) -> None:
    """docs/, examples/, tests/ of a chart are not what Helm renders: named (or
    their directory named), they are linted as manifests, not replaced by the
    chart's render with a warning that they hold no YAML."""
    docs = repo / "charts" / "shop" / "docs" / "examples"
    docs.mkdir(parents=True)
    (docs / "output.yaml").write_text(EXAMPLE_OUTPUT)
    for named in ("charts/shop/docs/examples/output.yaml", "charts/shop/docs"):
        done = run(repo, "check", "--format", "json", "--isolated", named, **NO_HELM_ON_PATH)
        report = json.loads(done.stdout)
        assert done.stderr == "", done.stderr
        assert places(report) == {("K001", "charts/shop/docs/examples/output.yaml", 8)}
        assert report["summary"]["files"] == 1


def test_show_settings_names_the_renderer(repo: Path) -> None:
    done = run(repo, "check", "--show-settings", **NO_HELM_ON_PATH)
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("helm:")]
    assert "helm-python-sdk" in line and "Helm v4" in line


def test_helm_on_path_is_preferred(repo: Path, tmp_path: Path) -> None:
    """A ``helm`` on PATH renders (``helm template``, client-only); meshlint
    hands it the scenario and lints what it prints, and asks its version only
    for ``--show-settings`` (a check starts Helm only to render)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "helm-args"
    rendered = (
        "---\n# Source: shop/templates/collector.yaml\n"
        + "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-shop-collector\n"
        + "  namespace: default\n"
        + "spec:\n  template:\n    spec:\n      containers:\n        - name: otel-collector\n"
        + "          image: otel/opentelemetry-collector-contrib:0.115.0\n"
        + '          env:\n            - name: GOMEMLIMIT\n              value: "400Mi"\n'
    )
    helm = bin_dir / "helm"
    helm.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(log)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "if sys.argv[1] == 'version':\n"
        "    print('v3.99.0+gtest')\n"
        "    sys.exit(0)\n"
        f"sys.stdout.write({rendered!r})\n"
    )
    helm.chmod(helm.stat().st_mode | stat.S_IEXEC)
    path = f"{bin_dir}{os.pathsep}{os.path.dirname(sys.executable)}"
    settings = run(repo, "check", "--show-settings", PATH=path)
    assert f"helm ({helm}) v3.99.0+gtest" in settings.stdout
    log.write_text("")  # --show-settings reads the tree's facts: its renders are not the point
    done = run(
        repo, "check", "--format", "json", "charts/shop",
        "--values", "charts/shop/ci/small-values.yaml", "--set", "replicaCount=1", PATH=path,
    )  # fmt: skip
    assert log.read_text().splitlines() == [
        "template --namespace=default --values=charts/shop/ci/small-values.yaml "
        "--set=replicaCount=1 -- release-name charts/shop"
    ]
    (k004,) = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "K004"]
    assert (k004["file"], k004["line"]) == ("charts/shop/templates/collector.yaml", 23)


def test_a_real_chart_finding_names_the_team_values_key_and_fixes_it_there(repo: Path) -> None:
    """The collector chart writes resources with ``{{ toYaml . }}`` inside
    ``{{ with .Values.resources }}``: the request comes from the team's file."""
    values = "charts/values/otel-burstable-values.yaml"
    report = check_json(repo, "charts/opentelemetry-collector", "--values", values)
    (k003,) = [f for f in report["findings"] if f["rule"] == "K003"]
    assert (k003["file"], k003["line"]) == (
        "charts/opentelemetry-collector/templates/_pod.tpl",
        189,
    )
    assert k003["values"] == {
        "file": values,
        "line": 9,
        "column": 5,
        "key": "$.resources.requests.memory",
    }
    done = run(
        repo, "check", "--diff", "--unsafe-fixes",
        "charts/opentelemetry-collector", "--values", values, **NO_HELM_ON_PATH,
    )  # fmt: skip
    assert f"--- a/{values}" in done.stdout
    assert "-    memory: 256Mi\n+    memory: 512Mi\n" in done.stdout


def test_a_broken_chart_yaml_is_m006_and_a_link_out_is_not_rendered(tmp_path: Path) -> None:
    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
    pod += "    - name: a\n      image: busybox:1.36\n"
    for name, chart in (
        ("bad", "apiVersion: v2\nname: [bad\n"),
        ("ok", "name: ok\nversion: 1.0.0\n"),
    ):
        (tmp_path / name / "templates").mkdir(parents=True)
        (tmp_path / name / "Chart.yaml").write_text(chart)
        (tmp_path / name / "templates" / "pod.yaml").write_text(pod)
    (tmp_path / "ok" / "templates" / "env.yaml").symlink_to("/etc/passwd")
    (tmp_path / "fine" / "templates").mkdir(parents=True)
    (tmp_path / "fine" / "Chart.yaml").write_text("apiVersion: v2\nname: fine\nversion: 1.0.0\n")
    (tmp_path / "fine" / "templates" / "pod.yaml").write_text(pod)
    done = run(tmp_path, "check", "--format", "json", "bad", "ok", "fine",
               **NO_HELM_ON_PATH)  # fmt: skip
    assert done.returncode == 2
    assert "ok/templates/env.yaml: symbolic link out of the chart and its repository" in (
        done.stderr
    )
    report = json.loads(done.stdout)
    found = places(report)
    assert ("M006", "bad/Chart.yaml", 2) in found  # Helm names the Chart.yaml line
    assert ("K001", "fine/templates/pod.yaml", 7) in found  # the other chart is linted
    assert "root:" not in done.stdout + done.stderr


def test_a_template_that_never_ends_is_stopped_and_m006(tmp_path: Path) -> None:
    """10^10 loop iterations: Helm's library cannot be interrupted, so it renders
    in a child process that is ended after MESHLINT_HELM_TIMEOUT seconds."""
    (tmp_path / "loop" / "templates").mkdir(parents=True)
    (tmp_path / "loop" / "Chart.yaml").write_text("apiVersion: v2\nname: loop\nversion: 1.0.0\n")
    (tmp_path / "loop" / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
        '  a: "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}"\n'
    )
    report = check_json(tmp_path, "loop", MESHLINT_HELM_TIMEOUT="2")
    (m006,) = report["findings"]
    assert (m006["rule"], m006["file"]) == ("M006", "loop/Chart.yaml")
    assert "Helm did not finish rendering within 2s" in m006["message"]


@pytest.mark.slow  # an untrusted-input scenario, seconds of Helm
def test_a_chart_that_loops_or_grows_costs_one_time_limit_and_no_other_chart(
    tmp_path: Path,
) -> None:
    """Every values scenario of a looping chart would wait out the time limit (ten
    ci files: ten limits), and a template that doubles a string 24 times renders
    256 MiB (the run held 1.9 GB). The first scenario that passes the limit is
    M006 and the chart's others are not rendered; the child's memory is capped,
    so the growing one ends it, alone; the chart beside them still renders."""
    (tmp_path / ".git").mkdir()
    charts = {
        "loop": '  a: "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}"\n',
        "grow": "  a: {{ $s }}\n",
        "fine": "  a: b\n",
    }
    for name, value in charts.items():
        (tmp_path / name / "templates").mkdir(parents=True)
        (tmp_path / name / "Chart.yaml").write_text(
            f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n"
        )
        grow = '{{- $s := "xxxxxxxxxxxxxxxx" }}{{- range until 24 }}{{- $s = print $s $s }}{{- end }}\n'
        (tmp_path / name / "templates" / "cm.yaml").write_text(
            (grow if name == "grow" else "")
            + f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{value}"
        )
    (tmp_path / "loop" / "ci").mkdir()
    for n in range(10):
        (tmp_path / "loop" / "ci" / f"s{n}-values.yaml").write_text(f"n: {n}\n")
    report = check_json(tmp_path, ".", MESHLINT_HELM_TIMEOUT="2")
    by_chart: dict[str, list[dict]] = {}
    for finding in report["findings"]:
        by_chart.setdefault(finding["file"].split("/")[0], []).append(finding)
    late, rest = sorted(by_chart["loop"], key=lambda f: len(f["scenarios"]))
    assert "Helm did not finish rendering within 2s" in late["message"]
    assert len(late["scenarios"]) == 1 and len(rest["scenarios"]) == 9
    assert "not rendered: another values scenario of the chart" in rest["message"]
    (grown,) = by_chart["grow"]
    assert "needs more than 2 GiB of memory" in grown["message"], grown["message"]
    assert "fine" not in by_chart and report["summary"]["files"] == 1  # fine rendered


def test_manifests_and_charts_in_one_run(repo: Path) -> None:
    """The manifests are linted while Helm renders; one report of both."""
    from conftest import COLLECTOR

    (repo / "deploy").mkdir()
    (repo / "deploy" / "collector.yaml").write_text(COLLECTOR)
    report = check_json(repo, "deploy", "charts/shop")
    found = places(report)
    assert ("K004", "deploy/collector.yaml", 13) in found
    assert ("K004", "charts/shop/templates/collector.yaml", 23) in found
    assert report["summary"]["files"] == 3  # the manifest and shop's two rendered scenarios


def test_without_a_renderer_charts_are_skipped_with_one_line(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither helm nor helm-python-sdk (the library call: this environment has the
    extra): the templates are skipped as before, and one line says how to render."""
    from meshlint import api
    from meshlint.core import charts

    monkeypatch.setattr(charts, "find_renderer", lambda: None)
    monkeypatch.chdir(repo)
    done = api.lint_paths(["charts/shop"], api.Settings(isolated=True))
    assert done.warnings == [charts.HOW_TO_RENDER]
    assert "pip install 'meshlint[helm]'" in charts.HOW_TO_RENDER
    assert done.report.templates == 3 and not done.report.findings


def test_the_same_render_error_in_several_scenarios_is_one_m006(repo: Path) -> None:
    ci = repo / "charts/shop/ci"
    (ci / "otel-eu-values.yaml").write_text((ci / "otel-values.yaml").read_text())
    report = check_json(repo, "charts/shop")
    (m006,) = [f for f in report["findings"] if f["rule"] == "M006"]
    assert m006["scenarios"] == ["ci/otel-eu-values.yaml", "ci/otel-values.yaml"]
    assert m006["message"] == (
        "Helm cannot render chart 'shop': execution error at (shop/templates/configmap.yaml:7:34): "
        "otel.endpoint is required when otel.enabled is true"
    )


@pytest.mark.slow
def test_many_scenarios_of_a_large_values_file_all_render(repo: Path) -> None:
    """Helm's child reads a scenario's values files when its render starts, one
    at a time: 150 scenarios layering the same 1 MB file (the most a chart file
    may be) all render, where sending every scenario's texts at once did not."""
    deploy = repo / "deploy"
    deploy.mkdir()
    (deploy / "big.yaml").write_text('replicaCount: 1\npad: "' + "x" * 1_000_000 + '"\n')
    lines = [MEMORYQOS_ON, "charts:\n  charts/shop:\n    ci: false\n    values:\n"]
    for i in range(150):
        (deploy / f"v{i}.yaml").write_text(f'podLabels: {{n: "{i}"}}\n')
        lines.append(f"      - [deploy/big.yaml, deploy/v{i}.yaml]\n")
    (repo / ".meshlint.yaml").write_text("".join(lines))
    report = check_json(repo, "charts/shop")
    assert not [f for f in report["findings"] if f["rule"] == "M006"]
    (k004,) = [f for f in report["findings"] if f["rule"] == "K004"]
    assert len(k004["scenarios"]) == 150


def test_a_values_file_that_is_not_utf8_is_m006_and_the_other_scenarios_render(
    repo: Path,
) -> None:
    """The run reads each scenario's values files (Helm's child renders only the
    chart): one it cannot read is that scenario's M006 at the chart, naming it."""
    (repo / "charts" / "shop" / "ci" / "latin-values.yaml").write_bytes(
        b'replicaCount: 2\nname: "caf\xe9"\n'
    )
    report = check_json(repo, "charts/shop")
    latin = [f for f in report["findings"] if f["rule"] == "M006" and "latin" in f["message"]]
    assert [(f["file"], f["line"]) for f in latin] == [("charts/shop/Chart.yaml", 1)]
    assert "charts/shop/ci/latin-values.yaml: cannot read the values file" in latin[0]["message"]
    rendered = {s for f in report["findings"] for s in f["scenarios"]}
    assert "ci/small-values.yaml" in rendered


def test_a_chart_whose_dependencies_are_not_fetched_is_one_error_line(tmp_path: Path) -> None:
    """jaegertracing/helm-charts declares bitnami's `common` and does not commit charts/:
    the chart is not at fault, so no M006 blames its template; the line says what to run."""
    chart = tmp_path / "charts" / "jaeger"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: jaeger\nversion: 4.11.1\ndependencies:\n"
        "  - name: common\n    repository: https://charts.bitnami.com/bitnami\n"
        "    version: 2.x.x\n"
    )
    (chart / "values.yaml").write_text("image: jaegertracing/jaeger:2.19.0\n")
    (chart / "templates" / "deploy.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n"
        '  name: {{ include "common.names.fullname" . }}\nspec:\n  template:\n    spec:\n'
        "      containers:\n        - name: jaeger\n          image: {{ .Values.image }}\n"
    )
    bad = run(tmp_path, "check", "--isolated", "charts/jaeger")
    assert bad.returncode == 2, bad.stdout
    assert "M006" not in bad.stdout
    assert bad.stderr.splitlines() == [
        "meshlint: error: charts/jaeger: dependencies declared in Chart.yaml are not in "
        "charts/ (common): run `helm dependency build charts/jaeger` to fetch them; not rendered"
    ]
    # fetched (what `helm dependency build` leaves), the chart renders and is linted
    common = chart / "charts" / "common"
    (common / "templates").mkdir(parents=True)
    (common / "Chart.yaml").write_text("apiVersion: v2\nname: common\nversion: 2.31.10\n")
    (common / "templates" / "_names.tpl").write_text(
        '{{- define "common.names.fullname" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}\n'
    )
    good = run(tmp_path, "check", "--isolated", "--select", "K001", "-q", "charts/jaeger")
    assert good.returncode == 1, good.stderr
    assert good.stdout.startswith("charts/jaeger/templates/deploy.yaml:9:"), good.stdout


def test_a_key_whose_block_is_one_inserted_value_names_the_values_key(tmp_path: Path) -> None:
    """fluxcd/flagger's charts write `resources:` and insert the block from values on
    the next line, indented by the action (grafana, podinfo) or by the line (loadtester):
    the finding on the key names values.yaml's `resources`, which the owner edits."""
    for name, insert in (
        ("grafana", "{{ toYaml .Values.resources | indent 12 }}"),
        ("loadtester", "            {{- toYaml .Values.resources | nindent 12 }}"),
    ):
        chart = tmp_path / "charts" / name
        (chart / "templates").mkdir(parents=True)
        (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n")
        (chart / "values.yaml").write_text(
            "image: grafana/grafana:11.0.0\n\nresources: {}\n  # limits:\n  #  memory: 128Mi\n"
        )
        (chart / "templates" / "deployment.yaml").write_text(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
            "spec:\n  template:\n    spec:\n      containers:\n        - name: app\n"
            "          image: {{ .Values.image }}\n          resources:\n" + insert + "\n"
        )
    done = run(tmp_path, "check", "--isolated", "--select", "K001", "--format", "json", "charts")
    assert done.returncode == 1, done.stderr
    found = [(f["file"], f["line"], f.get("values")) for f in json.loads(done.stdout)["findings"]]
    assert found == [
        (
            f"charts/{name}/templates/deployment.yaml",
            11,
            {"file": f"charts/{name}/values.yaml", "line": 3, "column": 1, "key": "$.resources"},
        )
        for name in ("grafana", "loadtester")
    ]


@pytest.mark.slow  # an untrusted-input scenario, seconds of Helm
def test_the_renderer_imports_nothing_from_the_linted_repository(repo: Path) -> None:
    """A pull request may commit ``yaml.py`` or ``json.py`` at its root: the
    child that renders with helm-python-sdk runs where meshlint runs, and must
    import its modules from the installation, never from the working directory."""
    planted = repo / "PLANTED"
    for module in ("yaml", "json", "helm_python", "meshlint"):
        (repo / f"{module}.py").write_text(
            f"open({str(planted)!r}, 'a').write('{module}\\n')\n", encoding="utf-8"
        )
    report = check_json(repo, "charts/shop")
    assert not planted.exists(), planted.read_text()
    assert {f["rule"] for f in report["findings"]} >= {"K004"}  # the chart still rendered


@pytest.mark.slow  # an untrusted-input scenario, seconds of Helm
def test_a_config_cannot_hand_helm_a_flag_or_a_file_outside_the_repository(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The config is the pull request's too: a release named like a flag would
    have ``helm template`` run a post-renderer, and a values file outside the
    repository would be read by Helm and printed by a template."""
    (repo / ".meshlint.yaml").write_text(
        MEMORYQOS_ON + "charts:\n  charts/shop:\n    release: --post-renderer=./x\n"
    )
    done = run(repo, "check", "charts/shop", **NO_HELM_ON_PATH)
    assert done.returncode == 2
    assert done.stderr.startswith(f"meshlint: error: {repo / '.meshlint.yaml'}:"), done.stderr
    assert "charts/charts/shop/release: '--post-renderer=./x' is not allowed" in done.stderr
    outside = tmp_path_factory.mktemp("outside")
    secret = outside / "secret-values.yaml"
    secret.write_text("token: hunter2\n")
    (repo / "linked-values.yaml").symlink_to(secret)
    climb = os.path.relpath(secret, repo)
    for values in (str(secret), climb, "linked-values.yaml"):
        (repo / ".meshlint.yaml").write_text(
            MEMORYQOS_ON + f"charts:\n  charts/shop:\n    values: [{values}]\n"
        )
        done = run(repo, "check", "--format", "json", "charts/shop", **NO_HELM_ON_PATH)
        report = json.loads(done.stdout)
        (error,) = report["errors"]
        assert error.endswith("values file outside the repository; charts/shop not rendered")
        assert report["findings"] == [] and "hunter2" not in done.stdout + done.stderr


@pytest.mark.slow  # an untrusted-input scenario, seconds of Helm
def test_a_place_helm_prints_is_read_only_inside_the_chart(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``{{ fail }}`` prints what the template wants, a place in Helm's message
    shape included: the M006 stays at Chart.yaml, and no line of the file it
    names (the job's token in .git/config, the environment) is printed."""
    (repo / ".git" / "config").write_text("[http]\n\textraheader = AUTHORIZATION: basic TOKEN\n")
    shop = repo / "charts" / "shop"
    for template in (shop / "templates").iterdir():
        template.unlink()
    # a quote in the name keeps Helm's own place from matching first
    (shop / "templates" / "q'.yaml").write_text(
        '{{ fail "shop/templates/../../../.git/config:2" }}\n'
    )
    for fmt in ("text", "sarif"):
        done = run(repo, "check", "--format", fmt, "charts/shop", **NO_HELM_ON_PATH)
        assert "M006" in done.stdout and "TOKEN" not in done.stdout, done.stdout
    # a directory link that stays in the repository is walked: a link out beneath it is refused
    outside = tmp_path_factory.mktemp("outside")
    (outside / "creds.txt").write_text("TOKEN\n")
    (repo / "data").mkdir()
    (repo / "data" / "creds").symlink_to(outside / "creds.txt")
    (shop / "files").symlink_to("../../data")
    (shop / "templates" / "q'.yaml").write_text('{{ fail (.Files.Get "files/creds") }}\n')
    done = run(repo, "check", "--format", "json", "charts/shop", **NO_HELM_ON_PATH)
    report = json.loads(done.stdout)
    assert report["errors"] == [
        "charts/shop/files/creds: symbolic link out of the chart and its repository"
    ]
    assert "TOKEN" not in done.stdout + done.stderr
