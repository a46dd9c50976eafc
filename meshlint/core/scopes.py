"""Join scopes: which files form one deployment, so that cross-object rules
join a Service, a ConfigMap or an Istio install only to objects of its own.

A tree handed to meshlint often holds several independent projects (a
monorepo's services, a repository of examples, a corpus). Linting it must give
every project exactly the findings that linting it alone gives. The engine
runs each cross-object rule once per scope, with the facts and index entries
of that scope only. A file's scope is, first match wins:

1. a ``scopes:`` entry of the config whose globs match it (the user says these
   files form one cluster);
2. for Helm output (a file with ``# Source:`` comments), the directory that
   holds it: one ``helm template`` stream, or the files of one
   ``helm template --output-dir``; stdin is one scope;
3. the nearest directory at or above it that holds a ``kustomization.yaml``;
4. the top-level directory it sits in below the directory given on the command
   line (``meshlint check repo/`` -> ``repo/api``, ``repo/web``...), or, for a file
   named on the command line, its first directory relative to the working
   directory (what ``meshlint check .`` would give it).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

from meshlint.core.globs import matches_any, relative

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
CONFIG_PREFIX = "config:"  # a scope the user declared; nothing refines it
STDIN = "-"


def declared(rel: str, scopes: Mapping[str, Sequence[str]]) -> str | None:
    """The config's scope for a path relative to the config root, if any."""
    for name, patterns in scopes.items():
        if matches_any(rel, list(patterns)):
            return sys.intern(CONFIG_PREFIX + name)
    return None


def of_walked(file: str, top: str, kustomized: set[str]) -> str:
    """The scope of ``file``, found by walking the directory argument ``top``."""
    directory = os.path.dirname(file)
    while True:
        if directory in kustomized:
            return sys.intern(directory)
        if directory == top or not directory or directory == os.path.dirname(directory):
            break
        directory = os.path.dirname(directory)
    below = os.path.relpath(file, top).split(os.sep)
    return sys.intern(os.path.join(top, below[0]) if len(below) > 1 else top)


def of_named(file: str) -> str:
    """The scope of a file named on the command line."""
    directory = os.path.dirname(os.path.abspath(file))
    cwd = os.getcwd()
    while directory.startswith(cwd) and directory != os.path.dirname(directory):
        if any(os.path.isfile(os.path.join(directory, k)) for k in KUSTOMIZATIONS):
            return sys.intern(relative(directory, "."))
        if directory == cwd:
            break
        directory = os.path.dirname(directory)
    rel = relative(file, ".")
    if rel.startswith("../") or os.path.isabs(rel):
        return sys.intern(os.path.dirname(rel) or ".")
    parts = rel.split("/")
    return sys.intern(os.path.normpath(parts[0]) if len(parts) > 1 else ".")


def refined(scope: str, file: str, helm_rendered: bool) -> str:
    """Helm output is one release with the files beside it, unless the config says
    otherwise (stdin is one scope already)."""
    if helm_rendered and scope not in (STDIN,) and not scope.startswith(CONFIG_PREFIX):
        return sys.intern(os.path.dirname(file) or ".")
    return scope
