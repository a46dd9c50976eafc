"""The config and the baseline are regular files of bounded size (issue #18,
item 4): a device, a FIFO or a huge file is one clear error, at once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from stress import OK

import meshlint.core.baseline
from conftest import run_meshlint
from meshlint.cli import main


@pytest.mark.parametrize("option", ["--config", "--baseline"])
def test_a_device_as_config_or_baseline_is_refused(tmp_path: Path, option: str) -> None:
    (tmp_path / "ok.yaml").write_text(OK)
    run = run_meshlint("check", "ok.yaml", option, "/dev/zero", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert "/dev/zero" in run.stderr and "not a regular file" in run.stderr


@pytest.mark.parametrize("option", ["--config", "--baseline"])
def test_a_fifo_as_config_or_baseline_is_refused(tmp_path: Path, option: str) -> None:
    (tmp_path / "ok.yaml").write_text(OK)
    os.mkfifo(tmp_path / "pipe")
    run = run_meshlint("check", "ok.yaml", option, "pipe", cwd=tmp_path)
    assert run.returncode == 2 and "pipe" in run.stderr and "not a regular file" in run.stderr


def test_a_config_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(OK)
    (tmp_path / ".meshlint.yaml").write_text("select: [ALL]\n" + "#" * 2**20 + "\n")
    config = str(tmp_path / ".meshlint.yaml")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "ok.yaml"), "--config", config])
    assert result.exit_code == 2
    assert "cannot read config: larger than 1 MiB" in result.output


def test_a_baseline_over_the_size_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ok.yaml").write_text(OK)
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"version": 1, "findings": []}) + " " * 2_000)
    monkeypatch.setattr(meshlint.core.baseline, "MAX_BASELINE_BYTES", 1_024)
    result = CliRunner().invoke(
        main, ["check", str(tmp_path / "ok.yaml"), "--isolated", "--baseline", str(baseline)]
    )
    assert result.exit_code == 2 and "cannot read baseline: larger than 1 KiB" in result.output


def test_a_fifo_as_a_charts_chart_yaml_is_refused(tmp_path: Path) -> None:
    """A chart's files come with the pull request like its manifests."""
    (tmp_path / "ok.yaml").write_text(OK)
    (tmp_path / "chart" / "templates").mkdir(parents=True)
    os.mkfifo(tmp_path / "chart" / "Chart.yaml")
    run = run_meshlint("check", "ok.yaml", "--chart-dir", "chart", cwd=tmp_path)
    assert run.returncode == 2 and "Chart.yaml" in run.stderr
    assert "not a regular file" in run.stderr
