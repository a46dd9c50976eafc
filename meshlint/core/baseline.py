"""Baselines: accept today's findings, report only new ones.

A finding is remembered by ``Finding.identity()``: rule, file, resource and
JSONPath, never the line, so edits above it do not bring it back. Files are
stored relative to the baseline's own directory, so a baseline works from any
working directory. The same identity can occur several times (two containers
with the same name, say): it is counted, and only that many are hidden.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from meshlint.core.files import Refused, read_file
from meshlint.core.fsguard import file_link_leaves, write_file
from meshlint.core.model import Finding
from meshlint.core.report import Report, portable_name

VERSION = 1
# About 250,000 accepted findings; a larger file is refused before it is read.
MAX_BASELINE_BYTES = 64 * 2**20

Identity = tuple[str, str, str, str]


class BaselineError(Exception):
    """A baseline that cannot be read or is not one of ours."""


def _file_key(name: str, base: Path) -> str:
    """The file as an entry names it: relative to the baseline, valid Unicode."""
    if name == "-":
        return name
    try:
        rel = os.path.relpath(os.path.abspath(name), base)
    except ValueError:  # another drive on Windows
        rel = os.path.abspath(name)
    return portable_name(rel.replace(os.sep, "/"))


def identity(finding: Finding, base: Path) -> Identity:
    rule, file, resource, path = finding.identity()
    return (rule, _file_key(file, base), resource, path)


def _base(baseline: Path) -> Path:
    return baseline.resolve().parent


def dumps(findings: Iterable[Finding], baseline: Path) -> str:
    """The baseline file's text for ``findings``, to be written at ``baseline``."""
    base = _base(baseline)
    found = list(findings)
    counts = Counter(identity(f, base) for f in found)
    slugs = {f.rule: f.slug for f in found}
    entries = [
        {
            "rule": rule,
            "slug": slugs.get(rule, ""),
            "file": file,
            "resource": resource,
            "path": path,
            "count": count,
        }
        for (rule, file, resource, path), count in sorted(counts.items())
    ]
    data = {"version": VERSION, "tool": "meshlint", "findings": entries}
    return json.dumps(data, indent=2) + "\n"


def write(findings: Iterable[Finding], baseline: Path) -> None:
    # a file of the tree: a link at it is refused, not replaced (fsguard.write_file)
    write_file(str(baseline), dumps(findings, baseline).encode("utf-8"), owned=True)


def load(baseline: Path) -> Counter[Identity]:
    """The identities a baseline file accepts, with how often each may occur."""
    if file_link_leaves(str(baseline)):
        raise BaselineError(
            f"{baseline}: a symbolic link out of its directory and repository; not read"
        )
    try:
        data = json.loads(read_file(baseline, MAX_BASELINE_BYTES).decode("utf-8"))
    except Refused as exc:
        raise BaselineError(f"{baseline}: cannot read baseline: {exc}") from exc
    except OSError as exc:
        raise BaselineError(f"{baseline}: cannot read baseline: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{baseline}: not a meshlint baseline: {exc}") from exc
    except RecursionError as exc:  # the decoder recurses once per level of nesting
        raise BaselineError(f"{baseline}: not a meshlint baseline: nested too deeply") from exc
    version = data.get("version") if isinstance(data, dict) else None
    # `true == 1` in Python: the version must be the integer itself
    if type(version) is not int or version != VERSION:
        raise BaselineError(
            f"{baseline}: not a meshlint baseline of version {VERSION} "
            "(write one with --write-baseline)"
        )
    entries = data.get("findings")
    if not isinstance(entries, list):
        raise BaselineError(f"{baseline}: 'findings' must be a list")
    accepted: Counter[Identity] = Counter()
    for number, entry in enumerate(entries):
        keys = ("rule", "file", "resource", "path")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in keys):
            raise BaselineError(f"{baseline}: findings[{number}] needs string {', '.join(keys)}")
        count = entry.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise BaselineError(f"{baseline}: findings[{number}].count must be a positive integer")
        accepted[(entry["rule"], entry["file"], entry["resource"], entry["path"])] += count
    return accepted


def apply(report: Report, baseline: Path) -> Report:
    """``report`` without the findings the baseline accepts (counted in ``baselined``)."""
    accepted = load(baseline)
    base = _base(baseline)
    kept: list[Finding] = []
    for finding in report.findings:
        key = identity(finding, base)
        if accepted[key] > 0:
            accepted[key] -= 1
        else:
            kept.append(finding)
    return replace(
        report, findings=kept, baselined=report.baselined + len(report.findings) - len(kept)
    )


def unmatched(findings: Iterable[Finding], baseline: Path) -> Counter[Identity]:
    """The baseline's entries that no finding of ``findings`` uses (fixed, or
    moved to another object), with how many times each is left over."""
    left = load(baseline)
    base = _base(baseline)
    for finding in findings:
        key = identity(finding, base)
        if left[key] > 0:
            left[key] -= 1
    return +left


def in_scope(
    entries: Counter[Identity], baseline: Path, files: Iterable[str], rules: Iterable[str]
) -> Counter[Identity]:
    """The entries a run could have matched: their file was linted and their rule ran
    (a run over part of the tree or with part of the rules says nothing of the rest)."""
    base = _base(baseline)
    linted = {_file_key(name, base) for name in files}
    ran = set(rules)
    return Counter({k: n for k, n in entries.items() if k[1] in linted and k[0] in ran})


def prune(baseline: Path, stale: Counter[Identity]) -> int:
    """Rewrite ``baseline`` without ``stale`` entries; how many were dropped.
    Raises WriteRefused (a link, hard links, changed since read) or OSError."""
    read = read_file(baseline, MAX_BASELINE_BYTES)
    data = json.loads(read.decode("utf-8"))
    kept = []
    dropped = 0
    for entry in data["findings"]:
        key = (entry["rule"], entry["file"], entry["resource"], entry["path"])
        count = entry.get("count", 1)
        gone = min(stale[key], count)
        stale[key] -= gone
        dropped += gone
        if count > gone:
            kept.append({**entry, "count": count - gone})
    data["findings"] = kept
    text = json.dumps(data, indent=2) + "\n"
    write_file(str(baseline), text.encode("utf-8"), expected=read, owned=True)
    return dropped


def entries(findings: Iterable[Finding], baseline: Path) -> int:
    """How many entries a baseline of ``findings`` holds."""
    base = _base(baseline)
    return len({identity(f, base) for f in findings})


def acceptor(baseline: Path) -> Callable[[Finding], bool]:
    """A test that says, finding by finding, whether the baseline accepts it (each
    entry as often as it is counted), for findings shown before the run ends."""
    left = load(baseline)
    base = _base(baseline)

    def accepts(finding: Finding) -> bool:
        key = identity(finding, base)
        if left[key] > 0:
            left[key] -= 1
            return True
        return False

    return accepts
