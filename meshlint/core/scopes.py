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
3. the nearest directory at or above it that holds a ``kustomization.yaml``,
   joined with every kustomization it builds on or that builds on it (an
   overlay's ``resources: [../../base]``);
4. the top-level directory it sits in below the directory given on the command
   line (``meshlint check repo/`` -> ``repo/api``, ``repo/web``...), or, for a file
   named on the command line, its first directory relative to the working
   directory (what ``meshlint check .`` would give it).
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml

from meshlint.core.files import Refused, read_file
from meshlint.core.globs import matches_any, relative
from meshlint.core.model.nodes import Converter, Loader, TooDeep, stack_headroom

KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
CONFIG_PREFIX = "config:"  # a scope the user declared; nothing refines it
STDIN = "-"
RENDER_PREFIX = "render:"  # one chart rendered in one values scenario (core.charts)
FIXED_PREFIXES = (CONFIG_PREFIX, RENDER_PREFIX)


def declared(rel: str, scopes: Mapping[str, Sequence[str]]) -> str | None:
    """The config's scope for a path relative to the config root, if any."""
    for name, patterns in scopes.items():
        if matches_any(rel, list(patterns)):
            return sys.intern(CONFIG_PREFIX + name)
    return None


def kustomize_groups(
    directories: Iterable[str], loaded: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, str]:
    """Each kustomization directory -> the one directory that stands for it and
    every kustomization it builds on or that builds on it (``loaded``: the
    kustomizations already read, by directory)."""
    parent = {os.path.normpath(d): os.path.normpath(d) for d in directories}

    def root(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    for directory in list(parent):
        for ref in references(directory, (loaded or {}).get(directory)):
            target = os.path.normpath(os.path.join(directory, ref))
            if target in parent:
                a, b = root(directory), root(target)
                parent[max(a, b)] = min(a, b)
    return {d: sys.intern(root(d)) for d in parent}


def _kustomization(directory: str) -> dict[str, Any] | None:
    """The kustomization file of ``directory``, loaded (None: none, or unreadable)."""
    for name in KUSTOMIZATIONS:
        try:
            text = read_file(os.path.join(directory, name), 1 << 20, head=True).decode("utf-8")
            with stack_headroom():
                root = yaml.compose(text, Loader=Loader)
                data = Converter().convert(root) if root is not None else None
        except (Refused, OSError, UnicodeDecodeError, yaml.YAMLError, TooDeep, RecursionError):
            continue
        if isinstance(data, dict):
            return data
    return None


def kustomizations(directories: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The kustomization of each of ``directories``, read once ({}: none, or unreadable)."""
    return {d: _kustomization(d) or {} for d in directories}


def references(directory: str, data: Mapping[str, Any] | None = None) -> list[str]:
    """What a kustomization lists under resources, bases and components
    (``data``: the kustomization, when already read)."""
    data = (_kustomization(directory) or {}) if data is None else data
    return [
        ref
        for key in ("resources", "bases", "components")
        if isinstance(data.get(key), list)
        for ref in data[key]
        if isinstance(ref, str) and "://" not in ref
    ]


def patches(directory: str, data: Mapping[str, Any] | None = None) -> set[str]:
    """The files a kustomization applies as patches (``patchesStrategicMerge``,
    ``patches[].path``, ``patchesJson6902[].path``), as normalised paths.

    A patch states only the fields it changes (a container's ``args``, one
    annotation): what it leaves out comes from the object it patches, so it is
    no object of its own to judge (the base it patches is linted).
    """
    data = (_kustomization(directory) or {}) if data is None else data
    found: set[str] = set()
    for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
        items = data.get(key)
        for item in items if isinstance(items, list) else ():
            ref = item.get("path") if isinstance(item, dict) else item
            # an inline patch (a YAML string of several lines) names no file
            if isinstance(ref, str) and "\n" not in ref and "://" not in ref:
                found.add(os.path.normpath(os.path.join(directory, ref)))
    return found


def of_walked(file: str, top: str, kustomized: Mapping[str, str]) -> str:
    """The scope of ``file``, found by walking the directory argument ``top``."""
    directory = os.path.dirname(file)
    while True:
        if (group := kustomized.get(os.path.normpath(directory))) is not None:
            return group
        if directory == top or not directory or directory == os.path.dirname(directory):
            break
        directory = os.path.dirname(directory)
    prefix = top if top.endswith(os.sep) else top + os.sep
    # the walk joined the names it met to ``top``: no relpath needed
    rest = file[len(prefix) :] if file.startswith(prefix) else os.path.relpath(file, top)
    below = rest.split(os.sep)
    return sys.intern(os.path.join(top, below[0]) if len(below) > 1 else top)


def of_named(file: str) -> str:
    """The scope of a file named on the command line."""
    directory = os.path.dirname(os.path.abspath(file))
    cwd = os.getcwd()
    rel = relative(file, ".")
    while directory.startswith(cwd) and directory != os.path.dirname(directory):
        if any(os.path.isfile(os.path.join(directory, k)) for k in KUSTOMIZATIONS):
            # the same group as a walk of "." gives it: its top-level directory's
            # kustomizations, joined by what they build on
            kustomization = os.path.normpath(relative(directory, "."))
            top = rel.split("/")[0] if "/" in rel else "."
            groups = _groups_below(os.path.abspath(top))
            return groups.get(os.path.abspath(kustomization), kustomization)
        if directory == cwd:
            break
        directory = os.path.dirname(directory)
    if rel.startswith("../") or os.path.isabs(rel):
        return sys.intern(os.path.dirname(rel) or ".")
    parts = rel.split("/")
    return sys.intern(os.path.normpath(parts[0]) if len(parts) > 1 else ".")


@functools.lru_cache(maxsize=64)
def _groups_below(top: str) -> dict[str, str]:
    """The kustomization groups of a directory tree (an absolute path), for files
    named one by one."""
    found = []
    for directory, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d != "node_modules"]
        if any(k in names for k in KUSTOMIZATIONS):
            found.append(directory)
    # keyed by absolute path; the scope's name is the group's directory as written here
    return {k: relative(v, ".") for k, v in kustomize_groups(found).items()}


def refined(scope: str, file: str, helm_rendered: bool) -> str:
    """Helm output is one release with the files beside it, unless the config says
    otherwise (stdin is one scope already)."""
    if helm_rendered and scope not in (STDIN,) and not scope.startswith(FIXED_PREFIXES):
        return sys.intern(os.path.dirname(file) or ".")
    return scope
