"""Inputs that made a run take minutes or all memory (issue #29 "Hangs and
aborts", issue #28 "Reliability"), at the sizes of the reports, through the
installed console script. The limits are far above what the run needs now: a
regression to the old cost fails by its time limit or memory cap, not by a timer."""

from __future__ import annotations

import os
import resource
import subprocess
from pathlib import Path

import pytest
from test_cli_installed import console_script

# Inputs sized to show linear time (seconds each): CI runs them
pytestmark = pytest.mark.slow

GIB = 2**30


def run(
    cwd: Path, *args: str, stdin: str = "", timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (2 * GIB, 2 * GIB))

    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    return subprocess.run(
        [console_script(), *args], cwd=cwd, input=stdin, capture_output=True, text=True,
        timeout=timeout, preexec_fn=limit, env=environ, check=False,
    )  # fmt: skip


def _collector(number: int, args: list[str]) -> str:
    listed = "".join(f"            - {arg}\n" for arg in args)
    return (
        "apiVersion: apps/v1\nkind: Deployment\n"
        f"metadata: {{name: collector-{number}, namespace: tracing}}\n"
        "spec:\n  template:\n    spec:\n      containers:\n        - name: collector\n"
        "          image: jaegertracing/jaeger-collector:1.50.0\n"
        "          resources: {limits: {memory: 1Gi}}\n"
        f"          args:\n{listed}"
    )


def test_many_misspelt_jaeger_flags_are_reported_in_linear_time(tmp_path: Path) -> None:
    """120 documents x 100 unknown flags (530 KB) took over a minute of "did you mean"."""
    docs = [
        _collector(d, [f"--collector.queue-sixe-memory{i}x{d}=100" for i in range(100)])
        for d in range(120)
    ]
    docs[0] = _collector(0, ["--collector.queue-sizze=5000"])  # a real typo keeps its hint
    (tmp_path / "collectors.yaml").write_text("---\n".join(docs))
    done = run(tmp_path, "check", "--isolated", "-j", "1", "--select", "J004", "-q", ".")
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1 + 119 * 100
    assert "(did you mean --collector.queue-size?)" in lines[0]


def test_thousands_of_agent_services_join_in_linear_time(tmp_path: Path) -> None:
    """8,000 Service/DaemonSet pairs (J003's join) took over a minute."""
    docs = []
    for i in range(8000):
        docs.append(
            "apiVersion: apps/v1\nkind: DaemonSet\n"
            f"metadata: {{name: agent-{i}, namespace: tracing}}\n"
            f"spec:\n  selector: {{matchLabels: {{app: agent-{i}}}}}\n"
            f"  template:\n    metadata: {{labels: {{app: agent-{i}}}}}\n"
            "    spec:\n      containers:\n        - name: agent\n"
            "          image: jaegertracing/jaeger-agent:1.50.0\n"
            "---\napiVersion: v1\nkind: Service\n"
            f"metadata: {{name: agent-{i}, namespace: tracing}}\n"
            f"spec:\n  selector: {{app: agent-{i}}}\n"
            "  ports: [{name: compact, port: 6831, protocol: UDP}]\n"
        )
    (tmp_path / "agents.yaml").write_text("---\n".join(docs))
    done = run(tmp_path, "check", "--isolated", "-j", "1", "--select", "J003", "--statistics", ".")
    assert done.returncode == 1, done.stderr
    assert done.stdout.split()[:2] == ["8000", "J003"]


def test_thousands_of_exclude_patterns_stay_compiled(tmp_path: Path) -> None:
    """More patterns than the old 1,024-entry cache recompiled each for every file."""
    (tmp_path / "deploy").mkdir()
    for i in range(200):
        (tmp_path / "deploy" / f"ns{i}.yaml").write_text(
            f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: ns{i}}}\n"
        )
    patterns = "".join(f'  - "generated-{i}/**/*.yaml"\n' for i in range(4000))
    (tmp_path / ".meshlint.yaml").write_text(f'exclude:\n{patterns}  - "deploy/ns1*.yaml"\n')
    done = run(tmp_path, "check", "-j", "1", ".")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "89 documents in 89 files" in done.stdout  # ns1, ns10-19, ns100-199 excluded


def _chart(root: Path, name: str) -> Path:
    chart = root / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 1.0.0\n")
    return chart


POD_TEMPLATE = (
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: shop\nspec:\n  containers:\n"
    "    - name: app\n      image: shop/app:1.4.2\n"
)


def _rendered(chart: str, template: str) -> str:
    return f"---\n# Source: {chart}/templates/{template}\n{POD_TEMPLATE}"


def test_chart_templates_of_unclosed_actions_and_defines_are_read_in_one_pass(
    tmp_path: Path,
) -> None:
    chart = _chart(tmp_path, "shop")
    (chart / "templates" / "pod.yaml").write_text(POD_TEMPLATE + "{{ .Values.x\n" * 25_000)
    (chart / "templates" / "_defs.tpl").write_text('{{ define "x" }}\n{{ if .a }}\n' * 12_000)
    done = run(
        tmp_path,
        "check",
        "--isolated",
        "--chart-dir",
        "shop",
        "-",
        stdin=_rendered("shop", "pod.yaml"),
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("shop/templates/pod.yaml:7:7: K001")


def test_huge_chart_templates_are_not_read_for_placement(tmp_path: Path) -> None:
    """24 templates of 15 MB ended in a MemoryError: over the cap, findings stay
    on the rendered stream."""
    chart = _chart(tmp_path, "shop")
    body = POD_TEMPLATE + "    - name: app\n      image: shop/app:1.4.2\n" * 320_000
    stream = ""
    for i in range(24):
        (chart / "templates" / f"pod{i}.yaml").write_text(body)
        stream += _rendered("shop", f"pod{i}.yaml")
    done = run(tmp_path, "check", "--isolated", "--chart-dir", "shop", "-", stdin=stream)
    assert done.returncode == 1, done.stderr
    assert "24 warnings" in done.stdout and "from shop/templates/pod23.yaml" in done.stdout


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("name: shop\nx: " + "[" * 1000 + "]" * 1000 + "\n", "nested too deeply"),
        ('name: shop\nx: "' + "a" * 15_000_000 + '"\n', "larger than 256 KiB"),
    ],
    ids=["nested 1000 deep", "15 MB"],
)
def test_a_hostile_chart_yaml_is_one_error(tmp_path: Path, content: str, error: str) -> None:
    chart = _chart(tmp_path, "shop")
    (chart / "Chart.yaml").write_text(content)
    done = run(
        tmp_path,
        "check",
        "--isolated",
        "--chart-dir",
        "shop",
        "-",
        stdin=_rendered("shop", "pod.yaml"),
    )
    assert done.returncode == 2
    assert done.stderr.startswith("meshlint: error: --chart-dir: shop/Chart.yaml: cannot read")
    assert error in done.stderr and len(done.stderr.splitlines()) == 1


@pytest.mark.parametrize("line_break", ["\x85", "\u2028", "\u2029"], ids=["NEL", "LS", "PS"])
def test_a_broken_document_between_unicode_line_breaks_hides_nothing(
    tmp_path: Path, line_break: str
) -> None:
    """YAML ends lines at NEL, LS and PS too: a broken middle document is one M001,
    and the documents after it are linted, exactly as with newlines."""
    limited = "resources: {limits: {memory: 1Gi}}"
    docs = [
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: a}}\nspec: {{containers: [{{name: c, image: x, {limited}}}]}}\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {containers: [{name: c, image: x}]}\n",
    ]
    text = "---\n".join(docs)
    (tmp_path / "newlines.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "unicode.yaml").write_text(text.replace("\n", line_break), encoding="utf-8")
    expected = run(tmp_path, "check", "--isolated", "-q", "newlines.yaml")
    done = run(tmp_path, "check", "--isolated", "-q", "unicode.yaml")
    assert done.returncode == expected.returncode == 1, done.stderr
    assert done.stdout == expected.stdout.replace("newlines.yaml", "unicode.yaml")
    assert [line.split()[1] for line in done.stdout.splitlines()] == ["M001", "K001"]


def test_a_templated_name_of_many_parts_is_matched_in_one_pass(tmp_path: Path) -> None:
    """A ConfigMap named ``{{ "" }}a{{ "" }}a...c`` beside a Deployment named 60
    ``a``s: placing the Deployment's finding asked a regular expression of the
    literal parts, which backtracked over every placement (12 parts: years)."""
    chart = _chart(tmp_path, "shop")
    name = '{{ "" }}a' * 40 + '{{ "" }}c'
    (chart / "templates" / "x.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n---\n"
        f"{POD_TEMPLATE.replace('name: shop', 'name: ' + 'a' * 60)}"
    )
    stream = _rendered("shop", "x.yaml").replace("name: shop", "name: " + "a" * 60)
    done = run(tmp_path, "check", "--isolated", "--chart-dir", "shop", "-", stdin=stream)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("shop/templates/x.yaml:12:7: K001"), done.stdout


def test_a_long_helm_message_is_searched_for_its_place_in_one_pass(tmp_path: Path) -> None:
    """``{{ fail (repeat 200000 "a") }}`` in a template whose name holds a "(":
    the search for Helm's place in the message started again at every
    character (212 s of CPU)."""
    pytest.importorskip("helm_python", reason="the helm extra renders charts")
    (tmp_path / ".git").mkdir()
    chart = _chart(tmp_path, "shop")
    (chart / "templates" / "(x).yaml").write_text('x: {{ fail (repeat 200000 "a") }}\n')
    done = run(tmp_path, "check", "--isolated", "--format", "json", "shop")
    assert done.returncode == 1, done.stderr
    assert '"rule": "M006"' in done.stdout
