"""gitignore-style path patterns for ``exclude`` and ``per-file-ignores``.

``*`` and ``?`` stay within one path segment, ``**`` crosses segments; a pattern
without a slash matches a name at any depth; a pattern that matches a directory
matches everything below it.

Patterns come from the config and the command line, which an untrusted branch
may write, so they are not translated to a backtracking regular expression
(``*a*a*a...*b`` against a long name took minutes): each compiles to an
automaton that reads a path one character at a time, built lazily as a DFA.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import cache
from typing import Union

# Whatever the pattern, a match costs at most (path length x pattern length)
# steps; the lazily built DFA of one pattern keeps at most this many states.
MAX_DFA_STATES = 2_000

# move kinds besides a literal character (which is one character long) and a
# character class (a compiled one-character pattern): any character, and any
# character but "/"
ANY, SEGMENT = "any", "segment"
Kind = Union[str, "re.Pattern[str]"]


class Automaton:
    """Positions in a pattern: moves on a character, and moves on nothing. Built
    from the start state, one piece after another; ``finish`` makes the Glob."""

    def __init__(self) -> None:
        self.moves: list[list[tuple[Kind, int]]] = []  # (kind, target)
        self.empty: list[list[int]] = []
        self.state()

    def state(self) -> int:
        self.moves.append([])
        self.empty.append([])
        return len(self.moves) - 1

    def star(self, kind: Kind) -> int:
        """``kind`` repeated, from the current last state; returns the state after it."""
        here = len(self.moves) - 1
        after = self.state()
        self.moves[here].append((kind, here))
        self.empty[here].append(after)
        return after

    def optional_segments(self) -> int:
        """``(?:.*/)?``: nothing, or anything that ends with a slash."""
        here = len(self.moves) - 1
        inner = self.state()
        after = self.state()
        self.empty[here] += [inner, after]
        self.moves[inner] += [(ANY, inner), ("/", after)]
        return after

    def char(self, kind: Kind) -> int:
        here = len(self.moves) - 1
        after = self.state()
        self.moves[here].append((kind, after))
        return after

    def finish(self, pattern: str, *, below: bool) -> Glob:
        """The pattern built so far; with ``below``, what is inside a directory it
        matches matches too (``(?:/.*)?`` at the end)."""
        end = len(self.moves) - 1
        accept = self.state()
        self.empty[end].append(accept)
        if below:  # "/" and anything after it: everything inside a matched directory
            inside = self.state()
            self.moves[end].append(("/", inside))
            self.moves[inside].append((ANY, inside))
            self.empty[inside].append(accept)
        return Glob(self, accept, pattern)


def _glob(pattern: str) -> Glob:
    """The automaton of ``^(?:.*/)?<body>(?:/.*)?$`` (the prefix only when unanchored)."""
    body = pattern.strip()
    anchored = "/" in body.rstrip("/")
    body = body.strip("/")
    if body.startswith("./"):
        body = body[2:]
    nfa = Automaton()
    if not anchored:
        nfa.optional_segments()
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            nfa.optional_segments()
            i += 3
        elif body.startswith("**", i):
            nfa.star(ANY)
            i += 2
        elif body[i] == "*":
            nfa.star(SEGMENT)
            i += 1
        elif body[i] == "?":
            nfa.char(SEGMENT)
            i += 1
        else:
            nfa.char(body[i])
            i += 1
    return nfa.finish(pattern, below=True)


class Glob:
    """One compiled pattern; ``match`` reads a path once, left to right."""

    def __init__(self, nfa: Automaton, accept: int, pattern: str = "") -> None:
        self.pattern = pattern
        self._nfa, self._accept = nfa, accept
        self._reset()

    def _reset(self) -> None:
        self._ids: dict[frozenset[int], int] = {}
        self._sets: list[frozenset[int]] = []
        self._accepts: list[bool] = []
        self._table: list[dict[str, int]] = []
        self._start = self._intern(self._closure({0}))

    def _closure(self, states: Iterable[int]) -> frozenset[int]:
        found = set(states)
        todo = list(found)
        while todo:
            for target in self._nfa.empty[todo.pop()]:
                if target not in found:
                    found.add(target)
                    todo.append(target)
        return frozenset(found)

    def _intern(self, states: frozenset[int]) -> int:
        known = self._ids.get(states)
        if known is None:
            known = self._ids[states] = len(self._sets)
            self._sets.append(states)
            self._accepts.append(self._accept in states)
            self._table.append({})
        return known

    def _step(self, state: int, char: str) -> int:
        moves = self._nfa.moves
        targets = {
            target
            for source in self._sets[state]
            for kind, target in moves[source]
            if kind in (char, ANY)
            or (kind == SEGMENT and char != "/")
            or (not isinstance(kind, str) and kind.fullmatch(char))
        }
        after = self._closure(targets)
        if len(self._sets) >= MAX_DFA_STATES:  # start again rather than grow without end
            self._reset()
            return self._intern(after)
        found = self._intern(after)
        self._table[state][char] = found
        return found

    def match(self, path: str) -> bool:
        state = self._start
        for char in path:
            following = self._table[state].get(char)
            state = self._step(state, char) if following is None else following
            if not self._sets[state]:
                return False  # no way to go on
        return self._accepts[state]


# Every pattern of the run stays compiled: they come from the config (at most
# 1 MiB) and the command line. A bounded cache smaller than the exclude list
# evicted each pattern before its next use, so every file compiled every
# pattern again (1,025 patterns on 200 files: 15 s; 4,000: over a minute).
@cache
def compile_pattern(pattern: str) -> Glob:
    return _glob(pattern)


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    """``path`` is relative, with forward slashes."""
    return any(compile_pattern(p).match(path) for p in patterns)


def relative(path: str, root: str) -> str:
    """``path`` as patterns see it: relative to ``root`` when below it, with '/'."""
    absolute = os.path.abspath(path)
    base = os.path.abspath(root)
    if absolute == base or absolute.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, base).replace(os.sep, "/")
    return os.path.normpath(path).replace(os.sep, "/")
