"""Jaeger v1 knowledge, one place: where a setting comes from, what it means.

A Jaeger v1 process is configured by ``--flag=value`` / ``--flag value`` args,
by env vars (viper maps ``collector.queue-size`` to ``COLLECTOR_QUEUE_SIZE``;
an explicit flag wins over env), or by the jaeger-operator ``kind: Jaeger``
CR, whose ``spec.<component>.options`` become ``--key=value`` args (nested maps
flattened with ``.``) and whose resources merge component-first with
``spec.resources``. Helm-rendered charts arrive as plain workloads: the v3
chart renders a falsy ``cmdlineParams`` value as a bare ``--flag``.

Every reader returns ``Process`` values: the component, its settings in
rising precedence with their paths, and its effective memory request/limit.
The queue arithmetic over them is in ``queues`` (J001/J002), how
applications reach agents in ``agents`` (J003), and the flag catalogue in
``flags``, modules of this package.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import Document, KeyPath
from meshlint.domain.components import Component, component_of
from meshlint.domain.jaeger import flags as catalogue
from meshlint.domain.k8s.durations import parse_go_duration
from meshlint.domain.k8s.objects import (
    Container,
    containers_of,
    get_in,
    has_variable_reference,
    mapping_at,
    resources_of,
)
from meshlint.domain.k8s.quantity import Quantity


@dataclass(frozen=True, slots=True)
class FlagValue:
    """One Jaeger flag as a process receives it: from an arg, an env var or a CR option."""

    flag: str  # "collector.queue-size"
    value: str | None  # None when unknowable (valueFrom, $(VAR)) or missing
    path: KeyPath  # what the user edits: the value, the arg, the option
    written: str  # as the user wrote it, for messages
    source: str  # "arg", "env" or "option"
    bare: bool = False  # a flag with no value at all ("--collector.queue-size-memory")
    empty: bool = False  # "--flag=" or an option with an empty value


@dataclass(frozen=True, slots=True)
class Process:
    """One Jaeger v1 process: a container, or a component of a Jaeger CR."""

    component: Component
    label: str  # 'container "collector"' or 'Jaeger "prod" collector'
    settings: tuple[FlagValue, ...]  # rising precedence: env, then args / options
    requests: dict[str, Any]
    limits: dict[str, Any]
    memory_paths: tuple[KeyPath | None, KeyPath | None]  # (request, limit) value paths
    resources_path: KeyPath

    def setting(self, flag: str) -> FlagValue | None:
        found = None
        for s in self.settings:
            if s.flag == flag:
                found = s
        return found

    @property
    def limit(self) -> Quantity | None:
        return resources_of({"limits": self.limits}).limit("memory")

    @property
    def request(self) -> Quantity | None:
        """With the API's defaulting: a missing request equals the limit."""
        res = resources_of({"requests": self.requests, "limits": self.limits})
        return res.request("memory")


# -- the catalogue -----------------------------------------------------------


@functools.cache  # asked once per argument: a long argument list asks a million times
def known_flags(component: Component) -> Mapping[str, str]:
    """Flag name -> type code for a v1 component (union over v1 releases)."""
    parts = {
        Component.JAEGER_COLLECTOR: (catalogue.COLLECTOR,),
        Component.JAEGER_AGENT: (catalogue.AGENT,),
        Component.JAEGER_QUERY: (catalogue.QUERY,),
        Component.JAEGER_ALL_IN_ONE: (catalogue.COLLECTOR, catalogue.AGENT, catalogue.QUERY),
    }.get(component, ())
    out = dict(catalogue.COMMON)
    for part in parts:
        out.update(part)
    return out


@functools.cache
def open_prefixes(component: Component) -> tuple[str, ...]:
    """Flag families a component accepts that the catalogue does not enumerate."""
    if component is Component.JAEGER_AGENT:
        return ()
    if component is Component.JAEGER_QUERY:
        return catalogue.STORAGE_PREFIXES
    return (*catalogue.STORAGE_PREFIXES, catalogue.SAMPLING_PREFIX)


def flag_type(component: Component, flag: str) -> str | None:
    """The type code of ``flag``, ``"?"`` for an open family, None if unknown."""
    known = known_flags(component).get(flag)
    if known is not None:
        return known
    return "?" if flag.startswith(open_prefixes(component)) else None


_INTEGER = re.compile(r"[+-]?[0-9]+")
_BOOLS = frozenset(
    {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}
)


def reads_as(kind: str, value: str) -> bool:
    """Whether a Jaeger v1 binary reads ``value`` for a flag of type code ``kind``:
    pflag's parsers (strconv.ParseBool, ParseInt, ParseUint, ParseFloat,
    time.ParseDuration), which viper's reading of an env var agrees with for
    these plain forms; ``?`` (an open family's flag) reads anything."""
    if kind in ("s", "?"):
        return True
    text = value.strip()
    if text != value or not text:
        return False
    if kind == "b":
        return text in _BOOLS
    if kind in ("i", "u"):
        return bool(_INTEGER.fullmatch(text)) and not (kind == "u" and text[0] in "+-")
    if kind == "f":
        try:
            float(text)
        except ValueError:
            return False
        return True
    if kind == "d":
        return parse_go_duration(text) is not None
    return False


def env_name(flag: str) -> str:
    """viper's AutomaticEnv key: ``collector.queue-size`` -> ``COLLECTOR_QUEUE_SIZE``."""
    return flag.upper().replace(".", "_").replace("-", "_")


@functools.cache
def env_flags(component: Component) -> Mapping[str, str]:
    """Env name -> flag name for every catalogued flag of ``component``."""
    return {env_name(flag): flag for flag in known_flags(component)}


def owns_env(name: str) -> bool:
    return name.startswith(catalogue.ENV_NAMESPACES)


# -- reading settings ----------------------------------------------------------


def unknowable(value: str) -> bool:
    """A ``$(VAR)`` reference or an unrendered Helm template: not known from the manifest."""
    return has_variable_reference(value) or "{{" in value


def parse_args(items: list[Any], base: KeyPath, component: Component) -> Iterator[FlagValue]:
    """``--flag=value``, ``--flag value`` and bare ``--flag`` items of one list."""
    i = 0
    while i < len(items):
        item = items[i]
        text = str(item) if isinstance(item, (str, int, float)) else ""
        i += 1
        if text == "--":
            return
        if not text.startswith("--") or len(text) < 3 or " " in text:
            continue
        name, eq, value = text[2:].partition("=")
        if eq:
            yield FlagValue(
                name,
                None if unknowable(value) else value,
                (*base, i - 1),
                text,
                "arg",
                empty=value == "",
            )
            continue
        kind = flag_type(component, name)
        following = items[i] if i < len(items) else None
        takes_next = (
            kind != "b"
            and isinstance(following, (str, int, float))
            and not (str(following).startswith("-"))
        )
        if takes_next:
            value = str(following)
            i += 1
            yield FlagValue(
                name,
                None if unknowable(value) else value,
                (*base, i - 1),
                f"{text} {value}",
                "arg",
            )
        elif kind == "b":
            yield FlagValue(name, "true", (*base, i - 1), text, "arg")
        else:
            yield FlagValue(name, None, (*base, i - 1), text, "arg", bare=True)


def container_settings(container: Container, component: Component) -> list[FlagValue]:
    by_env = env_flags(component)
    out = []
    for var in container.env():
        flag = by_env.get(var.name)
        if flag is None:
            continue
        value = var.value if var.value is not None and not unknowable(var.value) else None
        path = (*var.path, "value") if var.value is not None else var.path
        out.append(FlagValue(flag, value, path, f"{var.name}={var.value or '...'}", "env"))
    for field in ("command", "args"):
        items = get_in(container.data, (field,))
        if isinstance(items, list):
            out.extend(parse_args(items, (*container.path, field), component))
    return out


def container_process(container: Container) -> Process | None:
    component = component_of(container)
    if component is None or not component.jaeger_v1:
        return None
    res = mapping_at(container.data, ("resources",))
    base = (*container.path, "resources")
    paths = tuple(
        (*base, section, "memory") if "memory" in mapping_at(res, (section,)) else None
        for section in ("requests", "limits")
    )
    return Process(
        component,
        f'{component.value} container "{container.name}"',
        tuple(container_settings(container, component)),
        mapping_at(res, ("requests",)),
        mapping_at(res, ("limits",)),
        (paths[0], paths[1]),
        container.resources_path,
    )


def workload_processes(doc: Document) -> Iterator[Process]:
    for container in containers_of(doc):
        process = container_process(container)
        if process is not None:
            yield process


# -- the jaeger-operator CR ------------------------------------------------------


def cr_strategy(data: Any) -> str:
    """``allinone`` (the default; ``all-in-one`` is the old spelling), ``production``, ``streaming``."""
    raw = get_in(data, ("spec", "strategy"))
    text = raw.lower().replace("-", "") if isinstance(raw, str) and raw else "allinone"
    return text


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def flatten_options(options: Any, base: KeyPath, prefix: str = "") -> Iterator[FlagValue]:
    """Operator options: nested maps join with ``.``; a list renders one arg per item."""
    if not isinstance(options, dict):
        return
    for key, value in options.items():
        name = f"{prefix}{key}"
        path = (*base, key)
        if isinstance(value, dict):
            yield from flatten_options(value, path, f"{name}.")
            continue
        items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
        for i, item in items:
            text = _render(item)
            where = path if i is None else (*path, i)
            yield FlagValue(name, text, where, f"--{name}={text}", "option", empty=text == "")


def _merged(
    spec: Any, section: str, component_path: KeyPath
) -> tuple[dict[str, Any], KeyPath | None]:
    """Component-level resources first, then ``spec.resources`` (operator util.Merge)."""
    merged: dict[str, Any] = {}
    where: KeyPath | None = None
    for base in (component_path, ("spec",)):
        values = mapping_at(spec, (*base, "resources", section))
        for name, value in values.items():
            if name not in merged:
                merged[name] = value
                if name == "memory":
                    where = (*base, "resources", section, "memory")
    return merged, where


_CR_COMPONENTS = {
    "allInOne": Component.JAEGER_ALL_IN_ONE,
    "collector": Component.JAEGER_COLLECTOR,
    "query": Component.JAEGER_QUERY,
    "agent": Component.JAEGER_AGENT,
}


def cr_processes(data: Any) -> Iterator[Process]:
    """The v1 processes a ``kind: Jaeger`` CR makes the operator deploy."""
    spec = get_in(data, ("spec",))
    api = get_in(data, ("apiVersion",))
    if spec is None:  # no spec at all is the operator's examples/simplest.yaml: all defaults
        spec = {}
    if not isinstance(spec, dict) or not str(api).startswith("jaegertracing.io/"):
        return
    names = ["allInOne"] if cr_strategy(data) == "allinone" else ["collector", "query"]
    if isinstance(spec.get("agent"), dict):  # only an agent the CR configures is judged
        names.append("agent")
    crname = get_in(data, ("metadata", "name"))
    for name in names:
        path: KeyPath = ("spec", name)
        requests, req_path = _merged(data, "requests", path)
        limits, lim_path = _merged(data, "limits", path)
        options = get_in(data, (*path, "options"))
        settings = tuple(flatten_options(options, (*path, "options")))
        holder = path if isinstance(get_in(data, path), dict) else ("spec",) if spec else ()
        yield Process(
            _CR_COMPONENTS[name],
            f'Jaeger "{crname if isinstance(crname, str) else "<unnamed>"}" {name}',
            settings,
            requests,
            limits,
            (req_path, lim_path),
            holder,
        )


def processes(doc: Document) -> Iterator[Process]:
    """Every Jaeger v1 process of a document: workload containers or a Jaeger CR."""
    if doc.kind == "Jaeger":
        yield from cr_processes(doc.data)
    else:
        yield from workload_processes(doc)
