"""Issue #29: one writer for every write (--fix, reports, baselines): owner and
mode kept, no link followed, hard links refused with a message, a file changed
while linting left alone, no temporary file left behind by a signal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_cli_installed import console_script

PLUGINS = Path(__file__).parent / "fixtures" / "plugins"
UNUSED = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}  # meshlint: ignore[K0]\n"
FIXED = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}\n"
POD = """\
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers:
    - name: app
      image: shop/app:1.4.2
"""


def _meshlint(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **env},
        timeout=120,
        check=False,
    )


def _temporaries(root: Path) -> list[str]:
    return [str(p) for p in root.rglob(".meshlint-*")]


def test_a_fix_keeps_the_files_mode_and_owner(tmp_path: Path) -> None:
    target = tmp_path / "c.yaml"
    target.write_text(UNUSED)
    os.chmod(target, 0o640)
    if os.geteuid() == 0:
        os.chown(target, 65534, 65534)
    run = _meshlint(tmp_path, "check", "--isolated", "--fix", "c.yaml")
    assert run.returncode == 0, run.stderr
    assert target.read_text() == FIXED
    info = target.stat()
    assert info.st_mode & 0o777 == 0o640
    if os.geteuid() == 0:
        assert (info.st_uid, info.st_gid) == (65534, 65534)


def test_a_hard_linked_file_is_refused_with_a_message(tmp_path: Path) -> None:
    target = tmp_path / "c.yaml"
    target.write_text(UNUSED)
    os.link(target, tmp_path / "other-name.txt")
    run = _meshlint(tmp_path, "check", "--isolated", "--fix", "c.yaml")
    assert "c.yaml: not fixed: has 2 hard links; replacing it would part them" in run.stderr
    assert target.read_text() == UNUSED and (tmp_path / "other-name.txt").read_text() == UNUSED
    assert "Fixed" not in run.stdout and run.returncode == 1


def test_fix_does_not_write_through_a_directory_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "c.yaml").write_text(UNUSED)
    (tmp_path / "repo").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "repo" / "linked")
    run = _meshlint(tmp_path / "repo", "check", "--isolated", "--fix", "--follow-links", "linked")
    assert "not fixed: is reached through a symbolic link" in run.stderr
    assert (tmp_path / "real" / "c.yaml").read_text() == UNUSED


def test_a_file_saved_while_linting_is_not_overwritten(tmp_path: Path) -> None:
    """The repro: an editor saves the file while --fix is still linting."""
    (tmp_path / ".meshlint.yaml").write_text("plugins: [editor_plugin]\n")
    (tmp_path / "victim.yaml").write_text(UNUSED)
    plugins = str(PLUGINS)
    run = _meshlint(tmp_path, "check", "--fix", "-j", "1", "victim.yaml", PYTHONPATH=plugins)
    assert "victim.yaml: not fixed: changed since it was read" in run.stderr, run.stderr
    assert "{name: saved}" in (tmp_path / "victim.yaml").read_text()
    assert "Fixed" not in run.stdout


def test_prune_baseline_keeps_a_symlinked_baseline(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "app.yaml").write_text(POD)
    (tmp_path / "ci").mkdir()
    run = _meshlint(
        tmp_path, "check", "--isolated", "deploy", "--write-baseline", "ci/baseline.json"
    )
    assert run.returncode == 0, run.stderr
    os.symlink("ci/baseline.json", tmp_path / "baseline.json")
    (tmp_path / "deploy" / "app.yaml").write_text(POD.replace("kind: Pod", "kind: Secret"))
    before = (tmp_path / "ci" / "baseline.json").read_text()
    run = _meshlint(
        tmp_path, "check", "--isolated", "deploy", "--baseline", "baseline.json", "--prune-baseline"
    )
    assert run.returncode == 2
    assert "meshlint: error: baseline.json: is a symbolic link" in run.stderr
    assert (tmp_path / "baseline.json").is_symlink()
    assert (tmp_path / "ci" / "baseline.json").read_text() == before
    # named as the file it is, it is pruned
    run = _meshlint(
        tmp_path, "check", "--isolated", "deploy", "--baseline", "ci/baseline.json",
        "--prune-baseline",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads((tmp_path / "ci" / "baseline.json").read_text())["findings"] == []


def test_a_report_with_hard_links_is_refused(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(POD)
    (tmp_path / "report.json").write_text("{}")
    os.link(tmp_path / "report.json", tmp_path / "elsewhere.json")
    run = _meshlint(
        tmp_path, "check", "--isolated", "app.yaml", "--format", "json", "-o", "report.json"
    )
    assert run.returncode == 2
    assert "report.json: has 2 hard links" in run.stderr
    assert (tmp_path / "elsewhere.json").read_text() == "{}"


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_fix_leaves_no_temporary_file(tmp_path: Path, sig: int) -> None:
    """18 trials per signal at spread delays: the writes hold the signal until
    their temporary file is renamed or removed."""
    for trial in range(18):
        tree = tmp_path / f"t{trial}"
        tree.mkdir()
        for n in range(150):
            (tree / f"c{n:03}.yaml").write_text(UNUSED + "x" * 40_000 + ": 1\n")
        process = subprocess.Popen(
            [console_script(), "check", "--isolated", "--fix", "-j", "1", "."],
            cwd=tree,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5 + trial * 0.15)
        process.send_signal(sig)
        process.communicate(timeout=120)
        assert _temporaries(tree) == []
        for n in range(150):
            text = (tree / f"c{n:03}.yaml").read_text()
            assert text in (UNUSED + "x" * 40_000 + ": 1\n", FIXED + "x" * 40_000 + ": 1\n")
