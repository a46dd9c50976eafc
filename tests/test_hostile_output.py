"""Everything meshlint prints besides a report goes through one escaper, and every
way the process can end says why (issue #29 "Forged output", "Hangs and aborts";
issue #28 "Reliability"): through the installed console script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli_installed import console_script
from test_untrusted import POD, run_installed

from conftest import FIXTURES

# a name (or a committed baseline entry) that would start a line of its own: a
# GitHub workflow command, and an escape sequence for the terminal
FORGED = "x\n::error file=f::X\x1b[2J"
GOMEMLIMIT = """\
apiVersion: v1
kind: Pod
metadata: {name: collector, namespace: obs}
spec:
  containers:
    - name: otelcol
      image: otel/opentelemetry-collector:0.115.0
      env: [{name: GOMEMLIMIT, value: 400Mi}]
      resources: {limits: {memory: 512Mi}}
"""  # K004 with an unsafe fix (400Mi -> 400MiB)


def _forged(text: str) -> list[str]:
    """Lines a runner would read as commands, and raw escapes."""
    bad = [line for line in text.splitlines() if line.lstrip().startswith(("::", "##"))]
    return bad + (["ESC"] if "\x1b" in text else [])


def test_diff_headers_and_show_files_escape_file_names(tmp_path: Path) -> None:
    (tmp_path / f"{FORGED}.yaml").write_text(GOMEMLIMIT)
    (tmp_path / "::warning::forged.yaml").write_text(POD)
    diff = run_installed(tmp_path, "check", "--isolated", "--diff", "--unsafe-fixes", ".")
    assert diff.returncode == 1, diff.stderr
    assert _forged(diff.stdout + diff.stderr) == []
    assert "--- a/x\\n::error file=f::X\\e[2J.yaml" in diff.stdout
    shown = run_installed(tmp_path, "check", "--isolated", "--show-files", ".")
    assert shown.returncode == 0, shown.stderr
    assert _forged(shown.stdout) == []
    assert "x\\n::error file=f::X\\e[2J.yaml" in shown.stdout.splitlines()
    assert "./::warning::forged.yaml" in shown.stdout.splitlines()


def test_show_settings_escapes_what_the_config_says(tmp_path: Path) -> None:
    (tmp_path / ".meshlint.yaml").write_text(f"exclude: [{json.dumps(FORGED)}]\n")
    (tmp_path / "pod.yaml").write_text(POD)
    shown = run_installed(tmp_path, "check", "--show-settings")
    assert shown.returncode == 0, shown.stderr
    assert _forged(shown.stdout) == []
    assert "x\\n::error file=f::X\\e[2J" in shown.stdout


def test_stale_baseline_entries_are_escaped(tmp_path: Path) -> None:
    (tmp_path / "pod.yaml").write_text(POD)
    entry = {"rule": "K001", "file": "pod.yaml", "path": "$", "count": 1}
    baseline = {
        "version": 1,
        "findings": [
            {**entry, "resource": "Pod/app\n::error file=a::forged\x1b[31m"},
            {**entry, "resource": "Pod/app", "path": "\n  ::error file=b::forged"},
        ],
    }
    (tmp_path / "baseline.json").write_text(json.dumps(baseline))
    done = run_installed(tmp_path, "check", "--isolated", "pod.yaml", "--baseline", "baseline.json")
    assert "baseline entries match no finding" in done.stderr
    assert _forged(done.stdout + done.stderr) == []
    assert "Pod/app\\n::error file=a::forged\\e[31m" in done.stderr


def test_fix_notes_and_errors_are_escaped(tmp_path: Path) -> None:
    """A note names the file it could not fix; an error the file it could not read."""
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / f"{FORGED}.yaml").write_text(GOMEMLIMIT)
    (tmp_path / "deploy" / f"{FORGED}.yaml").chmod(0o444)
    (tmp_path / f"{FORGED}-missing.yaml").mkdir()  # named on the command line: not a file
    os.mkfifo(tmp_path / f"{FORGED}.fifo.yaml")
    for flags in (["--fix-only", "--unsafe-fixes"], ["--diff", "--unsafe-fixes"]):
        done = run_installed(
            tmp_path, "check", "--isolated", *flags, "deploy", f"{FORGED}.fifo.yaml"
        )
        assert done.returncode == 2, done.stderr
        assert "error:" in done.stderr
        assert _forged(done.stdout + done.stderr) == []


@pytest.mark.slow  # builds and installs a package / many console-script runs
def test_version_and_listings_to_a_full_disk_or_a_closed_stdout(tmp_path: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    (tmp_path / "collector.yaml").write_text(GOMEMLIMIT)
    commands = [
        ["--version"],
        ["check", "--isolated", "--show-settings"],
        ["check", "--isolated", "--show-files", "."],
        ["check", "--isolated", "--diff", "--unsafe-fixes", "."],
    ]
    for args in commands:
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                [console_script(), *args], cwd=tmp_path, stdout=full, stderr=subprocess.PIPE,
                text=True, timeout=120, check=False,
            )  # fmt: skip
        assert (done.returncode, done.stderr) == (
            2,
            "meshlint: error: cannot write the report to stdout: No space left on device\n",
        ), args
        closed = subprocess.run(
            [console_script(), *args], cwd=tmp_path, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, timeout=120, check=False,
            preexec_fn=lambda: os.close(1),
        )  # fmt: skip
        assert (closed.returncode, closed.stderr) == (
            2,
            "meshlint: error: cannot write the report: stdout is closed\n",
        ), args


def _catches_sigterm(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as handle:
            caught = next(line for line in handle if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return bool(int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_sigterm_to_the_process_group_says_terminated(tmp_path: Path, jobs: str) -> None:
    """A CI runner cancelling a job sends SIGTERM to the whole process group."""
    drain = (FIXTURES / "sidecar-drain-missing" / "bad.yaml").read_text()
    for number in range(60):
        (tmp_path / f"f{number}.yaml").write_text((drain + "\n---\n") * 10)
    process = subprocess.Popen(
        [console_script(), "check", "--isolated", ".", "-j", jobs, "-q"],
        cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    # the signal is sent once meshlint handles it (before that, Python's start-up
    # and imports: the default action, as for any program)
    deadline = time.monotonic() + 60
    while not _catches_sigterm(process.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    if process.poll() is not None:
        pytest.skip("the run ended before the signal could be sent")
    os.killpg(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert (process.returncode, err.decode()) == (143, "meshlint: terminated\n")


def test_stdin_that_never_ends_is_refused(tmp_path: Path) -> None:
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            [console_script(), "check", "--isolated", "-"], cwd=tmp_path, stdin=zero,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 2
    assert "meshlint: error: -: standard input larger than 256 MiB" in done.stderr
    assert "internal error" not in done.stderr


def test_the_built_in_rules_as_a_config_plugin_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / ".meshlint.yaml").write_text("plugins: [meshlint.rules]\n")
    (tmp_path / "pod.yaml").write_text(POD)
    done = run_installed(tmp_path, "check", "pod.yaml")
    assert done.returncode == 2
    assert done.stderr.endswith(
        "plugins[0]: plugin module 'meshlint.rules' is already loaded as plugin 'builtin': "
        "remove it from plugins\n"
    )
    assert len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("kind", ["fifo", "directory", "link to /dev/zero"])
def test_a_config_that_is_not_a_regular_file_is_not_skipped(tmp_path: Path, kind: str) -> None:
    config = tmp_path / ".meshlint.yaml"
    if kind == "fifo":
        os.mkfifo(config)
    elif kind == "directory":
        config.mkdir()
    else:
        config.symlink_to("/dev/zero")
    (tmp_path / "pod.yaml").write_text(POD)
    done = run_installed(tmp_path, "check", "pod.yaml")
    assert done.returncode == 2, done.stdout
    assert done.stderr.startswith(f"meshlint: error: {config}:1:1: ")
    assert len(done.stderr.splitlines()) == 1


def test_a_name_that_is_not_utf8_round_trips_through_json_and_the_baseline(
    tmp_path: Path,
) -> None:
    name = os.fsencode(tmp_path) + b"/bad\xff.yaml"
    with open(name, "wb") as handle:
        handle.write(POD.encode())
    report = run_installed(tmp_path, "check", "--isolated", ".", "--format", "json")
    raw = report.stdout.encode("utf-8", "surrogateescape")
    raw.decode("utf-8")  # valid UTF-8 ...
    assert "\\ud" not in report.stdout  # ... with no lone surrogate escaped in it
    assert [f["file"] for f in json.loads(raw)["findings"]] == ["bad\\xff.yaml"]
    written = run_installed(tmp_path, "check", "--isolated", ".", "--write-baseline", "b.json")
    assert written.returncode == 0, written.stderr
    again = run_installed(tmp_path, "check", "--isolated", ".", "--baseline", "b.json")
    assert again.returncode == 0, again.stdout + again.stderr  # no M001 for b.json
    assert "1 accepted by the baseline" in again.stdout
