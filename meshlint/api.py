"""meshlint as a library: lint paths or a text with the same settings the CLI
layers (config file, then the command line's selection), and get a ``Report``.

``cli`` is click wiring over these functions; nothing here prints or exits.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from meshlint.core import fixing, helm
from meshlint.core.config import (
    Config,
    Selection,
    check_selectors,
    find_config,
    load_config,
    parse_fail_on,
    parse_kube_version,
    rule_for,
    unknown_rule,
    unused_ignore_selection,
    validate_against_rules,
)
from meshlint.core.engine import Kept, lint
from meshlint.core.fsguard import WriteRefused, check_writable
from meshlint.core.inputs import Discovery, discover
from meshlint.core.loading import parse_bytes
from meshlint.core.model import Applicability, Finding, Rule
from meshlint.core.plan import Plan
from meshlint.core.plugins import PluginError, collect_rules, plugin_manager
from meshlint.core.report import Input, Report

__all__ = [
    "FixRun",
    "Settings",
    "UsageError",
    "find_inputs",
    "find_rule",
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
        exclude=(*config.exclude, *settings.exclude),
        report_unused_ignores=config.report_unused_ignores or settings.report_unused_ignores,
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


def find_rule(rules: Mapping[str, Rule], key: str) -> Rule:
    """A rule by id or slug, in any case."""
    rule = rule_for(key, rules) or rule_for(key.upper(), rules) or rule_for(key.lower(), rules)
    if rule is None:
        raise UsageError(unknown_rule(key, rules.values()))
    return rule


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
    charts = _charts(settings)
    found = find_inputs(paths, settings, config)
    _check_reports(reports, found.inputs)
    inputs = found.take()
    if settings.stdin_filename:
        inputs = [_named_stdin(i, settings.stdin_filename) for i in inputs]
    plan = Plan.build(rules, config, list_resources=list_resources)
    names = [i.name for i in inputs]
    shown = None
    if on_file is not None:
        callback = on_file

        def shown(findings: list[Finding]) -> None:
            callback(helm.relocate(findings, charts).findings)

    report = lint(inputs, plan, jobs, progress(len(inputs)), shown)
    report.errors[:0] = [*plugin_errors, *found.errors]
    report.templates = len(found.templates)
    moved = helm.relocate(report.findings, charts)
    report.findings = moved.findings
    return PathsRun(report, config, rules, len(names), moved.moved, moved.placed, names)


def find_inputs(paths: Sequence[str], settings: Settings, config: Config) -> Discovery:
    """The files a run over ``paths`` reads (``--show-files`` lists them)."""
    return discover(
        paths or (".",),
        config.exclude,
        config.root,
        config.scopes,
        respect_gitignore=settings.respect_gitignore,
        force_exclude=settings.force_exclude,
        follow_links=settings.follow_links,
    )


def _charts(settings: Settings) -> helm.Charts:
    stdin = settings.stdin_filename or "-"
    try:
        return helm.Charts.from_dirs(settings.chart_dirs, stdin=(stdin,))
    except helm.ChartError as exc:
        raise UsageError(f"--chart-dir: {exc}") from exc


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
    found = discover(
        paths or (".",),
        config.exclude,
        config.root,
        config.scopes,
        follow_links=settings.follow_links,
    )
    _check_reports(reports, found.inputs)  # as lint_paths does
    inputs = found.take()
    plan = Plan.build(rules, config, list_resources=list_resources)
    originals: dict[str, bytes] = {}
    current: dict[str, bytes] = {}
    result = FixRun(PathsRun(Report(), config, rules, len(inputs)))
    rejected: set[tuple[str, str, str]] = set()
    kept: Kept = {}  # each file's report: a round re-reads only the files it changed

    def lint_now(states: Mapping[str, bytes]) -> Report:
        items = [replace(i, data=states[i.name]) if i.name in states else i for i in inputs]
        report = lint(items, plan, jobs, kept=kept)
        report.errors[:0] = [*plugin_errors, *found.errors]
        return report

    report = lint_now(current)
    for _ in range(MAX_FIX_ROUNDS):
        by_file: dict[str, list[Finding]] = {}
        for finding in report.findings:
            if applicable(finding, unsafe):
                by_file.setdefault(finding.location.file, []).append(finding)
        changed = False
        for name, findings in by_file.items():
            data = current.get(name)
            if data is None:
                data = _read(name, inputs)
                if data is None:
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
                result.fixed.update(f.rule for f in outcome.applied)
                changed = True
        if not changed:
            break
        report = lint_now(current)
    result.files = [
        FileFix(name, originals[name], after)
        for name, after in current.items()
        if after != originals[name]
    ]
    if write:
        unwritten = _write(result, inputs)
        if unwritten:  # report what is on disk for those files
            report = lint_now({k: v for k, v in current.items() if k not in unwritten})
    result.run.report = report
    return result


def applicable(finding: Finding, unsafe: bool) -> bool:
    """``finding`` has a fix that ``--fix`` (with ``unsafe``: ``--unsafe-fixes``) applies."""
    fix = finding.fix
    return fix is not None and (unsafe or fix.applicability is Applicability.SAFE)


def _read(name: str, inputs: Sequence[Input]) -> bytes | None:
    for item in inputs:
        if item.name == name:
            if item.data is not None:
                return item.data
            try:
                with open(item.file, "rb") as handle:
                    return handle.read()
            except OSError:
                return None  # the lint reported it
    return None


def _write(result: FixRun, inputs: Sequence[Input]) -> set[str]:
    """Write the changed files that may be written; the names of those left alone."""
    by_name = {i.name: i for i in inputs}
    unwritten = set()
    for change in result.files:
        item = by_name[change.name]
        reason = None
        if item.data is not None or item.name == "-":
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
