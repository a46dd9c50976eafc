"""Build the plugin manager and collect rules. No module-level state.

Built-in rules arrive through the package's own ``meshlint`` entry point
(``builtin = meshlint.rules``), the same door a third-party plugin uses. Code
runs only from installed entry points and from modules named in the config's
``plugins`` list; ``--no-plugins`` keeps only the built-in entry point.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import Iterable
from importlib.metadata import entry_points

import pluggy

from meshlint.core import emitted, hookspecs
from meshlint.core.model.values import Rule, Severity

ID_PATTERN = re.compile(r"^[A-Z]{1,4}[0-9]{3}$")
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
BUILTIN = "builtin"
CORE = "meshlint.core"  # the rules the engine emits itself, always registered


class PluginError(Exception):
    """A plugin failed to load or declared an invalid or clashing rule."""


def plugin_manager(
    *,
    entry_points_: bool = True,
    builtin_only: bool = False,
    modules: Iterable[str] = (),
    plugins: Iterable[object] = (),
) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("meshlint")
    pm.add_hookspecs(hookspecs)
    pm.register(emitted, name=CORE)
    if entry_points_:
        for ep in entry_points(group="meshlint"):
            if builtin_only and ep.name != BUILTIN:
                continue
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin names itself, no traceback
                raise PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
    for module in modules:
        pm.register(_import_installed(module), name=module)
    for plugin in plugins:
        pm.register(plugin)
    pm.check_pending()
    return pm


def _import_installed(module: str) -> object:
    """Import a plugin named in config from the installed packages only.

    A config file in a pull request must not be a way to run code from the
    working tree: the current directory is taken off ``sys.path`` for the import
    (``python -m meshlint`` would otherwise put it first).
    """
    cwd = os.getcwd()
    saved = sys.path[:]
    sys.path[:] = [p for p in sys.path if p not in ("", ".", cwd)]
    try:
        return importlib.import_module(module)
    except Exception as exc:
        raise PluginError(f"plugin module {module!r} failed to import: {exc}") from exc
    finally:
        sys.path[:] = saved


def collect_rules(pm: pluggy.PluginManager) -> dict[str, Rule]:
    """Every rule by id; ids and slugs must be well formed and unique across plugins."""
    rules: dict[str, Rule] = {}
    owners: dict[str, str] = {}
    for impl in pm.hook.meshlint_rules.get_hookimpls():
        owner = pm.get_name(impl.plugin) or repr(impl.plugin)
        provided: Iterable[object] = impl.function()  # type: ignore[assignment]
        for item in provided:
            rule = validate_rule(item, owner)
            for other in rules.values():
                if rule.id == other.id or rule.slug == other.slug:
                    raise PluginError(
                        f"rule {rule.id} ({rule.slug}) of plugin {owner!r} clashes with "
                        f"{other.id} ({other.slug}) of plugin {owners[other.id]!r}"
                    )
            rules[rule.id] = rule
            owners[rule.id] = owner
    return rules  # in plugin order: built-ins first, each pack in catalogue order


def validate_rule(rule: object, owner: str) -> Rule:
    if not isinstance(rule, Rule):
        raise PluginError(f"plugin {owner!r} returned {rule!r}, not a meshlint.Rule")
    if not ID_PATTERN.match(rule.id):
        raise PluginError(f"plugin {owner!r}: rule id {rule.id!r} is not like 'ABC123'")
    if not SLUG_PATTERN.match(rule.slug):
        raise PluginError(f"plugin {owner!r}: rule slug {rule.slug!r} is not kebab-case")
    if not isinstance(rule.severity, Severity):
        raise PluginError(f"plugin {owner!r}: rule {rule.id} has no Severity")
    return rule
