#!/usr/bin/env python3
"""Benchmark: meshlint against the parse-only limit and its peers, as whole processes.

    python tests/benchmark.py [DIR] [--repeat N] [--scales 1,4,10] [--checkov PATH]

Prints, from one run, the median wall time of N runs and its ratio to the
parse-only limit (composing every *.yaml/*.yml/*.json under DIR with libyaml:
PyYAML's CSafeLoader, nodes with positions, no linting), for meshlint on both
cores and with -j 1, Checkov's kubernetes framework and yamllint when they are
installed (`pip install checkov yamllint`, any venv: pass --checkov PATH), then
how time and peak memory grow when DIR is replicated 4x and 10x (hard links in
a temporary directory), a 20-document run and ``--version``. DIR defaults to
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

# Runs a command and prints its wall time and the peak RSS of the largest
# process in its tree (children are waited for, so their peaks count).
MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
wall = time.perf_counter() - start
print(json.dumps([wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))
"""


def find_tool(name: str, explicit: str | None = None) -> list[str] | None:
    if explicit:
        return [explicit]
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    return [found] if found else None


def measure(command: list[str], repeat: int) -> tuple[float, float]:
    """Median wall seconds and peak RSS in MiB over ``repeat`` runs."""
    walls, peaks = [], []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, *command], capture_output=True, text=True, check=True
        )
        wall, rss_kib = json.loads(out.stdout)
        walls.append(wall)
        peaks.append(rss_kib / 1024)
    return statistics.median(walls), max(peaks)


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scales", default="1,4,10", help="replication factors to time")
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
    print(f"{'run':<44} {'seconds':>8} {'x limit':>8} {'peak MiB':>9}")
    limit, limit_rss = measure([sys.executable, "-c", PARSE_ONLY, corpus], args.repeat)
    print(row("libyaml compose (parse-only limit)", limit, limit_rss, limit))
    default, default_rss = measure([*meshlint, "check", corpus, "-q"], args.repeat)
    print(row("meshlint check (default: all CPUs)", default, default_rss, limit))
    single, single_rss = measure([*meshlint, "check", corpus, "-q", "-j", "1"], args.repeat)
    print(row("meshlint check -j 1", single, single_rss, limit))
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
