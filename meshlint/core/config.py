"""Configuration: ``.meshlint.yaml`` found upward from the working directory, else
``[tool.meshlint]`` in ``pyproject.toml``; validated by ``schemas/config.schema.json``
and then against the loaded rules. Every error names the file, line and column.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import Node

from meshlint.core.emitted import UNUSED_IGNORE
from meshlint.core.files import Refused, read_file
from meshlint.core.fsguard import file_link_leaves
from meshlint.core.globs import relative
from meshlint.core.loading import normalize_breaks
from meshlint.core.model import Fact, KeyPath, Rule, Severity
from meshlint.core.model.document import reader_message
from meshlint.core.model.facts import FEATURE_GATE, ISTIO, KUBE_VERSION, KUBELET
from meshlint.core.model.nodes import (
    MAX_DEPTH,
    TOO_DEEP,
    Converter,
    Loader,
    TooDeep,
    locate,
    stack_headroom,
    too_deep,
    too_deep_message,
)
from meshlint.core.model.values import brief

CONFIG_NAMES = (".meshlint.yaml", ".meshlint.yml")
# A config is written by hand; anything larger is refused before it is read.
MAX_CONFIG_BYTES = 2**20
_PREFIX = re.compile(r"^[A-Z]{1,4}[0-9]{0,3}$")
MESSAGE_LIMIT = 200


@dataclass(frozen=True)
class Selection:
    """One layer of rule selection laid over the config file's, as ruff layers them:
    a ``select`` starts again from nothing, ``extend_select`` and ``ignore`` change
    what the layers before chose."""

    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()


Locator = Callable[[KeyPath, bool], tuple[int, int]]  # (path, point at the key) -> line, column


class ConfigError(Exception):
    """A configuration problem, already formatted as ``file:line:col: message``."""


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ("ALL",)
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    fail_on: Severity | None = Severity.WARNING  # None: never fail
    kube_version: tuple[int, int] = (1, 30)
    kube_version_from: str = "default"  # where it was set: "--kube-version", "file:line"
    cluster: Mapping[str, Any] = field(default_factory=dict)  # the config's cluster: facts
    exclude: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    rules: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # name -> patterns: files that form one deployment for cross-object joins
    scopes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    plugins: tuple[str, ...] = ()
    # chart directory (relative to root) -> values, release, namespace, ci, default
    charts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    report_unused_ignores: bool = False
    # the namespace objects without one are applied to (check --namespace)
    namespace: str | None = None
    overrides: tuple[Selection, ...] = ()  # later layers (the command line)
    path: str | None = None  # the file it came from
    root: str = "."  # directory that relative patterns start from
    locate: Locator = field(default=lambda p, key=False: (1, 1), repr=False)

    def error(self, path: KeyPath, message: str, *, key: bool = False) -> ConfigError:
        line, column = self.locate(path, key)
        if len(message) > MESSAGE_LIMIT:  # a parameter's error quotes the value it got
            message = message[: MESSAGE_LIMIT - 3] + "..."
        return ConfigError(f"{self.path}:{line}:{column}: {message}")


def unused_ignore_selection(enabled: bool) -> tuple[str, ...]:
    """Asking for the unused-ignore report (a config key or a flag) selects M100."""
    return (UNUSED_IGNORE.id,) if enabled else ()


# "1.30", and versions as `kubectl version` prints them: "v1.30.2",
# "v1.30.2-eks-db838b0", "v1.31.0+k3s1". Only major.minor matters.
_KUBE_VERSION = re.compile(r"v?1\.([0-9]{1,3})(?:\.[0-9]+)?(?:[-+][0-9A-Za-z.+-]*)?")


def parse_kube_version(text: str) -> tuple[int, int]:
    match = _KUBE_VERSION.fullmatch(text.strip())
    if not match:
        raise ValueError(f'kube-version must look like "1.30" or "v1.30.2", not {text!r}')
    return 1, int(match.group(1))


def parse_fail_on(text: str) -> Severity | None:
    return None if text == "never" else Severity.parse(text)


def find_config(start: Path) -> Path | None:
    """The nearest .meshlint.yaml/.yml, else a pyproject.toml with [tool.meshlint]."""
    for directory in (start, *start.parents):
        for name in CONFIG_NAMES:
            # a FIFO, a directory or a link to a device under the config's name
            # is found too, and refused when read: never skipped in silence
            if os.path.lexists(directory / name):
                return directory / name
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and "[tool.meshlint" in _read(candidate):
            return candidate
    return None


def _read(path: Path) -> str:
    """The config's text: a regular file of at most MAX_CONFIG_BYTES, in UTF-8."""
    # a committed link to a secret would otherwise be read, and quoted in an error
    if file_link_leaves(str(path)):
        raise ConfigError(
            f"{path}:1:1: a symbolic link out of its directory and repository; not read"
        )
    try:
        return read_file(path, MAX_CONFIG_BYTES).decode("utf-8")
    except (Refused, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}:1:1: cannot read config: {exc}") from exc


def load_config(path: Path) -> Config:
    text = _read(path)
    with stack_headroom():
        if path.name == "pyproject.toml":
            data, where = _load_toml(path, text)
        else:
            data, where = _load_yaml(path, text)
        _validate_schema(path, data, where)
    return _build(data, str(path), str(path.parent), where)


def _compose(path: Path, text: str) -> Node | None:
    """The config's node tree; every YAML problem as a ConfigError with a position."""
    try:
        if (deep := too_deep(text)) is not None:
            raise TooDeep(deep)
        return yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = too_deep_message(exc.problem or "") or exc.problem
        raise ConfigError(f"{path}:{line}:{col}: invalid YAML: {problem}") from exc
    except yaml.reader.ReaderError as exc:  # a control character, found by offset
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - text.rfind("\n", 0, exc.position)
        raise ConfigError(f"{path}:{line}:{col}: invalid YAML: {reader_message(exc)}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}:1:1: invalid YAML: {reader_message(exc)}") from exc
    except TooDeep as exc:
        line, col = exc.mark.line + 1, exc.mark.column + 1
        raise ConfigError(f"{path}:{line}:{col}: invalid YAML: {exc}") from exc


def _load_yaml(path: Path, text: str) -> tuple[Any, Locator]:
    root = _compose(path, normalize_breaks(text))
    if root is None:
        return {}, lambda p, key=False: (1, 1)
    converter = Converter()  # the same alias budget as a manifest's
    try:  # load_config gives the stack its headroom
        data = converter.convert(root)
    except TooDeep as exc:
        line, col = exc.mark.line + 1, exc.mark.column + 1
        raise ConfigError(f"{path}:{line}:{col}: invalid YAML: {exc}") from exc
    if converter.duplicates:
        knode, _ = converter.duplicates[0]
        mark = knode.start_mark
        raise ConfigError(
            f"{path}:{mark.line + 1}:{mark.column + 1}: duplicate key {brief(knode.value)}"
        )

    def where(p: KeyPath, key: bool = False) -> tuple[int, int]:
        mark, _ = locate(root, p, key=key)
        return mark.line + 1, mark.column + 1

    return data, where


def _load_toml(path: Path, text: str) -> tuple[Any, Locator]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}:1:1: invalid TOML: {exc}") from exc
    except RecursionError as exc:  # the parser recurses once per level of nesting
        raise ConfigError(f"{path}:1:1: invalid TOML: {TOO_DEEP}") from exc
    tool = document.get("tool", {})
    if not isinstance(tool, dict):  # `tool = 5`: no [tool.meshlint] table at all
        tool = {}
    data = tool.get("meshlint", {})
    if _deeper_than(data, MAX_DEPTH):
        raise ConfigError(f"{path}:1:1: invalid TOML: {TOO_DEEP}")
    lines = text.splitlines()

    def where(p: KeyPath, key: bool = False) -> tuple[int, int]:
        """The line of the key in [tool.meshlint] (TOML parsers keep no positions)."""
        start = next((i for i, ln in enumerate(lines) if ln.strip() == "[tool.meshlint]"), 0)
        if p:
            assignment = re.compile(rf"^\s*\"?{re.escape(str(p[0]))}\"?\s*=")
            for i in range(start, len(lines)):
                if assignment.match(lines[i]):
                    return i + 1, len(lines[i]) - len(lines[i].lstrip()) + 1
        return start + 1, 1

    return data, where


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` levels (without recursing)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _validate_schema(path: Path, data: Any, where: Locator) -> None:
    import jsonschema  # only when a config exists: start-up is a budget

    schema = json.loads(
        resources.files("meshlint.schemas").joinpath("config.schema.json").read_text()
    )
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        error = errors[0]
        at: KeyPath = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
            message = _unknown_key(str(extra[0]), error.schema["properties"])
            if at:  # file:line:col: key: problem, as every other config error
                message = f"{'.'.join(map(str, at))}: {message}"
            at = (*at, extra[0])
            line, col = where(at, True)
        else:
            message = _describe(error)
            line, col = where(at, False)
        raise ConfigError(f"{path}:{line}:{col}: {message}")


def _unknown_key(key: str, allowed: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else f"; expected one of: {', '.join(allowed)}"
    return f"unknown key {brief(key)}{hint}"


def _describe(error: Any) -> str:
    where = "/".join(brief(p) if not isinstance(p, str) else p for p in error.absolute_path)
    where = where or "config"
    if where == "kube-version":
        return f'{where}: expected a quoted version such as "1.30", got {brief(error.instance)}'
    if where == "config" and error.validator == "type":
        return f"config: expected a mapping of settings, got {_type_name(error.instance)}"
    description = error.schema.get("description")
    suffix = f" ({description})" if description else ""
    if error.validator == "pattern" and description:  # it says the form in words
        return f"{where}: {brief(error.instance)} is not allowed{suffix}"
    # jsonschema quotes the whole value; a config may be a link to someone's secret
    message = error.message.replace(repr(error.instance), brief(error.instance))
    return f"{where}: {message}{suffix}"


def _type_name(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else "null")


def _build(data: Mapping[str, Any], path: str, root: str, where: Any) -> Config:
    def tokens(key: str) -> tuple[str, ...]:
        return tuple(data.get(key, ()))

    fail_on = data.get("fail-on")
    return Config(
        select=tokens("select") or ("ALL",),
        extend_select=tokens("extend-select")
        + unused_ignore_selection(bool(data.get("report-unused-ignores"))),
        ignore=tokens("ignore"),
        fail_on=parse_fail_on(fail_on) if fail_on else Severity.WARNING,
        kube_version=parse_kube_version(data["kube-version"])
        if "kube-version" in data
        else (1, 30),
        kube_version_from=_where(path, where, ("kube-version",))
        if "kube-version" in data
        else "default",
        cluster=dict(data.get("cluster", {})),
        exclude=tokens("exclude"),
        severity={k: Severity.parse(v) for k, v in data.get("severity", {}).items()},
        rules=dict(data.get("rules", {})),
        per_file_ignores={k: tuple(v) for k, v in data.get("per-file-ignores", {}).items()},
        scopes={k: tuple(v) for k, v in data.get("scopes", {}).items()},
        plugins=tokens("plugins"),
        charts={k: dict(v) for k, v in data.get("charts", {}).items()},
        report_unused_ignores=bool(data.get("report-unused-ignores", False)),
        path=path,
        root=root,
        locate=where,
    )


def _where(path: str, where: Any, key: KeyPath) -> str:
    line, _ = where(key, False)
    return f"{relative(path, '.')}:{line}"


def declared_facts(config: Config) -> tuple[Fact, ...]:
    """What the user says runs: the cluster version and the config's ``cluster:``
    (every scope of the run shares them; docs/facts.md)."""
    facts = [Fact(KUBE_VERSION, "", config.kube_version, config.kube_version_from)]
    cluster = config.cluster

    def source(*key: str) -> str:
        line, _ = config.locate(("cluster", *key), False)
        return f"{relative(config.path, '.')}:{line}" if config.path else "config"

    for gate, on in dict(cluster.get("feature-gates") or {}).items():
        facts.append(Fact(FEATURE_GATE, str(gate), bool(on), source("feature-gates", gate)))
    factor = cluster.get("memory-throttling-factor")
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        facts.append(
            Fact(
                KUBELET, "memoryThrottlingFactor", float(factor), source("memory-throttling-factor")
            )
        )
    version = cluster.get("istio-version")
    match = _KUBE_VERSION.fullmatch(version.strip()) if isinstance(version, str) else None
    if match:
        facts.append(Fact(ISTIO, "", (1, int(match.group(1))), source("istio-version")))
    return tuple(facts)


def matches(token: str, rule: Rule) -> bool:
    """A selector names a rule by id, slug, id prefix (``J``, ``I0``) or ALL."""
    return (
        token == "ALL"
        or token == rule.id
        or token == rule.slug
        or (bool(_PREFIX.match(token)) and rule.id.startswith(token))
    )


def specificity(token: str, rule: Rule) -> int:
    """How precisely ``token`` names ``rule`` (0: not at all). As in ruff, the most
    specific selector decides: ``--select K001 --ignore K`` runs K001."""
    if not matches(token, rule):
        return 0
    if token in (rule.id, rule.slug):
        return 100
    return 1 if token == "ALL" else 1 + len(token)


def selected(rule: Rule, select: Iterable[str], ignore: Iterable[str]) -> bool:
    chosen = max((specificity(t, rule) for t in select), default=0)
    dropped = max((specificity(t, rule) for t in ignore), default=0)
    return chosen > 0 and chosen > dropped


def enabled(rule: Rule, config: Config) -> bool:
    """Whether ``rule`` runs: the config file's selection, then each override layer."""
    on = selected(rule, (*config.select, *config.extend_select), config.ignore)
    for layer in config.overrides:
        if layer.select:
            on = selected(rule, (*layer.select, *layer.extend_select), layer.ignore)
            continue
        added = max((specificity(t, rule) for t in layer.extend_select), default=0)
        dropped = max((specificity(t, rule) for t in layer.ignore), default=0)
        if added > dropped:
            on = True
        elif dropped:
            on = False
    return on


def severity_override(config: Config, rule: Rule) -> Severity | None:
    """The ``severity:`` entry that names ``rule`` most precisely (an id or slug
    over a prefix over ``ALL``), if any."""
    best = max(config.severity, key=lambda token: specificity(token, rule), default=None)
    if best is None or not specificity(best, rule):
        return None
    return config.severity[best]


def check_selectors(tokens: Iterable[str], rules: Iterable[Rule]) -> str | None:
    """The first selector that names no rule, if any."""
    known = list(rules)
    return next((t for t in tokens if not any(matches(t, r) for r in known)), None)


def unknown_rule(token: str, rules: Iterable[Rule]) -> str:
    """ "unknown rule 'K01'; did you mean 'K001'?": the nearest id or slug, if any."""
    names = [n for r in rules for n in (r.id, r.slug)]
    by_lower = {n.lower(): n for n in names}
    close = difflib.get_close_matches(token.lower(), list(by_lower), n=1, cutoff=0.6)
    hint = f"; did you mean {by_lower[close[0]]!r}?" if close else "; `meshlint rules` lists them"
    return f"unknown rule {brief(token)}{hint}"


def rule_for(key: str, rules: Mapping[str, Rule]) -> Rule | None:
    return rules.get(key) or next((r for r in rules.values() if r.slug == key), None)


def validate_against_rules(config: Config, rules: Mapping[str, Rule]) -> None:
    """Unknown rules, parameters and wrong types are errors with a position."""
    catalogue = rules.values()
    for key in ("select", "extend-select", "ignore"):
        values = getattr(config, key.replace("-", "_"))
        if (bad := check_selectors(values, catalogue)) is not None:
            raise config.error((key, values.index(bad)), f"{key}: {unknown_rule(bad, catalogue)}")
    for pattern, values in config.per_file_ignores.items():
        if (bad := check_selectors(values, catalogue)) is not None:
            raise config.error(
                ("per-file-ignores", pattern, values.index(bad)),
                f"per-file-ignores.{pattern}: {unknown_rule(bad, catalogue)}",
            )
    for key in config.severity:
        if check_selectors([key], catalogue) is not None:
            raise config.error(
                ("severity", key), f"severity: {unknown_rule(key, catalogue)}", key=True
            )
    for key, params in config.rules.items():
        rule = rule_for(key, rules)
        if rule is None:
            raise config.error(("rules", key), f"rules: {unknown_rule(key, catalogue)}", key=True)
        declared = {p.name: p for p in rule.params}
        for name, value in params.items():
            if name not in declared:
                expected = ", ".join(declared) or "no parameters"
                raise config.error(
                    ("rules", key, name),
                    f"rules.{key}: unknown parameter {brief(name)}; {rule.id} takes {expected}",
                    key=True,
                )
            try:
                declared[name].validate(value)
            except TypeError as exc:
                raise config.error(("rules", key, name), f"rules.{key}: {exc}") from exc
