"""Command line wiring (click). The one module that prints or exits.

Exit codes: 0 no finding at or above --fail-on; 1 at least one; 2 usage,
configuration, plugin or read error, or an internal error; 130 interrupted
(Ctrl-C), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from meshlint.core.version import __version__

if TYPE_CHECKING:
    from meshlint.core.model import Rule

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM


class Failure(Exception):
    """A one-line error for stderr, exit code 2."""


def _debug() -> bool:
    return os.environ.get("MESHLINT_DEBUG") == "1"


def _user_errors() -> tuple[type[Exception], ...]:
    """The errors that are the user's to mend (one line, exit 2). Imported only
    when one is raised: ``meshlint --version`` loads no engine."""
    from meshlint.api import UsageError
    from meshlint.core.config import ConfigError
    from meshlint.core.engine import WorkerLost
    from meshlint.core.plugins import PluginError

    return (Failure, UsageError, ConfigError, PluginError, WorkerLost)


def _guard(func: F) -> F:
    """Turn every error into one line on stderr and exit 2 (tracebacks only in debug)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from meshlint.core.signals import Terminated, raising_on_sigterm

        try:
            with raising_on_sigterm():
                return func(*args, **kwargs)
        except _user_errors() as exc:
            _say(f"meshlint: error: {exc}")
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("meshlint: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except Terminated:
            click.echo("meshlint: terminated", err=True)
            sys.exit(EXIT_TERMINATED)
        except BrokenPipeError:  # a reader of stdout went away before the end
            _silence_stdout()
        except Exception as exc:
            if _debug():
                traceback.print_exc()
            detail = " ".join(str(exc).split())
            if len(detail) > 300:  # one line, even when an exception quotes a whole object
                detail = detail[:300] + "..."
            _say(
                f"meshlint: internal error: {type(exc).__name__}: {detail} "
                "(set MESHLINT_DEBUG=1 for a traceback)"
            )
        sys.exit(EXIT_ERROR)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper  # type: ignore[return-value]


PROGRESS_MIN_FILES = 1000
STATISTICS_FORMATS = frozenset({"text", "json"})


def _progress(total: int) -> Callable[[int, int], None] | None:
    """A files-done counter on stderr for long runs on a terminal, else nothing."""
    if total < PROGRESS_MIN_FILES or sys.stderr is None or not sys.stderr.isatty():
        return None
    shown = [0.0]

    def show(done: int, all_files: int) -> None:
        now = time.monotonic()
        if done == all_files:
            sys.stderr.write("\r\x1b[K")  # leave no trace before the report
        elif now - shown[0] >= 0.1:
            shown[0] = now
            sys.stderr.write(f"\rmeshlint: {done}/{all_files} files")
        sys.stderr.flush()

    return show


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t.strip() for v in values for t in v.split(",") if t.strip())


def _version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """``--version``, printed as every other output is: a full disk or a closed
    stdout is a one-line error, not a traceback or a silent success."""
    if not value or ctx.resilient_parsing:
        return
    _guard(_emit)(f"meshlint, version {__version__}\n")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_version,
    help="Show the version and exit.",
)
def main() -> None:
    """Lint Kubernetes, Istio, Jaeger and OpenTelemetry manifests for the settings
    behind real outages."""


def run() -> None:
    """The console script (and ``python -m meshlint``): one command, then the
    process ends.

    The cyclic collector stays off. The engine frees each file's cycles itself
    (``engine._lint_and_sweep``); switched back on after a run, its first
    collection walked every object the report still holds to free nothing: 2.5 s
    of a 200,000-document stream's 9 s tail. ``server``, which lives on, turns it
    back on.
    """
    gc.disable()
    main()


class _CheckCommand(click.Command):
    """Remembers where --format and --output occur, which click's tuples forget."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from meshlint.output.targets import scan

        ctx.meta["meshlint.targets"] = scan(args)
        return super().parse_args(ctx, args)


def _targets(formats: tuple[str, ...], outputs: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """Each report's format and file (None: stdout); see meshlint.output.targets."""
    from meshlint.output.targets import FORMAT, OUTPUT, TargetError, pair

    ctx = click.get_current_context(silent=True)
    occurrences = ctx.meta.get("meshlint.targets") if ctx is not None else None
    if occurrences is None:  # called without parsing: keep the order click gives
        occurrences = [(FORMAT, f) for f in formats] + [(OUTPUT, o) for o in outputs]
    # In GitHub Actions, annotations are what the runner reads from stdout.
    github = os.environ.get("GITHUB_ACTIONS") == "true" and not outputs
    try:
        return pair(occurrences, default="github" if github else "text")
    except TargetError as exc:
        raise click.UsageError(str(exc)) from exc


@main.command(cls=_CheckCommand)
@click.argument("paths", nargs=-1, type=str)
@click.option(
    "--format",
    "formats",
    type=click.Choice(["text", "json", "sarif", "junit", "github"]),
    multiple=True,
    help="Output format (default: text; github when GITHUB_ACTIONS=true). Repeatable: "
    "each --format is written to the --output that follows it, or else to stdout.",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    type=click.Path(dir_okay=False, writable=True),
    multiple=True,
    help="Write the report of the --format before it to FILE instead of stdout.",
)
@click.option(
    "--select",
    multiple=True,
    help="Rules to run: ids, slugs, prefixes (J, I0) or ALL; a comma list or repeated.",
)
@click.option("--extend-select", multiple=True, help="Rules to add to the selection (comma list).")
@click.option("--ignore", multiple=True, help="Rules to skip: ids, slugs or prefixes (comma list).")
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default=None,
    help="Lowest severity that makes the exit code 1 (default: warning).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: nearest .meshlint.yaml, else pyproject.toml).",
)
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option(
    "--exclude",
    multiple=True,
    help="gitignore-style pattern to skip in directory walks; repeatable.",
)
@click.option(
    "--force-exclude/--no-force-exclude",
    default=None,
    help="Apply exclude patterns to files named on the command line too "
    "(default: on under pre-commit, which names every staged file).",
)
@click.option(
    "--follow-links",
    is_flag=True,
    help="Follow directory symlinks that lead outside the directories given "
    "(by default they are skipped).",
)
@click.option(
    "--respect-gitignore/--no-respect-gitignore",
    default=True,
    help="Skip what .gitignore ignores when walking directories (default: on).",
)
@click.option("--kube-version", default=None, help="Target cluster version (default 1.30).")
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: as many as the input repays and idle CPUs run; "
    "1 = in-process).",
)
@click.option(
    "--color",
    "color_choice",
    type=click.Choice(["auto", "always", "never"]),
    default=None,
    help="Colour the text report: auto (default: on a terminal, unless NO_COLOR; "
    "FORCE_COLOR forces it), always or never.",
)
@click.option("--no-color", is_flag=True, help="Never colour the output (--color never).")
@click.option("-q", "--quiet", is_flag=True, help="Findings only: no source lines, no summary.")
@click.option(
    "--namespace",
    metavar="NS",
    default=None,
    help="The namespace objects without one are applied to (helm template -n, "
    "kubectl apply -n): cross-object joins read it.",
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Also say on stderr which joins the rules expected and did not make "
    "(a collector config no pod mounts, a mounted ConfigMap not in the linted files).",
)
@click.option(
    "--no-plugins", is_flag=True, help="Load only the built-in rules (untrusted branches)."
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False),
    default=None,
    help="Report only findings that are not in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Record every current finding in this baseline file (the run then exits 0).",
)
@click.option(
    "--prune-baseline",
    is_flag=True,
    help="With --baseline: drop the entries that match no finding any more from the file.",
)
@click.option(
    "--sarif-root",
    type=click.Path(file_okay=False),
    default=None,
    help="SARIF file URIs are relative to DIR (default: the working directory); "
    "files outside it get absolute file: URIs.",
)
@click.option("--show-files", is_flag=True, help="List the files that would be linted, and exit.")
@click.option(
    "--show-settings",
    is_flag=True,
    help="Show the configuration file in use and the effective settings, and exit.",
)
@click.option(
    "--report-unused-ignores",
    is_flag=True,
    help="Report ignore comments and annotations that suppress nothing (M100, a warning).",
)
@click.option(
    "--stdin-filename",
    metavar="NAME",
    default=None,
    help="The name that findings in stdin (-) carry, as in ruff and prettier.",
)
@click.option(
    "--chart-dir",
    "chart_dirs",
    multiple=True,
    type=click.Path(file_okay=False),
    help="A Helm chart directory (holding Chart.yaml) whose rendered output is linted: "
    "findings move to its template files. Repeatable. For stdin, a '# Source:' path "
    "that names a file under the working directory is found without it.",
)
@click.option(
    "--values",
    "values_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="A values file that chart directories render with (as helm template --values); "
    "repeatable, layered in order. With --values or --set, charts render in that one "
    "scenario instead of their ci/*-values.yaml files.",
)
@click.option(
    "--set",
    "set_values",
    multiple=True,
    metavar="KEY=VALUE",
    help="A value for rendering chart directories (as helm template --set); repeatable.",
)
@click.option(
    "--no-render",
    is_flag=True,
    help="Do not render Helm chart directories (their templates are skipped, as without Helm).",
)
@click.option("--fix", is_flag=True, help="Apply the safe fixes, in place.")
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="Apply the unsafe fixes too with --fix (they change behaviour you may have chosen); "
    "without --fix, mark them fixable.",
)
@click.option(
    "--diff", is_flag=True, help="Print a unified diff of what --fix would change; write nothing."
)
@click.option("--fix-only", is_flag=True, help="Apply fixes; do not report the findings left.")
@_guard
def check(
    paths: tuple[str, ...],
    formats: tuple[str, ...],
    outputs: tuple[str, ...],
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    fail_on: str | None,
    config_path: str | None,
    isolated: bool,
    exclude: tuple[str, ...],
    follow_links: bool,
    kube_version: str | None,
    statistics: bool,
    jobs: int | None,
    no_color: bool,
    quiet: bool,
    namespace: str | None,
    verbose: bool,
    no_plugins: bool,
    baseline: str | None,
    write_baseline: str | None,
    report_unused_ignores: bool,
    stdin_filename: str | None,
    chart_dirs: tuple[str, ...],
    force_exclude: bool | None,
    respect_gitignore: bool,
    color_choice: str | None,
    prune_baseline: bool,
    sarif_root: str | None,
    show_files: bool,
    show_settings: bool,
    values_files: tuple[str, ...],
    set_values: tuple[str, ...],
    no_render: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    fix_only: bool,
) -> None:
    """Lint files, directories (recursively) and stdin (-).

    PATHS defaults to the current directory (.). Directories are walked for
    *.yaml, *.yml and *.json, skipping hidden directories, what .gitignore
    ignores, and the config's exclude patterns.

    \b
    Exit codes:
      0  no finding at or above --fail-on
      1  findings at or above --fail-on
      2  usage, configuration, plugin or read error
      130  interrupted (Ctrl-C)
    """
    targets = _targets(formats, outputs)
    if statistics and not formats:  # counts are text, even where github was the default
        targets = [("text", output) for _, output in targets]
    counted = {name for name, _ in targets} - STATISTICS_FORMATS
    if statistics and counted:
        raise click.UsageError(
            f"--statistics counts findings in text or json; {', '.join(sorted(counted))} "
            "reports list every finding"
        )
    from meshlint.api import Settings, lint_paths
    from meshlint.core import baseline as baselines
    from meshlint.core.fsguard import WriteRefused
    from meshlint.output import Options, renderer
    from meshlint.output.terminal import use_color, width

    if prune_baseline and not baseline:
        raise click.UsageError("--prune-baseline needs --baseline FILE")
    settings = Settings(
        config_path=config_path,
        isolated=isolated,
        select=_split(select),
        extend_select=_split(extend_select),
        ignore=_split(ignore),
        fail_on=fail_on,
        kube_version=kube_version,
        exclude=exclude,
        follow_links=follow_links,
        no_plugins=no_plugins,
        report_unused_ignores=report_unused_ignores,
        stdin_filename=stdin_filename,
        chart_dirs=chart_dirs,
        render_charts=not no_render,
        values=values_files,
        sets=set_values,
        respect_gitignore=respect_gitignore,
        namespace=namespace or None,
        # pre-commit names every staged file: the config's excludes must hold for them
        force_exclude=os.environ.get("PRE_COMMIT") == "1"
        if force_exclude is None
        else force_exclude,
    )
    if show_settings or show_files:
        _show(paths, settings, show_settings=show_settings, show_files=show_files)
        return

    def options_for(name: str, output: str | None) -> Options:
        to_terminal = output is None and sys.stdout is not None and sys.stdout.isatty()
        return Options(
            rules={},
            color=use_color(color_choice, no_color, to_terminal),
            quiet=quiet,
            statistics=statistics,
            fail_on=None,
            sarif_root=sarif_root,
            width=width(sys.stdout, to_terminal) if name == "text" else None,
        )

    list_resources = any(name == "junit" for name, _ in targets)
    workers = jobs  # None: as many as the input repays and idle CPUs run (core.cpus)
    fixing = fix or diff or fix_only
    stream = None
    if (
        not fixing
        and len(targets) == 1
        and targets[0] == ("text", None)
        and not statistics
        and not write_baseline
        and sys.stdout is not None
        and sys.stdout.isatty()
    ):
        from meshlint.output.stream import Stream

        try:
            accepted = baselines.acceptor(Path(baseline)) if baseline else lambda f: False
        except baselines.BaselineError as exc:
            raise Failure(str(exc)) from exc
        shown = replace(options_for("text", None), unsafe_fixes=unsafe_fixes)
        stream = Stream(shown, _stream_write, accepted)
    # the files this run will write: never an input, never behind a link out
    reports = [output for _, output in targets if output]
    if write_baseline:
        reports.append(write_baseline)
    if fixing:
        # fixes edit the files as linted: findings stay on them (no Helm relocation)
        run = _fix(paths, settings, workers, list_resources, unsafe_fixes, diff, fix_only, reports)
    else:
        run = lint_paths(
            paths,
            settings,
            jobs=workers,
            list_resources=list_resources,
            progress=lambda total: None if quiet else _progress(total),
            on_file=stream.add if stream is not None else None,
            reports=reports,
        )
    report, config, rules = run.report, run.config, run.rules
    for warning in run.warnings:
        _say(f"meshlint: warning: {warning}")
    if not run.inputs and not report.errors:
        # a clean report over nothing would read as success
        where = ", ".join(paths or (".",))
        if paths and all(os.path.isfile(p) for p in paths):
            _say(
                f"meshlint: warning: nothing to lint: {where} excluded by the configuration "
                "(--force-exclude)"
            )
        else:
            _say(f"meshlint: warning: no *.yaml, *.yml or *.json files in {where}")

    if write_baseline:
        try:
            baselines.write(report.findings, Path(write_baseline))
        except WriteRefused as exc:
            raise Failure(str(exc)) from exc
        except OSError as exc:
            raise Failure(f"{write_baseline}: cannot write: {exc.strerror or exc}") from exc
        entries = baselines.entries(report.findings, Path(write_baseline))
        _say(
            f"meshlint: wrote {entries} {'entry' if entries == 1 else 'entries'} "
            f"({len(report.findings)} findings) to {write_baseline}"
        )
        if not formats and not outputs:
            targets = []  # the findings are in the baseline now; the report is asked for
    if baseline:
        _baseline(
            report, run.names, [a.rule.id for a in _plan(config, rules)], baseline, prune_baseline
        )
        try:
            report = baselines.apply(report, Path(baseline))
        except baselines.BaselineError as exc:
            raise Failure(str(exc)) from exc

    for name, output in targets:
        options = replace(
            options_for(name, output),
            rules=rules,
            fail_on=config.fail_on,
            unsafe_fixes=unsafe_fixes,
        )
        text = stream.finish(report) if stream else renderer(name)(report, options)
        if output:
            _write_file(output, text)
        else:
            _emit(text)  # raw: the colour was decided above
    if verbose:
        for note in report.unjoined:
            _say(f"meshlint: note: {note}")
    for error in report.errors:
        _say(f"meshlint: error: {error}")
    if report.errors:
        sys.exit(EXIT_ERROR)
    if write_baseline:
        # Recording a baseline accepts what was found: the run succeeds.
        sys.exit(EXIT_CLEAN)
    threshold = config.fail_on
    failed = threshold is not None and any(f.severity >= threshold for f in report.findings)
    sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


def _write_file(path: str, text: str) -> None:
    """A report, written atomically (see meshlint.core.fsguard)."""
    from meshlint.core.fsguard import WriteRefused, write_atomically

    try:
        write_atomically(path, text)
    except WriteRefused as exc:
        raise Failure(str(exc)) from exc
    except OSError as exc:
        raise Failure(f"{path}: cannot write: {exc.strerror or exc}") from exc


def _say(text: str) -> None:
    """One line on stderr. Everything meshlint prints besides a report goes through
    here or ``_emit``, and through ``meshlint.output.escape``: what a line quotes
    from input (a file name, a baseline entry) cannot start a line of its own,
    carry a terminal escape or read as a CI runner's command."""
    from meshlint.output.escape import message

    click.echo(message(text), err=True)


def _emit(text: str) -> None:
    """Write to stdout. A reader that went away (``| head``) ends the output quietly
    and the run keeps its exit code; any other failure is an error, not a crash."""
    stream = sys.stdout
    if stream is None:  # started with stdout closed
        raise Failure("cannot write the report: stdout is closed")
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        _silence_stdout()
    except OSError as exc:
        _silence_stdout()
        raise Failure(f"cannot write the report to stdout: {exc.strerror or exc}") from exc


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _stream_write(text: str) -> None:
    if sys.stderr.isatty():
        sys.stderr.write("\r\x1b[K")  # the progress counter's line, if any
        sys.stderr.flush()
    sys.stdout.write(text)
    sys.stdout.flush()


def _plan(config: Any, rules: Any) -> Any:
    from meshlint.core.plan import Plan

    return Plan.build(rules, config).rules


def _baseline(report: Any, names: list[str], ran: list[str], baseline: str, prune: bool) -> None:
    """Say which baseline entries match no finding any more; drop them with ``prune``."""
    from meshlint.core import baseline as baselines
    from meshlint.core.files import Refused
    from meshlint.core.fsguard import WriteRefused

    path = Path(baseline)
    try:
        stale = baselines.in_scope(baselines.unmatched(report.findings, path), path, names, ran)
    except baselines.BaselineError as exc:
        raise Failure(str(exc)) from exc
    total = sum(stale.values())
    if not total:
        return
    noun = "entry matches" if total == 1 else "entries match"
    if prune:
        try:
            dropped = baselines.prune(path, stale)
        except WriteRefused as exc:
            raise Failure(str(exc)) from exc
        except Refused as exc:  # it was read a moment ago
            raise Failure(f"{baseline}: cannot read baseline: {exc}") from exc
        except OSError as exc:
            raise Failure(f"{baseline}: cannot write: {exc.strerror or exc}") from exc
        _say(f"meshlint: removed {dropped} stale baseline entries from {baseline}")
        return
    _say(
        f"meshlint: warning: {total} baseline {noun} no finding any more (fixed?): "
        f"remove {'it' if total == 1 else 'them'} with --prune-baseline"
    )
    for rule, file, resource, json_path in sorted(stale):
        # every part is the baseline file's, which a pull request may carry
        _say(f"  {file}: {rule} {resource} {json_path}")


def _show(paths: tuple[str, ...], settings: Any, *, show_settings: bool, show_files: bool) -> None:
    from meshlint.api import find_inputs, lint_paths, load_settings
    from meshlint.core.charts import find_renderer
    from meshlint.output.escape import lines
    from meshlint.output.show import facts_listing, files_listing, settings_listing

    config, rules = load_settings(settings)
    if show_settings:
        _emit(lines(settings_listing(config, rules, settings)))
        # what runs: read from the files, so the files are read (nothing is reported)
        _emit(lines(facts_listing(lint_paths(paths, settings).report.clusters)))
    if show_files:
        render = settings.render_charts and find_renderer() is not None
        _emit(lines(files_listing(find_inputs(paths, settings, config, render=render))))


def _fix(
    paths: tuple[str, ...],
    settings: Any,
    jobs: int | None,
    list_resources: bool,
    unsafe: bool,
    diff: bool,
    fix_only: bool,
    reports: list[str],
) -> Any:
    """Run with fixes: write them (or with ``diff`` print them, and exit); the run
    whose findings are left, unless ``fix_only`` exits here too."""
    from meshlint.api import fix_paths
    from meshlint.core.fixing import diff as unified_diff
    from meshlint.output.escape import lines, visible

    done = fix_paths(
        paths,
        settings,
        unsafe=unsafe,
        write=not diff,
        jobs=jobs,
        list_resources=list_resources,
        reports=reports,
    )
    for note in done.notes:
        _say(f"meshlint: warning: {note}")
    count = sum(done.fixed.values())
    errors = done.run.report.errors
    if diff or fix_only:
        if diff:
            for change in done.files:
                name = visible(change.name)
                _emit(lines(unified_diff(name, change.before, change.after)))
        noun = "finding" if count == 1 else "findings"
        verb = "Would fix" if diff else "Fixed"
        _say(f"{verb} {count} {noun} in {len(done.files)} files.")
        for error in errors:
            _say(f"meshlint: error: {error}")
        if errors:
            sys.exit(EXIT_ERROR)
        sys.exit(EXIT_FINDINGS if diff and done.files else EXIT_CLEAN)
    done.run.report.fixed = count
    return done.run


@main.command("rules")
@click.option(
    "--format",
    "format_",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    help="text (default), json, or the README's markdown table.",
)
@click.option("--no-plugins", is_flag=True, help="List only the built-in rules.")
@_guard
def rules_command(format_: str, no_plugins: bool) -> None:
    """List every rule: id, slug, severity, enabled, summary."""
    from meshlint.api import load_rules
    from meshlint.core.config import Config, find_config, load_config, severity_override
    from meshlint.core.plan import Plan

    found = find_config(Path.cwd())
    config = load_config(found) if found else Config()
    rules = load_rules(config, no_plugins=no_plugins)
    plan = {a.rule.id: a for a in Plan.build(rules, config).rules}

    def severity(rule: Rule) -> str:
        """As the config sets it for this project, where it does."""
        active = plan.get(rule.id)
        override = severity_override(config, rule)
        return str(active.severity if active else override or rule.severity)

    if format_ == "json":
        rows = [
            {
                "id": r.id,
                "slug": r.slug,
                "severity": severity(r),
                "enabled": r.id in plan,
                "summary": r.summary,
                "parameters": {p.name: p.default for p in r.params},
            }
            for r in rules.values()
        ]
        _emit(json.dumps(rows, indent=2) + "\n")
    elif format_ == "markdown":
        _emit(markdown_table(rules.values()) + "\n")
    else:
        lines = [f"  {'ID':<6} {'SLUG':<36} {'SEVERITY':<8} SUMMARY"]
        for r in rules.values():
            mark = " " if r.id in plan else "-"
            lines.append(f"{mark} {r.id:<6} {r.slug:<36} {severity(r):<8} {r.summary}")
        lines.append(
            "\n- before an id: not enabled by this project's selection (select/ignore in "
            ".meshlint.yaml). Severities are as the configuration sets them."
        )
        _emit("\n".join(lines) + "\n")


def markdown_table(rules: Any) -> str:
    lines = ["| id | slug | severity | what it flags |", "|---|---|---|---|"]
    for r in rules:
        lines.append(f"| {r.id} | `{r.slug}` | {r.severity} | {r.summary} |")
    return "\n".join(lines)


@main.command()
@click.argument("rule_ids", metavar="RULE...", nargs=-1, required=True)
@_guard
def explain(rule_ids: tuple[str, ...]) -> None:
    """Show rules' documentation (by id, slug, prefix such as J, or ALL; several at
    once), plugins' rules included."""
    from meshlint.api import find_rules, load_rules
    from meshlint.core.config import find_config, load_config

    config = load_config(found) if (found := find_config(Path.cwd())) else None
    rules = load_rules(config)
    wanted = [rule for key in _split(rule_ids) for rule in find_rules(rules, key)]
    _emit("\n\n".join(explain_text(rule) for rule in dict.fromkeys(wanted)) + "\n")


def explain_text(rule: Rule) -> str:
    from meshlint.output import rule_doc

    return rule_doc(rule)


@main.command()
@_guard
def server() -> None:
    """Run the language server over stdio, for editors (see docs/editors.md).

    Diagnostics as you type, quick fixes, ignore comments and rule documentation
    on hover, with the configuration `check` finds from the workspace root.
    Needs the `server` extra: pip install 'meshlint[server]'.
    """
    from meshlint.server import MissingExtra, serve

    gc.enable()  # a long-lived process: each edit's cycles must be collected (see run)
    try:
        serve()
    except MissingExtra as exc:
        raise Failure(str(exc)) from exc


STARTER = """\
# meshlint configuration. Every key is optional; `meshlint rules` lists the rules
# and `meshlint explain ID` documents one.

# Rules to run: ids (J001), slugs (jaeger-queue-exceeds-memory), prefixes (J, I0) or ALL.
select: [ALL]
# Rules to skip.
ignore: []
# Lowest severity that makes `meshlint check` exit 1: error, warning, info or never.
fail-on: warning
# The cluster version that version-dependent rules (K003) assume. Quote it.
kube-version: "1.30"
# gitignore-style patterns, relative to this file. Helm chart directories are
# rendered with Helm where it is installed (docs/charts.md), and their templates
# skipped where it is not; a vendored subchart is left out like any directory.
exclude: []
#   - "charts/*/charts/**"
# Per-rule severity.
severity: {}
#   K003: warning      # raise MemoryQoS throttling where the kubelet gate is on
# Per-rule parameters; unknown keys are errors.
rules: {}
#   J001: {span-size-bytes: 1024, span-overhead-bytes: 4096, baseline-mib: 64}
#   I002: {max-sampling-percent: 10}
# Rules ignored in some files.
per-file-ignores: {}
#   "legacy/**": [K001, K002]
# Files that form one cluster for cross-object rules (joins stay inside a scope:
# a kustomization, a Helm render's directory, a top-level directory by default).
scopes: {}
#   prod: ["base/**", "overlays/prod/**"]
# Extra plugin modules to load besides installed entry points.
plugins: []
"""


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing .meshlint.yaml.")
@_guard
def init(force: bool) -> None:
    """Write a commented starter .meshlint.yaml in the current directory."""
    target = Path(".meshlint.yaml")
    if target.exists() and not force:
        raise Failure(f"{target} exists; use --force to overwrite it")
    _write_file(str(target), STARTER)
    _emit(f"wrote {target}\n")


if __name__ == "__main__":  # pragma: no cover
    main()
