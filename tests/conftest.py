"""Shared test helpers: build rules and plans the way the CLI does, lint text."""

from __future__ import annotations

import compileall
import os
import resource
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import meshlint
import meshlint.rules
from meshlint import testing
from meshlint.cli import main
from meshlint.core.model import Rule
from meshlint.core.plugins import collect_rules, plugin_manager
from meshlint.core.report import Report

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "rules"
CORPUS = Path(os.environ.get("MESHLINT_CORPUS", ROOT.parent / "shared" / "corpus" / "real"))
# Hypothesis examples per property; raise it for nightly fuzzing (README).
FUZZ_EXAMPLES = int(os.environ.get("MESHLINT_FUZZ_EXAMPLES", "150"))

# The CLI tests' collector: a GOMEMLIMIT Go cannot parse (K004) on line 13 and a
# memory request below its limit (K003) on line 15, on kubelets that run MemoryQoS
# (the KubeletConfiguration after it: K003 judges only where the gate is on).
COLLECTOR = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: otel-collector
  namespace: observability
spec:
  template:
    spec:
      containers:
        - name: otel-collector
          image: otel/opentelemetry-collector-contrib:0.115.0
          env:
            - {name: GOMEMLIMIT, value: 400Mi}
          resources:
            requests: {memory: 256Mi}
            limits: {memory: 512Mi}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates: {MemoryQoS: true}
"""


def builtin_rules() -> dict[str, Rule]:
    """The built-in catalogue, independent of whatever else is installed."""
    return collect_rules(plugin_manager(entry_points_=False, plugins=[meshlint.rules]))


RULES = builtin_rules()
# Rules whose input is a Helm chart, not a manifest: their docs show templates,
# and tests/rules/<slug>/ holds a bad/ and a good/ chart (tests/test_charts.py).
CHART_RULES = frozenset({"helm-render-error"})
BY_SLUG = {r.slug: r for r in RULES.values()}


def lint_text(
    text: str | bytes,
    select: Iterable[str] = ("ALL",),
    name: str = "manifest.yaml",
    list_resources: bool = False,
    **config: object,
) -> Report:
    return testing.lint(
        text, RULES.values(), select=select, name=name, list_resources=list_resources, **config
    )


def findings_of(rule: Rule, text: str, name: str = "manifest.yaml") -> Report:
    """Lint ``text`` for one rule; M100 judges other rules' ignores, so all run."""
    return testing.findings_of(rule, text, catalogue=RULES.values(), name=name)


marked = testing.marked


def require_shared(path: Path, what: str) -> Path:
    """``path`` from ../shared/ (or where MESHLINT_CORPUS points).

    CI lays shared/ beside the checkout, so there a missing path is a failure,
    never a quiet skip; elsewhere the test skips and says why.
    """
    if not path.exists():
        reason = f"{what} not found at {path} (see docs/testing.md)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI needs it", pytrace=False)
        pytest.skip(reason)
    return path


def pytest_configure(config: pytest.Config) -> None:
    """Compile the installed package once: hundreds of tests start the console
    script, and with PYTHONDONTWRITEBYTECODE set (as on CI machines) or an
    install that wrote no bytecode each start would compile every module again
    (about 0.7 s a run). The first process compiles; xdist workers find it done."""
    if hasattr(config, "workerinput"):
        return
    for package in (meshlint, meshlint.rules):
        compileall.compile_dir(Path(package.__file__).parent, quiet=1, workers=1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that lints the whole corpus is slow: the default run leaves it to CI."""
    for item in items:
        if "corpus" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def corpus() -> Path:
    return require_shared(CORPUS, "the corpus")


@pytest.fixture
def cli_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A click runner in an empty cwd, outside GitHub Actions."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return CliRunner()


def run_check(runner: CliRunner, *args: str, env: dict[str, str] | None = None) -> Result:
    """``meshlint check --isolated ARGS`` through click's runner."""
    return runner.invoke(main, ["check", "--isolated", *args], env=env)


def run_meshlint(
    *args: str, cwd: Path, timeout: float = 30, memory: int = 2**30
) -> subprocess.CompletedProcess[str]:
    """``meshlint ARGS`` as a process that cannot outlive ``timeout`` or use more
    than ``memory`` bytes: a regression to a hang or a runaway read fails instead."""

    def limit() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run(
        [sys.executable, "-m", "meshlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
