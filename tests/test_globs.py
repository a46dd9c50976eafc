"""gitignore-style patterns: the automaton answers as the regular expression it
replaced did, without backtracking (issue #18, item 5)."""

from __future__ import annotations

import itertools
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FUZZ_EXAMPLES, run_meshlint
from meshlint.core.globs import MAX_DFA_STATES, Glob, matches_any

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
    assert Glob(pattern).match(path) == bool(_regex(pattern).match(path))


def test_gitignore_examples() -> None:
    assert matches_any("charts/a/templates/x/y.yaml", ["charts/*/templates/**"])
    assert not matches_any("charts/a/b/templates/y.yaml", ["charts/*/templates/**"])
    assert matches_any("deep/legacy/x.yaml", ["legacy/"])  # no slash inside: any depth
    assert not matches_any("deep/legacy/x.yaml", ["/legacy"])  # anchored
    assert matches_any("a/b/c.json", ["**/*.json"]) and matches_any("c.json", ["**/*.json"])
    assert matches_any("x.yml", ["?.yml"]) and not matches_any("xy.yml", ["?.yml"])


def test_many_stars_against_a_long_name_cost_one_pass() -> None:
    glob = Glob("*a" * 40 + "*b")
    assert not glob.match("a" * 4_000)
    assert glob.match("a" * 4_000 + "b")
    assert len(glob._sets) < MAX_DFA_STATES  # the automaton stayed small


def test_the_automaton_stops_growing_at_its_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    import meshlint.core.globs

    monkeypatch.setattr(meshlint.core.globs, "MAX_DFA_STATES", 6)
    pattern = "**a*b?c"
    glob, oracle = Glob(pattern), _regex(pattern)
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
