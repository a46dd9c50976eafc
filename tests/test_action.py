"""The GitHub Action (``action.yml``): a composite whose shell steps run here
as the runner would run them, with the inputs substituted."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_cli_installed import MANIFEST, console_script

from conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
_EXPRESSION = re.compile(r"\$\{\{\s*([a-z]+)\.([a-z-]+)\s*\}\}")


def _inputs(**given: str) -> dict[str, str]:
    values = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    values.update(given)
    return values


def _substitute(text: str, inputs: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        context, name = match.groups()
        if context == "inputs":
            return inputs[name]
        assert (context, name) == ("github", "action_path"), match[0]
        return str(ROOT)

    return _EXPRESSION.sub(value, text)


def _step(name: str) -> dict[str, Any]:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


def _run_step(step: dict[str, Any], inputs: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """Run a shell step as the runner does: bash -eo pipefail, env substituted,
    GITHUB_OUTPUT a file; returns the exit code, stdout and the outputs file."""
    assert step["shell"] == "bash"
    outputs = cwd / "github_output"
    outputs.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    env.update({k: _substitute(str(v), inputs) for k, v in step.get("env", {}).items()})
    env["GITHUB_OUTPUT"] = str(outputs)
    # the console script this suite tests stands in for the one pip installs
    env["PATH"] = str(Path(console_script()).parent) + os.pathsep + env.get("PATH", "")
    script = cwd / "step.sh"
    script.write_text(_substitute(step["run"], inputs))
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return done.returncode, done.stdout, outputs.read_text()


def test_the_action_is_a_composite_that_installs_this_checkout() -> None:
    assert ACTION["runs"]["using"] == "composite"
    steps = ACTION["runs"]["steps"]
    assert steps[0]["uses"].startswith("actions/setup-python@")
    install = _step("Install meshlint")
    assert install["env"]["MESHLINT_SOURCE"] == "${{ github.action_path }}"
    assert '"$MESHLINT_SOURCE"' in install["run"]
    upload = _step("Upload SARIF")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert ACTION["inputs"]["upload-sarif"]["default"] == "true"  # on unless turned off


@pytest.mark.slow  # an untrusted-input scenario: pip starts and fails
def test_the_install_step_runs_no_module_of_the_checkout(tmp_path: Path) -> None:
    """The steps run in the pull request's checkout: a ``pip/`` package committed
    at its root must not run in place of pip (the install fails here, at a
    source that does not exist, before it could change this environment)."""
    marker = tmp_path / "PLANTED"
    (tmp_path / "pip").mkdir()
    (tmp_path / "pip" / "__init__.py").write_text("")
    (tmp_path / "pip" / "__main__.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    install = dict(_step("Install meshlint"))
    install["env"] = {**install["env"], "MESHLINT_SOURCE": str(tmp_path / "no-such-source")}
    code, _, _ = _run_step(install, _inputs(), tmp_path)
    assert code != 0 and not marker.exists()


def test_the_check_step_annotates_and_writes_sarif(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "collector.yaml").write_text(MANIFEST, encoding="utf-8")
    (tmp_path / "elsewhere.yaml").write_text(MANIFEST, encoding="utf-8")
    inputs = _inputs(paths="deploy", args="--select K004 --fail-on error")
    code, stdout, outputs = _run_step(_step("Run meshlint"), inputs, tmp_path)
    assert code == 1
    assert "exit-code=1" in outputs.splitlines()
    assert stdout.startswith("::error file=deploy/collector.yaml,line=14,col=41,")
    assert "elsewhere.yaml" not in stdout  # only the paths asked for
    sarif = json.loads((tmp_path / "meshlint.sarif").read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["K004"]


def test_the_check_step_passes_on_a_clean_tree(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")
    code, stdout, outputs = _run_step(
        _step("Run meshlint"), _inputs(**{"sarif-file": "out/r.sarif"}), tmp_path
    )
    assert code == 2  # the report's directory does not exist: an error, never a pass
    (tmp_path / "out").mkdir()
    code, stdout, outputs = _run_step(
        _step("Run meshlint"), _inputs(**{"sarif-file": "out/r.sarif"}), tmp_path
    )
    assert code == 0 and stdout == ""
    assert "exit-code=0" in outputs.splitlines()
    assert json.loads((tmp_path / "out" / "r.sarif").read_text())["runs"][0]["results"] == []


def test_paths_are_one_per_line_and_never_options(tmp_path: Path) -> None:
    """A changed-files list is the pull request's: a file named like an option
    is a path (issue #29), and a name with blanks stays one path."""
    (tmp_path / "bad.yaml --fail-on=never").write_text(MANIFEST, encoding="utf-8")
    (tmp_path / "-rf.yaml").write_text(MANIFEST, encoding="utf-8")
    inputs = _inputs(paths="bad.yaml --fail-on=never\n-rf.yaml\n", args="--select K004")
    code, stdout, outputs = _run_step(_step("Run meshlint"), inputs, tmp_path)
    assert code == 1, stdout
    assert "exit-code=1" in outputs.splitlines()
    files = sorted(line.split("file=", 1)[1].split(",", 1)[0] for line in stdout.splitlines())
    assert files == ["-rf.yaml", "bad.yaml --fail-on=never"]
    # a name with no file behind it is an error (exit 2), never an option
    inputs = _inputs(paths="--fail-on=never", args="--select K004")
    code, stdout, outputs = _run_step(_step("Run meshlint"), inputs, tmp_path)
    assert code == 2 and "exit-code=2" in outputs.splitlines()
