"""gitignore-style patterns: the automaton answers as the regular expression it
replaced did, without backtracking (issue #18, item 5)."""

from __future__ import annotations

import itertools
import os
import re
import sys
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FUZZ_EXAMPLES, run_meshlint
from meshlint.core.globs import MAX_DFA_STATES, matches_any
from meshlint.core.globs import _glob as fresh_glob

sys.path.insert(0, str(Path(__file__).parent))
from stress import GREEDY, LONG_NAME, OK


def _regex(pattern: str) -> re.Pattern[str]:
    """The translation meshlint used before: the oracle for short inputs."""
    body = pattern.strip()
    anchored = "/" in body.rstrip("/")
    body = body.strip("/")
    if body.startswith("./"):
        body = body[2:]
    out, i = [], 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(body[i]))
            i += 1
    return re.compile(f"^{'' if anchored else '(?:.*/)?'}{''.join(out)}(?:/.*)?$")


@settings(max_examples=4 * FUZZ_EXAMPLES, deadline=None)
@given(st.text("ab/*?. ", max_size=9), st.text("ab/.", max_size=12))
def test_the_automaton_agrees_with_the_regular_expression(pattern: str, path: str) -> None:
    assert fresh_glob(pattern).match(path) == bool(_regex(pattern).match(path))


def test_gitignore_examples() -> None:
    assert matches_any("charts/a/templates/x/y.yaml", ["charts/*/templates/**"])
    assert not matches_any("charts/a/b/templates/y.yaml", ["charts/*/templates/**"])
    assert matches_any("deep/legacy/x.yaml", ["legacy/"])  # no slash inside: any depth
    assert not matches_any("deep/legacy/x.yaml", ["/legacy"])  # anchored
    assert matches_any("a/b/c.json", ["**/*.json"]) and matches_any("c.json", ["**/*.json"])
    assert matches_any("x.yml", ["?.yml"]) and not matches_any("xy.yml", ["?.yml"])


def test_many_stars_against_a_long_name_cost_one_pass() -> None:
    glob = fresh_glob("*a" * 40 + "*b")
    assert not glob.match("a" * 4_000)
    assert glob.match("a" * 4_000 + "b")
    assert len(glob._sets) < MAX_DFA_STATES  # the automaton stayed small


def test_the_automaton_stops_growing_at_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    import meshlint.core.globs

    monkeypatch.setattr(meshlint.core.globs, "MAX_DFA_STATES", 6)
    pattern = "**a*b?c"
    glob, oracle = fresh_glob(pattern), _regex(pattern)
    paths = ["".join(p) for n in range(7) for p in itertools.product("abc/", repeat=n)]
    assert [glob.match(p) for p in paths] == [bool(oracle.match(p)) for p in paths]
    assert 0 < len(glob._sets) <= 6
    assert any(glob.match(p) for p in paths) and not all(glob.match(p) for p in paths)


@pytest.mark.parametrize(
    ("config", "args"),
    [
        ("", ["--exclude", GREEDY]),
        (f'exclude: ["{GREEDY}"]\n', []),
        (f'per-file-ignores: {{"{GREEDY}": [K001]}}\n', []),
    ],
    ids=["--exclude", "exclude:", "per-file-ignores"],
)
def test_globs_with_many_stars_against_a_long_name_answer_at_once(
    tmp_path: Path, config: str, args: list[str]
) -> None:
    (tmp_path / LONG_NAME).write_text(OK)
    (tmp_path / ".meshlint.yaml").write_text(config)
    run = run_meshlint("check", ".", "-q", *args, cwd=tmp_path)
    assert run.returncode == 1 and f"{LONG_NAME}:5:16: K001" in run.stdout  # not matched


def _gitignore_regex(pattern: str) -> re.Pattern[str]:
    """The .gitignore translation meshlint used before: the oracle for short inputs."""
    anchored = "/" in pattern
    body = pattern.lstrip("/")
    out: list[str] = []
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            out.append("/.*")
            i += 3
        elif body.startswith("**", i):
            out.append(".*")
            i += 2
        elif body[i] == "*":
            out.append("[^/]*")
            i += 1
        elif body[i] == "?":
            out.append("[^/]")
            i += 1
        elif body[i] == "[" and (end := body.find("]", i + 2)) != -1:
            inner = body[i + 1 : end].replace("\\", "\\\\")
            if inner.startswith("!"):
                inner = "^" + inner[1:]
            out.append(f"[{inner}]")
            i = end + 1
        elif body[i] == "\\" and i + 1 < len(body):
            out.append(re.escape(body[i + 1]))
            i += 2
        else:
            out.append(re.escape(body[i]))
            i += 1
    return re.compile(f"^{'' if anchored else '(?:.*/)?'}{''.join(out)}$")


@settings(max_examples=4 * FUZZ_EXAMPLES, deadline=None)
@given(st.text("ab/*?.[]!\\", max_size=9), st.text("ab/.!", max_size=12))
def test_gitignore_patterns_match_as_before(pattern: str, path: str) -> None:
    from meshlint.core.gitignore import _compile

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # "[[": a set that may nest one day
        for start in (i for i, c in enumerate(pattern) if c == "["):
            end = pattern.find("]", start + 2)
            if end == -1:
                continue  # a "[" that opens nothing is a character, then and now
            inner = pattern[start + 1 : end].replace("\\", "\\\\")
            inner = "^" + inner[1:] if inner.startswith("!") else inner
            try:
                re.compile(f"[{inner}]")
            except re.error:
                # the old translation ran such a "class" into what follows it ("[!]?"
                # became "[^][^/]"); a "[" that opens no class is a character now
                return
        try:
            oracle = _gitignore_regex(pattern)
        except re.error:
            return
        assert _compile(pattern).match(path) == bool(oracle.match(path))


def test_a_hostile_gitignore_costs_one_pass_per_path(tmp_path: Path) -> None:
    """Many stars against a long name, a FIFO, and a file past the read cap."""
    from meshlint.core.gitignore import MAX_IGNORE_BYTES

    (tmp_path / ".git").mkdir()  # a repository: its .gitignore applies
    (tmp_path / LONG_NAME).write_text(OK)
    (tmp_path / "kept.yaml").write_text(OK)
    padding = "# " + "x" * 98 + "\n"
    (tmp_path / ".gitignore").write_text(
        GREEDY + "\n" + padding * (MAX_IGNORE_BYTES // len(padding) + 10) + "kept.yaml\n"
    )
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "sub" / ".gitignore")
    (tmp_path / "sub" / "ok.yaml").write_text(OK)
    run = run_meshlint("check", ".", "-q", "--isolated", cwd=tmp_path)
    linted = sorted({line.split(":")[0] for line in run.stdout.splitlines()})
    # the greedy pattern matches nothing; "kept.yaml" lies past the read cap
    assert linted == sorted([LONG_NAME, "kept.yaml", "sub/ok.yaml"]), run.stdout + run.stderr
