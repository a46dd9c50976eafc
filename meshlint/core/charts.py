"""Helm chart directories as lint targets: rendered with Helm itself, once per
values scenario, and linted as the Helm streams ``helm template`` prints.

Helm renders, never meshlint: the ``helm`` binary on PATH when there is one
(``helm template``: client-only, no cluster contacted, ``lookup`` empty, hooks
rendered and never run), else Helm's Go SDK in-process through the
``helm-python-sdk`` package (``pip install 'meshlint[helm]'``), which renders
offline the same way. Without either, charts are left out as before, with one
line saying how to get a renderer.

A chart's scenarios (``Scenario``) follow chart-testing: each
``ci/*-values.yaml``, or the chart's default values when there is none; the
config's ``charts:`` entry adds scenarios (or replaces them), and ``--values`` /
``--set`` on the command line name the one scenario to render. Each scenario's
stream is an input of the run named ``<chart dir>#<scenario>`` in a join scope
of its own; ``core.helm`` moves its findings to the template lines, and
``merge`` reports the same finding of several scenarios once, naming them.

A template that fails to render is M006 at the file and line Helm names.
Where a finding's template line only inserts a value (``{{ .Values.resources |
toYaml | nindent 12 }}``), ``values_key`` names the values file and line that
set it, and ``values_fix`` turns the finding's fix into an edit of that file.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import os
import re
import select
import shutil
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import Any, Protocol

import yaml

from meshlint.core import helm, helm_child
from meshlint.core.config import Config
from meshlint.core.files import MAX_CHART_FILE_BYTES, decode, read_text
from meshlint.core.fsguard import areas, contained, link_leaves, real_path
from meshlint.core.globs import matches_any, relative
from meshlint.core.helm_child import CHILD_MEMORY, MAX_RECORD_BYTES
from meshlint.core.loading import normalize_breaks
from meshlint.core.model import Change, Document, Finding, Fix, KeyPath, Location, SourceFile
from meshlint.core.model.nodes import Converter, Loader, locate, stack_headroom
from meshlint.core.model.values import Applicability, json_path
from meshlint.core.report import Candidate, Input
from meshlint.core.scopes import RENDER_PREFIX

__all__ = [
    "HOW_TO_RENDER",
    "ChartTarget",
    "HelmBinary",
    "HelmLibrary",
    "Render",
    "Rendered",
    "Renderer",
    "Scenario",
    "find_renderer",
    "finish",
    "fix_file",
    "fix_values",
    "fixes_of",
    "merge",
    "render_all",
    "rendered_from",
    "targets",
    "top_chart",
    "values_key",
]

HOW_TO_RENDER = (
    "Helm charts are not rendered: put `helm` on PATH or `pip install 'meshlint[helm]'` "
    "(helm-python-sdk, Helm as a library); until then their templates are skipped"
)
DEFAULT = "default values"
COMMAND_LINE = "command line"
# a chart is a directory of text someone reviews: more than this is no chart
MAX_CHART_FILES = 5000
MAX_CHART_BYTES = 64 * 2**20
MAX_CHART_DEPTH = 32


class RenderError(Exception):
    """Helm could not render: its message."""


@dataclass(frozen=True)
class Scenario:
    """One set of values a chart is rendered with: values files layered in
    order (paths as given), then ``--set`` expressions."""

    name: str
    files: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChartTarget:
    directory: str  # as found, normalised
    name: str  # Chart.yaml's name: the head of every "# Source:" path
    release: str
    namespace: str
    scenarios: tuple[Scenario, ...]

    def input_name(self, scenario: Scenario) -> str:
        return f"{self.directory}#{scenario.name}"


@dataclass
class Render:
    """What rendering one chart in one scenario gave: the stream, or M006."""

    target: ChartTarget
    scenario: Scenario
    stream: str | None = None
    error: Candidate | None = None
    seconds: float = 0.0
    message: str | None = None  # Helm's, when it did not render

    @property
    def name(self) -> str:
        return self.target.input_name(self.scenario)

    def input(self) -> Input:
        assert self.stream is not None
        name = self.name
        data = self.stream.encode("utf-8")
        return Input(name=name, data=data, rel=name, scope=RENDER_PREFIX + name)


class Renderer(Protocol):
    name: str

    @property
    def version(self) -> str:
        """Asked only by ``--show-settings``: finding a renderer starts nothing."""
        ...

    def render(self, target: ChartTarget, scenario: Scenario) -> str:
        """The ``helm template`` stream; RenderError with Helm's message."""
        ...


class HelmBinary:
    """``helm template`` from the ``helm`` on PATH."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.name = f"helm ({path})"

    @cached_property
    def version(self) -> str:
        try:
            done = subprocess.run(
                [self.path, "version", "--short"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return "unknown"
        return done.stdout.strip() or "unknown"

    def render(self, target: ChartTarget, scenario: Scenario) -> str:
        # every option with its value in one word, and the release and chart
        # after "--": nothing a config or a directory name holds reads as a
        # flag (a release "--post-renderer=./x" would have Helm run ./x)
        command = [self.path, "template", f"--namespace={target.namespace}"]
        command += [f"--values={file}" for file in scenario.files]
        command += [f"--set={expression}" for expression in scenario.sets]
        command += ["--", target.release, target.directory]
        try:
            done = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=render_timeout(),
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise RenderError(
                f"Helm did not finish rendering within {render_timeout():.0f}s (a template "
                "that loops or grows without bound?)"
            ) from exc
        except OSError as exc:
            raise RenderError(f"cannot run {self.path}: {exc.strerror or exc}") from exc
        if done.returncode != 0:
            message = done.stderr.strip().removeprefix("Error: ")
            raise RenderError(message or f"helm template exited {done.returncode}")
        return done.stdout


class HelmLibrary:
    """Helm's Go SDK (helm-python-sdk): offline, no cluster.

    It renders in a child process (``core.helm_child``), all of a run's charts in one: a
    template that loops or grows without end (``{{ range until 1000000000 }}``)
    cannot be stopped inside the library, so the child is ended after a time
    limit (or at its memory cap) and what it did not render is M006; the run
    itself never loads Go."""

    name = "helm-python-sdk"

    @cached_property
    def version(self) -> str:
        try:
            return importlib.metadata.version("helm-python-sdk")
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    def describe(self) -> str:
        """The package and the Helm it embeds (asked of the child)."""
        done = self._run([], timeout=60.0)
        helm_version = done[0].get("helm") if done and "helm" in done[0] else None
        return f"{self.version} (Helm {helm_version})" if helm_version else self.version

    def render(self, target: ChartTarget, scenario: Scenario) -> str:
        item = Render(target, scenario)
        self.render_many([item])
        if item.stream is None:
            raise RenderError(item.message or "not rendered")
        return item.stream

    def render_many(self, items: Sequence[Render], jobs: int | None = None) -> None:
        """Render ``items`` in the child, ``jobs`` at a time. A render that runs
        past ``render_timeout()`` ends the child, and so does one that needs more
        than ``CHILD_MEMORY`` (which one, when several were under way, is found
        by rendering them again one at a time): it is M006, and so is every
        other scenario of its chart (the same templates would fail again). The
        child starts again for the rest, at most ``MAX_STALLS`` times a run."""
        limit = render_timeout()
        todo = list(range(len(items)))
        stalls = 0
        threads = jobs
        while todo:
            stopped = self._stream([_job(items[i], i, threads) for i in todo], limit)
            for index, result in stopped.results.items():
                item = items[index]
                if "stream" in result:
                    item.stream = str(result["stream"])
                else:
                    item.message = str(result.get("error") or "not rendered")
                item.seconds = float(result.get("seconds", 0.0))
            todo = [i for i in todo if i not in stopped.results]
            if not stopped.under_way:  # it ended of itself: what is left has no result
                for i in todo:
                    items[i].message = stopped.why or "not rendered"
                return
            stalls += bool(stopped.blamed)
            within = f"within {limit:.0f}s"
            for i in stopped.blamed:
                items[i].seconds = limit
                items[i].message = stopped.why or (
                    f"Helm did not finish rendering {within} (a template that loops or "
                    "grows without bound?)"
                )
            if not stopped.blamed:
                threads = 1  # several were under way when it died: one at a time now
            charts = {items[i].target.directory for i in stopped.blamed}
            for i in todo:
                if items[i].message is not None:
                    continue
                if items[i].target.directory in charts:
                    items[i].message = "not rendered: another values scenario of the chart " + (
                        "stopped Helm's library" if stopped.why else f"did not finish {within}"
                    )
                elif stalls >= MAX_STALLS:
                    items[i].message = f"not rendered: Helm's library stopped {stalls} times"
            todo = [i for i in todo if items[i].message is None]

    def _run(self, jobs: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        """The child's records for ``jobs`` (the first says which Helm it embeds)."""
        results = list(self._stream(jobs, timeout).results.values())
        return [self._helm, *results] if self._helm else results

    _helm: dict[str, Any] | None = None

    def _stream(self, jobs: list[dict[str, Any]], limit: float) -> Stopped:
        """Run the child on ``jobs`` until it ends, or until a render passes
        ``limit`` seconds (the child is then ended)."""
        stopped = Stopped()
        started = stopped.started
        if _STOP.is_set():
            stopped.why = "not rendered: the run was stopped"
            return stopped
        try:
            child = subprocess.Popen(
                [sys.executable, "-c", helm_child.CODE],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            stopped.why = f"cannot start Helm's library: {exc.strerror or exc}"
            return stopped
        _CHILDREN.add(child)
        assert child.stdin is not None and child.stdout is not None
        try:
            child.stdin.write(json.dumps(jobs).encode("utf-8"))
            child.stdin.close()
        except OSError:
            pass  # it ended before reading: its exit says why
        out = child.stdout.fileno()
        parts: list[bytes] = []  # of the line being received
        size = 0
        heard = time.monotonic()  # when the child last said something
        try:
            while True:
                now = time.monotonic()
                first = min(started.values(), default=None)
                if first is not None and first + limit <= now:
                    stopped.blamed = sorted(i for i, at in started.items() if at + limit <= now)
                    return stopped
                if first is None and now - heard >= max(limit, START_SECONDS):
                    stopped.why = "Helm's library did not start a render within "
                    stopped.why += f"{max(limit, START_SECONDS):.0f}s"
                    break
                if _STOP.is_set():
                    stopped.why = "not rendered: the run was stopped"
                    started.clear()
                    break
                wait = first + limit - now if first is not None else START_SECONDS
                if not select.select([out], [], [], min(wait, 0.5))[0]:
                    continue  # a Ctrl-C is noticed within half a second
                chunk = os.read(out, 1 << 20)
                if not chunk:
                    break
                heard = time.monotonic()
                while (cut := chunk.find(b"\n")) >= 0:
                    parts.append(chunk[:cut])
                    self._record(b"".join(parts), stopped)
                    parts, size, chunk = [], 0, chunk[cut + 1 :]
                parts.append(chunk)
                size += len(chunk)
                if size > MAX_RECORD_BYTES:  # the child holds its records below this
                    stopped.why = f"Helm's library sent more than {MAX_RECORD_BYTES >> 20} MiB"
                    break
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()
            _CHILDREN.discard(child)
        code = child.returncode
        if _STOP.is_set():  # ended by stop_rendering, not by what it rendered
            stopped.why = "not rendered: the run was stopped"
            started.clear()
            return stopped
        if stopped.why is None and code < 0 and started:
            stopped.why = (
                f"Helm's library stopped (signal {-code}): a render that needs more than "
                f"{CHILD_MEMORY >> 30} GiB of memory, or a crash"
            )
            if len(started) == 1:
                stopped.blamed = list(started)
            return stopped
        started.clear()
        stopped.why = stopped.why or f"Helm's library stopped (exit status {code})"
        return stopped

    def _record(self, line: bytes, stopped: Stopped) -> None:
        try:
            record = json.loads(line)
        except ValueError:
            return
        if not isinstance(record, dict):
            return
        if "helm" in record:
            self._helm = record
        elif isinstance(start := record.get("start"), int):
            stopped.started[start] = time.monotonic()
        elif isinstance(index := record.get("index"), int):
            stopped.started.pop(index, None)
            stopped.results[index] = record


@dataclass
class Stopped:
    """How a child's run ended: its results by index; the renders under way when
    it was ended or died; those to blame (past the time limit, or the one under
    way when it died); why it ended, where that is not the time limit."""

    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    started: dict[int, float] = field(default_factory=dict)  # under way, since when
    blamed: list[int] = field(default_factory=list)
    why: str | None = None

    @property
    def under_way(self) -> bool:
        return bool(self.started)


# The run's Helm children, and whether the run was stopped (Ctrl-C, SIGTERM):
# the thread that renders cannot be interrupted, so it is told, and its child
# is ended at once rather than at its time limit.
_CHILDREN: set[subprocess.Popen[bytes]] = set()
_STOP = threading.Event()


def allow_rendering() -> None:
    """A new run renders again (after an earlier one was stopped)."""
    _STOP.clear()


def stop_rendering() -> None:
    """End the Helm children of this process and render nothing more in this run."""
    _STOP.set()
    for child in list(_CHILDREN):
        with contextlib.suppress(OSError):
            child.kill()


# A run's renders that may pass the time limit before the rest are not rendered
# (one looping template per chart: each costs render_timeout()).
MAX_STALLS = 3
# How long the child may take to start (imports, loading Go) before it renders.
START_SECONDS = 30.0


def _job(item: Render, index: int, jobs: int | None) -> dict[str, Any]:
    return {
        "index": index,
        "directory": item.target.directory,
        "release": item.target.release,
        "namespace": item.target.namespace,
        "files": list(item.scenario.files),
        "sets": list(item.scenario.sets),
        "threads": jobs or 2,
    }


def render_timeout() -> float:
    """Seconds one render may take (``MESHLINT_HELM_TIMEOUT``, default 60)."""
    try:
        return max(1.0, float(os.environ.get("MESHLINT_HELM_TIMEOUT", "60")))
    except ValueError:
        return 60.0


def find_renderer() -> Renderer | None:
    """``helm`` on PATH, else helm-python-sdk, else None."""
    path = shutil.which("helm")
    if path:
        return HelmBinary(path)
    if importlib.util.find_spec("helm_python") is None:
        return None
    return HelmLibrary()


def top_chart(path: str) -> str | None:
    """The chart ``path`` belongs to (the outermost one: a subchart under a
    parent's ``charts/`` renders with its parent), or None."""
    current = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path))
    found = None
    while True:
        if helm.is_chart(current):
            found = current
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    if found is None:
        return None
    rel = os.path.relpath(found)
    return found if rel.startswith("..") else os.path.normpath(rel)


# What Helm reads to render a chart, below the chart's directory: its
# templates, subcharts, CRDs and chart-testing scenarios, and these files.
_RENDER_DIRS = frozenset({"templates", "charts", "crds", "ci"})
_RENDER_FILES = frozenset(
    {"Chart.yaml", "Chart.lock", "requirements.yaml", "requirements.lock", ".helmignore"}
)


def rendered_from(path: str) -> bool:
    """Whether ``path`` is a chart directory or something Helm reads to render
    the chart it lies in (see ``_RENDER_DIRS``, ``_RENDER_FILES``, values
    files). A chart's other files (``docs/``, ``examples/``, ``tests/``) are
    manifests like any other: Helm never renders them."""
    current = os.path.abspath(path)
    parts: list[str] = []
    while not helm.is_chart(current):
        parent = os.path.dirname(current)
        if parent == current:
            return False
        parts.append(os.path.basename(current))
        current = parent
    if not parts:
        return True
    first, name = parts[-1], parts[0]
    return first in _RENDER_DIRS or (
        len(parts) == 1
        and (name in _RENDER_FILES or name == "values.schema.json" or name.startswith("values"))
    )


def chart_problem(directory: str) -> str | None:
    """Why a chart directory must not be handed to Helm: a link out of its
    repository (Helm would read and print it), too many files or bytes."""
    allowed = areas(directory)
    entries = 0
    size = 0
    stack = [(directory, 0)]  # no recursion: a tree 10,000 levels deep is input too
    # Helm's loader follows links: a directory link that stays inside is walked
    # too (once: a loop of links is no deeper tree), and what it holds is checked
    seen: set[tuple[int, int]] = set()
    while stack:
        here, depth = stack.pop()
        if depth > MAX_CHART_DEPTH:
            return f"{here}: more than {MAX_CHART_DEPTH} directories deep: not rendered"
        try:
            with os.scandir(here) as found:
                listed = list(found)
        except OSError as exc:
            return f"{here}: cannot read: {exc.strerror or exc}"
        for entry in listed:
            entries += 1
            if link_leaves(entry.path, allowed):
                return f"{entry.path}: symbolic link out of the chart and its repository"
            try:
                info = entry.stat()
            except OSError:
                continue  # a dangling link: Helm reads nothing there
            if stat.S_ISDIR(info.st_mode):
                if (info.st_dev, info.st_ino) not in seen:
                    seen.add((info.st_dev, info.st_ino))
                    stack.append((entry.path, depth + 1))
            else:
                size += info.st_size
        if entries > MAX_CHART_FILES or size > MAX_CHART_BYTES:
            return (
                f"{directory}: more than {MAX_CHART_FILES} files or "
                f"{MAX_CHART_BYTES // 2**20} MiB: not rendered"
            )
    return None


def missing_dependencies(directory: str) -> str | None:
    """Why a chart cannot be rendered as checked out: dependencies its
    ``Chart.yaml`` (``requirements.yaml`` for ``apiVersion: v1``) declares that
    are not under its ``charts/`` (what ``helm dependency build`` fetches; most
    repositories do not commit them). Helm checks the same before it renders
    and stops ("found in Chart.yaml, but missing in charts/ directory"); the
    Helm library renders on and fails on the first template the dependency
    defines, a message that blames the chart. Neither is a fault of the chart,
    so it is one error line saying what to run, not an M006."""
    declared: list[str] = []
    for name in ("Chart.yaml", "requirements.yaml"):
        text = read_text(os.path.join(directory, name), MAX_CHART_FILE_BYTES)
        try:
            data = yaml.safe_load(text) if text is not None else None
        except yaml.YAMLError:
            continue  # Helm says what is wrong with it when it renders: M006
        entries = data.get("dependencies") if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else ():
            dep = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(dep, str) and dep and dep not in declared:
                declared.append(dep)
    if not declared:
        return None
    present: set[str] = set()
    archives: list[str] = []
    sub = os.path.join(directory, "charts")
    try:
        with os.scandir(sub) as entries_:
            listed = list(entries_)
    except OSError:
        listed = []
    for entry in listed:
        if entry.name.endswith(".tgz"):
            archives.append(entry.name)
        elif entry.is_dir(follow_symlinks=False) and helm.is_chart(entry.path):
            try:
                present.add(helm.chart_name(entry.path))
            except helm.ChartError:
                continue
    missing = [
        dep
        for dep in declared
        if dep not in present and not any(a.startswith(f"{dep}-") for a in archives)
    ]
    if not missing:
        return None
    names = ", ".join(missing)
    return (
        f"{directory}: dependencies declared in Chart.yaml are not in charts/ ({names}): "
        f"run `helm dependency build {directory}` to fetch them; not rendered"
    )


def scenarios_for(
    directory: str,
    entry: Mapping[str, Any] | None,
    values: Sequence[str] = (),
    sets: Sequence[str] = (),
    root: str = ".",
) -> tuple[Scenario, ...]:
    """A chart's scenarios: the command line's when it names any; else the
    config's ``values`` (each item a file or a list of files layered), after
    the ``ci/*-values.yaml`` files (unless ``ci: false``), or the defaults when
    there are none (or ``default: true``)."""
    if values or sets:
        name = " ".join([*values, *(f"--set {s}" for s in sets)])
        return (Scenario(f"{COMMAND_LINE}: {name}", tuple(values), tuple(sets)),)
    entry = entry or {}
    found: list[Scenario] = []
    ci = os.path.join(directory, "ci")
    if entry.get("ci", True) and os.path.isdir(ci):
        for name in sorted(os.listdir(ci)):
            if name.endswith(("-values.yaml", "-values.yml")):
                found.append(Scenario(f"ci/{name}", (os.path.join(ci, name),)))
    for item in entry.get("values", ()):
        layered = [item] if isinstance(item, str) else list(item)
        files = tuple(os.path.normpath(os.path.join(root, f)) for f in layered)
        found.append(Scenario(" + ".join(layered), files))
    if not found or entry.get("default") is True:
        found.insert(0, Scenario(DEFAULT))
    return tuple(found)


def targets(
    directories: Iterable[str],
    charts_config: Mapping[str, Mapping[str, Any]],
    root: str,
    values: Sequence[str] = (),
    sets: Sequence[str] = (),
) -> tuple[list[ChartTarget], list[str]]:
    """The charts to render, and one error line per chart that cannot be."""
    out: list[ChartTarget] = []
    errors: list[str] = []
    by_rel = {os.path.normpath(k): v for k, v in charts_config.items()}
    for directory in dict.fromkeys(directories):
        problem = chart_problem(directory) or missing_dependencies(directory)
        if problem is not None:
            errors.append(problem)
            continue
        try:
            name = helm.chart_name(directory)
        except helm.ChartError:
            # Helm says what is wrong with the Chart.yaml when it renders: M006
            name = os.path.basename(os.path.abspath(directory))
        rel = os.path.normpath(os.path.relpath(os.path.abspath(directory), os.path.abspath(root)))
        entry = by_rel.get(rel) or {}
        if not (values or sets) and (outside := _values_outside(entry, root)) is not None:
            errors.append(
                f"{outside}: values file outside the repository; {directory} not rendered"
            )
            continue
        release = str(entry.get("release") or "release-name")
        namespace = str(entry.get("namespace") or "default")
        scenarios = scenarios_for(directory, entry, values, sets, root)
        out.append(ChartTarget(directory, name, release, namespace, scenarios))
    return out, errors


def _values_outside(entry: Mapping[str, Any], root: str) -> str | None:
    """The first values file a config's ``charts`` entry names that lies, or that a
    link takes, outside the config's tree and repository: Helm would read it, and
    a chart can print what it read (``{{ .Values | toYaml }}``)."""
    allowed = areas(root)
    for item in entry.get("values", ()):
        for name in [item] if isinstance(item, str) else item:
            path = os.path.normpath(os.path.join(root, name))
            if not contained(real_path(path), allowed):
                return path
    return None


def render_all(
    renderer: Renderer, charts: Sequence[ChartTarget], jobs: int | None = None
) -> list[Render]:
    """Every chart in every scenario: Helm's library in one child process
    (``jobs`` renders at a time), ``helm template`` in that many threads."""
    work = [Render(t, s) for t in charts for s in t.scenarios]
    if not work:
        return work  # no chart: Helm's library is not even started
    if isinstance(renderer, HelmLibrary):
        renderer.render_many(work, jobs)
        for item in work:
            if item.message is not None:
                item.error = render_error(item.target, item.scenario, item.message)
        return work

    def one(item: Render) -> Render:
        start = time.perf_counter()
        try:
            item.stream = renderer.render(item.target, item.scenario)
        except RenderError as exc:
            item.error = render_error(item.target, item.scenario, str(exc))
        item.seconds = time.perf_counter() - start
        return item

    if len(work) < 2 or jobs == 1:
        return [one(item) for item in work]
    from concurrent.futures import ThreadPoolExecutor  # a run without charts never pays for it

    with ThreadPoolExecutor(max_workers=min(len(work), jobs or 2)) as pool:
        return list(pool.map(one, work))


# "execution error at (chart/templates/x.yaml:12:3): ...", "parse error at
# (chart/templates/x.yaml:4): ...", "chart/templates/x.yaml:2:15\n  executing ...",
# "YAML parse error on chart/templates/x.yaml: ..."
_HELM_PLACE = re.compile(  # from a word's start: a search from every position is quadratic
    r"(?<![^\s(\"'])(?P<file>[^\s():\"']+/templates/[^\s():\"']+?)(?::(?P<line>\d+)(?::(?P<column>\d+))?)?(?=[):\s]|$)"
)


_YAML_LINE = re.compile(r"\byaml: line (\d+):")


def render_error(target: ChartTarget, scenario: Scenario, message: str) -> Candidate:
    """M006 where Helm says the template broke (else at Chart.yaml)."""
    file, line, column = os.path.join(target.directory, "Chart.yaml"), 1, 1
    match = _HELM_PLACE.search(message)
    if match is not None:
        head, _, rest = match["file"].partition("/")
        candidate = helm.chart_file(target.directory, rest) if head == target.name else None
        if candidate is not None:
            file = candidate
            line = int(match["line"] or 1)
            column = int(match["column"] or 1)
    elif "Chart.yaml" in message and (at := _YAML_LINE.search(message)) is not None:
        line = int(at[1])
    text = " ".join(message.split())
    if len(text) > 500:
        text = text[:497] + "..."
    location = Location(
        file=file,
        line=line,
        column=column,
        path="$",
        scenarios=(scenario.name,),
        source_line=_line_of(file, line),
    )
    # the scenario is named with the finding: one M006 where several scenarios break alike
    what = f"Helm cannot render chart {target.name!r}: {text}"
    return Candidate("M006", location, what, None)


def errors_of(renders: Iterable[Render]) -> list[Candidate]:
    """The M006 of the renders, one per place and message with its scenarios
    (the run keeps one of equal findings, whatever their scenarios)."""
    found: dict[tuple[str, int, int, str], Candidate] = {}
    for render in renders:
        error = render.error
        if error is None:
            continue
        loc = error.location
        key = (loc.file, loc.line, loc.column, error.message)
        if key in found:
            first = found[key]
            names = (*first.location.scenarios, *loc.scenarios)
            found[key] = first._replace(location=replace(first.location, scenarios=names))
        else:
            found[key] = error
    return list(found.values())


def _line_of(file: str, line: int) -> str:
    read = helm.template_text(file)
    lines = read[1] if read else ()
    return lines[line - 1] if 0 < line <= len(lines) else ""


# -- after the run: scenarios named, one finding per cause, values keys


@dataclass
class Rendered:
    """What the run rendered: input name -> (chart, scenario)."""

    by_name: dict[str, Render] = field(default_factory=dict)

    @classmethod
    def of(cls, renders: Iterable[Render]) -> Rendered:
        return cls({r.name: r for r in renders if r.stream is not None})

    def chart_dirs(self) -> dict[str, str]:
        return {name: r.target.directory for name, r in self.by_name.items()}

    def render_of(self, finding: Finding) -> Render | None:
        loc = finding.location
        name = loc.rendered.file if loc.rendered is not None else loc.file
        return self.by_name.get(name)


Fixes = Mapping[tuple[str, str, int, int], Fix]  # (rule, stream, line, column) -> fix


def fixes_of(
    findings: Iterable[Finding], rendered: Rendered
) -> dict[tuple[str, str, int, int], Fix]:
    """The fixes of the rendered streams' findings, before relocation drops them."""
    return {
        (f.rule, f.location.file, f.location.line, f.location.column): f.fix
        for f in findings
        if f.fix is not None and f.location.file in rendered.by_name
    }


def annotate(findings: Iterable[Finding], rendered: Rendered, fixes: Fixes) -> list[Finding]:
    """Each finding of a render with its scenario and, where its template line
    only inserts a value, the values key that sets it (and its fix, as an edit
    of that values file)."""
    out = []
    for finding in findings:
        render = rendered.render_of(finding)
        if render is None:
            out.append(finding)
            continue
        loc = replace(finding.location, scenarios=(render.scenario.name,))
        key = values_key(loc, render) if loc.rendered is not None else None
        if key is not None:
            loc = replace(loc, values=key)
        finding = replace(finding, location=loc)
        if key is not None and loc.rendered is not None:
            at = loc.rendered
            fix = values_fix(finding, fixes.get((finding.rule, at.file, at.line, at.column)))
            if fix is not None:
                finding = replace(finding, fix=fix)
        out.append(finding)
    return out


def finish(
    findings: Iterable[Finding], rendered: Rendered, config: Config, fixes: Fixes | None = None
) -> list[Finding]:
    """A run's findings once they are on the chart's files: scenarios and values
    keys named; those in files the config excludes (a vendored subchart) or
    ignores per file left out; one per cause over the scenarios."""
    findings = list(findings)
    if not rendered.by_name and not any(f.location.scenarios for f in findings):
        return findings
    kept = []
    for finding in annotate(findings, rendered, fixes or {}):
        render = rendered.render_of(finding)
        if render is not None and _excluded(finding, render, config):
            continue
        kept.append(finding)
    return merge(kept)


def _excluded(finding: Finding, render: Render, config: Config) -> bool:
    """A finding in a subchart the config excludes (its directory matches an
    exclude pattern, as a vendored directory would in a walk), or in a file its
    per-file-ignores cover. Patterns for templates (``charts/*/templates/**``,
    once the way to keep Go text out of walks) do not hide rendered charts."""
    sub = _subchart(finding.location.file, render.target.directory)
    patterns = list(config.exclude)
    if sub is not None and patterns and matches_any(relative(sub[1], config.root), patterns):
        return True
    rel = relative(finding.location.file, config.root)
    for pattern, tokens in config.per_file_ignores.items():
        if matches_any(rel, [pattern]) and any(
            t in ("ALL", finding.rule, finding.slug) or finding.rule.startswith(t) for t in tokens
        ):
            return True
    return False


def merge(findings: Iterable[Finding]) -> list[Finding]:
    """The same finding of several scenarios, once, with the scenarios listed."""
    kept: dict[tuple[Any, ...], Finding] = {}
    for finding in findings:
        loc = finding.location
        if not loc.scenarios:
            kept[(id(finding),)] = finding
            continue
        key = (finding.rule, loc.file, loc.line, loc.column, loc.path, _cause(finding))
        first = kept.get(key)
        if first is None:
            kept[key] = finding
            continue
        names = tuple(dict.fromkeys((*first.location.scenarios, *loc.scenarios)))
        kept[key] = replace(first, location=replace(first.location, scenarios=names))
    return sorted(kept.values())


def _cause(finding: Finding) -> str:
    """The message without what differs between scenarios: the rendered stream's name."""
    rendered = finding.location.rendered
    message = finding.message
    if rendered is not None:
        message = message.split(f" (rendered at {rendered.file}:")[0]
    return message


_OUTPUT_ACTION = re.compile(
    r"\{\{-?(?!\s*(?:/\*|if\b|else\b|end\b|with\b|range\b|define\b))(.*?)-?\}\}"
)
_INDENT_ARG = re.compile(r"\|\s*n?indent\s+(\d+)\s*-?\}\}")
_VALUES_REF = re.compile(r"(?<![\w.$])\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
# what a value passes through and stays itself
_INSERTING = frozenset(
    {"toYaml", "nindent", "indent", "quote", "squote", "toString", "trim", "int", "int64",
     "float64", "toJson", "default", "upper", "lower", "b64enc"}
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH_PARTS = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\['((?:[^'\\]|\\.)*)'\]")


def inserted_value(lines: Sequence[str], number: int) -> tuple[str, ...] | None:
    """The ``.Values`` key that line ``number`` only inserts (one output action,
    one values reference, nothing but formatting around it), or None. ``.``
    inside ``{{ with .Values.x }}`` is that key."""
    actions = _OUTPUT_ACTION.findall(lines[number - 1])
    if len(actions) != 1:
        return None
    action = actions[0]
    refs = _VALUES_REF.findall(action)
    if not refs and _DOT.search(action):
        rest = _DOT.sub(" ", action)
        enclosing = _enclosing_with(lines, number)
        if enclosing is None:
            return None
        refs = [enclosing]
    else:
        rest = _VALUES_REF.sub(" ", action)
    if len(refs) != 1 or not set(_WORD.findall(rest)) <= _INSERTING:
        return None
    return tuple(refs[0].strip(".").split("."))


_DOT = re.compile(r"(?<![\w.$)])\.(?![\w.])")
_BLOCK = re.compile(r"\{\{-?\s*(if|with|range|define|block|end)\b(.*?)-?\}\}")
_MAX_SCAN = 200  # lines scanned up for the enclosing block


def _enclosing_with(lines: Sequence[str], number: int) -> str | None:
    """The ``.Values`` key of the ``with`` block that holds line ``number``."""
    depth = 0
    for index in range(number - 1, max(number - 1 - _MAX_SCAN, -1), -1):
        text = lines[index] if index < number - 1 else lines[index].split("{{")[0]
        for word, argument in reversed(_BLOCK.findall(text)):
            if word == "end":
                depth += 1
            elif depth:
                depth -= 1
            elif word == "with":
                refs = _VALUES_REF.findall(argument)
                words = set(_WORD.findall(_VALUES_REF.sub(" ", argument))) - {"Values"}
                return refs[0] if len(refs) == 1 and not words else None
            else:
                return None
    return None


def _path_parts(path: str) -> list[str | int] | None:
    if not path.startswith("$"):
        return None
    parts: list[str | int] = []
    position = 1
    while position < len(path):
        match = _PATH_PARTS.match(path, position)
        if match is None:
            return None
        if match[1] is not None:
            parts.append(match[1])
        elif match[2] is not None:
            parts.append(int(match[2]))
        else:
            parts.append(match[3].replace("\\'", "'").replace("\\\\", "\\"))
        position = match.end()
    return parts


def _owner_chain(file: str, line: int) -> tuple[str | None, ...] | None:
    """The template keys above ``line`` (whose block or value it writes)."""
    skeleton = helm.template_skeleton(file, line)
    if skeleton is None:
        return None
    for index, key in enumerate(skeleton.keys):
        if key.line == line:
            return skeleton.chain(index)
    for index, key in enumerate(skeleton.keys):
        if line in key.emits:
            return skeleton.chain(index)
    return ()


def _rest(parts: Sequence[str | int], owner: Sequence[str | None]) -> list[str | int] | None:
    """What of the rendered path lies below the template key that inserts it."""
    if not owner:
        return list(parts)
    keys = [(i, p) for i, p in enumerate(parts) if isinstance(p, str)]
    for end in range(len(keys), len(owner) - 1, -1):
        window = keys[end - len(owner) : end]
        if all(o is None or o == p for o, (_, p) in zip(owner, window, strict=True)):
            return list(parts[window[-1][0] + 1 :])
    return None


def values_path(loc: Location) -> tuple[str, ...] | tuple[str | int, ...] | None:
    """The values key (from the values' top) that the finding's place renders."""
    read = helm.template_text(loc.file)
    if read is None or not 0 < loc.line <= len(read[1]):
        return None
    line = _only_inserting_line(loc.file, loc.line) or loc.line
    ref = inserted_value(read[1], line)
    parts = _path_parts(loc.path)
    owner = _owner_chain(loc.file, loc.line)
    if ref is None or parts is None or owner is None:
        return None
    rest = _rest(parts, owner)
    return None if rest is None else (*ref, *rest)


def _only_inserting_line(file: str, line: int) -> int | None:
    """For a template key written with no value of its own whose whole block is
    one line of actions (``resources:`` over ``{{ toYaml .Values.resources |
    indent 12 }}``), that line: what the finding on the key judges comes from it."""
    skeleton = helm.template_skeleton(file, line)
    if skeleton is None:
        return None
    for index, key in enumerate(skeleton.keys):
        if key.line != line:
            continue
        if key.value or any(k.parent == index for k in skeleton.keys):
            return None
        if len(key.emits) == 1:
            return key.emits[0]
        # written at the left margin, the action indents what it prints itself
        # (``{{ toYaml .Values.resources | indent 12 }}``): the skeleton cannot
        # tell it belongs to the key, the indent it asks for can
        below = skeleton.lines[line] if not key.emits and line < len(skeleton.lines) else ""
        indent = _INDENT_ARG.search(below)
        only_actions = not _OUTPUT_ACTION.sub("", below).strip()
        if indent is not None and int(indent[1]) >= key.column and only_actions:
            return line + 1
    return None


def _subchart(template: str, chart_dir: str) -> tuple[str, str] | None:
    """(subchart name, its directory) when ``template`` is a subchart's."""
    rel = os.path.relpath(template, chart_dir).split(os.sep)
    if len(rel) > 3 and rel[0] == "charts":
        return rel[1], os.path.join(chart_dir, "charts", rel[1])
    return None


def values_files(render: Render, template: str) -> list[tuple[str, tuple[str, ...]]]:
    """The files that may set a template's values, highest precedence first,
    each with the prefix its keys sit under."""
    chart_dir = render.target.directory
    files = [*reversed(render.scenario.files), os.path.join(chart_dir, "values.yaml")]
    sub = _subchart(template, chart_dir)
    if sub is None:
        return [(f, ()) for f in files]
    name, directory = sub
    return [*((f, (name,)) for f in files), (os.path.join(directory, "values.yaml"), ())]


def _set_keys(expressions: Iterable[str]) -> list[tuple[str, ...]]:
    """The keys ``--set`` expressions set (``a.b=1,c[0].d=2``: ``a.b``, ``c``)."""
    keys = []
    for expression in expressions:
        for part in re.split(r",(?![^{]*\})", expression):
            name = part.split("=", 1)[0].strip()
            if name:
                keys.append(tuple(re.split(r"\.", re.sub(r"\[\d+\]", "", name))))
    return keys


def values_key(loc: Location, render: Render) -> Location | None:
    """The values file and line that set what the finding's line inserts (None
    where a ``--set`` of the scenario sets it, or no file does)."""
    path = values_path(loc)
    if path is None:
        return None
    keys = tuple(p for p in path if isinstance(p, str))
    for key in _set_keys(render.scenario.sets):
        if keys[: len(key)] == key or key[: len(keys)] == keys:
            return None
    for file, prefix in values_files(render, loc.file):
        tree = _values_tree(file)
        if tree is None:
            continue
        full = (*prefix, *path)
        mark, depth = locate(tree[1], full, key=True)
        if depth == len(full):
            return Location(
                file=file,
                line=mark.line + 1,
                column=mark.column + 1,
                path=json_path(full),
                source_line=tree[0].line(mark.line + 1),
            )
    return None


@lru_cache(maxsize=64)
def _values_tree(file: str) -> tuple[SourceFile, Any, Any] | None:
    """A values file's text, node tree and data (None when it cannot be read)."""
    text = read_text(file, MAX_CHART_FILE_BYTES)
    if text is None:
        return None
    text = normalize_breaks(text)
    try:
        with stack_headroom():
            root = yaml.compose(text, Loader=Loader)
            source = SourceFile(file, text)
            data = Converter(source.aliases).convert(root) if root is not None else None
    except Exception:  # a broken values file: Helm reports it when it renders
        return None
    if root is None or not isinstance(data, dict):
        return None
    return source, root, data


def values_fix(finding: Finding, fix: Fix | None) -> Fix | None:
    """``fix`` (the finding's, as made in the rendered stream) as an edit of the
    values file its template line inserts from (``loc.values.file``): each intent
    sets a value at or below the inserted key, none inside an embedded config."""
    loc = finding.location
    key = loc.values
    if fix is None or key is None or loc.rendered is None or not fix.intents:
        return None
    values = _path_parts(key.path)
    here = _path_parts(loc.path)
    tree = _values_tree(key.file)
    if values is None or here is None or tree is None:
        return None
    source, root, data = tree
    document = Document(data, root, source, 0)
    changes: list[Change | None] = []
    for intent in fix.intents:
        if intent.embedded is not None or not intent.present:
            return None
        below = _below(tuple(here), intent.path)
        if below is None:
            return None
        changes.append(document.set_value((*values, *below), intent.value))
    title = f"{fix.title} in {key.file}"
    return (Fix.safe if fix.applicability is Applicability.SAFE else Fix.unsafe)(title, *changes)


def fix_values(file: str, data: bytes, findings: Sequence[Finding]) -> tuple[bytes, list[Finding]]:
    """Apply the values fixes of ``findings`` to the values file's bytes; the
    fixed bytes and the findings fixed. The result must read back with every
    intended value in place, else nothing is changed."""
    from meshlint.core import fixing

    def load(raw: bytes) -> Any:
        try:
            return yaml.safe_load(decode(raw))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ValueError(str(exc)) from exc

    outcome = fixing.apply_to_data(data, findings, load)
    return outcome.data, outcome.applied


def fix_file(finding: Finding) -> str:
    """The file a finding's fix edits: the values file for a values fix."""
    values = finding.location.values
    if values is not None and finding.fix is not None and finding.location.scenarios:
        return values.file
    return finding.location.file


def _below(here: tuple[str | int, ...], target: KeyPath) -> tuple[str | int, ...] | None:
    """``target`` (a path in the rendered object) relative to the finding's path."""
    if tuple(target[: len(here)]) == here:
        return tuple(target[len(here) :])
    return None
