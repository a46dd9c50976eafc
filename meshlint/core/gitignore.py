""".gitignore rules for directory walks, as git reads them (gitignore(5)).

Each ``.gitignore`` holds patterns relative to its own directory; a walk also
reads those of the directories above it up to the repository's top (the
directory holding ``.git``) and ``.git/info/exclude``. Within and across files
the last matching pattern decides, ``!`` re-includes, a trailing ``/`` matches
directories only, a pattern with a ``/`` before its end is anchored to its
file's directory, ``**`` crosses directories. As in git, nothing below an
ignored directory comes back (the walk does not enter it).

A pull request writes its own ``.gitignore``: patterns compile to automata
(``core.globs``) that read a path once, never to a backtracking expression; a
file is read up to MAX_IGNORE_BYTES, and at most MAX_RULES patterns apply at
any directory (the innermost, which decide), so each path costs a bounded
number of steps however the files are written.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass

from meshlint.core.files import Refused, read_file
from meshlint.core.globs import ANY, SEGMENT, Automaton, Glob

__all__ = ["MAX_IGNORE_BYTES", "MAX_RULES", "Rule", "Rules", "parse", "rules_above"]

# Real ignore files are a few hundred lines; beyond these a hostile one stops.
MAX_IGNORE_BYTES = 64 * 2**10
MAX_RULES = 500


@dataclass(frozen=True, slots=True)
class Rule:
    base: str  # the directory the pattern is relative to
    matcher: Glob
    negated: bool
    directory_only: bool


Rules = tuple[Rule, ...]


def _compile(pattern: str) -> Glob:
    """``pattern`` as git reads it: ``**/``, a trailing ``/**``, ``**``, ``*``, ``?``,
    ``[...]`` (``[!...]`` negated) and ``\\`` escapes; unanchored without a ``/``."""
    anchored = "/" in pattern
    body = pattern.lstrip("/")
    nfa = Automaton()
    if not anchored:
        nfa.optional_segments()
    i = 0
    while i < len(body):
        if body.startswith("**/", i):
            nfa.optional_segments()
            i += 3
        elif body.startswith("/**", i) and i + 3 == len(body):
            nfa.char("/")
            nfa.star(ANY)
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
        elif body[i] == "[" and (klass := _class(body, i)) is not None:
            nfa.char(klass[0])  # one character: no backtracking
            i = klass[1]
        elif body[i] == "\\" and i + 1 < len(body):
            nfa.char(body[i + 1])
            i += 2
        else:
            nfa.char(body[i])
            i += 1
    return nfa.finish(pattern, below=False)


def _class(body: str, i: int) -> tuple[re.Pattern[str], int] | None:
    """The bracket expression at ``body[i]`` and where it ends; None where there is
    none (the ``[`` is then a character like any other)."""
    end = body.find("]", i + 2)
    if end == -1:
        return None
    inner = body[i + 1 : end].replace("\\", "\\\\")
    if inner.startswith("!"):
        inner = "^" + inner[1:]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "[[": a set that may nest one day
            return re.compile(f"[{inner}]"), end + 1
    except re.error:  # "[!]", "[z-a]": not a class
        return None


def parse(text: str, base: str) -> Rules:
    """The rules of one ignore file whose patterns are relative to ``base``."""
    rules: list[Rule] = []
    for raw in text.splitlines():
        line = raw.rstrip("\r")
        if not line or line.startswith("#"):
            continue
        # trailing spaces are dropped unless escaped
        stripped = line.rstrip(" ")
        if stripped.endswith("\\") and len(stripped) < len(line):
            stripped += " "
        line = stripped
        negated = line.startswith("!")
        if negated or line.startswith("\\!") or line.startswith("\\#"):
            line = line[1:]
        directory_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        rules.append(Rule(base, _compile(line), negated, directory_only))
    return tuple(rules[-MAX_RULES:])


def _read(path: str) -> str:
    """The ignore file's text, up to MAX_IGNORE_BYTES (whole lines); "" when it is
    not a regular file or cannot be read."""
    try:
        data = read_file(path, MAX_IGNORE_BYTES, head=True)
    except (Refused, OSError):
        return ""
    text = data.decode("utf-8", errors="replace")
    return text if len(data) < MAX_IGNORE_BYTES else text[: text.rfind("\n") + 1]


def rules_in(directory: str) -> Rules:
    """The rules of ``directory``'s own ``.gitignore`` (none when it has none)."""
    path = os.path.join(directory, ".gitignore")
    return parse(_read(path), directory) if os.path.isfile(path) else ()


def rules_above(top: str) -> Rules:
    """The rules that apply at ``top`` from above it: ``.git/info/exclude`` and the
    ``.gitignore`` files of the directories from the repository's top down to
    ``top``'s parent (the walk reads ``top``'s own). Outside a repository, none."""
    chain = [os.path.abspath(top)]
    while not os.path.exists(os.path.join(chain[-1], ".git")):
        parent = os.path.dirname(chain[-1])
        if parent == chain[-1]:
            return ()
        chain.append(parent)
    root = chain[-1]
    found = parse(_read(os.path.join(root, ".git", "info", "exclude")), root)
    for directory in reversed(chain[1:]):
        found = combined(found, rules_in(directory))
    return found


def combined(outer: Rules, inner: Rules) -> Rules:
    """The rules at a directory: those from above, then its own; the innermost
    MAX_RULES of them, which decide (the last matching pattern wins)."""
    found = outer + inner
    return found[-MAX_RULES:] if len(found) > MAX_RULES else found


def ignored(path: str, is_dir: bool, rules: Rules) -> bool:
    """Whether ``path`` (absolute) is ignored by ``rules`` (outermost first)."""
    verdict = False
    relative: dict[str, str | None] = {}  # by base: the rules of one file share it
    for rule in rules:
        if rule.directory_only and not is_dir:
            continue
        if rule.base not in relative:
            rel = os.path.relpath(path, rule.base)
            relative[rule.base] = None if rel.startswith(os.pardir) else rel.replace(os.sep, "/")
        rel_path = relative[rule.base]
        if rel_path is not None and rule.matcher.match(rel_path):
            verdict = not rule.negated
    return verdict
