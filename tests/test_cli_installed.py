"""The installed console script, in a real subprocess, once per format."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import COLLECTOR

MANIFEST = "# Source: collector/templates/deployment.yaml\n" + COLLECTOR


def console_script() -> str:
    beside = Path(sys.executable).parent / ("meshlint.exe" if os.name == "nt" else "meshlint")
    found = str(beside) if beside.is_file() else shutil.which("meshlint")
    if not found:
        pytest.skip("the meshlint console script is not installed")
    return found


def run(
    cwd: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    environ.update(env)
    return subprocess.run(
        [console_script(), *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "collector.yaml").write_text(MANIFEST, encoding="utf-8")
    return tmp_path


def test_text(workdir: Path) -> None:
    done = run(workdir, "check", "--isolated", "deploy")
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("deploy/collector.yaml:14:41: K004 [error] gomemlimit-invalid")
    assert "\x1b[" not in done.stdout  # no colour into a pipe


def test_json(workdir: Path) -> None:
    done = run(workdir, "check", "--isolated", "deploy", "--format", "json")
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert [f["rule"] for f in data["findings"]] == ["K004", "K003"]
    assert data["findings"][0]["source"] == "collector/templates/deployment.yaml"


def test_sarif(workdir: Path) -> None:
    done = run(workdir, "check", "--isolated", "deploy", "--format", "sarif")
    assert done.returncode == 1, done.stderr
    run_ = json.loads(done.stdout)["runs"][0]
    assert [r["ruleId"] for r in run_["results"]] == ["K004", "K003"]
    artifact = run_["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": "deploy/collector.yaml", "uriBaseId": "%SRCROOT%"}


def test_junit(workdir: Path) -> None:
    done = run(workdir, "check", "--isolated", "deploy", "--format", "junit")
    assert done.returncode == 1, done.stderr
    root = ET.fromstring(done.stdout.encode("utf-8"))
    cases = {case.get("name"): case for case in root.iter("testcase")}
    case = cases["Deployment/observability/otel-collector"]
    assert case.find("failure") is not None
    assert cases["KubeletConfiguration/<unnamed>"].find("failure") is None


def test_github_chosen_in_github_actions(workdir: Path) -> None:
    done = run(workdir, "check", "--isolated", "deploy", GITHUB_ACTIONS="true")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert re.match(r"^::error file=deploy/collector\.yaml,line=14,col=41,title=K004 ", lines[0])
    assert lines[1].startswith("::notice file=deploy/collector.yaml,line=16,col=32,")


def test_helm_stream_to_two_files_and_stdout(workdir: Path) -> None:
    done = run(
        workdir,
        "check", "--isolated", "-",
        "--format", "json", "--output", "a.json",
        "--format", "sarif", "--output", "b.sarif",
        "--format", "github",
        stdin=MANIFEST,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert json.loads((workdir / "a.json").read_text(encoding="utf-8"))["findings"]
    assert json.loads((workdir / "b.sarif").read_text(encoding="utf-8"))["runs"][0]["results"]
    assert done.stdout.startswith("::error file=-,line=14,")


def test_usage_error_exits_2(workdir: Path) -> None:
    done = run(workdir, "check", "deploy", "--format", "json", "--format", "sarif")
    assert done.returncode == 2 and "only one report can go to stdout" in done.stderr


FLAGGER_BASE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: flagger
spec:
  selector:
    matchLabels: {app: flagger}
  template:
    metadata:
      labels: {app: flagger}
    spec:
      containers:
        - name: flagger
          image: ghcr.io/fluxcd/flagger:1.44.0
          args: [-log-level=info]
          resources:
            limits: {memory: 512Mi, cpu: 1000m}
            requests: {memory: 32Mi, cpu: 10m}
"""

# the shape of fluxcd/flagger's kustomize/istio/patch.yaml: only what the overlay changes
FLAGGER_PATCH = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: flagger
spec:
  template:
    spec:
      containers:
        - name: flagger
          args:
            - -log-level=info
            - -mesh-provider=istio
            - -metrics-server=http://prometheus:9090
"""


def test_kustomize_patches_are_not_judged_as_objects_of_their_own(tmp_path: Path) -> None:
    """A strategic-merge patch leaves out what its base sets: its "missing" limit is not."""
    base = tmp_path / "kustomize" / "base" / "flagger"
    istio = tmp_path / "kustomize" / "istio"
    linkerd = tmp_path / "kustomize" / "linkerd"
    for d in (base, istio, linkerd):
        d.mkdir(parents=True)
    (base / "kustomization.yaml").write_text("resources: [deployment.yaml]\n")
    (base / "deployment.yaml").write_text(FLAGGER_BASE)
    (istio / "kustomization.yaml").write_text(
        "namespace: istio-system\nbases: [../base/flagger/]\npatchesStrategicMerge: [patch.yaml]\n"
    )
    (istio / "patch.yaml").write_text(FLAGGER_PATCH)
    (linkerd / "kustomization.yaml").write_text(
        "resources: [../base/flagger/]\npatches:\n  - path: patch.yaml\n"
        "    target: {kind: Deployment, name: flagger}\n"
    )
    (linkerd / "patch.yaml").write_text(FLAGGER_PATCH)
    good = run(tmp_path, "check", "--isolated", "--select", "K001", "kustomize")
    assert good.returncode == 0, good.stderr
    assert good.stdout.startswith("All checks passed (3 documents in 6 files"), good.stdout

    # a base without a limit is reported once, at the base the owner edits
    (base / "deployment.yaml").write_text(FLAGGER_BASE.replace("memory: 512Mi, ", ""))
    bad = run(tmp_path, "check", "--isolated", "--select", "K001", "-q", "kustomize")
    assert bad.returncode == 1, bad.stderr
    assert [line.split(":")[0] for line in bad.stdout.splitlines()] == [
        "kustomize/base/flagger/deployment.yaml"
    ]
    # a file another kustomization deploys as a resource is a whole object: linted
    whole = tmp_path / "kustomize" / "whole"
    whole.mkdir()
    (whole / "kustomization.yaml").write_text("resources: [../istio/patch.yaml]\n")
    both = run(tmp_path, "check", "--isolated", "--select", "K001", "-q", "kustomize")
    assert [line.split(":")[0] for line in both.stdout.splitlines()] == [
        "kustomize/base/flagger/deployment.yaml",
        "kustomize/istio/patch.yaml",
    ], both.stderr
    # a broken patch breaks `kustomize build`: still reported
    (linkerd / "patch.yaml").write_text(
        FLAGGER_PATCH.replace("  name: flagger\n", "  name: a\n  name: b\n")
    )
    broken = run(tmp_path, "check", "--isolated", "-q", "kustomize/linkerd")
    assert broken.returncode == 1, broken.stderr
    assert broken.stdout.startswith("kustomize/linkerd/patch.yaml:5:3: M002"), broken.stdout
    # named on the command line, a patch is linted as asked
    named = run(tmp_path, "check", "--isolated", "--select", "K001", "kustomize/istio/patch.yaml")
    assert named.returncode == 1, named.stderr
