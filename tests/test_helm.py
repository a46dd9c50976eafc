"""Helm findings on the chart's own files (``meshlint.core.helm``), through the
installed console script.

``fixtures/helm`` is laid out as a repository holding a chart: ``charts/shop``
(Chart.yaml, values.yaml, templates with a named template in ``_helpers.tpl``)
and ``rendered.yaml``, what ``helm template shop charts/shop`` prints for it.
The manifests were rendered by Helm's own Go template engine (Helm 4.2.3 through
its SDK) and joined the way ``helm template`` joins them: ``---``, a
``# Source: <chart>/templates/<file>`` line, the manifest.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_cli_installed import run

from meshlint.core.helm import Skeleton, template_line

FIXTURE = Path(__file__).parent / "fixtures" / "helm"
RENDERED = (FIXTURE / "rendered.yaml").read_text(encoding="utf-8")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    # the cluster runs MemoryQoS, so K003 judges the chart's pods
    (tmp_path / "cluster.yaml").write_text("cluster:\n  feature-gates: {MemoryQoS: true}\n")
    return tmp_path


def _primary(result: dict) -> tuple[str, int]:
    physical = result["locations"][0]["physicalLocation"]
    return physical["artifactLocation"]["uri"], physical["region"]["startLine"]


def test_sarif_puts_helm_findings_on_the_template_lines(repo: Path) -> None:
    done = run(
        repo, "check", "--config", "cluster.yaml", "-", "--format", "sarif",
        "--chart-dir", "charts/shop", "--stdin-filename", "rendered.yaml", stdin=RENDERED,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    sarif = json.loads(done.stdout)["runs"][0]
    results = {r["ruleId"]: r for r in sarif["results"]}
    # the GOMEMLIMIT value is written in the named template the API pod includes
    assert _primary(results["K004"]) == ("charts/shop/templates/_helpers.tpl", 15)
    # the requests and limits come from the one toYaml action in that block
    assert _primary(results["K003"]) == ("charts/shop/templates/_helpers.tpl", 17)
    # the worker's resources are literal in its own template
    assert _primary(results["K001"]) == ("charts/shop/templates/worker.yaml", 20)
    for result in results.values():
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] == (
            "%SRCROOT%"
        )
        related = result["relatedLocations"][0]["physicalLocation"]
        assert related["artifactLocation"]["uri"] == "rendered.yaml"
    rendered_line = results["K004"]["relatedLocations"][0]["physicalLocation"]["region"]
    assert RENDERED.splitlines()[rendered_line["startLine"] - 1].strip() == 'value: "400Mi"'
    # fingerprints follow the template, so two charts' findings do not collide
    assert len({r["partialFingerprints"]["meshlintIdentity/v1"] for r in results.values()}) == 3


def test_source_path_under_the_working_directory_is_found_without_chart_dir(
    repo: Path,
) -> None:
    done = run(repo / "charts", "check", "--isolated", "-", "--format", "github", stdin=RENDERED)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert any(
        line.startswith("::warning file=shop/templates/worker.yaml,line=20,col=11,")
        for line in lines
    ), done.stdout
    assert any("file=shop/templates/_helpers.tpl,line=15," in line for line in lines)
    assert not any("file=-" in line for line in lines)


def test_stdin_filename_names_stdin_when_no_template_is_found(repo: Path) -> None:
    done = run(
        repo, "check", "--isolated", "-", "--format", "json", "--stdin-filename",
        "deploy/rendered.yaml", stdin=RENDERED,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    findings = json.loads(done.stdout)["findings"]
    assert {f["file"] for f in findings} == {"deploy/rendered.yaml"}
    assert all("rendered" not in f for f in findings)


def test_text_names_the_rendered_line(repo: Path) -> None:
    done = run(repo, "check", "--isolated", "-", "--chart-dir", "charts/shop", stdin=RENDERED)
    assert done.returncode == 1, done.stderr
    assert "charts/shop/templates/worker.yaml:20:11: K001 [warning]" in done.stdout
    assert "  rendered at -:55 (from shop/templates/worker.yaml)" in done.stdout
    assert "20 |           resources:" in done.stdout


def test_ambiguous_template_line_falls_back_to_line_one(repo: Path) -> None:
    worker = repo / "charts" / "shop" / "templates" / "worker.yaml"
    text = worker.read_text(encoding="utf-8")
    # the containers come from two actions: which one wrote the worker cannot be told
    worker.write_text(
        text[: text.index("      containers:")]
        + "      containers:\n"
        + "        {{- toYaml .Values.worker.containers | nindent 8 }}\n"
        + "        {{- toYaml .Values.worker.sidecars | nindent 8 }}\n",
        encoding="utf-8",
    )
    done = run(
        repo, "check", "--isolated", "-", "--format", "json", "--chart-dir", "charts/shop",
        "--select", "K001", stdin=RENDERED,
    )  # fmt: skip
    (finding,) = json.loads(done.stdout)["findings"]
    assert (finding["file"], finding["line"], finding["column"]) == (
        "charts/shop/templates/worker.yaml", 1, 1,
    )  # fmt: skip
    assert finding["message"].endswith("(rendered at -:55: 'resources:')")
    assert finding["rendered"] == {"file": "-", "line": 55, "column": 11}


def test_a_key_that_an_include_renders_ambiguously_lands_on_the_include(repo: Path) -> None:
    helpers = repo / "charts" / "shop" / "templates" / "_helpers.tpl"
    text = helpers.read_text(encoding="utf-8")
    helpers.write_text(
        text.replace(
            "      {{- toYaml .Values.resources | nindent 6 }}\n",
            "      {{- toYaml .Values.requests | nindent 6 }}\n"
            "      {{- toYaml .Values.limits | nindent 6 }}\n",
        ),
        encoding="utf-8",
    )
    done = run(
        repo, "check", "--config", "cluster.yaml", "-", "--format", "json",
        "--chart-dir", "charts/shop", "--select", "K003", stdin=RENDERED,
    )  # fmt: skip
    (finding,) = json.loads(done.stdout)["findings"]
    # inside the named template two actions could have written it; the include can
    assert (finding["file"], finding["line"]) == ("charts/shop/templates/api.yaml", 17)


def test_chart_dir_without_chart_yaml_is_a_usage_error(repo: Path) -> None:
    done = run(repo, "check", "--isolated", "-", "--chart-dir", "charts", stdin=RENDERED)
    assert done.returncode == 2
    assert done.stderr.startswith("meshlint: error: --chart-dir: charts: not a Helm chart")


TWO_OBJECTS = """\
{{- range .Values.queues }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .name }}-queue
data:
  config.yaml: |
    {{- toYaml .config | nindent 4 }}
{{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-consumer
spec:
  template:
    spec:
      containers:
        - name: consumer
          resources:
            limits:
              memory: 1Gi
"""


def test_skeleton_picks_the_document_by_kind_and_name() -> None:
    skeleton = Skeleton.parse(TWO_OBJECTS)
    path = "$.spec.template.spec.containers[0].resources.limits.memory"
    assert template_line(skeleton, path, "Deployment", "shop-consumer") == ("", 23, 15)
    # the key inside the block scalar was printed by the toYaml action on line 9
    assert template_line(skeleton, "$.data['config.yaml'].receivers", "ConfigMap", "a-queue") == (
        "",
        9,
        5,
    )
    # a name the template cannot render: no document, no line
    assert template_line(skeleton, "$.data['config.yaml'].receivers", "ConfigMap", "other") is None


def test_source_comments_are_found_only_at_a_line_start() -> None:
    from meshlint.core.loading import _helm_sources

    text = (
        "# Source: chart/templates/a.yaml  \n"
        "kind: A  # Source: not/a/comment.yaml\n"
        "note: 'x # Source: in/a/string.yaml'\n"
        "---\n# Source: chart/templates/b.yaml\r\n"
        "#  Source: two/blanks.yaml\n"
        "# Source: chart/templates/c.yaml"
    )
    assert _helm_sources(text) == [
        (0, "chart/templates/a.yaml"),
        (4, "chart/templates/b.yaml"),
        (6, "chart/templates/c.yaml"),
    ]
