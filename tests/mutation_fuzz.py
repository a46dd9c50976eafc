#!/usr/bin/env python3
"""Mutation fuzz: real manifests from ../shared/corpus/real (or MESHLINT_CORPUS),
mutated the ways hand edits, bad merges and attackers break files, each linted
with every rule (issue #28, "Slow mutated files").

Mutations: byte flips, truncation, duplicated lines, shuffled lines,
indentation changes, scalars swapped for other types, anchors and aliases,
huge numbers and unicode line breaks (NEL, LS, PS). A mutant is linted in this
process as ``meshlint check`` lints a file; the outcome of interest is an
internal error (a rule or the reader raised) and the time each file takes.

    python tests/mutation_fuzz.py [--mutants N] [--seed S] [--max-bytes B] [--slowest K]

prints the internal errors (with the mutation that caused each) and the K
slowest mutants; ``MESHLINT_FUZZ_FULL=1`` makes the default a full run (every
corpus file, several mutants each). The test suite (tests/test_mutation_fuzz.py)
lints a bounded sample with a fixed seed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = Path(os.environ.get("MESHLINT_CORPUS", HERE.parent.parent / "shared" / "corpus" / "real"))
SEED = 28
SLOW_SECONDS = 5.0  # reported as it happens, besides the slowest at the end
HUGE = "9" * 5000
SCALARS = ("true", "~", "1e400", "-0", "0x" + "f" * 40, "[]", "{}", '"x"', "!!binary AA==", HUGE)
BREAKS = ("\x85", "\u2028", "\u2029")
_VALUE = re.compile(rb"(:[ ]+)([^\s#][^\n#]*)")

Mutator = Callable[[bytes, random.Random], bytes]


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def duplicate_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    if not lines:
        return data
    start = rng.randrange(len(lines))
    block = lines[start : start + rng.randint(1, 200)]
    # up to a few MB: a document repeated into thousands (a bad merge, a loop in a script)
    times = rng.randint(2, max(2, min(2000, 4 * 2**20 // max(1, len(b"".join(block))))))
    return b"".join(lines[:start] + block * times + lines[start:])


def shuffle_lines(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    start = rng.randrange(len(lines) or 1)
    window = lines[start : start + rng.randint(2, 40)]
    rng.shuffle(window)
    return b"".join(lines[:start] + window + lines[start + len(window) :])


def reindent(data: bytes, rng: random.Random) -> bytes:
    lines = _lines(data)
    for _ in range(rng.randint(1, 10)):
        if lines:
            at = rng.randrange(len(lines))
            shift = rng.choice((-4, -2, -1, 1, 2, 4))
            line = lines[at]
            lines[at] = (
                b" " * shift + line
                if shift > 0
                else line[min(-shift, len(line) - len(line.lstrip(b" "))) :]
            )
    return b"".join(lines)


def swap_scalars(data: bytes, rng: random.Random) -> bytes:
    found = list(_VALUE.finditer(data))
    if not found:
        return data
    out = data
    for match in sorted(
        rng.sample(found, min(len(found), rng.randint(1, 10))), key=lambda m: -m.start()
    ):
        new = rng.choice(SCALARS).encode()
        out = out[: match.start(2)] + new + out[match.end(2) :]
    return out


def anchors(data: bytes, rng: random.Random) -> bytes:
    """An anchor on one value and aliases to it elsewhere (and, sometimes, inside it)."""
    found = list(_VALUE.finditer(data))
    if len(found) < 2:
        return data
    first, *others = sorted(
        rng.sample(found, min(len(found), rng.randint(2, 8))), key=lambda m: m.start()
    )
    out = data
    for match in sorted(others, key=lambda m: -m.start()):
        out = out[: match.start(2)] + b"*fuzz" + out[match.end(2) :]
    return out[: first.start(2)] + b"&fuzz " + out[first.start(2) :]


_DIGITS = re.compile(rb"[0-9]+")


def huge_numbers(data: bytes, rng: random.Random) -> bytes:
    """A run of digits in values (a count, a quantity, a version in an image tag)
    made thousands of digits long, in about half the values that hold one."""
    found = [m for m in _VALUE.finditer(data) if _DIGITS.search(m.group(2))]
    if not found:
        return data + f"\nx: {HUGE}\n".encode()
    out = data
    for match in reversed(found):
        if rng.random() < 0.5:
            value = match.group(2)
            runs = list(_DIGITS.finditer(value))
            run = rng.choice(runs)
            value = (
                value[: run.start()] + rng.choice((HUGE, "f" * 4500)).encode() + value[run.end() :]
            )
            if rng.random() < 0.2:
                value = b"0x" + value
            out = out[: match.start(2)] + value + out[match.end(2) :]
    return out


def unicode_breaks(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    brk = rng.choice(BREAKS)
    if rng.random() < 0.5:
        return text.replace("\n", brk).encode("utf-8", "surrogateescape")
    parts = text.split("\n")
    return "".join(part + (brk if rng.random() < 0.3 else "\n") for part in parts[:-1]).encode(
        "utf-8", "surrogateescape"
    ) + parts[-1].encode("utf-8", "surrogateescape")


MUTATORS: dict[str, Mutator] = {
    "flip": flip_bytes,
    "truncate": truncate,
    "duplicate": duplicate_lines,
    "shuffle": shuffle_lines,
    "indent": reindent,
    "types": swap_scalars,
    "anchors": anchors,
    "numbers": huge_numbers,
    "breaks": unicode_breaks,
}


@dataclass(frozen=True)
class Mutant:
    source: str  # corpus file, relative to the corpus
    mutation: str
    number: int
    data: bytes

    def __str__(self) -> str:
        return f"{self.source} [{self.mutation} #{self.number}]"


def corpus_files(corpus: Path, max_bytes: int) -> list[Path]:
    return sorted(
        p
        for p in corpus.rglob("*")
        if p.suffix in (".yaml", ".yml", ".json") and p.is_file() and p.stat().st_size <= max_bytes
    )


def mutants(corpus: Path, count: int, seed: int = SEED, max_bytes: int = 2**20) -> Iterator[Mutant]:
    """``count`` mutants of corpus files, reproducible from ``seed``."""
    files = corpus_files(corpus, max_bytes)
    rng = random.Random(seed)
    names = sorted(MUTATORS)
    for number in range(count):
        path = rng.choice(files)
        mutation = names[number % len(names)]  # every kind as often as the others
        data = MUTATORS[mutation](path.read_bytes(), random.Random(f"{seed}:{number}"))
        yield Mutant(str(path.relative_to(corpus)), mutation, number, data)


def lint_mutant(mutant: Mutant) -> tuple[list[str], float]:
    """The internal errors of linting ``mutant`` (an exception counts) and its seconds."""
    from conftest import lint_text

    name = "fuzz" + Path(mutant.source).suffix
    start = time.perf_counter()
    try:
        report = lint_text(mutant.data, name=name)
        errors = [e for e in report.errors if "internal error" in e]
    except Exception as exc:  # an abort of the whole run
        errors = [f"run aborted: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}"]
    return errors, time.perf_counter() - start


def main() -> int:
    full = os.environ.get("MESHLINT_FUZZ_FULL") == "1"
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--mutants",
        type=int,
        default=None,
        help="default: 200, or 5 per file with MESHLINT_FUZZ_FULL=1",
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--max-bytes", type=int, default=4 * 2**20)
    parser.add_argument("--slowest", type=int, default=10)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if not CORPUS.is_dir():
        print(f"no corpus at {CORPUS}", file=sys.stderr)
        return 2
    count = args.mutants or (5 * len(corpus_files(CORPUS, args.max_bytes)) if full else 200)
    failures: list[tuple[Mutant, str]] = []
    times: list[tuple[float, Mutant]] = []
    began = time.perf_counter()
    for mutant in mutants(CORPUS, count, args.seed, args.max_bytes):
        errors, seconds = lint_mutant(mutant)
        failures += [(mutant, e) for e in errors]
        times.append((seconds, mutant))
        for error in errors:
            print(f"INTERNAL {mutant}: {error[:300]}", flush=True)
        if seconds > SLOW_SECONDS:
            print(f"SLOW {seconds:.1f} s {len(mutant.data):,} B {mutant}", flush=True)
    print(
        f"\n{count} mutants in {time.perf_counter() - began:.0f} s: {len(failures)} internal errors"
    )
    print(f"slowest {args.slowest}:")
    for seconds, mutant in sorted(times, key=lambda t: -t[0])[: args.slowest]:
        print(f"  {seconds:8.2f} s  {len(mutant.data):>9,} B  {mutant}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
