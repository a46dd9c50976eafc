"""Which files a run reads: explicit files, directories walked recursively for
``*.yaml``/``*.yml``/``*.json`` (safe against symlink loops), and stdin ``-``.

A walk skips what ruff's does: hidden files and directories, the directories in
``SKIPPED_DIRS``, whatever ``.gitignore`` ignores (``respect_gitignore``), and
the config's ``exclude``; it also leaves out Helm chart templates (Go text, not
YAML: lint the rendered output), counting them. A file named on the command
line is linted even when excluded, unless ``force_exclude`` (pre-commit names
every staged file).

A walk follows a symbolic link to a directory only when the directory lies
inside one of the directories given (``follow_links`` follows every one): a
link to ``/`` in a pull request must not make the run read the whole machine.
A path given that is itself such a link (``deploy -> ~/secrets``, named as
``deploy`` or ``deploy/``), or that a link takes out of the working
directory's tree and repository, is one error line and is not read, unless
``follow_links`` (for a directory) says so; ``meshlint.core.fsguard`` has the
rule. Each input carries the trees its real location must stay in, which the
one reader (``meshlint.core.files.read_file``) checks again when it reads.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from meshlint.core import gitignore
from meshlint.core import scopes as join_scopes
from meshlint.core.charts import rendered_from, top_chart
from meshlint.core.files import ANYWHERE, LEAVES, Refused, read_file
from meshlint.core.fsguard import areas, argument_leaves, contained, real_path
from meshlint.core.globs import matches_any, relative
from meshlint.core.helm import is_chart, is_chart_template
from meshlint.core.report import Input

EXTENSIONS = (".yaml", ".yml", ".json")
# A file on disk has a size; stdin may never end (``</dev/zero``). Far above any
# rendered release (the largest in the corpus is a few MB), far below the memory
# its parse would take.
MAX_STDIN_BYTES = 256 * 2**20
# kuttl and chainsaw test steps: "<n>-assert.yaml" / "<n>-errors.yaml" (kuttl's
# naming) and the files a chainsaw-test.yaml names under assert:/error: hold
# partial objects that a test compares a cluster with, never objects anyone
# applies; their missing fields are not missing. Walks skip them; name one to
# lint it.
TEST_ASSERTION = re.compile(r"^[0-9]+-(?:assert|errors?)(?:[-.][^/]*)?\.ya?ml$")
_CHAINSAW = "chainsaw-test.yaml"
# The files a kustomization applies as patches (``patchesStrategicMerge``,
# ``patches[].path``) are partial objects too: a walk reads them for syntax
# errors and duplicate keys, and judges none of their objects (Input.patch).
_CHAINSAW_ASSERTION = re.compile(r"\b(?:assert|error):\s*\n\s+file:\s*[\"']?([^\"'\s]+)")
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
    templates: list[str] = field(default_factory=list)  # chart templates a walk left out
    charts: list[str] = field(default_factory=list)  # chart directories to render (core.charts)
    charts_met: list[str] = field(default_factory=list)  # by the walk under way
    # directories of kuttl and chainsaw test steps the walk met: what they apply
    # lives in a throw-away test cluster for the length of a test (Input.test_step)
    test_steps: set[str] = field(default_factory=set)

    def take(self) -> list[Input]:
        """The inputs, handed over: the run can then free them once dispatched."""
        inputs, self.inputs = self.inputs, []
        return inputs


def discover(
    paths: Iterable[str],
    exclude: Iterable[str] = (),
    root: str = ".",
    scopes: Mapping[str, Sequence[str]] | None = None,
    *,
    respect_gitignore: bool = True,
    force_exclude: bool = False,
    follow_links: bool = False,
    render_charts: bool = False,
) -> Discovery:
    """The inputs of a run, each with its join scope (``meshlint.core.scopes``).

    With ``render_charts`` (a Helm renderer is at hand), a path in a Helm chart,
    or a chart a walk meets, is a chart to render (``found.charts``: the
    outermost chart, whose ``charts/`` subcharts render with it), not files."""
    found = Discovery()
    patterns = tuple(exclude)
    seen: set[str] = set()
    paths = list(paths)
    roots = (
        None
        if follow_links
        else [os.path.realpath(p) for p in paths if os.path.isdir(p) and not argument_leaves(p)]
    )

    def add(
        path: str,
        scope: str,
        named: bool = False,
        within: tuple[str, ...] | None = None,
        walked: bool = False,
        patch: bool = False,
        test_step: bool = False,
    ) -> None:
        name = os.path.normpath(path)
        rel = relative(path, root) if patterns or scopes else ""
        excluded = patterns and (force_exclude or not named) and matches_any(rel, patterns)
        if name in seen or excluded:
            return
        seen.add(name)
        if scopes and (declared := join_scopes.declared(rel, scopes)):
            scope = declared
        # one string where name and path agree (a 30,000-file tree keeps them
        # all); the relative path is derived again where per-file-ignores need it
        found.inputs.append(
            Input(
                name=name,
                path=None if path == name else path,
                scope=scope,
                within=within,
                walked=walked,
                patch=patch,
                test_step=test_step,
            )
        )

    def chart(directory: str, named: bool) -> None:
        rel = relative(directory, root)
        excluded = patterns and (force_exclude or not named) and matches_any(rel, patterns)
        if not excluded and directory not in found.charts:
            found.charts.append(directory)

    for path in paths:
        if (
            render_charts
            and path != "-"
            and rendered_from(path)
            and (top := top_chart(path)) is not None
            and not argument_leaves(path)  # else refused below, as any path would be
        ):
            chart(top, named=True)
        elif path == "-":
            data = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
            if len(data) > MAX_STDIN_BYTES:
                found.errors.append(f"-: standard input larger than {MAX_STDIN_BYTES >> 20} MiB")
            else:
                found.inputs.append(Input(name="-", data=data, rel="-", scope=join_scopes.STDIN))
        elif os.path.isdir(path):
            if not follow_links and argument_leaves(path):  # deploy/ -> ~/secrets, d/ -> /
                found.errors.append(f"{path}: {LEAVES} (--follow-links reads it)")
                continue
            allowed = areas(path)
            # the walk follows directory links into the other roots given too
            within = ANYWHERE if roots is None else tuple(dict.fromkeys([*allowed, *roots]))
            kustomized: set[str] = set()
            walk = _walk(path, found, kustomized, respect_gitignore, roots, render_charts)
            loaded = join_scopes.kustomizations(kustomized)
            patched = {p for k in kustomized for p in join_scopes.patches(k, loaded[k])}
            # a file another kustomization takes as a resource is a whole object
            patched -= {
                os.path.normpath(os.path.join(k, r))
                for k in kustomized
                for r in join_scopes.references(k, loaded[k])
            }
            for directory in found.charts_met:
                if not (patterns and matches_any(relative(directory, root), patterns)):
                    chart(os.path.normpath(directory), named=False)
            found.charts_met.clear()
            groups = join_scopes.kustomize_groups(kustomized, loaded)
            scope_of: dict[str, str] = {}  # by directory: its files share their scope
            for file, link in walk:
                if patterns and matches_any(relative(file, root), patterns):
                    continue
                # deploy/env.yaml -> /proc/self/environ
                if link and not contained(real_path(file), allowed):
                    found.errors.append(f"{file}: {LEAVES}")
                else:
                    directory = os.path.dirname(file)
                    scope = scope_of.get(directory) or scope_of.setdefault(
                        directory, os.path.normpath(join_scopes.of_walked(file, path, groups))
                    )
                    patch = bool(patched) and os.path.normpath(file) in patched
                    test_step = directory in found.test_steps
                    add(file, scope, within=within, walked=True, patch=patch, test_step=test_step)
        elif (
            os.path.isfile(path) and force_exclude and not render_charts and is_chart_template(path)
        ):
            found.templates.append(path)  # pre-commit names it; without Helm it is skipped
        elif os.path.isfile(path):
            if argument_leaves(path):
                found.errors.append(f"{path}: {LEAVES}")
            else:
                add(path, join_scopes.of_named(path), named=True)
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


def _walk(
    top: str,
    found: Discovery,
    kustomized: set[str],
    respect_gitignore: bool,
    roots: list[str] | None,
    render_charts: bool = False,
) -> list[tuple[str, bool]]:
    """The files to lint below ``top``, each with whether it is a symbolic link;
    the directories holding a kustomization go to ``kustomized``, chart templates
    to ``found.templates``; directory links are followed only into ``roots``
    (every one when None)."""
    files: list[tuple[str, bool]] = []
    errors = found.errors
    visited: set[tuple[int, int]] = set()
    ignores: dict[str, gitignore.Rules] = {}
    if respect_gitignore:
        ignores[os.path.abspath(top)] = gitignore.rules_above(top)

    def onerror(exc: OSError) -> None:
        errors.append(f"{exc.filename}: cannot read: {exc.strerror}")

    for directory, dirs, files_here in _tree(top, onerror):
        try:
            st = os.stat(directory)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in visited:  # a symlink loop or a second way in
            dirs[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIPPED_DIRS
            and not d.startswith(".")
            and _inside(os.path.join(directory, d), roots)
        )
        names = list(files_here)
        rules: gitignore.Rules = ()
        if respect_gitignore:
            here = os.path.abspath(directory)
            rules = gitignore.combined(ignores.pop(here, ()), gitignore.rules_in(here))
            if rules:
                dirs[:] = [
                    d for d in dirs if not gitignore.ignored(os.path.join(here, d), True, rules)
                ]
            for d in dirs:
                ignores[os.path.join(here, d)] = rules
        if render_charts and "Chart.yaml" in names and is_chart(os.path.abspath(directory)):
            found.charts_met.append(directory)  # rendered, not read file by file
            dirs[:] = []
            continue
        if "templates" in dirs and is_chart(os.path.abspath(directory)):
            dirs.remove("templates")
            found.templates.extend(_templates(os.path.join(directory, "templates")))
        if any(k in names for k in join_scopes.KUSTOMIZATIONS):
            kustomized.add(directory)
        assertions = _chainsaw_assertions(directory) if _CHAINSAW in names else set()
        if _CHAINSAW in names or any(TEST_ASSERTION.match(name) for name in names):
            found.test_steps.add(directory)
        for name in sorted(names):
            if name in assertions or TEST_ASSERTION.match(name):
                continue
            if name.endswith(EXTENSIONS) and not name.startswith("."):
                path = os.path.join(directory, name)
                if rules and gitignore.ignored(os.path.abspath(path), False, rules):
                    continue
                entry = files_here[name]
                if _regular(entry):  # a link to a regular file too: its target is checked
                    files.append((path, entry.is_symlink()))
                elif (problem := _unreadable(path)) is not None:
                    errors.append(f"{path}: {problem}")
    return files


def _regular(entry: os.DirEntry[str]) -> bool:
    """``os.path.isfile`` of the entry: asked of the file itself, not of the
    directory's listing, which does not see what is mounted over an entry (a
    FIFO or a device bound over ``x.yaml`` must not be opened)."""
    try:
        return stat.S_ISREG(entry.stat().st_mode)
    except OSError:
        return False


def _unreadable(path: str) -> str | None:
    """Why an entry that is not a regular file cannot be linted (None: a directory...)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return "broken symbolic link" if os.path.islink(path) else "no such file or directory"
    except OSError as exc:  # a directory without search permission, a link loop
        return f"cannot read: {exc.strerror or exc}"
    return None


def _tree(
    top: str, onerror: Callable[[OSError], None] = lambda exc: None, *, follow: bool = True
) -> Iterator[tuple[str, list[str], dict[str, os.DirEntry[str]]]]:
    """``os.walk(top, followlinks=follow)`` without recursion (os.walk recurses
    once per level before Python 3.12: a 1,000-level tree ends in RecursionError),
    with the other entries by name: whether one is a link, ``os.scandir``
    already knows.
    Top-down: the caller may prune ``dirs`` in place (and must stop link loops)."""
    stack = [top]
    while stack:
        directory = stack.pop()
        try:
            with os.scandir(directory) as entries:
                listed = list(entries)
        except OSError as exc:
            onerror(exc)
            continue
        dirs: list[str] = []
        others: dict[str, os.DirEntry[str]] = {}
        for entry in listed:
            try:
                is_dir = entry.is_dir(follow_symlinks=follow)
            except OSError:
                is_dir = False
            if is_dir:
                dirs.append(entry.name)
            else:
                others[entry.name] = entry
        yield directory, dirs, others
        stack.extend(os.path.join(directory, d) for d in reversed(dirs))


def _templates(directory: str) -> list[str]:
    """The files of a chart's ``templates/`` a walk leaves out."""
    return sorted(
        os.path.join(d, name)
        for d, _, names in _tree(directory, follow=False)
        for name in names
        if name.endswith(EXTENSIONS)
    )


def _chainsaw_assertions(directory: str) -> set[str]:
    """The files a chainsaw-test.yaml names as assertions or expected errors."""
    try:
        text = read_file(os.path.join(directory, _CHAINSAW), 1 << 20, head=True).decode("utf-8")
    except (Refused, OSError, UnicodeDecodeError):
        return set()
    return {os.path.basename(m) for m in _CHAINSAW_ASSERTION.findall(text)}
