"""A `--fix --unsafe-fixes` fuzz over mutated real manifests (issue #29).

Corpus files are copied into one directory with one to three mutations each
(ignore comments real and inside strings, odd line breaks, a CR LF line,
changed quantities, a document rewritten as JSON, deep nesting, lines
duplicated or dropped), then the installed console script runs over the batch:

1. ``check --format json``: the findings and the byte edits of every fix;
2. ``check --fix --unsafe-fixes``: must end without an internal error;
3. ``check --format json`` again: a changed file must parse as well as before
   (no new M001; a JSON file stays JSON);
4. ``check --fix --unsafe-fixes`` again: must change nothing (idempotent);

and every line a fix changed must be one of the lines a fix of step 1 touches.

    python tests/fix_fuzz.py --files 300 --batches 3 --seed 1

prints the tallies; tests/test_fix_fuzz.py runs a bounded sample.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

Mutation = Callable[[random.Random, str], str]
_QUANTITY = re.compile(r"(memory: *['\"]?)([0-9]+(?:Mi|Gi|M|G))")


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _some_line(rng: random.Random, lines: list[str]) -> int:
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return rng.choice(filled) if filled else 0


def real_ignore(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    at = _some_line(rng, lines)
    lines[at] += rng.choice(["  # meshlint: ignore[K9]", " # meshlint: ignore[K001]"])
    return "\n".join(lines)


def own_line_ignore(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    at = _some_line(rng, lines)
    indent = len(lines[at]) - len(lines[at].lstrip(" "))
    lines.insert(at, " " * indent + "# meshlint: ignore[Q123] stale")
    return "\n".join(lines)


def string_ignore(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    at = _some_line(rng, lines)
    lines[at] += "#meshlint:ignore[x]"
    return "\n".join(lines)


def odd_break(rng: random.Random, text: str) -> str:
    breaks = [m.start() for m in re.finditer("\n", text)]
    if not breaks:
        return text
    at = rng.choice(breaks)
    return text[:at] + rng.choice(["\x85", "\u2028", "\u2029", "\r"]) + text[at + 1 :]


def one_crlf(rng: random.Random, text: str) -> str:
    breaks = [m.start() for m in re.finditer("(?<!\r)\n", text)]
    if not breaks:
        return text
    at = rng.choice(breaks)
    return text[:at] + "\r\n" + text[at + 1 :]


def all_crlf(rng: random.Random, text: str) -> str:
    del rng
    return text.replace("\r\n", "\n").replace("\n", "\r\n")


def quantity(rng: random.Random, text: str) -> str:
    found = list(_QUANTITY.finditer(text))
    if not found:
        return text
    m = rng.choice(found)
    new = rng.choice(["400Mi", "512m", "1Gi", "64Mi", "2G"])
    return text[: m.start(2)] + new + text[m.end(2) :]


def gomemlimit(rng: random.Random, text: str) -> str:
    value = rng.choice(["400Mi", "1Gi", "300MB", "off", "2048"])
    return re.sub(
        r"(\n( *)- name: [^\n]+\n\2  image: [^\n]+\n)",
        lambda m: m[1] + f"{m[2]}  env: [{{name: GOMEMLIMIT, value: {value}}}]\n",
        text,
        count=1,
    )


def duplicate_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    at = _some_line(rng, lines)
    lines.insert(at, lines[at])
    return "\n".join(lines)


def drop_line(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    if len(lines) > 3:
        del lines[_some_line(rng, lines)]
    return "\n".join(lines)


def deep(rng: random.Random, text: str) -> str:
    depth = rng.choice([400, 450, 500])
    return text.rstrip("\n") + f"\nzz-deep: {'[' * depth}{']' * depth}\n"


def flow_list(rng: random.Random, text: str) -> str:
    """A block list of scalars rewritten as a multi-line flow list with comments."""
    match = re.search(r"\n( *)([A-Za-z_]+):\n((?:\1- [^\n{}\[\]:#]+\n)+)", text)
    if match is None:
        return text
    indent, key, items = match[1], match[2], match[3].splitlines()
    body = "".join(
        f"{indent}  {item.strip()[2:]},  # item {n}\n" if rng.random() < 0.7 else
        f"{indent}  {item.strip()[2:]},\n"
        for n, item in enumerate(items)
    )  # fmt: skip
    return text[: match.start()] + f"\n{indent}{key}: [\n{body}{indent}]\n" + text[match.end() :]


MUTATIONS: dict[str, Mutation] = {
    "real-ignore": real_ignore,
    "own-line-ignore": own_line_ignore,
    "string-ignore": string_ignore,
    "odd-break": odd_break,
    "one-crlf": one_crlf,
    "all-crlf": all_crlf,
    "quantity": quantity,
    "gomemlimit": gomemlimit,
    "duplicate-line": duplicate_line,
    "drop-line": drop_line,
    "deep": deep,
    "flow-list": flow_list,
}


def as_json(text: str) -> str | None:
    """One document, as JSON (None when it is not one plain document)."""
    try:
        docs = list(yaml.safe_load_all(text))
    except (yaml.YAMLError, RecursionError):
        return None
    if len(docs) != 1 or not isinstance(docs[0], dict):
        return None
    try:
        return json.dumps(docs[0], indent=rng_indent(text)) + "\n"
    except (TypeError, ValueError):
        return None


def rng_indent(text: str) -> int:
    return 2 if len(text) % 2 else 4


@dataclass
class Tally:
    files: int = 0
    mutations: Counter[str] = field(default_factory=Counter)
    fixed_files: int = 0
    fixes: int = 0
    internal: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    not_idempotent: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)
    slow: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def merge(self, other: Tally) -> None:
        self.files += other.files
        self.mutations.update(other.mutations)
        self.fixed_files += other.fixed_files
        self.fixes += other.fixes
        for name in ("internal", "invalid", "not_idempotent", "outside", "slow"):
            getattr(self, name).extend(getattr(other, name))
        self.seconds += other.seconds

    def problems(self) -> list[str]:
        return [*self.internal, *self.invalid, *self.not_idempotent, *self.outside, *self.slow]


def build(
    files: list[Path],
    rng: random.Random,
    target: Path,
    tally: Tally,
    without: frozenset[str] = frozenset(),
) -> None:
    """The mutated copies of ``files`` in ``target`` (no mutation named in ``without``)."""
    kinds = sorted(set(MUTATIONS) - without)
    for n, source in enumerate(files):
        try:
            text = source.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        name = f"f{n:04}.yaml"
        for mutation in rng.sample(kinds, rng.randint(1, 3)):
            text = MUTATIONS[mutation](rng, text)
            tally.mutations[mutation] += 1
        if "json" not in without and rng.random() < 0.15 and (converted := as_json(text)):
            text, name = converted, f"f{n:04}.json"
            tally.mutations["json"] += 1
        (target / name).write_bytes(text.encode("utf-8", "surrogatepass"))
        tally.files += 1


def _run(meshlint: str, cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    run = subprocess.run(
        [meshlint, "check", "--isolated", "-j", "1", *args, "."],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=1800,
        check=False,
    )
    return run, time.monotonic() - began


def _findings(run: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    try:
        found = json.loads(run.stdout)["findings"]
    except (ValueError, KeyError):
        return []
    return list(found)


def _internal(run: subprocess.CompletedProcess[str], step: str) -> list[str]:
    return [
        f"{step}: {line}"
        for line in run.stderr.splitlines()
        if "internal error" in line or "Traceback" in line
    ]


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def _touched_lines(before: bytes, edits: list[tuple[int, int]]) -> set[int]:
    """The 0-based lines of ``before`` that the edits touch (an insertion at a
    line's start touches that line and the one before)."""
    starts = [0] + [m.end() for m in re.finditer(rb"\n", before)]
    touched: set[int] = set()
    for start, end in edits:
        first = max(0, _line_of(starts, start) - 1)
        last = _line_of(starts, max(start, end)) + 1
        touched.update(range(first, last + 1))
    return touched


def _line_of(starts: list[int], offset: int) -> int:
    low, high = 0, len(starts) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if starts[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low


def _changed_lines(before: bytes, after: bytes) -> set[int]:
    old, new = before.split(b"\n"), after.split(b"\n")
    changed: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        changed.update(range(i1, i2) if i2 > i1 else {i1})
    return changed


def _same_data(before: bytes, after: bytes) -> bool:
    """The two texts load as the same values (True where the first does not load)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        old = list(yaml.load_all(before, Loader=loader))
    except (yaml.YAMLError, RecursionError, ValueError):
        return True
    try:
        return old == list(yaml.load_all(after, Loader=loader))
    except (yaml.YAMLError, RecursionError, ValueError):
        return False


def _parses(data: bytes, json_file: bool) -> bool:
    if json_file:
        try:
            json.loads(data)
        except ValueError:
            return False
    return True


def run_batch(meshlint: str, directory: Path, tally: Tally, limit: float = 20.0) -> None:
    """Steps 1 to 4 over one batch directory; the problems go to ``tally``."""
    began = time.monotonic()
    original = _snapshot(directory)
    first, _ = _run(meshlint, directory, "--format", "json")
    tally.internal += _internal(first, "check")
    edits: dict[str, list[tuple[int, int]]] = {}
    fixed_by: dict[str, set[str]] = {}
    m001_before: Counter[str] = Counter()
    for finding in _findings(first):
        name = str(finding["file"]).removeprefix("./")
        fix = finding.get("fix")
        if isinstance(fix, dict):
            edits.setdefault(name, []).extend((e["start"], e["end"]) for e in fix["edits"])
            fixed_by.setdefault(name, set()).add(str(finding["rule"]))
        if finding["rule"] == "M001":
            m001_before[name] += 1
    fixing, seconds = _run(meshlint, directory, "--fix", "--unsafe-fixes", "--no-color")
    tally.internal += _internal(fixing, "fix")
    if seconds > limit * max(1, len(original) / 100):
        tally.slow.append(f"fix run over {len(original)} files took {seconds:.1f} s")
    if fixing.returncode not in (0, 1):
        tally.internal.append(f"fix exited {fixing.returncode}: {fixing.stderr.strip()[:300]}")
    fixed = _snapshot(directory)
    changed = [name for name in original if fixed.get(name) != original[name]]
    tally.fixed_files += len(changed)
    match = re.search(r"Fixed (\d+)", fixing.stdout)
    tally.fixes += int(match[1]) if match else 0
    after, _ = _run(meshlint, directory, "--format", "json")
    tally.internal += _internal(after, "check after fix")
    m001_after = Counter(
        str(f["file"]).removeprefix("./") for f in _findings(after) if f["rule"] == "M001"
    )
    for name in changed:
        json_file = name.endswith(".json")
        if m001_after[name] > m001_before[name] or (
            _parses(original[name], json_file) and not _parses(fixed[name], json_file)
        ):
            tally.invalid.append(f"{name}: does not parse after the fix")
        if fixed_by.get(name) == {"M100"} and not _same_data(original[name], fixed[name]):
            tally.invalid.append(f"{name}: removing ignore comments changed the data")
        outside = _changed_lines(original[name], fixed[name]) - _touched_lines(
            original[name], edits.get(name, [])
        )
        if outside:
            tally.outside.append(f"{name}: lines {sorted(outside)[:5]} changed outside a fix")
    again, _ = _run(meshlint, directory, "--fix", "--unsafe-fixes")
    tally.internal += _internal(again, "second fix")
    for name, data in _snapshot(directory).items():
        if fixed.get(name) != data:
            tally.not_idempotent.append(f"{name}: changed again by a second --fix")
    tally.seconds += time.monotonic() - began


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(
        p for p in corpus.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".json")
    )


def fuzz(
    meshlint: str,
    corpus: Path,
    files: int,
    batches: int,
    seed: int,
    keep: Path | None = None,
    without: frozenset[str] = frozenset(),
) -> Tally:
    rng = random.Random(seed)
    pool = corpus_files(corpus)
    total = Tally()
    for batch in range(batches):
        chosen = rng.sample(pool, min(files, len(pool)))
        with tempfile.TemporaryDirectory(prefix="meshlint-fix-fuzz-") as scratch:
            directory = Path(scratch)
            tally = Tally()
            build(chosen, rng, directory, tally, without)
            run_batch(meshlint, directory, tally)
            if keep is not None and tally.problems():
                shutil.copytree(directory, keep / f"batch{batch}", dirs_exist_ok=True)
            total.merge(tally)
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("../shared/corpus/real"))
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--batches", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="copy batches with problems here")
    parser.add_argument("--without", action="append", default=[], help="a mutation to leave out")
    args = parser.parse_args()
    meshlint = shutil.which("meshlint") or sys.exit("meshlint is not installed")
    without = frozenset(args.without)
    tally = fuzz(meshlint, args.corpus, args.files, args.batches, args.seed, args.keep, without)
    print(f"files: {tally.files}  mutations: {dict(sorted(tally.mutations.items()))}")
    print(
        f"files fixed: {tally.fixed_files}  fixes applied: {tally.fixes}  ({tally.seconds:.0f} s)"
    )
    for name in ("internal", "invalid", "not_idempotent", "outside", "slow"):
        found = getattr(tally, name)
        print(f"{name}: {len(found)}")
        for line in found[:20]:
            print(f"  {line}")
    sys.exit(1 if tally.problems() else 0)


if __name__ == "__main__":
    main()
