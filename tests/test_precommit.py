"""The pre-commit hook through the real pre-commit framework, end to end.

``pre-commit try-repo <this checkout> meshlint`` builds the hook's environment
from this repository (a local path: no clone from the network) and runs it on
the files of a throw-away git repository. Skips when git or pre-commit is
missing, or when the hook's environment cannot be installed (no package index).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

# builds the hook's environment with pre-commit: minutes; CI runs it (pytest -m slow)
pytestmark = pytest.mark.slow

BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: otel-collector
spec:
  template:
    spec:
      containers:
        - name: otel-collector
          image: otel/opentelemetry-collector-contrib:0.115.0
          env:
            - {name: GOMEMLIMIT, value: 400Mi}
          resources:
            requests: {memory: 512Mi}
            limits: {memory: 512Mi}
"""

GOOD = BAD.replace("400Mi}", "409MiB}")


def _pre_commit() -> list[str]:
    beside = Path(sys.executable).parent / "pre-commit"
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("pre-commit")
    if found is None:
        pytest.skip("pre-commit is not installed")
    return [found]


def test_the_hook_definition_is_what_pre_commit_expects() -> None:
    hook, fix, charts = yaml.safe_load(
        (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    )
    assert hook["id"] == "meshlint" and hook["language"] == "python"
    # "--" last: the staged file names pre-commit appends are paths, never options
    assert hook["entry"] == "meshlint check --"
    assert fix["id"] == "meshlint-fix" and fix["entry"] == "meshlint check --fix --"
    for each in (hook, fix):
        assert each["types_or"] == ["yaml", "json"] and each["require_serial"] is True
    # both hooks see the same files: a chart commit passes both or neither
    assert fix["exclude"] == hook["exclude"]
    # charts: templates and helpers reach meshlint, which renders their chart
    assert charts["id"] == "meshlint-charts" and charts["entry"] == "meshlint check --"
    assert charts["additional_dependencies"] == ["helm-python-sdk>=0.2.2"]
    assert charts["require_serial"] is True and "exclude" not in charts


def test_pre_commit_runs_the_hook_on_staged_manifests(tmp_path: Path) -> None:
    pre_commit = _pre_commit()
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))}
    env.update(
        PRE_COMMIT_HOME=str(tmp_path / "cache"),
        HOME=str(tmp_path),  # no user git config or hooks leak in
        GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
        GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com",
    )  # fmt: skip

    def sh(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=repo, env=env, capture_output=True, text=True, timeout=600, check=False
        )

    assert sh(git, "init", "-q").returncode == 0
    (repo / "collector.yaml").write_text(BAD, encoding="utf-8")
    (repo / "good.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "README.md").write_text("not a manifest\n", encoding="utf-8")
    # a chart template: the hook's default exclude keeps Go text away from the linter
    (repo / "charts" / "shop" / "templates").mkdir(parents=True)
    (repo / "charts" / "shop" / "Chart.yaml").write_text(
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n"
    )
    (repo / "charts" / "shop" / "templates" / "deployment.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n"
    )
    # a file the config excludes: pre-commit names it, the exclude still holds
    (repo / ".meshlint.yaml").write_text('exclude: ["legacy/**"]\n', encoding="utf-8")
    (repo / "legacy").mkdir()
    (repo / "legacy" / "old.yaml").write_text(BAD, encoding="utf-8")
    assert sh(git, "add", ".").returncode == 0

    failing = sh(*pre_commit, "try-repo", str(ROOT), "meshlint", "--files",
                 "collector.yaml", "good.yaml", "README.md", "legacy/old.yaml",
                 "charts/shop/templates/deployment.yaml")  # fmt: skip
    output = failing.stdout + failing.stderr
    if failing.returncode == 3:  # pre-commit's own failure: the environment did not install
        pytest.skip(f"pre-commit could not install the hook environment:\n{output[-2000:]}")
    assert failing.returncode == 1, output
    assert "meshlint" in output and "Failed" in output
    assert "collector.yaml:12:41: K004 [error] gomemlimit-invalid" in output
    # Only the one finding: good.yaml is clean and README.md is not passed to the hook.
    assert "Found 1 finding (1 error) in 2 documents in 2 files." in output

    (repo / "collector.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "legacy" / "old.yaml").write_text(GOOD, encoding="utf-8")
    passing = sh(*pre_commit, "try-repo", str(ROOT), "meshlint", "--all-files")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout

    # A committed file named like an option is linted, never obeyed: it cannot turn
    # the failing hook into Passed, nor point the report at package.json.
    (repo / "collector.yaml").write_text(BAD, encoding="utf-8")
    (repo / "package.json").write_text('{"name": "shop"}\n', encoding="utf-8")
    (repo / "--exclude=*.yaml").write_text(GOOD, encoding="utf-8")
    (repo / "--output=package.json").write_text(GOOD, encoding="utf-8")
    assert sh(git, "add", "--", ".").returncode == 0
    named = sh(*pre_commit, "try-repo", str(ROOT), "meshlint", "--all-files")
    output = named.stdout + named.stderr
    assert named.returncode == 1 and "Failed" in output, output
    assert "collector.yaml:12:41: K004 [error] gomemlimit-invalid" in output
    assert (repo / "package.json").read_text(encoding="utf-8") == '{"name": "shop"}\n'

    # meshlint-fix repairs the file; pre-commit fails a hook that modified files
    (repo / "collector.yaml").write_text(BAD, encoding="utf-8")
    fixed = sh(*pre_commit, "try-repo", str(ROOT), "meshlint-fix", "--files", "collector.yaml",
               "charts/shop/templates/deployment.yaml")  # fmt: skip
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "files were modified by this hook" in fixed.stdout
    assert "Fixed 1; All checks passed" in fixed.stdout
    assert "M005" not in fixed.stdout  # the chart template is not handed to the fix hook
    assert (repo / "collector.yaml").read_text(encoding="utf-8") == BAD.replace("400Mi}", "400MiB}")
