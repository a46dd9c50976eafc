"""Hostile input: every file ends as findings or one clear line, fast, and never
runs anything. Each case is a file in one directory linted in one run, so the
rest of the run is shown to be unaffected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from meshlint.cli import main
from meshlint.core.model.nodes import MAX_DEPTH, TOO_DEEP

SHAPES = """\
apiVersion: apps/v1
kind: Deployment
metadata: [a, b]
spec:
  template:
    metadata: {annotations: [x], labels: 5}
    spec:
      containers: {name: app}
      initContainers: null
---
apiVersion: v1
kind: Pod
metadata: {name: p, annotations: {meshlint.io/ignore: [K001]}}
spec:
  containers:
    - name: a
      env: {GOMEMLIMIT: 400Mi}
      resources: [limits, memory]
    - null
    - 42
    - name: [x]
      image: {a: b}
      args: {x: y}
      command: "sh -c"
      env: [null, 5, {name: GOMEMLIMIT}, {name: GOMEMLIMIT, value: {a: 1}}, {name: GOMEMLIMIT, valueFrom: [1]}]
      resources: {limits: [1], requests: {memory: {a: 1}, cpu: [2]}}
    - name: q
      resources: {limits: {memory: 99999999999999999999999999Ei, cpu: -5Gi}, requests: {memory: 1e308}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec: {jobTemplate: {spec: {template: {spec: {containers: null}}}}}
---
apiVersion: v1
kind: 5
---
apiVersion: [v1]
kind: Pod
---
42
---
[1, 2]
"""

OK = "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec:\n  containers: [{name: a, image: x}]\n"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    (tmp_path / "shapes.yaml").write_text(SHAPES)
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "dashes.yaml").write_text("---\n---\n---\n")
    (tmp_path / "binary.yaml").write_bytes(bytes(range(256)) * 10)
    (tmp_path / "nul.yaml").write_bytes(b"apiVersion: v1\nkind: ConfigMap\x00\n")
    (tmp_path / "python.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"
        f"data: !!python/object/apply:os.system ['touch {tmp_path}/pwned']\n"
    )
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 50_000 + "]" * 50_000)
    lol = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n" + "".join(
        f"{chr(97 + i)}: &{chr(97 + i)} [{','.join([f'*{chr(96 + i)}'] * 9)}]\n"
        for i in range(1, 10)
    )
    (tmp_path / "bomb.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n" + lol
    )
    (tmp_path / "ok.yaml").write_text(OK)
    os.symlink(".", tmp_path / "loop")
    return tmp_path


def test_hostile_files_end_as_findings_and_the_rest_is_linted(
    hostile: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(hostile)
    result = CliRunner().invoke(main, ["check", ".", "--no-color", "-q", "-j", "1"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    lines = result.output.splitlines()
    # bytes 0x0a and 0x0d both end a line, as YAML counts them
    assert any(line.startswith("binary.yaml:3:") and "M001" in line for line in lines)
    assert any(line.startswith("nul.yaml:2:16: M001") for line in lines)
    # too deep to read, and no manifest in it: a walk skips it, named it is M001
    assert not [line for line in lines if line.startswith("deep.yaml:")]
    named = CliRunner().invoke(main, ["check", "deep.yaml", "--no-color", "-q", "-j", "1"])
    deep = [line for line in named.output.splitlines() if line.startswith("deep.yaml:")]
    assert len(deep) == 1 and deep[0].startswith("deep.yaml:1:") and TOO_DEEP in deep[0]
    assert any(line.startswith("ok.yaml:5:16: K001") for line in lines)
    assert any("-5Gi' is negative" in line for line in lines)
    assert not (hostile / "pwned").exists()
    assert all(line.count(":") >= 3 for line in lines)  # every line is file:line:col: ...


def _flow(levels: int) -> str:
    return (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: " + "[" * levels + "]" * levels
    )


def _flow_map(levels: int) -> str:
    return "apiVersion: v1\nkind: ConfigMap\ndata: " + "{a: " * levels + "1" + "}" * levels


def _block(levels: int) -> str:
    return "apiVersion: v1\nkind: ConfigMap\ndata:\n" + "".join(
        "  " * (i + 1) + f"k{i}:\n" for i in range(levels)
    )


def _block_sequence(levels: int) -> str:
    return "apiVersion: v1\nkind: ConfigMap\ndata:\n" + "".join(
        "  " * (i + 1) + "-\n" for i in range(levels)
    )


# Block nesting grows the text quadratically: 1,500 levels are past every limit.
NESTINGS = [
    (shape, levels)
    for shape in (_flow, _flow_map, _block, _block_sequence)
    for levels in (MAX_DEPTH - 10, MAX_DEPTH + 200, 1_500, 60_000)
    if levels < 2_000 or shape in (_flow, _flow_map)
]


@pytest.mark.parametrize(("shape", "levels"), NESTINGS)
def test_deep_nesting_is_one_finding_in_meshlints_words(
    tmp_path: Path, shape: Any, levels: int
) -> None:
    """Whichever layer stops the document (libyaml's own limit in PyYAML 6.0.4,
    the event pre-check, the converter, Python's stack), the user reads one
    M001 with one wording, and the next file is still linted."""
    (tmp_path / "deep.yaml").write_text(shape(levels))
    (tmp_path / "ok.yaml").write_text(OK)
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--no-color", "-q", "-j", "1"])
    assert "Traceback" not in result.output and "internal error" not in result.output
    deep = [line for line in result.output.splitlines() if "deep.yaml:" in line]
    if levels <= MAX_DEPTH:
        assert deep == [], result.output  # deep but linted: a ConfigMap has nothing to find
    else:
        assert len(deep) == 1 and ": M001 " in deep[0] and TOO_DEEP in deep[0], result.output
    assert "ok.yaml:5:16: K001" in result.output


@pytest.mark.slow  # a stress size; tests/stress.py holds the larger ones
def test_thirty_megabyte_document_lints(tmp_path: Path) -> None:
    rows = "".join(f'  k{i}: "{"x" * 200}"\n' for i in range(140_000))
    big = tmp_path / "big.yaml"
    big.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n" + rows)
    assert big.stat().st_size > 28_000_000
    result = CliRunner().invoke(main, ["check", str(big), "-q"])
    assert result.exit_code == 0 and result.output == ""


def test_unreadable_entries_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(OK)
    os.symlink(tmp_path / "missing.yaml", tmp_path / "dangling.yaml")
    os.mkfifo(tmp_path / "pipe.yaml")
    result = CliRunner().invoke(main, ["check", str(tmp_path), str(tmp_path / "pipe.yaml"), "-q"])
    assert result.exit_code == 2
    assert "dangling.yaml: broken symbolic link" in result.output
    assert "pipe.yaml: not a regular file" in result.output
    assert "ok.yaml:5:16: K001" in result.output  # the rest of the run is unaffected


def test_config_plugins_never_import_from_the_working_tree(tmp_path: Path) -> None:
    (tmp_path / "evil.py").write_text(f"open({str(tmp_path / 'pwned')!r}, 'w').close()\n")
    (tmp_path / ".meshlint.yaml").write_text("plugins: [evil]\n")
    (tmp_path / "ok.yaml").write_text(OK)
    run = subprocess.run(
        [sys.executable, "-m", "meshlint", "check", "ok.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2 and "plugin module 'evil' failed to import" in run.stderr
    assert "K001" in run.stdout  # a refused plugin is one error; the built-in rules still run
    assert not (tmp_path / "pwned").exists()
    safe = subprocess.run(
        [sys.executable, "-m", "meshlint", "check", "ok.yaml", "--no-plugins", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert safe.returncode == 1 and "K001" in safe.stdout


COLLECTION_KEYS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: keys}
data:
  ? !!str [tagged]
  : a
  ? [twice]
  : b
  ? [twice]
  : c
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  ? !!str {tagged: key}
  : d
"""


def test_collection_keys_are_keyed_by_their_text_and_never_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a collection key tagged !!str once ended the run ("unhashable type"), and a
    # repeated collection key was named by libyaml's node objects
    (tmp_path / "keys.yaml").write_text(COLLECTION_KEYS)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "keys.yaml", "--no-color", "-q", "-j", "1"])
    assert "internal error" not in result.output, result.output
    lines = result.output.splitlines()
    assert lines == [
        "keys.yaml:9:5: M002 [error] duplicate-key  duplicate key \"['twice']\": kubectl "
        "(apply, create, apply --server-side) and Helm keep only the last value, dropping "
        "the others before the request; kustomize (kubectl -k) refuses the file"
    ], lines
