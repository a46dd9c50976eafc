"""Which files a run reads: explicit files, directories walked recursively for
``*.yaml``/``*.yml``/``*.json`` (safe against symlink loops), and stdin ``-``.

A walk follows a symbolic link to a directory only when the directory lies
inside one of the directories given (``follow_links`` follows every one): a
link to ``/`` in a pull request must not make the run read the whole machine."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from meshlint.globs import matches_any, relative
from meshlint.report import Input

EXTENSIONS = (".yaml", ".yml", ".json")
SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".tox",
        ".nox",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)


@dataclass
class Discovery:
    inputs: list[Input] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def take(self) -> list[Input]:
        """The inputs, handed over: the run can then free them once dispatched."""
        inputs, self.inputs = self.inputs, []
        return inputs


def discover(
    paths: Iterable[str], exclude: Iterable[str] = (), root: str = ".", follow_links: bool = False
) -> Discovery:
    found = Discovery()
    patterns = tuple(exclude)
    seen: set[str] = set()
    paths = list(paths)
    roots = None if follow_links else [os.path.realpath(p) for p in paths if os.path.isdir(p)]

    def add(path: str) -> None:
        name = os.path.normpath(path)
        rel = relative(path, root)
        if name in seen or (patterns and matches_any(rel, patterns)):
            return
        seen.add(name)
        # one string where name and path agree (a 30,000-file tree keeps them
        # all); the relative path is derived again where per-file-ignores need it
        found.inputs.append(Input(name=name, path=None if path == name else path))

    for path in paths:
        if path == "-":
            found.inputs.append(Input(name="-", data=sys.stdin.buffer.read(), rel="-"))
        elif os.path.isdir(path):
            for file in _walk(path, found.errors, roots):
                if not (patterns and matches_any(relative(file, root), patterns)):
                    add(file)
        elif os.path.isfile(path):
            add(path)
        elif os.path.exists(path):  # a FIFO or device would block or never end
            found.errors.append(f"{path}: not a regular file")
        else:
            found.errors.append(f"{path}: no such file or directory")
    return found


def _inside(path: str, roots: list[str] | None) -> bool:
    """A directory to walk into: not a link, or a link to somewhere inside ``roots``."""
    if roots is None or not os.path.islink(path):
        return True
    target = os.path.realpath(path)
    return any(target == r or target.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def _walk(top: str, errors: list[str], roots: list[str] | None) -> list[str]:
    files: list[str] = []
    visited: set[tuple[int, int]] = set()

    def onerror(exc: OSError) -> None:
        errors.append(f"{exc.filename}: cannot read: {exc.strerror}")

    for directory, dirs, names in os.walk(top, followlinks=True, onerror=onerror):
        try:
            st = os.stat(directory)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in visited:  # a symlink loop or a second way in
            dirs[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(
            d for d in dirs if d not in SKIPPED_DIRS and _inside(os.path.join(directory, d), roots)
        )
        for name in sorted(names):
            if name.endswith(EXTENSIONS):
                path = os.path.join(directory, name)
                if os.path.isfile(path):
                    files.append(path)
                elif not os.path.exists(path):
                    errors.append(f"{path}: broken symbolic link")
    return files
