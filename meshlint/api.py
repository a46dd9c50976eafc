"""meshlint as a library: lint paths or a text with the same settings the CLI
layers (config file, then the command line's selection), and get a ``Report``.

``cli`` is click wiring over these functions; nothing here prints or exits.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from meshlint.core import charts as charts_
from meshlint.core import fixing, helm, scopes
from meshlint.core.config import (
    Config,
    Selection,
    check_selectors,
    find_config,
    load_config,
    matches,
    parse_fail_on,
    parse_kube_version,
    unknown_rule,
    unused_ignore_selection,
    validate_against_rules,
)
from meshlint.core.engine import Kept, lint
from meshlint.core.files import MAX_CHART_FILE_BYTES, Refused, read_regular
from meshlint.core.fsguard import WriteRefused, check_writable
from meshlint.core.globs import matches_any, relative
from meshlint.core.inputs import Discovery, discover
from meshlint.core.loading import parse_bytes
from meshlint.core.model import Applicability, Finding, Rule
from meshlint.core.plan import Plan
from meshlint.core.plugins import PluginError, collect_rules, plugin_manager
from meshlint.core.report import Candidate, Input, Report, digest

__all__ = [
    "FixRun",
    "Project",
    "Settings",
    "UsageError",
    "find_inputs",
    "find_rules",
    "fix_paths",
    "lint_paths",
    "lint_text",
    "load_settings",
]


class UsageError(Exception):
    """A wrong option or value: one line for the user."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What a run is asked to do, before any file is read.

    Command-line values layer over the configuration file, as in ruff: the
    selection is a later layer, the other values replace the file's.
    """

    config_path: str | None = None  # None: the nearest .meshlint.yaml / pyproject.toml
    isolated: bool = False  # ignore every configuration file
    select: Sequence[str] = ()
    extend_select: Sequence[str] = ()
    ignore: Sequence[str] = ()
    fail_on: str | None = None
    kube_version: str | None = None
    exclude: Sequence[str] = ()
    follow_links: bool = False  # walk into directory links that leave the paths given
    no_plugins: bool = False
    report_unused_ignores: bool = False
    stdin_filename: str | None = None  # the name stdin's findings carry (default "-")
    chart_dirs: Sequence[str] = ()  # Helm charts whose templates findings move to
    respect_gitignore: bool = True  # walks skip what .gitignore ignores
    force_exclude: bool = False  # exclude patterns apply to files named explicitly too
    render_charts: bool = True  # render chart directories with Helm, when it is at hand
    values: Sequence[str] = ()  # --values: the one scenario charts render with
    sets: Sequence[str] = ()  # --set expressions for that scenario
    namespace: str | None = None  # where objects without a namespace are applied


def load_settings(
    settings: Settings, errors: list[str] | None = None
) -> tuple[Config, Mapping[str, Rule]]:
    """The effective configuration and the rule catalogue it runs with (plugin
    failures go to ``errors`` when given, else raise)."""
    config = Config()
    if settings.config_path:
        config = load_config(Path(settings.config_path))
    elif not settings.isolated and (found := find_config(Path.cwd())):
        config = load_config(found)
    rules = load_rules(config, no_plugins=settings.no_plugins, errors=errors)
    validate_against_rules(config, rules)
    for option, values in (
        ("--select", settings.select),
        ("--extend-select", settings.extend_select),
        ("--ignore", settings.ignore),
    ):
        if (bad := check_selectors(tuple(values), rules.values())) is not None:
            raise UsageError(f"{option}: {unknown_rule(bad, rules.values())}")
    try:
        version = (
            parse_kube_version(settings.kube_version)
            if settings.kube_version
            else config.kube_version
        )
    except ValueError as exc:
        raise UsageError(f"--kube-version: {exc}") from exc
    unused = unused_ignore_selection(settings.report_unused_ignores)
    command_line = Selection(
        tuple(settings.select), (*settings.extend_select, *unused), tuple(settings.ignore)
    )
    config = replace(
        config,
        overrides=(*config.overrides, command_line),
        fail_on=parse_fail_on(settings.fail_on) if settings.fail_on else config.fail_on,
        kube_version=version,
        kube_version_from="--kube-version" if settings.kube_version else config.kube_version_from,
        exclude=(*config.exclude, *settings.exclude),
        report_unused_ignores=config.report_unused_ignores or settings.report_unused_ignores,
        namespace=settings.namespace or config.namespace,
    )
    return config, rules


def load_rules(
    config: Config | None, *, no_plugins: bool = False, errors: list[str] | None = None
) -> Mapping[str, Rule]:
    """Every rule: the engine's, installed plugins' and the config's ``plugins``.

    With ``errors``, a broken plugin is one line there and the rest still load.
    """
    modules = () if no_plugins or config is None else config.plugins
    found: list[str] = []
    pm = plugin_manager(builtin_only=no_plugins, modules=modules, errors=found)
    rules = collect_rules(pm, found)
    # a plugin the config names fails at the config's line, like any config error
    located = [_at_config_line(e, config, modules) for e in found]
    if errors is not None:
        errors.extend(located)
    elif located:
        raise PluginError(located[0])
    return rules


def _at_config_line(error: str, config: Config | None, modules: Sequence[str]) -> str:
    for number, module in enumerate(modules):
        if config is not None and error.startswith(f"plugin module {module!r}"):
            return str(config.error(("plugins", number), f"plugins[{number}]: {error}"))
    return error


def find_rules(rules: Mapping[str, Rule], key: str) -> list[Rule]:
    """The rules ``key`` names, as ``--select`` reads it: an id, a slug, an id
    prefix (``J``, ``I00``) or ``ALL``, in any case."""
    for token in dict.fromkeys((key, key.upper(), key.lower())):
        if found := [r for r in rules.values() if matches(token, r)]:
            return found
    raise UsageError(unknown_rule(key, rules.values()))


Progress = Callable[[int, int], None]


@dataclass
class PathsRun:
    """A run over paths: the report, and what it ran with."""

    report: Report
    config: Config
    rules: Mapping[str, Rule]
    inputs: int  # how many files were found to lint
    helm_moved: int = 0  # findings moved to their chart template
    helm_placed: int = 0  # of those, on the template line that writes the key
    names: list[str] = field(default_factory=list)  # the files linted, as findings name them
    warnings: list[str] = field(default_factory=list)  # one line each, for stderr
    renders: list[charts_.Render] = field(default_factory=list)  # charts rendered (timings)


def lint_paths(
    paths: Sequence[str],
    settings: Settings = Settings(),
    *,
    jobs: int | None = 1,  # None: as many workers as the input repays (core.cpus)
    list_resources: bool = False,
    progress: Callable[[int], Progress | None] = lambda total: None,
    on_file: Callable[[list[Finding]], None] | None = None,
    reports: Sequence[str] = (),
) -> PathsRun:
    """Lint files, directories (recursively) and ``-`` (stdin); a plugin that
    fails to load is an error of the run, and every other rule still runs.

    ``reports`` are the files the caller will write (reports, a baseline): a
    UsageError before anything is linted when one is an input of this run or
    lies behind a directory link out of the repository."""
    plugin_errors: list[str] = []
    config, rules = load_settings(settings, plugin_errors)
    renderer = charts_.find_renderer() if settings.render_charts else None
    found = find_inputs(paths, settings, config, render=renderer is not None)
    _check_reports(reports, found.inputs)
    inputs = found.take()
    if settings.stdin_filename:
        inputs = [_named_stdin(i, settings.stdin_filename) for i in inputs]
    plan = Plan.build(rules, config, list_resources=list_resources)
    # Helm renders (another process, or helm's own) while the other files are linted
    rendered_later = _start_render(renderer, found, settings, config, jobs)
    charts = _charts(settings)
    shown = None
    if on_file is not None:
        callback = on_file

        def shown(findings: list[Finding]) -> None:
            callback(helm.relocate(findings, charts).findings)

    report = None
    try:
        if inputs or not found.charts:
            report = lint(inputs, plan, jobs, progress(len(inputs)), shown)
        rendering = rendered_later()
    except BaseException:  # Ctrl-C, SIGTERM, an error: Helm's child ends with the run
        charts_.stop_rendering()
        raise
    if found.charts:
        # each render is a join scope of its own: linting them apart joins nothing less
        charts = _charts(settings, rendering.rendered)
        of_charts = lint(rendering.inputs, plan, jobs, candidates=rendering.errors)
        report = of_charts if report is None else _joined(report, of_charts)
    assert report is not None
    names = [i.name for i in [*inputs, *rendering.inputs]]
    report.errors[:0] = [*plugin_errors, *found.errors, *rendering.problems]
    report.templates = len(found.templates)
    fixes = charts_.fixes_of(report.findings, rendering.rendered)
    moved = helm.relocate(report.findings, charts)
    report.findings = charts_.finish(moved.findings, rendering.rendered, config, fixes)
    run = PathsRun(report, config, rules, len(names), moved.moved, moved.placed, names)
    run.warnings, run.renders = rendering.warnings, rendering.renders
    return run


@dataclass
class _Rendering:
    """The charts of a run, rendered: streams to lint, M006 candidates, problems."""

    inputs: list[Input] = field(default_factory=list)
    errors: list[Candidate] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # charts that cannot be handed to Helm
    warnings: list[str] = field(default_factory=list)
    renders: list[charts_.Render] = field(default_factory=list)
    rendered: charts_.Rendered = field(default_factory=charts_.Rendered)


def _joined(first: Report, second: Report) -> Report:
    """One report of two lints of disjoint inputs and scopes."""
    first.findings = sorted([*first.findings, *second.findings], key=Finding.order)
    first.errors.extend(second.errors)
    first.files += second.files
    first.documents += second.documents
    first.skipped += second.skipped
    first.suppressed += second.suppressed
    first.unused_ignores.extend(second.unused_ignores)
    first.resources.extend(second.resources)
    return first


def _start_render(
    renderer: charts_.Renderer | None,
    found: Discovery,
    settings: Settings,
    config: Config,
    jobs: int | None,
) -> Callable[[], _Rendering]:
    """Start rendering the charts in a thread; the function that waits for them."""
    if renderer is None or not found.charts:
        done = _render(renderer, found, settings, config, jobs)
        return lambda: done
    for file in settings.values:  # a usage error before anything starts
        if not os.path.isfile(file):
            raise UsageError(f"--values: {file}: no such file")
    from concurrent.futures import ThreadPoolExecutor  # charts to render: not every run's cost

    charts_.allow_rendering()
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(_render, renderer, found, settings, config, jobs)
    pool.shutdown(wait=False)
    return future.result


def _render(
    renderer: charts_.Renderer | None,
    found: Discovery,
    settings: Settings,
    config: Config,
    jobs: int | None,
) -> _Rendering:
    out = _Rendering()
    if renderer is None:
        if found.templates and settings.render_charts:
            out.warnings.append(charts_.HOW_TO_RENDER)
        return out
    for file in settings.values:
        if not os.path.isfile(file):
            raise UsageError(f"--values: {file}: no such file")
    targets, out.problems = charts_.targets(
        found.charts, config.charts, config.root, settings.values, settings.sets
    )
    out.renders = charts_.render_all(renderer, targets, jobs)
    out.inputs = [r.input() for r in out.renders if r.stream is not None]
    out.errors = charts_.errors_of(out.renders)
    out.rendered = charts_.Rendered.of(out.renders)
    return out


def find_inputs(
    paths: Sequence[str], settings: Settings, config: Config, *, render: bool = False
) -> Discovery:
    """The files a run over ``paths`` reads (``--show-files`` lists them); with
    ``render``, the Helm charts to render instead of their files."""
    return discover(
        paths or (".",),
        config.exclude,
        config.root,
        config.scopes,
        respect_gitignore=settings.respect_gitignore,
        force_exclude=settings.force_exclude,
        follow_links=settings.follow_links,
        render_charts=render,
    )


def _charts(settings: Settings, rendered: charts_.Rendered | None = None) -> helm.Charts:
    stdin = settings.stdin_filename or "-"
    try:
        found = helm.Charts.from_dirs(settings.chart_dirs, stdin=(stdin,))
    except helm.ChartError as exc:
        raise UsageError(f"--chart-dir: {exc}") from exc
    return replace(found, renders=rendered.chart_dirs()) if rendered else found


def _named_stdin(item: Input, name: str) -> Input:
    """Stdin shown as ``name`` (``--stdin-filename``), as ruff and prettier do."""
    if item.name != "-" or item.data is None:
        return item
    return replace(item, name=name, rel=name)


def _check_reports(reports: Sequence[str], inputs: Sequence[Input]) -> None:
    if not reports:
        return
    names = [item.file for item in inputs if item.data is None]
    for path in reports:
        try:
            check_writable(path, names)
        except WriteRefused as exc:
            raise UsageError(str(exc)) from exc


def lint_text(
    text: str | bytes, name: str = "-", settings: Settings = Settings(isolated=True)
) -> Report:
    """Lint one YAML/JSON stream held in memory, shown as ``name`` in findings."""
    config, rules = load_settings(settings)
    plan = Plan.build(rules, config)
    data = text.encode() if isinstance(text, str) else text
    return lint([Input(name=name, data=data, rel=name)], plan)


@dataclass
class Project:
    """The working directory as ``meshlint check .`` sees it (configuration,
    rules, the files a walk finds and their join scopes), loaded once and linted
    many times with some files' text held in memory: an editor's unsaved buffers.

    ``lint(texts)`` gives, for the join scopes of those texts, the findings
    ``check .`` would give if they were saved: a ConfigMap's text judged with the
    pods that mount it, and findings on every file of those scopes. The language
    server is built on it (``meshlint.server``).
    """

    settings: Settings
    config: Config
    rules: Mapping[str, Rule]
    plan: Plan
    files: dict[str, Input]  # by name, as `check .` names them
    errors: list[str]  # plugins that failed to load, files that cannot be read
    # the reports of files on disk, made again only when a file changes
    kept: Kept = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, settings: Settings = Settings()) -> Project:
        """Read the configuration (nearest the working directory) and walk ``.``;
        a configuration error raises, as it does for ``check``."""
        errors: list[str] = []
        config, rules = load_settings(settings, errors)
        found = find_inputs((".",), settings, config)
        files = {i.name: i for i in found.take()}
        return cls(settings, config, rules, Plan.build(rules, config), files, errors + found.errors)

    @staticmethod
    def name_of(path: str) -> str:
        """The name ``check .`` gives the file at ``path`` (relative when below
        the working directory)."""
        rel = os.path.relpath(path)
        if rel.startswith(".."):  # the working directory may be the workspace's real path
            rel = os.path.relpath(os.path.realpath(path))
        return os.path.normpath(path if rel.startswith("..") else rel)

    def excluded(self, name: str) -> bool:
        """Whether a walk of ``.`` leaves ``name`` out by the configuration's ``exclude``."""
        patterns = self.config.exclude
        return (
            name not in self.files
            and bool(patterns)
            and matches_any(relative(name, self.config.root), patterns)
        )

    def scope_of(self, name: str) -> str:
        """The join scope of a file (``meshlint.core.scopes``)."""
        item = self.files.get(name)
        return item.scope if item is not None else scopes.of_named(name)

    def lint(
        self,
        texts: Mapping[str, bytes],
        *,
        scopes: Collection[str] = (),
        everything: bool = False,
    ) -> Report:
        """Lint ``texts`` (name -> content) with the files on disk of their join
        scopes and of ``scopes`` (``everything``: of every scope)."""
        wanted = {self.scope_of(name) for name in texts} | set(scopes)
        items = [
            replace(item, data=texts[name]) if name in texts else item
            for name, item in self.files.items()
            if everything or item.scope in wanted
        ]
        items += [
            Input(name=name, data=data, rel=name, scope=self.scope_of(name))
            for name, data in texts.items()
            if name not in self.files
        ]
        return lint(items, self.plan, kept=self.kept)

    def fix(self, name: str, texts: Mapping[str, bytes], *, unsafe: bool = False) -> bytes:
        """``texts[name]`` with the fixes ``--fix`` (``unsafe``: ``--unsafe-fixes``)
        would apply to it, round after round, each one verified."""
        current = dict(texts)
        data = current[name]
        for _ in range(MAX_FIX_ROUNDS):
            findings = [
                f
                for f in self.lint(current).findings
                if f.location.file == name and applicable(f, unsafe)
            ]
            fixed = fixing.apply(name, data, findings).data if findings else data
            if fixed == data:
                break
            data = current[name] = fixed
        return data


MAX_FIX_ROUNDS = 10  # a fix that waited for an overlapping one is applied in the next round


@dataclass
class FileFix:
    """One file the fixes changed: its bytes before and after, and whether (or
    why not) it was written."""

    name: str
    before: bytes
    after: bytes
    written: bool = False
    not_written: str | None = None


@dataclass
class FixRun:
    """A run with ``--fix``: what is left (``run.report``), what was fixed."""

    run: PathsRun
    fixed: Counter[str] = field(default_factory=Counter)  # applied fixes per rule
    files: list[FileFix] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # fixes skipped, files not written


def fix_paths(
    paths: Sequence[str],
    settings: Settings = Settings(),
    *,
    unsafe: bool = False,
    write: bool = True,
    jobs: int | None = 1,
    list_resources: bool = False,
    reports: Sequence[str] = (),
) -> FixRun:
    """Lint, apply the fixes (safe ones; unsafe too with ``unsafe``) and lint the
    result again until no fix applies; then write the changed files (with
    ``write``). Standard input and Helm-rendered streams are never written, nor
    a file that changed since it was read. The report is of what is on disk
    afterwards (of the fixed text, when nothing was to be written)."""
    plugin_errors: list[str] = []
    config, rules = load_settings(settings, plugin_errors)
    renderer = charts_.find_renderer() if settings.render_charts else None
    found = discover(
        paths or (".",),
        config.exclude,
        config.root,
        config.scopes,
        follow_links=settings.follow_links,
        render_charts=renderer is not None,
    )
    _check_reports(reports, found.inputs)  # as lint_paths does
    inputs = found.take()
    # each file's digest as linted: a file edited since is not fixed from old findings
    plan = replace(Plan.build(rules, config, list_resources=list_resources), digests=True)
    # charts: their streams are linted, never fixed; a fix of a value goes to the values file
    rendering = _render(renderer, found, settings, config, jobs)
    inputs += rendering.inputs
    charts = _charts(settings, rendering.rendered)
    originals: dict[str, bytes] = {}
    current: dict[str, bytes] = {}
    result = FixRun(PathsRun(Report(), config, rules, len(inputs)))
    rejected: set[tuple[str, str, str]] = set()
    applied: dict[str, Counter[str]] = {}  # per file: the fixes applied to its text
    kept: Kept = {}  # each file's report: a round re-reads only the files it changed

    def lint_now(states: Mapping[str, bytes]) -> Report:
        items = [replace(i, data=states[i.name]) if i.name in states else i for i in inputs]
        report = lint(items, plan, jobs, candidates=rendering.errors, kept=kept)
        report.errors[:0] = [*plugin_errors, *found.errors, *rendering.problems]
        if rendering.rendered.by_name:
            fixes = charts_.fixes_of(report.findings, rendering.rendered)
            moved = helm.relocate(report.findings, charts).findings
            report.findings = charts_.finish(moved, rendering.rendered, config, fixes)
        return report

    report = lint_now(current)
    for _ in range(MAX_FIX_ROUNDS):
        by_file: dict[str, list[Finding]] = {}
        for finding in report.findings:
            if finding.location.scenarios:
                continue  # a chart's: fixed in its values files below
            if applicable(finding, unsafe):
                by_file.setdefault(finding.location.file, []).append(finding)
        changed = False
        for name, findings in by_file.items():
            data = current.get(name)
            if data is None:
                data = _read(name, inputs)
                if data is None:
                    continue
                if name in report.digests and digest(data) != report.digests[name]:
                    note = f"{name}: not fixed: changed since it was read"
                    if note not in result.notes:
                        result.notes.append(note)
                    continue
                originals[name] = data
            outcome = fixing.apply(name, data, findings)
            for finding in outcome.rejected:
                key = (name, finding.rule, finding.message)
                if key not in rejected:
                    rejected.add(key)
                    result.notes.append(
                        f"{name}:{finding.location.line}: {finding.rule} fix skipped: the fixed "
                        "file would not read back as intended"
                    )
            if outcome.data != data:
                current[name] = outcome.data
                applied.setdefault(name, Counter()).update(f.rule for f in outcome.applied)
                changed = True
        if not changed:
            break
        report = lint_now(current)
    values_fixed = _fix_values(report, unsafe, originals, current, result)
    result.files = [
        FileFix(name, originals[name], after)
        for name, after in current.items()
        if after != originals[name]
    ]
    unwritten: set[str] = set()
    if write:
        unwritten = _write(result, inputs)
        if values_fixed and not values_fixed <= unwritten:
            # charts render again from the values files now on disk
            report = lint_paths(paths, replace(settings), jobs=jobs).report
        elif unwritten:  # report what is on disk for those files
            report = lint_now({k: v for k, v in current.items() if k not in unwritten})
    # "Fixed N" counts what reached the file (or, without writing, the fixed text)
    for name, counts in applied.items():
        if name not in unwritten:
            result.fixed.update(counts)
    result.run.report = report
    return result


def _fix_values(
    report: Report,
    unsafe: bool,
    originals: dict[str, bytes],
    current: dict[str, bytes],
    result: FixRun,
) -> set[str]:
    """Apply the fixes of charts' findings to the values files that set the
    values (one round: the chart must render again to show the rest); the
    values files changed."""
    by_file: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if finding.location.scenarios and applicable(finding, unsafe):
            by_file.setdefault(charts_.fix_file(finding), []).append(finding)
    changed = set()
    for name, findings in by_file.items():
        data = current.get(name)
        if data is None:
            try:
                data = read_regular(name, MAX_CHART_FILE_BYTES)
            except (OSError, Refused):
                continue
            originals[name] = data
        fixed, applied = charts_.fix_values(name, data, findings)
        if fixed != data:
            current[name] = fixed
            result.fixed.update(f.rule for f in applied)
            changed.add(name)
        for finding in findings:
            if finding not in applied:
                result.notes.append(
                    f"{name}: {finding.rule} fix skipped: the values file would not read "
                    "back as intended"
                )
    return changed


def applicable(finding: Finding, unsafe: bool) -> bool:
    """``finding`` has a fix that ``--fix`` (with ``unsafe``: ``--unsafe-fixes``) applies."""
    fix = finding.fix
    return fix is not None and (unsafe or fix.applicability is Applicability.SAFE)


def _read(name: str, inputs: Sequence[Input]) -> bytes | None:
    for item in inputs:
        if item.name == name:
            try:
                return item.read()
            except (Refused, OSError):
                return None  # the lint reported it
    return None


def _write(result: FixRun, inputs: Sequence[Input]) -> set[str]:
    """Write the changed files that may be written; the names of those left alone."""
    by_name = {i.name: i for i in inputs}
    unwritten = set()
    for change in result.files:
        item = by_name.get(change.name)
        reason = None
        if item is None:  # a chart's values file (core.charts): written the same guarded way
            reason = fixing.write(change.name, change.before, change.after)
        elif item.data is not None or item.name == "-":
            reason = "standard input is never written"
        elif parse_bytes(change.name, change.before).helm_rendered:
            reason = "a Helm-rendered stream is never written (fix the chart)"
        else:
            reason = fixing.write(item.file, change.before, change.after)
        if reason is None:
            change.written = True
        else:
            change.not_written = reason
            unwritten.add(change.name)
            result.notes.append(f"{change.name}: not fixed: {reason}")
    return unwritten
