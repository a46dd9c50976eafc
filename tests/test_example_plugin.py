"""The example plugin, tested the way a plugin author would: with meshlint.testing."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_installed import run

import example_plugin
from conftest import ROOT
from meshlint.testing import assert_fixtures, lint


def test_the_example_plugins_fixtures() -> None:
    assert_fixtures(example_plugin.RULE, example_plugin.BAD, example_plugin.GOOD)


def test_a_wrong_marker_fails_the_fixture_check() -> None:
    wrong = example_plugin.BAD.replace("# [acme-mutable-image]", "") + "# [acme-mutable-image]\n"
    try:
        assert_fixtures(example_plugin.RULE, wrong, example_plugin.GOOD)
    except AssertionError:
        return
    raise AssertionError("a marker on the wrong line was accepted")


def test_lint_runs_the_engines_own_rules_too() -> None:
    report = lint("a: [\n", [example_plugin.RULE])
    assert [f.rule for f in report.findings] == ["M001"]


def _documented_package(target: Path) -> Path:
    """The files docs/plugins.md shows, each block's first line naming its path."""
    page = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    package = target / "acme-meshlint"
    package.mkdir(parents=True)
    for block in re.findall(r"```(?:toml|python)\n(.*?)```", page, re.S):
        first, _, body = block.partition("\n")
        name = re.fullmatch(r"# acme-meshlint/(\S+)", first)
        assert name, f"a code block of docs/plugins.md names no file: {first!r}"
        (package / name[1]).write_text(body, encoding="utf-8")
    return package


@pytest.mark.slow  # builds and installs a package / many console-script runs
def test_the_documented_plugin_package_installs_and_runs(tmp_path: Path) -> None:
    """docs/plugins.md's package, installed with pip: its entry point alone makes
    the installed console script run ACM001."""
    pytest.importorskip("setuptools", reason="building the package needs setuptools")
    package = _documented_package(tmp_path)
    site = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
    built = subprocess.run(
        [*pip, "--no-build-isolation", "--no-index", "--target", str(site), str(package)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    manifest = tmp_path / "shop.yaml"
    manifest.write_text(example_plugin.BAD, encoding="utf-8")
    listed = run(tmp_path, "rules", PYTHONPATH=str(site))
    assert "ACM001" in listed.stdout, listed.stderr
    found = run(tmp_path, "check", "--select", "ACM", "shop.yaml", PYTHONPATH=str(site))
    assert found.returncode == 1, found.stderr
    assert "shop.yaml:9:18: ACM001 [warning] acme-mutable-image" in found.stdout
    alone = run(tmp_path, "check", "--no-plugins", "shop.yaml", PYTHONPATH=str(site))
    assert "ACM001" not in alone.stdout
    # the page's own test passes against the installed package
    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(package)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(site)},
    )  # fmt: skip
    assert tested.returncode == 0, tested.stdout + tested.stderr
