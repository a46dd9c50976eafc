"""Measure --fix (a script, not a test): on a copy of the corpus and of every
rule's bad.yaml, files changed and fixes applied per rule, fixes refused, a
second run, and the time of --fix against a plain check.

    python tests/fix_report.py [CORPUS]
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from meshlint.api import Settings, fix_paths, lint_paths

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = Settings(isolated=True, report_unused_ignores=True)


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    for root, _, files in os.walk(target):
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    return target


def measure(label: str, tree: Path, jobs: int) -> None:
    started = time.perf_counter()
    before = lint_paths([str(tree)], SETTINGS, jobs=jobs).report
    plain = time.perf_counter() - started
    started = time.perf_counter()
    done = fix_paths([str(tree)], SETTINGS, unsafe=True, jobs=jobs)
    fixing = time.perf_counter() - started
    again = fix_paths([str(tree)], SETTINGS, unsafe=True, jobs=jobs)
    after = done.run.report
    written = sum(f.written for f in done.files)
    print(f"== {label}: {len(before.findings)} findings before, {len(after.findings)} after")
    print(f"files changed: {len(done.files)} ({written} written, {len(done.files) - written} not)")
    print("fixes applied per rule:", dict(sorted(done.fixed.items())))
    print("findings per rule before:", dict(sorted(before.counts().items())))
    print("findings per rule after: ", dict(sorted(after.counts().items())))
    refused = [n for n in done.notes if "skipped" in n]
    print(f"fixes refused (result not as intended): {len(refused)}")
    for note in refused:
        print("  ", note)
    print(
        f"second run: {sum(again.fixed.values())} fixes in {len(again.files)} files "
        f"(never-written files fix again: {sum(not f.written for f in again.files)})"
    )
    print(
        f"time: plain check {plain:.2f}s, --fix --unsafe-fixes {fixing:.2f}s "
        f"({fixing / plain:.1f}x)"
    )


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus" / "real"
    with tempfile.TemporaryDirectory() as tmp:
        fixtures = Path(tmp) / "fixtures"
        fixtures.mkdir()
        for bad in sorted((ROOT / "tests" / "rules").glob("*/bad.yaml")):
            shutil.copy(bad, fixtures / f"{bad.parent.name}.yaml")
        measure("bad.yaml fixtures", fixtures, jobs=1)
        if corpus.exists():
            measure("corpus", _copy(corpus, Path(tmp) / "corpus"), jobs=2)
        else:
            print(f"corpus not found at {corpus}")


if __name__ == "__main__":
    main()
