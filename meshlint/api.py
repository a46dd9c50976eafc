"""meshlint as a library: lint paths or a text with the same settings the CLI
layers (config file, then the command line's selection), and get a ``Report``.

``cli`` is click wiring over these functions; nothing here prints or exits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from meshlint.core.config import (
    Config,
    Selection,
    check_selectors,
    find_config,
    load_config,
    parse_fail_on,
    parse_kube_version,
    rule_for,
    unused_ignore_selection,
    validate_against_rules,
)
from meshlint.core.engine import lint
from meshlint.core.inputs import discover
from meshlint.core.model import Rule
from meshlint.core.plan import Plan
from meshlint.core.plugins import collect_rules, plugin_manager
from meshlint.core.report import Input, Report

__all__ = ["Settings", "UsageError", "find_rule", "lint_paths", "lint_text", "load_settings"]


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
            raise UsageError(f"{option}: unknown rule {bad!r}")
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
    pm = plugin_manager(builtin_only=no_plugins, modules=modules, errors=errors)
    return collect_rules(pm, errors)


def find_rule(rules: Mapping[str, Rule], key: str) -> Rule:
    """A rule by id or slug, in any case."""
    rule = rule_for(key, rules) or rule_for(key.upper(), rules) or rule_for(key.lower(), rules)
    if rule is None:
        raise UsageError(f"unknown rule {key!r}; `meshlint rules` lists them")
    return rule


Progress = Callable[[int, int], None]


@dataclass
class PathsRun:
    """A run over paths: the report, and what it ran with."""

    report: Report
    config: Config
    rules: Mapping[str, Rule]
    inputs: int  # how many files were found to lint


def lint_paths(
    paths: Sequence[str],
    settings: Settings = Settings(),
    *,
    jobs: int | None = 1,  # None: as many workers as the input repays (core.cpus)
    list_resources: bool = False,
    progress: Callable[[int], Progress | None] = lambda total: None,
) -> PathsRun:
    """Lint files, directories (recursively) and ``-`` (stdin); a plugin that
    fails to load is an error of the run, and every other rule still runs."""
    plugin_errors: list[str] = []
    config, rules = load_settings(settings, plugin_errors)
    found = discover(
        paths or (".",), config.exclude, config.root, config.scopes, settings.follow_links
    )
    inputs = found.take()
    plan = Plan.build(rules, config, list_resources=list_resources)
    report = lint(inputs, plan, jobs, progress(len(inputs)))
    report.errors[:0] = [*plugin_errors, *found.errors]
    return PathsRun(report, config, rules, len(inputs))


def lint_text(
    text: str | bytes, name: str = "-", settings: Settings = Settings(isolated=True)
) -> Report:
    """Lint one YAML/JSON stream held in memory, shown as ``name`` in findings."""
    config, rules = load_settings(settings)
    plan = Plan.build(rules, config)
    data = text.encode() if isinstance(text, str) else text
    return lint([Input(name=name, data=data, rel=name)], plan)
