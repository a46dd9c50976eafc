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
from typing import Any

import pluggy

from meshlint.core import emitted, hookspecs
from meshlint.core.model import Rule, Severity

ID_PATTERN = re.compile(r"^[A-Z]{1,4}[0-9]{3}$")
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
BUILTIN = "builtin"
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
    if entry_points_:
        for ep in entry_points(group="meshlint"):
            if builtin_only and ep.name != BUILTIN:
                continue
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                pm.register(ep.load(), name=ep.name)
            except Exception as exc:  # a broken plugin names itself, no traceback
                error = PluginError(f"plugin {ep.name!r} ({ep.value}) failed to load: {exc}")
                _fail(error, errors)
    for module in modules:
        try:
            pm.register(_import_installed(module), name=module)
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
