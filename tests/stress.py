#!/usr/bin/env python3
"""Stress: hostile and huge inputs, each as a whole ``meshlint check`` process.

    python tests/stress.py [--only SUBSTRING ...] [--timeout 60] [--memory-cap 4096]
                           [--meshlint PATH] [--repeat 3]

Each case writes its input into a temporary directory (nothing large is kept in
the repository), runs meshlint there with a time limit and a memory cap, and
prints one row: the case, wall seconds, the peak RSS of the largest process in
MiB, and the outcome (exit code and the findings or error it ended with).
A case that passes the time limit or the memory cap is killed and says so.
The numbers refer to issue #18's items; the test suite holds each case at a
size that runs in a second or two (tests/test_hostile_*.py, test_globs.py,
test_workers.py), this script the sizes an attacker would use.

Item 7 compares the default ``-j`` with ``-j 1`` on the real-world corpus
(../shared/corpus/real, or MESHLINT_CORPUS), as the machine is and with one
more core kept busy by a spinning process: ``--repeat`` pairs of runs taken in
turns, so that each pair meets the same load, with each pair's ratio.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = Path(os.environ.get("MESHLINT_CORPUS", HERE.parent.parent / "shared" / "corpus" / "real"))
FINDING = re.compile(r"^.+?:\d+:\d+: ([A-Z]+[0-9]+) \[\w+\] [\w-]+  (.*)$")

Build = Callable[[Path], list[str]]  # writes the input under a directory, returns the arguments


@dataclass(frozen=True)
class Case:
    item: int
    name: str
    build: Build
    busy_core: bool = False
    repeat: bool = False  # a timing comparison: median of --repeat runs
    against: Build | None = None  # another run, alternated with this one (same conditions)
    parse_only: bool = False  # also time composing the same input with libyaml alone


# -- inputs -----------------------------------------------------------------


def laughs(indent: str, levels: int = 9, width: int = 9, mapping: bool = True) -> str:
    """Anchors l0..l{levels-1}, each ``width`` aliases of the one before: 9**9 leaves."""
    lines = []
    for level in range(levels):
        items = ["lol"] * width if level == 0 else [f"*l{level - 1}"] * width
        if mapping:
            body = "{" + ", ".join(f"k{i}: {item}" for i, item in enumerate(items)) + "}"
        else:
            body = "[" + ", ".join(items) + "]"
        lines.append(f"{indent}l{level}: &l{level} {body}\n")
    return "".join(lines)


def deployment(containers: str, annotations: str = "", name: str = "app") -> str:
    annotations = annotations or "        a: b\n"
    return (
        "apiVersion: apps/v1\nkind: Deployment\n"
        f"metadata: {{name: {name}, namespace: shop}}\n"
        "spec:\n  template:\n"
        f"    metadata:\n      annotations:\n{annotations}"
        f"    spec:\n      containers:\n{containers}"
    )


LIMITED = "        - {name: app, image: app:1, resources: {limits: {memory: 1Gi}}}\n"


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def bomb_jaeger(d: Path) -> list[str]:
    write(
        d,
        "jaeger.yaml",
        "apiVersion: jaegertracing.io/v1\nkind: Jaeger\nmetadata: {name: j}\n"
        "spec:\n  strategy: production\n  collector:\n    options:\n" + laughs("      "),
    )
    return ["check", "."]


def bomb_operator(d: Path) -> list[str]:
    write(
        d,
        "iop.yaml",
        "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: {name: i}\n"
        "spec:\n  meshConfig:\n    defaultConfig:\n      proxyMetadata:\n" + laughs("        "),
    )
    return ["check", "."]


def bomb_envoy_filter(d: Path) -> list[str]:
    write(
        d,
        "filter.yaml",
        "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\n"
        "metadata: {name: f, namespace: istio-system}\nspec:\n  configPatches:\n"
        "    - applyTo: HTTP_FILTER\n      patch:\n        operation: MERGE\n"
        "        value:\n" + laughs("          "),
    )
    return ["check", "."]


def bomb_mesh_config_map(d: Path) -> list[str]:
    write(
        d,
        "mesh.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\n"
        "data:\n  mesh: |\n    defaultConfig:\n      proxyMetadata:\n" + laughs("        "),
    )
    return ["check", "."]


def bomb_proxy_config(mapping: bool) -> Build:
    def build(d: Path) -> list[str]:
        config = "          proxyMetadata:\n" + laughs("            ", mapping=mapping)
        config += "          concurrency: *l8\n"
        annotations = "        proxy.istio.io/config: |\n" + config
        write(d, "pod.yaml", deployment(LIMITED, annotations))
        return ["check", "."]

    return build


def bomb_resources(d: Path) -> list[str]:
    container = (
        "        - name: app\n          image: app:1\n          x-anchors:\n"
        + laughs("            ")
        + "          resources: {limits: {memory: *l8}}\n"
    )
    write(d, "pod.yaml", deployment(container))
    return ["check", "."]


def duplicate_keys(count: int) -> Build:
    def build(d: Path) -> list[str]:
        env = "".join(f"            - {{name: V{i}, value: a, value: b}}\n" for i in range(count))
        container = (
            "        - name: app\n          image: app:1\n"
            "          resources: {limits: {memory: 1Gi}}\n          env:\n" + env
        )
        write(d, "dup.yaml", deployment(container))
        return ["check", "."]

    return build


def unknown_proxy_keys(count: int) -> Build:
    def build(d: Path) -> list[str]:
        keys = "".join(f"          unknownField{i}: 1\n" for i in range(count))
        write(d, "pod.yaml", deployment(LIMITED, "        proxy.istio.io/config: |\n" + keys))
        return ["check", "."]

    return build


def many_containers(count: int) -> Build:
    def build(d: Path) -> list[str]:
        rows = "".join(f"        - {{name: c{i}, image: app:1}}\n" for i in range(count))
        write(d, "pod.yaml", deployment(rows))
        return ["check", "."]

    return build


def one_line_workload(count: int) -> Build:
    """Findings on one long line: each one echoes that line."""

    def build(d: Path) -> list[str]:
        items = ", ".join(f"{{name: c{i}, image: app:1}}" for i in range(count))
        write(
            d,
            "pod.yaml",
            "{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: ["
            + items
            + "]}}\n",
        )
        return ["check", "."]

    return build


def small_documents(count: int) -> Build:
    def build(d: Path) -> list[str]:
        with (d / "docs.yaml").open("w", encoding="utf-8") as out:
            for i in range(count):
                out.write(
                    f"---\n# Source: chart/templates/cm{i}.yaml\n"
                    f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{k: v}}\n"
                )
        return ["check", "."]

    return build


FIXABLE = (
    # a Deployment whose memory request is below its limit: K003, an unsafe fix
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: app-{i}, namespace: shop}}\n"
    "spec:\n  template:\n    spec:\n      containers:\n"
    "        - name: app\n          image: app:1\n          resources:\n"
    "            requests: {{memory: 512Mi}}\n            limits: {{memory: 1Gi}}\n",
    # a collector config whose memory_limiter has no check_interval: O002, a safe
    # fix inside an embedded config
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: collector-{i}, namespace: shop}}\n"
    "data:\n  config.yaml: |\n    receivers:\n      otlp:\n        protocols:\n"
    "          grpc: {{}}\n    processors:\n      memory_limiter:\n        limit_mib: 400\n"
    "    exporters:\n      debug: {{}}\n    service:\n      pipelines:\n        traces:\n"
    "          receivers: [otlp]\n          processors: [memory_limiter]\n"
    "          exporters: [debug]\n",
)


def write_fixable(path: Path, count: int) -> Path:
    """One stream of ``count`` documents, each with a finding that offers a fix
    (issue #25: every per-document step must cost the document, not the file)."""
    with path.open("w", encoding="utf-8") as out:
        for i in range(count):
            out.write("---\n" + FIXABLE[i % 2].format(i=i))
    return path


def fixable_documents(count: int) -> Build:
    def build(d: Path) -> list[str]:
        write_fixable(d / "stream.yaml", count)
        return ["check", "stream.yaml"]

    return build


def long_list(count: int) -> Build:
    def build(d: Path) -> list[str]:
        args = "".join(f"            - --arg{i}\n" for i in range(count))
        container = (
            "        - name: collector\n          image: jaegertracing/jaeger-collector:1.57\n"
            "          resources: {limits: {memory: 1Gi}}\n          args:\n" + args
        )
        write(d, "list.yaml", deployment(container))
        return ["check", "."]

    return build


def long_env(count: int) -> Build:
    def build(d: Path) -> list[str]:
        env = "".join(f"            - {{name: V{i}, value: x}}\n" for i in range(count))
        container = (
            "        - name: app\n          image: app:1\n"
            "          resources: {limits: {memory: 1Gi}}\n          env:\n" + env
        )
        write(d, "env.yaml", deployment(container))
        return ["check", "."]

    return build


def flow_mapping(megabytes: int) -> Build:
    def build(d: Path) -> list[str]:
        count = megabytes * 2**20 // 16
        data = ", ".join(f"k{i:07}: v{i:04}" for i in range(count))
        write(
            d,
            "flow.yaml",
            "{apiVersion: v1, kind: ConfigMap, metadata: {name: f}, data: {" + data + "}}\n",
        )
        return ["check", "."]

    return build


OK = "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\nspec:\n  containers: [{name: a, image: x}]\n"


def special_file(option: str, kind: str) -> Build:
    def build(d: Path) -> list[str]:
        write(d, "ok.yaml", OK)
        if kind == "zero":
            target = "/dev/zero"
        else:
            os.mkfifo(d / "special")
            target = str(d / "special")
        return ["check", "ok.yaml", option, target]

    return build


def huge_config(megabytes: int) -> Build:
    def build(d: Path) -> list[str]:
        write(d, "ok.yaml", OK)
        line = "# " + "x" * 1022 + "\n"
        with (d / ".meshlint.yaml").open("w", encoding="utf-8") as out:
            out.write("select: [ALL]\n")
            for _ in range(megabytes * 1024):
                out.write(line)
        return ["check", "ok.yaml"]

    return build


def huge_baseline(megabytes: int) -> Build:
    def build(d: Path) -> list[str]:
        write(d, "ok.yaml", OK)
        entry = '{"rule": "K001", "file": "x.yaml", "resource": "r", "path": "$", "count": 1},\n'
        with (d / "baseline.json").open("w", encoding="utf-8") as out:
            out.write('{"version": 1, "tool": "meshlint", "findings": [\n')
            for _ in range(megabytes * 2**20 // len(entry)):
                out.write(entry)
            out.write(entry.rstrip(",\n") + "]}\n")
        return ["check", "ok.yaml", "--baseline", "baseline.json"]

    return build


# 16 stars against a 200-character name: a backtracking matcher never returns
GREEDY = "*a" * 16 + "*b"
LONG_NAME = "a" * 200 + ".yaml"


def glob_cli(d: Path) -> list[str]:
    write(d, LONG_NAME, OK)
    return ["check", ".", "--exclude", GREEDY]


def glob_config(d: Path) -> list[str]:
    write(d, LONG_NAME, OK)
    write(d, ".meshlint.yaml", f'exclude: ["{GREEDY}"]\n')
    return ["check", "."]


def glob_per_file(d: Path) -> list[str]:
    write(d, LONG_NAME, OK)
    write(d, ".meshlint.yaml", f'per-file-ignores: {{"{GREEDY}": [K001]}}\n')
    return ["check", "."]


def glob_gitignore(d: Path) -> list[str]:
    (d / ".git").mkdir()
    write(d, LONG_NAME, OK)
    write(d, ".gitignore", GREEDY + "\n")
    return ["check", "."]


def config_bomb(d: Path) -> list[str]:
    write(d, "ok.yaml", OK)
    write(d, ".meshlint.yaml", "anchors:\n" + laughs("  ", mapping=False) + "exclude: *l8\n")
    return ["check", "."]


def symlink_to_root(d: Path) -> list[str]:
    (d / "tree").mkdir()
    write(d / "tree", "ok.yaml", OK)
    os.symlink("/", d / "tree" / "root")
    return ["check", "tree"]


def corpus(jobs: str | None) -> Build:
    def build(d: Path) -> list[str]:
        return ["check", str(CORPUS), "-q", *(["-j", jobs] if jobs else [])]

    return build


CASES = [
    Case(1, "alias bomb in a Jaeger CR's options", bomb_jaeger),
    Case(1, "alias bomb in an IstioOperator's meshConfig", bomb_operator),
    Case(1, "alias bomb in an EnvoyFilter patch", bomb_envoy_filter),
    Case(1, "alias bomb in the mesh ConfigMap's data.mesh", bomb_mesh_config_map),
    Case(1, "alias bomb in proxy.istio.io/config (sequences)", bomb_proxy_config(False)),
    Case(1, "alias bomb in proxy.istio.io/config (mappings)", bomb_proxy_config(True)),
    Case(1, "alias bomb as a container's resources", bomb_resources),
    Case(2, "5,000 duplicate keys in one document", duplicate_keys(5_000)),
    Case(2, "20,000 duplicate keys in one document", duplicate_keys(20_000)),
    Case(2, "proxy.istio.io/config of 20,000 unknown keys", unknown_proxy_keys(20_000)),
    Case(2, "40,000 containers", many_containers(40_000), parse_only=True),
    Case(2, "200,000 containers", many_containers(200_000), parse_only=True),
    Case(2, "10,000 containers on one line (findings echo it)", one_line_workload(10_000)),
    Case(3, "200,000 small documents in one file", small_documents(200_000), parse_only=True),
    Case(3, "1,000 documents with a fix each", fixable_documents(1_000), parse_only=True),
    Case(3, "2,000 documents with a fix each", fixable_documents(2_000), parse_only=True),
    Case(3, "200,000 documents with a fix each", fixable_documents(200_000), parse_only=True),
    Case(3, "1,000,000-item list (collector args)", long_list(1_000_000), parse_only=True),
    Case(3, "1,000,000-entry env", long_env(1_000_000), parse_only=True),
    Case(3, "10 MB single-line flow mapping", flow_mapping(10), parse_only=True),
    Case(4, "--baseline /dev/zero", special_file("--baseline", "zero")),
    Case(4, "--config /dev/zero", special_file("--config", "zero")),
    Case(4, "--baseline FIFO", special_file("--baseline", "fifo")),
    Case(4, "--config FIFO", special_file("--config", "fifo")),
    Case(4, "100 MB .meshlint.yaml", huge_config(100)),
    Case(4, "100 MB baseline", huge_baseline(100)),
    Case(5, "--exclude with 17 stars, 200-char name", glob_cli),
    Case(5, "exclude: with 17 stars in the config", glob_config),
    Case(5, "per-file-ignores with 17 stars", glob_per_file),
    Case(5, ".gitignore with 17 stars (main's new walk)", glob_gitignore),
    Case(5, "alias bomb as the config's exclude list", config_bomb),
    Case(6, "directory symlink to / in the tree", symlink_to_root),
    Case(7, "real corpus: default -j against -j 1", corpus(None), repeat=True, against=corpus("1")),
    Case(
        7,
        "real corpus, one more core busy: default -j against -j 1",
        corpus(None),
        busy_core=True,
        repeat=True,
        against=corpus("1"),
    ),
]


# -- measuring ----------------------------------------------------------------


def _session_rss(session: int) -> dict[int, int]:
    """RSS in KiB of every process of ``session``, from /proc."""
    out: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            if int(fields[3]) != session:  # field 6 of stat: the session id
                continue
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        out[int(entry)] = int(line.split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return out


@dataclass
class Run:
    seconds: float
    peak_mib: float
    outcome: str


def run(command: list[str], cwd: Path, timeout: float, cap_mib: float) -> Run:
    """Run ``command`` in its own session; kill it at ``timeout`` or above ``cap_mib`` in all."""
    out_path, err_path = cwd.parent / "stdout.txt", cwd.parent / "stderr.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        peak_kib, killed = 0, ""
        while True:
            time.sleep(0.05)
            if process.poll() is not None:
                break
            sizes = _session_rss(process.pid)
            peak_kib = max(peak_kib, *sizes.values(), 0)
            if time.perf_counter() - start > timeout:
                killed = f"TIMEOUT: killed after {timeout:.0f} s"
            elif sum(sizes.values()) / 1024 > cap_mib:
                killed = f"MEMORY: killed above {cap_mib:.0f} MiB"
            if killed:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                break
        seconds = time.perf_counter() - start
    # the largest process ever, main or worker (rusage of the waited children)
    import resource

    peak_kib = max(peak_kib, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return Run(seconds, peak_kib / 1024, killed or _outcome(process.returncode, out_path, err_path))


def _outcome(code: int, out_path: Path, err_path: Path) -> str:
    rules: Counter[str] = Counter()
    notes: dict[str, str] = {}
    with out_path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            match = FINDING.match(line)
            if match:
                rules[match[1]] += 1
                notes.setdefault(match[1], match[2])
    parts = [f"exit {code}"]
    for rule, count in rules.most_common(4):
        message = notes[rule]
        parts.append(f"{rule} x{count}" + (f" ({message[:60]})" if count <= 2 else ""))
    errors = err_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    if errors:
        parts.append(errors[0][:110])
    return "; ".join(parts)


@contextmanager
def spinning(active: bool) -> Iterator[None]:
    """One core kept busy by a process of our own, for the length of the block."""
    if not active:
        yield
        return
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)
    try:
        yield
    finally:
        spinner.kill()
        spinner.wait()


def paired(case: Case, meshlint: list[str], args: argparse.Namespace) -> Run:
    """``case`` and its ``against`` run in turns (which goes first alternates), so
    that each pair meets the same load on a shared machine."""
    assert case.against is not None
    ours: list[Run] = []
    theirs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="meshlint-stress-") as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        first, second = [*meshlint, *case.build(work)], [*meshlint, *case.against(work)]
        with spinning(case.busy_core):
            for n in range(args.repeat):
                if n % 2:
                    theirs.append(_measured(second, work, args))
                    ours.append(_measured(first, work, args))
                else:
                    ours.append(_measured(first, work, args))
                    theirs.append(_measured(second, work, args))
    ratios = [a.seconds / b.seconds for a, b in zip(ours, theirs, strict=True)]
    other = statistics.median(r.seconds for r in theirs)
    return Run(
        statistics.median(r.seconds for r in ours),
        max(r.peak_mib for r in ours),
        f"the other: median {other:.2f} s, "
        f"peak {max(r.peak_mib for r in theirs):.0f} MiB; ratio per pair "
        f"{', '.join(f'{r:.2f}' for r in ratios)} (median {statistics.median(ratios):.2f}); "
        f"{ours[0].outcome}",
    )


def measure(case: Case, meshlint: list[str], args: argparse.Namespace) -> Run:
    if case.against is not None:
        return paired(case, meshlint, args)
    runs = []
    for _ in range(args.repeat if case.repeat else 1):
        tmp = Path(tempfile.mkdtemp(prefix="meshlint-stress-"))
        try:
            work = tmp / "work"
            work.mkdir()
            command = [*meshlint, *case.build(work)]
            with spinning(case.busy_core):
                # a separate measuring process: RUSAGE_CHILDREN then covers this run only
                runs.append(_measured(command, work, args))
            if case.parse_only:
                limit = _measured([sys.executable, "-c", PARSE_ONLY, str(work)], work, args)
                runs[-1].outcome += (
                    f"; parse-only {limit.seconds:.2f} s, {limit.peak_mib:.0f} MiB: "
                    f"x{runs[-1].seconds / limit.seconds:.2f} time, "
                    f"x{runs[-1].peak_mib / limit.peak_mib:.2f} memory"
                )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    middle = statistics.median(r.seconds for r in runs)
    chosen = min(runs, key=lambda r: abs(r.seconds - middle))
    return Run(middle, max(r.peak_mib for r in runs), chosen.outcome)


# The parse-only limit (tests/benchmark.py): libyaml composes every file, nothing else.
PARSE_ONLY = """
import sys
from pathlib import Path
import yaml
for path in sorted(Path(sys.argv[1]).rglob("*")):
    if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
        try:
            for node in yaml.compose_all(path.read_bytes(), Loader=yaml.CSafeLoader):
                pass
        except (yaml.YAMLError, UnicodeDecodeError, ValueError):
            pass
"""


def _measured(command: list[str], cwd: Path, args: argparse.Namespace) -> Run:
    code = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "import stress; r = stress.run(json.loads(sys.argv[2]), Path(sys.argv[3]), "
        "float(sys.argv[4]), float(sys.argv[5])); print(json.dumps(r.__dict__))"
    )
    import json

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            str(HERE),
            json.dumps(command),
            str(cwd),
            str(args.timeout),
            str(args.memory_cap),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return Run(**json.loads(done.stdout))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", nargs="*", default=[], help="run cases whose name contains one")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    parser.add_argument("--memory-cap", type=float, default=4096.0, help="MiB, all processes")
    parser.add_argument("--meshlint", help="the meshlint executable (default: this venv's)")
    parser.add_argument("--repeat", type=int, default=5, help="pairs of each item-7 timing")
    args = parser.parse_args()
    found = args.meshlint or shutil.which("meshlint", path=str(Path(sys.executable).parent))
    meshlint = [found] if found else [sys.executable, "-m", "meshlint"]
    cases = [c for c in CASES if not args.only or any(o in c.name for o in args.only)]
    if not CORPUS.is_dir():
        cases = [c for c in cases if c.item != 7]
        print(f"(no corpus at {CORPUS}: item 7 skipped)")
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; {' '.join(meshlint)}\n")
    print(f"{'#':<2} {'case':<52} {'seconds':>8} {'peak MiB':>9}  outcome")
    started = time.perf_counter()
    for case in cases:
        result = measure(case, meshlint, args)
        print(
            f"{case.item:<2} {case.name:<52} {result.seconds:8.2f} {result.peak_mib:9.0f}  "
            f"{result.outcome}",
            flush=True,
        )
    print(f"\n(stress took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
