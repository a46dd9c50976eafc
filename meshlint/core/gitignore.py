""".gitignore rules for directory walks, as git reads them (gitignore(5)).

Each ``.gitignore`` holds patterns relative to its own directory; a walk also
reads those of the directories above it up to the repository's top (the
directory holding ``.git``) and ``.git/info/exclude``. Within and across files
the last matching pattern decides, ``!`` re-includes, a trailing ``/`` matches
directories only, a pattern with a ``/`` before its end is anchored to its
file's directory, ``**`` crosses directories. As in git, nothing below an
ignored directory comes back (the walk does not enter it).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

__all__ = ["Rule", "Rules", "parse", "rules_above"]


@dataclass(frozen=True, slots=True)
class Rule:
    base: str  # the directory the pattern is relative to
    regex: re.Pattern[str]
    negated: bool
    directory_only: bool


Rules = tuple[Rule, ...]


def _compile(pattern: str) -> re.Pattern[str]:
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
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{''.join(out)}$")


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
    return tuple(rules)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


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
    found = list(parse(_read(os.path.join(root, ".git", "info", "exclude")), root))
    for directory in reversed(chain[1:]):
        found.extend(rules_in(directory))
    return tuple(found)


def ignored(path: str, is_dir: bool, rules: Rules) -> bool:
    """Whether ``path`` (absolute) is ignored by ``rules`` (outermost first)."""
    verdict = False
    for rule in rules:
        if rule.directory_only and not is_dir:
            continue
        rel = os.path.relpath(path, rule.base)
        if rel.startswith(os.pardir):
            continue
        if rule.regex.match(rel.replace(os.sep, "/")):
            verdict = not rule.negated
    return verdict
