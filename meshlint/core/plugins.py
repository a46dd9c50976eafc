"""Build the plugin manager and collect rules. No module-level state.

Built-in rules arrive through the package's own ``meshlint`` entry point
(``builtin = meshlint.rules``), the same door a third-party plugin uses. Code
runs only from installed entry points and from modules named in the config's
``plugins`` list, and never from the working directory: ``python -m meshlint``
puts it first on ``sys.path``, where a committed ``*.dist-info`` directory
would declare entry points and a committed module would shadow an installed
one. ``--no-plugins`` reads no entry point at all and imports the built-in
rules (``meshlint.rules``, part of this package) directly.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from importlib.machinery import ModuleSpec, PathFinder
from importlib.metadata import EntryPoint, distributions
from typing import Any

import pluggy

from meshlint.core import emitted, hookspecs
from meshlint.core.model import Rule, Severity

ID_PATTERN = re.compile(r"^[A-Z]{1,4}[0-9]{3}$")
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
BUILTIN = "builtin"
BUILTIN_MODULE = "meshlint.rules"
GROUP = "meshlint"
HOOK = "meshlint_rules"
CORE = "meshlint.core"  # the rules the engine emits itself, always registered
BUILTIN_MODULES = frozenset({"meshlint.rules", "meshlint.core.emitted"})
# Built-in packs own these id prefixes: core (M), Kubernetes, Jaeger, Istio, OTel.
RESERVED_PREFIXES = frozenset({"M", "K", "J", "I", "O"})
REQUIRED_HEADINGS = ("## What it does", "## Why is this bad?")


class PluginError(Exception):
    """A plugin failed to load or declared an invalid or clashing rule."""


def plugin_manager(
    *,
    entry_points_: bool = True,
    builtin_only: bool = False,
    modules: Iterable[str] = (),
    plugins: Iterable[object] = (),
    errors: list[str] | None = None,
) -> pluggy.PluginManager:
    """The engine's rules, installed entry points, then ``modules`` and ``plugins``.

    With ``errors``, a plugin that fails to load is one line there and the others
    still load; without it, the first failure raises PluginError.
    """
    pm = pluggy.PluginManager("meshlint")
    pm.add_hookspecs(hookspecs)
    pm.register(emitted, name=CORE)
    if builtin_only:
        # no metadata is read: whatever the working directory holds, only this
        # package's own rules load
        pm.register(importlib.import_module(BUILTIN_MODULE), name=BUILTIN)
    elif entry_points_:
        for ep in installed_entry_points():
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin names itself, no traceback
                error = PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}")
                _fail(error, errors)
    for module in modules:
        try:
            plugin = _import_installed(module)
            if pm.is_registered(plugin):  # twice in the list, or the built-in rules
                raise PluginError(
                    f"plugin module {module!r} is already loaded as plugin "
                    f"{pm.get_name(plugin)!r}: remove it from plugins"
                )
            pm.register(plugin, name=module)
        except PluginError as exc:
            _fail(exc, errors)
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


def _fail(error: PluginError, errors: list[str] | None) -> None:
    if errors is None:
        raise error
    errors.append(str(error))


def _installed_path() -> list[str]:
    """``sys.path`` without the working directory (``''``, ``.`` or its full path)."""
    cwd = os.getcwd()
    return [p for p in sys.path if p not in ("", ".") and os.path.abspath(p) != cwd]


@contextmanager
def _without_working_directory() -> Iterator[None]:
    saved = sys.path[:]
    sys.path[:] = _installed_path()
    try:
        yield
    finally:
        sys.path[:] = saved


def installed_entry_points() -> list[EntryPoint]:
    """The ``meshlint`` entry points of installed distributions, the built-in first.

    Distributions are searched on ``sys.path`` without the working directory,
    and only meshlint itself may provide the ``builtin`` name.
    """
    found: list[EntryPoint] = []
    for dist in distributions(path=_installed_path()):
        ours = [ep for ep in dist.entry_points if ep.group == GROUP]
        if not ours:
            continue  # most distributions: their metadata is not even parsed
        name = (dist.metadata["Name"] or "").lower() if dist.metadata else ""
        for ep in ours:
            if ep.name == BUILTIN and (name != "meshlint" or ep.value != BUILTIN_MODULE):
                continue
            found.append(ep)
    found.sort(key=lambda ep: ep.name != BUILTIN)  # stable: the rest keep their order
    return found


def _declared(module: str) -> bool:
    """Whether an installed distribution declares ``module`` as a meshlint plugin."""
    return any(ep.module == module for ep in installed_entry_points())


def _find_spec(module: str) -> ModuleSpec | None:
    """Where ``module`` would be imported from, without importing it or its parents."""
    parts = module.split(".")
    with _without_working_directory():
        spec = importlib.util.find_spec(parts[0])
    for part in parts[1:]:
        locations = spec.submodule_search_locations if spec is not None else None
        if not locations:
            return None
        spec = PathFinder.find_spec(part, list(locations))
    return spec


def _provides_hook(spec: ModuleSpec | None) -> bool:
    """The module's source binds ``meshlint_rules`` at top level (read, not run)."""
    origin = spec.origin if spec is not None else None
    if not origin or not origin.endswith(".py"):
        return False
    try:
        with open(origin, "rb") as handle:
            tree = ast.parse(handle.read(), origin)
    except (OSError, SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == HOOK:
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (alias.asname or alias.name) == HOOK for alias in node.names
        ):
            return True
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == HOOK for t in node.targets
        ):
            return True
    return False


def _import_installed(module: str) -> object:
    """Import a plugin named in config: an installed module that is a plugin.

    A config file in a pull request must not be a way to run code: the module
    must be declared as a ``meshlint`` entry point by an installed distribution,
    or its source must define ``meshlint_rules``, and both are checked before
    anything is imported. The working directory is never searched.
    """
    if not _declared(module):
        spec = _find_spec(module)
        if spec is None:
            raise PluginError(
                f"plugin module {module!r} failed to import: no installed module has that "
                "name (the working directory is never searched)"
            )
        if not _provides_hook(spec):
            raise PluginError(
                f"plugin module {module!r} is not a meshlint plugin (no {HOOK} hook and "
                "no meshlint entry point); not imported"
            )
    with _without_working_directory():
        try:
            loaded = importlib.import_module(module)
        except Exception as exc:
            raise PluginError(f"plugin module {module!r} failed to import: {exc}") from exc
    if not callable(getattr(loaded, HOOK, None)):
        raise PluginError(f"plugin module {module!r} has no {HOOK} hook")
    return loaded


def collect_rules(pm: pluggy.PluginManager, errors: list[str] | None = None) -> dict[str, Rule]:
    """Every rule by id; ids and slugs must be well formed and unique across plugins.

    With ``errors``, a plugin whose hook fails or that declares an invalid or
    clashing rule is one line there and contributes no rule; the others load.
    """
    rules: dict[str, Rule] = {}
    owners: dict[str, str] = {}
    for impl in pm.hook.meshlint_rules.get_hookimpls():
        owner = pm.get_name(impl.plugin) or repr(impl.plugin)
        try:
            builtin = getattr(impl.plugin, "__name__", "") in BUILTIN_MODULES
            provided = _validated(impl.function(), owner, rules, owners, builtin=builtin)
        except PluginError as exc:
            _fail(exc, errors)
            continue
        except Exception as exc:
            _fail(PluginError(f"plugin {owner!r}: meshlint_rules() failed: {exc}"), errors)
            continue
        for rule in provided:
            rules[rule.id] = rule
            owners[rule.id] = owner
    return rules  # in plugin order: the engine's, built-ins, each pack in catalogue order


def _validated(
    provided: Any, owner: str, rules: dict[str, Rule], owners: dict[str, str], *, builtin: bool
) -> list[Rule]:
    found: list[Rule] = []
    for item in provided:
        rule = validate_rule(item, owner, builtin=builtin)
        for other in (*rules.values(), *found):
            if rule.id == other.id or rule.slug == other.slug:
                raise PluginError(
                    f"rule {rule.id} ({rule.slug}) of plugin {owner!r} clashes with "
                    f"{other.id} ({other.slug}) of plugin {owners.get(other.id, owner)!r}"
                )
        found.append(rule)
    return found


def validate_rule(rule: object, owner: str, *, builtin: bool = False) -> Rule:
    if not isinstance(rule, Rule):
        raise PluginError(f"plugin {owner!r} returned {rule!r}, not a meshlint.Rule")
    if not ID_PATTERN.match(rule.id):
        raise PluginError(f"plugin {owner!r}: rule id {rule.id!r} is not like 'ABC123'")
    if not SLUG_PATTERN.match(rule.slug):
        raise PluginError(f"plugin {owner!r}: rule slug {rule.slug!r} is not kebab-case")
    if not isinstance(rule.severity, Severity):
        raise PluginError(f"plugin {owner!r}: rule {rule.id} has no Severity")
    if not builtin:
        prefix = rule.id.rstrip("0123456789")
        if prefix in RESERVED_PREFIXES:
            raise PluginError(
                f"plugin {owner!r}: rule id {rule.id!r} uses the built-in prefix {prefix!r}; "
                "choose a prefix of your own (ACME001)"
            )
        missing = [
            h for h in REQUIRED_HEADINGS if not re.search(f"^{re.escape(h)}$", rule.doc, re.M)
        ]
        if missing:
            raise PluginError(
                f"plugin {owner!r}: rule {rule.id} documentation lacks {', '.join(missing)} "
                "(`meshlint explain` and SARIF show it)"
            )
    return rule
