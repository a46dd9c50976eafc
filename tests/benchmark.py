#!/usr/bin/env python3
"""Benchmark: meshlint against the parse-only limit and its peers, as whole processes.

    python tests/benchmark.py [DIR] [--repeat N] [--scales 1,4,10] [--stream 200000]
                              [--checkov PATH]

Prints, from one run, the median wall and CPU time of N runs taken in turns (each
round runs every command once, so all meet the same load) and their ratio to the
parse-only limit (composing every *.yaml/*.yml/*.json under DIR with libyaml:
PyYAML's CSafeLoader, nodes with positions, no linting), for meshlint on both
cores and with -j 1, Checkov's kubernetes framework and yamllint when they are
installed (`pip install checkov yamllint`, any venv: pass --checkov PATH), then
how time and peak memory grow when DIR is replicated 4x and 10x (hard links in
a temporary directory), ``--fix`` against a plain check on a copy of DIR,
the default against ``-j 1`` with one core kept busy, how a file of many
documents that each offer a fix scales (1,000 against
2,000, and ``--stream N`` documents through ``check -``), a 20-document run
and ``--version``. Issue #25's targets: ``-j 1`` at most 0.85x the parse-only
CPU, the default at most 0.6x its wall on two cores, ``--fix`` at most 1.3x a
plain check, 2,000 documents at most 2.2x 1,000, 200,000 in under a minute. DIR defaults to
../shared/corpus/real. Absolute seconds vary across runs on shared machines;
compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "real"
EXTENSIONS = (".yaml", ".yml", ".json")

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

# Runs a command (its standard input from MEASURE_STDIN, if set) and prints its
# wall time, the CPU time of its tree and the peak RSS of the largest process in
# it (children are waited for, so their peaks and CPU count).
MEASURE = """
import json, os, resource, subprocess, sys, time
stdin = open(os.environ["MEASURE_STDIN"], "rb") if os.environ.get("MEASURE_STDIN") else None
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdin=stdin, stdout=subprocess.DEVNULL,
               stderr=subprocess.DEVNULL, check=False)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps([wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss]))
"""


def find_tool(name: str, explicit: str | None = None) -> list[str] | None:
    if explicit:
        return [explicit]
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    return [found] if found else None


@dataclass
class Timing:
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    peak: float = 0.0  # MiB

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def once(command: list[str], timing: Timing, stdin: Path | None = None) -> Timing:
    """Run ``command`` once and add its wall, CPU and peak RSS to ``timing``."""
    env = {**os.environ, "MEASURE_STDIN": str(stdin or "")}
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    wall, cpu, rss_kib = json.loads(out.stdout)
    timing.walls.append(wall)
    timing.cpus.append(cpu)
    timing.peak = max(timing.peak, rss_kib / 1024)
    return timing


def interleaved(commands: dict[str, list[str]], repeat: int) -> dict[str, Timing]:
    """``repeat`` rounds, each running every command once in turn."""
    timings = {name: Timing() for name in commands}
    for _ in range(repeat):
        for name, command in commands.items():
            once(command, timings[name])
    return timings


def measure(command: list[str], repeat: int) -> tuple[float, float]:
    """Median wall seconds and peak RSS in MiB over ``repeat`` runs."""
    timing = Timing()
    for _ in range(repeat):
        once(command, timing)
    return timing.wall, timing.peak


def replicate(corpus: Path, target: Path, times: int) -> Path:
    """``times`` copies of the corpus as hard links (no disk cost, distinct paths)."""
    for copy in range(times):
        for path in corpus.rglob("*"):
            if path.is_file() and path.suffix in EXTENSIONS:
                dest = target / f"copy{copy}" / path.relative_to(corpus)
                dest.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(path, dest)
                except OSError:
                    shutil.copyfile(path, dest)
    return target


def twenty_documents(corpus: Path, target: Path) -> Path:
    """20 real single-document workloads in 20 files, like a pre-commit run on a change."""
    count = 0
    for path in sorted(corpus.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if "\n---" not in text and "kind: Deployment" in text and len(text) < 20_000:
            (target / f"doc{count:02}.yaml").write_text(text, encoding="utf-8")
            count += 1
            if count == 20:
                break
    return target


def row(name: str, seconds: float, rss: float, limit: float) -> str:
    return f"{name:<44} {seconds:8.2f} {seconds / limit:8.2f} {rss:9.0f}"


def corpus_rows(meshlint: list[str], corpus: str, repeat: int) -> None:
    """The corpus against the parse-only limit: wall and CPU, interleaved runs."""
    timings = interleaved(
        {
            "libyaml compose (parse-only limit)": [sys.executable, "-c", PARSE_ONLY, corpus],
            "meshlint check (default: all CPUs)": [*meshlint, "check", corpus, "-q"],
            "meshlint check -j 1": [*meshlint, "check", corpus, "-q", "-j", "1"],
        },
        repeat,
    )
    limit = timings["libyaml compose (parse-only limit)"]
    print(f"{'run':<44} {'wall s':>8} {'x limit':>8} {'CPU s':>8} {'x limit':>8} {'peak MiB':>9}")
    for name, t in timings.items():
        print(
            f"{name:<44} {t.wall:8.2f} {t.wall / limit.wall:8.2f} "
            f"{t.cpu:8.2f} {t.cpu / limit.cpu:8.2f} {t.peak:9.0f}"
        )
    single, default = timings["meshlint check -j 1"], timings["meshlint check (default: all CPUs)"]
    print(
        f"targets: -j 1 CPU {single.cpu / limit.cpu:.2f}x limit (<= 0.85); "
        f"default wall {default.wall / limit.wall:.2f}x limit (<= 0.6 on two idle cores)"
    )
    print(steadiness(limit))


def steadiness(limit: Timing) -> str:
    """How steady the machine was, from the parse-only runs: the spread of their
    CPU times, and their wall against their CPU (one process on one core: above
    1, it waited for the core). A shared machine whose speed changes under a run
    makes every ratio of that run doubtful."""
    spread = max(limit.cpus) / min(limit.cpus) - 1
    waited = statistics.median(w / c for w, c in zip(limit.walls, limit.cpus, strict=True))
    verdict = "steady" if spread <= 0.1 and waited <= 1.1 else "NOT steady: compare with care"
    return (
        f"machine: parse-only CPU {min(limit.cpus):.2f}-{max(limit.cpus):.2f} s "
        f"(spread {spread:.0%}), wall/CPU {waited:.2f}: {verdict}"
    )


def busy_rows(meshlint: list[str], corpus: str, repeat: int) -> None:
    """The default against ``-j 1`` while another process keeps one core busy
    (issue #25: the default must never be slower than ``-j 1`` then)."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        timings = interleaved(
            {
                "default": [*meshlint, "check", corpus, "-q"],
                "-j 1": [*meshlint, "check", corpus, "-q", "-j", "1"],
            },
            repeat,
        )
    finally:
        spinner.kill()
        spinner.wait()
    default, single = timings["default"], timings["-j 1"]
    print(
        f"\n{'one core busy: default, -j 1 (wall s)':<44} {default.wall:8.2f} {single.wall:8.2f}"
        f"   default is {default.wall / single.wall:.2f}x -j 1 (<= 1.0)"
    )


def uncompiled(
    packages: tuple[str, ...] = ("yaml", "ruamel.yaml", "click", "jsonschema"),
) -> list[str]:
    """The packages meshlint imports that have no cached bytecode for this Python.

    Without it every run compiles them again (PYTHONDONTWRITEBYTECODE, or an
    install by uv, which compiles nothing by default): a tenth of a second that
    a pip install, which compiles, never pays.
    """
    import importlib.util

    missing = []
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            continue
        if not Path(importlib.util.cache_from_source(spec.origin)).is_file():
            missing.append(name)
    return missing


def fix_rows(meshlint: list[str], corpus: Path, repeat: int) -> None:
    """``--fix`` (a copy of the corpus, fresh each run) against a plain check of it."""
    plain, fixing = Timing(), Timing()
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(repeat):
            for timing, extra in ((plain, []), (fixing, ["--fix"])):
                tree = Path(tmp) / "tree"
                shutil.rmtree(tree, ignore_errors=True)
                shutil.copytree(corpus, tree, symlinks=True)
                once([*meshlint, "check", str(tree), "-q", "-j", "1", *extra], timing)
    print(
        f"\n{'--fix against a plain check (-j 1, CPU s)':<44} {plain.cpu:8.2f} {fixing.cpu:8.2f}"
        f"   --fix is {fixing.cpu / plain.cpu:.2f}x (<= 1.3)"
    )


def stream_rows(meshlint: list[str], repeat: int, stream: int) -> None:
    """A file of many documents, each with a finding that offers a fix."""
    from stress import write_fixable  # beside this script

    with tempfile.TemporaryDirectory() as tmp:
        files = {n: write_fixable(Path(tmp) / f"{n}.yaml", n) for n in (1_000, 2_000)}
        timings = interleaved(
            {f"{n:,}": [*meshlint, "check", str(f), "-q", "-j", "1"] for n, f in files.items()},
            repeat,
        )
        small, large = timings["1,000"], timings["2,000"]
        print(
            f"\n{'documents with a fix each, one file (CPU s)':<44} "
            f"{small.cpu:8.2f} {large.cpu:8.2f}   2,000 is {large.cpu / small.cpu:.2f}x 1,000 (<= 2.2)"
        )
        if stream:
            big = write_fixable(Path(tmp) / "stream.yaml", stream)
            timing = once([*meshlint, "check", "-", "-q"], Timing(), stdin=big)
            print(
                f"{f'{stream:,} documents through check - (1 run)':<44} "
                f"{timing.wall:8.2f} wall {timing.cpu:8.2f} CPU   (under 60 s for 200,000)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scales", default="1,4,10", help="replication factors to time")
    parser.add_argument(
        "--stream", type=int, default=200_000, help="documents in one stream (0: skip)"
    )
    parser.add_argument("--peers", action="store_true", help="also time Checkov and yamllint")
    parser.add_argument("--checkov", help="path of the checkov executable")
    parser.add_argument("--yamllint", help="path of the yamllint executable")
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"benchmark: no corpus at {args.corpus}")
    meshlint = find_tool("meshlint") or [sys.executable, "-m", "meshlint"]
    corpus = str(args.corpus)
    files = [p for p in args.corpus.rglob("*") if p.suffix in EXTENSIONS and p.is_file()]
    size = sum(p.stat().st_size for p in files)
    print(
        f"corpus {corpus}: {len(files)} files, {size / 2**20:.1f} MiB; "
        f"{os.cpu_count()} CPUs; median of {args.repeat} runs\n"
    )
    if missing := uncompiled():
        print(
            f"note: no compiled bytecode for {', '.join(missing)}: each run compiles them "
            f"(python -m compileall {Path(sys.prefix)} makes the runs what a pip install sees)\n"
        )
    corpus_rows(meshlint, corpus, args.repeat)
    busy_rows(meshlint, corpus, args.repeat)
    fix_rows(meshlint, args.corpus, args.repeat)
    stream_rows(meshlint, args.repeat, args.stream)
    if args.peers:
        peer_rows(meshlint, corpus, args)
    scale_rows(meshlint, args)
    small_rows(meshlint, args)


def peer_rows(meshlint: list[str], corpus: str, args: argparse.Namespace) -> None:
    limit, _ = measure([sys.executable, "-c", PARSE_ONLY, corpus], 1)
    default, _ = measure([*meshlint, "check", corpus, "-q"], 1)
    print()
    peers = (
        (
            "checkov",
            args.checkov,
            ["-d", corpus, "--framework", "kubernetes", "--quiet", "--compact", "--skip-download"],
        ),
        ("yamllint", args.yamllint, [corpus]),
    )
    for name, explicit, tail in peers:
        tool = find_tool(name, explicit)
        if tool is None:
            print(f"{name + ' (not installed)':<44}")
            continue
        seconds, rss = measure([*tool, *tail], 1)
        print(
            row(f"{name} (1 run)", seconds, rss, limit)
            + f"   meshlint is {seconds / default:.0f}x faster"
        )


def scale_rows(meshlint: list[str], args: argparse.Namespace) -> None:
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    if scales:
        print(
            f"\n{'scale (hard-linked copies)':<44} {'seconds':>8} {'per copy':>8} {'peak MiB':>9}"
        )
        for factor in scales:
            with tempfile.TemporaryDirectory() as tmp:
                tree = replicate(args.corpus, Path(tmp), factor)
                for label, extra in (("", []), (" -j 1", ["-j", "1"])):
                    seconds, rss = measure([*meshlint, "check", str(tree), "-q", *extra], 1)
                    print(
                        f"{f'{factor}x corpus{label}':<44} {seconds:8.2f} {seconds / factor:8.2f} {rss:9.0f}"
                    )


def small_rows(meshlint: list[str], args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small = twenty_documents(args.corpus, Path(tmp))
        pre_commit, _ = measure([*meshlint, "check", str(small), "-q"], max(args.repeat, 5))
    version, _ = measure([*meshlint, "--version"], max(args.repeat, 5))
    print(f"\n{'20-document run (wall, incl. start-up)':<44} {pre_commit:8.3f}   budget 0.500")
    print(f"{'meshlint --version':<44} {version:8.3f}   budget 0.150")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
