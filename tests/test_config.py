"""Configuration: discovery, validation with positions, rule-aware checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import RULES
from meshlint.core.config import (
    ConfigError,
    find_config,
    load_config,
    selected,
    validate_against_rules,
)
from meshlint.core.model import Severity


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_nearest_meshlint_yaml_wins_over_pyproject(tmp_path: Path) -> None:
    _write(tmp_path / "pyproject.toml", "[tool.meshlint]\nignore = ['K003']\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_config(nested) == tmp_path / "pyproject.toml"
    _write(tmp_path / "a" / ".meshlint.yaml", "ignore: [K001]\n")
    assert find_config(nested) == tmp_path / "a" / ".meshlint.yaml"


def test_a_full_config_loads(tmp_path: Path) -> None:
    config = load_config(
        _write(
            tmp_path / ".meshlint.yaml",
            """\
select: [ALL]
ignore: [K003]
fail-on: error
kube-version: "1.26"
exclude: ["charts/**/templates/**"]
severity: {memory-limit-missing: error}
rules:
  K005: {limit-percent: 75}
per-file-ignores:
  "legacy/**": [K001, K002]
""",
        )
    )
    validate_against_rules(config, RULES)
    assert config.fail_on is Severity.ERROR and config.kube_version == (1, 26)
    assert config.severity == {"memory-limit-missing": Severity.ERROR}
    assert config.root == str(tmp_path)


def test_pyproject_table_loads(tmp_path: Path) -> None:
    config = load_config(
        _write(
            tmp_path / "pyproject.toml",
            """\
[project]
name = "x"

[tool.meshlint]
ignore = ["K003"]
fail-on = "never"
""",
        )
    )
    assert config.ignore == ("K003",) and config.fail_on is None


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("selct: [ALL]\n", "1:1", "unknown key 'selct'; did you mean 'select'?"),
        (
            "ignore: [K001]\nkube-version: 1.30\n",
            "2:15",
            'expected a quoted version such as "1.30"',
        ),
        ("fail-on: critical\n", "1:10", "'critical' is not one of"),
        ("rules:\n  K005: {limit-percent: 75, limt: 3}\n", "2:29", "unknown parameter 'limt'"),
        ("rules:\n  K005: {limit-percent: '80%'}\n", "2:25", "limit-percent expects int"),
        ("ignore: [K001, K999]\n", "1:16", "unknown rule 'K999'"),
        ("rules:\n  J001: {span-size-bytes: 0}\n", "2:27", "span-size-bytes must be >= 1"),
        ("rules:\n  K005: {limit-percent: 120}\n", "2:25", "limit-percent must be <= 100"),
        ("severity:\n  nope: error\n", "2:3", "unknown rule 'nope'"),
        ("ignore: [K001\n", "2:1", "invalid YAML"),
        # a pattern's cost grows with its length: a pull request's config may not
        # slow every file's match with one of a megabyte
        (
            "exclude: ['" + "*a" * 600 + "']\n",
            "1:11",
            "exclude/0: '*a*a*a*a*a*a*a*a*a*...' is too long",
        ),
        ("charts:\n  c: {release: Prod}\n", "2:16", "charts/c/release: 'Prod' is not allowed"),
    ],
)
def test_errors_name_file_line_and_what_was_expected(
    tmp_path: Path, text: str, where: str, what: str
) -> None:
    path = _write(tmp_path / ".meshlint.yaml", text)
    with pytest.raises(ConfigError) as caught:
        validate_against_rules(load_config(path), RULES)
    message = str(caught.value)
    assert message.startswith(f"{path}:{where}: "), message
    assert what in message


def test_pyproject_errors_point_at_the_key_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "pyproject.toml", "[project]\nname = 'x'\n\n[tool.meshlint]\nfail-on = 3\n"
    )
    with pytest.raises(ConfigError, match=r"pyproject.toml:5:1: fail-on"):
        load_config(path)


@pytest.mark.parametrize(
    ("select", "ignore", "runs"),
    [
        (["K001"], ["K"], True),  # the more specific selector decides, as in ruff
        (["K"], ["K001"], False),
        (["K"], ["K"], False),  # a tie: ignore wins
        (["ALL"], ["memory-limit-missing"], False),
        (["memory-limit-missing"], ["ALL"], True),
        (["J"], [], False),
    ],
)
def test_the_most_specific_selector_decides(
    select: list[str], ignore: list[str], runs: bool
) -> None:
    assert selected(RULES["K001"], select, ignore) is runs


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.30", (1, 30)), ("v1.30", (1, 30)), ("1.30.2", (1, 30)), ("v1.31.0-eks-db838b0", (1, 31))],
)
def test_kube_version_accepts_what_kubectl_version_prints(
    text: str, expected: tuple[int, int]
) -> None:
    from meshlint.core.config import parse_kube_version

    assert parse_kube_version(text) == expected


def test_kube_version_on_the_command_line_takes_kubectls_form(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from meshlint.cli import main

    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
        "    - name: c\n      image: x:1\n      resources:\n"
        "        requests: {memory: 1Gi}\n        limits: {memory: 2Gi}\n"
        "---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "featureGates: {MemoryQoS: true}\n"
    )
    old = CliRunner().invoke(
        main, ["check", str(manifest), "--select", "K003", "--kube-version", "v1.21.5"]
    )
    new = CliRunner().invoke(
        main, ["check", str(manifest), "--select", "K003", "--kube-version", "v1.30.2"]
    )
    assert old.exit_code == 0 and "K003" not in old.output
    assert "K003" in new.output and "2040107008" in new.output
