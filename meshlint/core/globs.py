"""gitignore-style path patterns for ``exclude`` and ``per-file-ignores``.

``*`` and ``?`` stay within one path segment, ``**`` crosses segments; a pattern
without a slash matches a name at any depth; a pattern that matches a directory
matches everything below it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    body = pattern.strip()
    anchored = "/" in body.rstrip("/")
    body = body.strip("/")
    if body.startswith("./"):
        body = body[2:]
    out = []
    i = 0
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
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{''.join(out)}(?:/.*)?$")


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
