#!/usr/bin/env python3
"""Benchmark: meshlint against the parse-only limit, as whole processes.

    python tests/benchmark.py [DIR] [--repeat N]

Prints medians of N runs and their ratios to the parse-only limit: composing
every *.yaml/*.yml/*.json under DIR with libyaml (PyYAML's CSafeLoader, nodes
with positions, no linting). DIR defaults to ../shared/corpus/real. Also times
a 20-document run (a pre-commit hook's typical load) and ``--version``.
Absolute seconds vary across runs on shared machines; compare the ratios.
"""

from __future__ import annotations

import argparse
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


def meshlint_command() -> list[str]:
    exe = shutil.which("meshlint", path=str(Path(sys.executable).parent)) or shutil.which("meshlint")
    return [exe] if exe else [sys.executable, "-m", "meshlint"]


def timed(command: list[str], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def twenty_documents(corpus: Path, target: Path) -> Path:
    """20 real workload documents in 20 files, like a pre-commit run on a change."""
    count = 0
    for path in sorted(corpus.rglob("*.yaml")):
        text = path.read_text(encoding="utf-8", errors="replace")
        if text.count("\n---") == 0 and "kind: Deployment" in text and len(text) < 20_000:
            (target / f"doc{count:02}.yaml").write_text(text, encoding="utf-8")
            count += 1
            if count == 20:
                break
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"benchmark: no corpus at {args.corpus}")
    meshlint = meshlint_command()
    corpus = str(args.corpus)
    files = [p for p in args.corpus.rglob("*") if p.suffix in (".yaml", ".yml", ".json")]
    size = sum(p.stat().st_size for p in files)
    print(f"corpus: {corpus}: {len(files)} files, {size / 2**20:.1f} MiB; {os.cpu_count()} CPUs; "
          f"median of {args.repeat} runs")

    limit = timed([sys.executable, "-c", PARSE_ONLY, corpus], args.repeat)
    rows = [("libyaml compose (parse-only limit)", limit)]
    rows.append(("meshlint check (default jobs)", timed([*meshlint, "check", corpus, "-q"], args.repeat)))
    rows.append(("meshlint check -j 1", timed([*meshlint, "check", corpus, "-q", "-j", "1"], args.repeat)))
    print(f"\n{'run':<40} {'seconds':>8} {'x limit':>8}")
    for name, seconds in rows:
        print(f"{name:<40} {seconds:8.2f} {seconds / limit:8.2f}")

    with tempfile.TemporaryDirectory() as tmp:
        small = twenty_documents(args.corpus, Path(tmp))
        pre_commit = timed([*meshlint, "check", str(small), "-q"], max(args.repeat, 5))
    version = timed([*meshlint, "--version"], max(args.repeat, 5))
    print(f"\n{'20-document run (wall, incl. start-up)':<40} {pre_commit:8.3f}   budget 0.500")
    print(f"{'meshlint --version':<40} {version:8.3f}   budget 0.150")


if __name__ == "__main__":
    main()
