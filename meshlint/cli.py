"""Command line wiring (click). The one module that prints or exits.

Exit codes: 0 no finding at or above --fail-on; 1 at least one; 2 usage,
configuration, plugin or read error, or an internal error.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from meshlint.core.model import Rule
from meshlint.core.version import __version__

F = TypeVar("F", bound=Callable[..., Any])

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class Failure(Exception):
    """A one-line error for stderr, exit code 2."""


def _debug() -> bool:
    return os.environ.get("MESHLINT_DEBUG") == "1"


def _guard(func: F) -> F:
    """Turn every error into one line on stderr and exit 2 (tracebacks only in debug)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from meshlint.api import UsageError
        from meshlint.core.config import ConfigError
        from meshlint.core.plugins import PluginError

        try:
            return func(*args, **kwargs)
        except (Failure, UsageError, ConfigError, PluginError) as exc:
            click.echo(f"meshlint: error: {exc}", err=True)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            click.echo("meshlint: interrupted", err=True)
        except Exception as exc:
            if _debug():
                traceback.print_exc()
            detail = " ".join(str(exc).split())
            if len(detail) > 300:  # one line, even when an exception quotes a whole object
                detail = detail[:300] + "..."
            click.echo(
                f"meshlint: internal error: {type(exc).__name__}: {detail} "
                "(set MESHLINT_DEBUG=1 for a traceback)",
                err=True,
            )
        sys.exit(EXIT_ERROR)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper  # type: ignore[return-value]


PROGRESS_MIN_FILES = 1000
STATISTICS_FORMATS = frozenset({"text", "json"})


def _progress(total: int) -> Callable[[int, int], None] | None:
    """A files-done counter on stderr for long runs on a terminal, else nothing."""
    if total < PROGRESS_MIN_FILES or not sys.stderr.isatty():
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="meshlint")
def main() -> None:
    """Lint Kubernetes, Istio, Jaeger and OpenTelemetry manifests for the settings
    behind real outages."""


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
@click.option("--select", multiple=True, help="Rules to run: ids, slugs, prefixes (J, I0) or ALL.")
@click.option("--extend-select", multiple=True, help="Rules to add to the selection.")
@click.option("--ignore", multiple=True, help="Rules to skip: ids, slugs or prefixes.")
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
@click.option("--exclude", multiple=True, help="gitignore-style pattern to skip; repeatable.")
@click.option(
    "--follow-links",
    is_flag=True,
    help="Follow directory symlinks that lead outside the directories given "
    "(by default they are skipped).",
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
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@click.option("-q", "--quiet", is_flag=True, help="Findings only: no source lines, no summary.")
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
    "--report-unused-ignores",
    is_flag=True,
    help="Report ignore comments and annotations that suppress nothing (M100, a warning).",
)
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
    no_plugins: bool,
    baseline: str | None,
    write_baseline: str | None,
    report_unused_ignores: bool,
) -> None:
    """Lint files, directories (recursively) and stdin (-)."""
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
    from meshlint.output import Options, renderer

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
    )
    run = lint_paths(
        paths,
        settings,
        jobs=jobs,
        list_resources=any(name == "junit" for name, _ in targets),
        progress=lambda total: None if quiet else _progress(total),
    )
    report, config, rules = run.report, run.config, run.rules
    if not run.inputs and not report.errors:
        # a clean report over nothing would read as success
        where = ", ".join(paths or (".",))
        click.echo(f"meshlint: warning: no *.yaml, *.yml or *.json files in {where}", err=True)

    if write_baseline:
        from meshlint.core import baseline as baselines

        try:
            baselines.write(report.findings, Path(write_baseline))
        except OSError as exc:
            raise Failure(f"{write_baseline}: cannot write: {exc.strerror or exc}") from exc
    if baseline:
        from meshlint.core import baseline as baselines

        try:
            report = baselines.apply(report, Path(baseline))
        except baselines.BaselineError as exc:
            raise Failure(str(exc)) from exc

    for name, output in targets:
        to_terminal = output is None and sys.stdout.isatty()
        color = to_terminal and not no_color and "NO_COLOR" not in os.environ
        options = Options(
            rules=rules, color=color, quiet=quiet, statistics=statistics, fail_on=config.fail_on
        )
        text = renderer(name)(report, options)
        if output:
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise Failure(f"{output}: cannot write: {exc.strerror or exc}") from exc
        else:
            click.echo(text, nl=False)
    for error in report.errors:
        click.echo(f"meshlint: error: {error}", err=True)
    if report.errors:
        sys.exit(EXIT_ERROR)
    if write_baseline:
        # Recording a baseline accepts what was found: the run succeeds.
        sys.exit(EXIT_CLEAN)
    threshold = config.fail_on
    failed = threshold is not None and any(f.severity >= threshold for f in report.findings)
    sys.exit(EXIT_FINDINGS if failed else EXIT_CLEAN)


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
    from meshlint.core.config import Config, find_config, load_config
    from meshlint.core.plan import Plan

    found = find_config(Path.cwd())
    config = load_config(found) if found else Config()
    rules = load_rules(config, no_plugins=no_plugins)
    plan = {a.rule.id: a for a in Plan.build(rules, config).rules}

    def severity(rule: Rule) -> str:
        """As the config sets it for this project, where it does."""
        active = plan.get(rule.id)
        override = config.severity.get(rule.id) or config.severity.get(rule.slug)
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
        click.echo(json.dumps(rows, indent=2))
    elif format_ == "markdown":
        click.echo(markdown_table(rules.values()))
    else:
        for r in rules.values():
            mark = " " if r.id in plan else "-"
            click.echo(f"{mark} {r.id}  {r.slug:<36} {severity(r):<8} {r.summary}")


def markdown_table(rules: Any) -> str:
    lines = ["| id | slug | severity | what it flags |", "|---|---|---|---|"]
    for r in rules:
        lines.append(f"| {r.id} | `{r.slug}` | {r.severity} | {r.summary} |")
    return "\n".join(lines)


@main.command()
@click.argument("rule")
@_guard
def explain(rule: str) -> None:
    """Show a rule's documentation (by id or slug), plugins' rules included."""
    from meshlint.api import find_rule, load_rules
    from meshlint.core.config import find_config, load_config

    config = load_config(found) if (found := find_config(Path.cwd())) else None
    click.echo(explain_text(find_rule(load_rules(config), rule)))


def explain_text(rule: Rule) -> str:
    from meshlint.output import rule_doc

    return rule_doc(rule)


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
# gitignore-style patterns, relative to this file. Go-templated chart sources do
# not parse as YAML: lint `helm template` output instead.
exclude:
  - "charts/*/templates/**"
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
    target.write_text(STARTER, encoding="utf-8")
    click.echo(f"wrote {target}")


if __name__ == "__main__":  # pragma: no cover
    main()
