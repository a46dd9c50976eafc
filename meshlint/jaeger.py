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
Rules ask for settings and for the queue arithmetic (SPEC §8, J001/J002).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint import jaeger_flags as catalogue
from meshlint.components import Component, component_of
from meshlint.k8s import Container, containers, get_in, mapping_at, resources_of
from meshlint.model import Path
from meshlint.quantity import Quantity

MIB = 2**20
MAX_DYNAMIC_QUEUE = 1_000_000  # span_processor.go maxQueueSize
DEFAULT_QUEUE_SIZE = 2000
AGENT_DEFAULTS = {"server-queue-size": 1000, "workers": 10, "server-max-packet-size": 65000}


@dataclass(frozen=True, slots=True)
class Setting:
    flag: str  # "collector.queue-size"
    value: str | None  # None when unknowable (valueFrom, $(VAR)) or missing
    path: Path  # what the user edits: the value, the arg, the option
    written: str  # as the user wrote it, for messages
    source: str  # "arg", "env" or "option"
    bare: bool = False  # a flag with no value at all ("--collector.queue-size-memory")
    empty: bool = False  # "--flag=" or an option with an empty value


@dataclass(frozen=True, slots=True)
class Process:
    """One Jaeger v1 process: a container, or a component of a Jaeger CR."""

    component: Component
    label: str  # 'container "collector"' or 'Jaeger "prod" collector'
    settings: tuple[Setting, ...]  # rising precedence: env, then args / options
    requests: dict[str, Any]
    limits: dict[str, Any]
    memory_paths: tuple[Path | None, Path | None]  # (request, limit) value paths
    resources_path: Path

    def setting(self, flag: str) -> Setting | None:
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


def known_flags(component: Component) -> dict[str, str]:
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


def env_name(flag: str) -> str:
    """viper's AutomaticEnv key: ``collector.queue-size`` -> ``COLLECTOR_QUEUE_SIZE``."""
    return flag.upper().replace(".", "_").replace("-", "_")


def env_flags(component: Component) -> dict[str, str]:
    """Env name -> flag name for every catalogued flag of ``component``."""
    return {env_name(flag): flag for flag in known_flags(component)}


def owns_env(name: str) -> bool:
    return name.startswith(catalogue.ENV_NAMESPACES)


# -- reading settings ----------------------------------------------------------


def _unknowable(value: str) -> bool:
    return "$(" in value or "{{" in value


def parse_args(items: list[Any], base: Path, component: Component) -> Iterator[Setting]:
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
            yield Setting(
                name,
                None if _unknowable(value) else value,
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
            yield Setting(
                name,
                None if _unknowable(value) else value,
                (*base, i - 1),
                f"{text} {value}",
                "arg",
            )
        elif kind == "b":
            yield Setting(name, "true", (*base, i - 1), text, "arg")
        else:
            yield Setting(name, None, (*base, i - 1), text, "arg", bare=True)


def container_settings(container: Container, component: Component) -> list[Setting]:
    by_env = env_flags(component)
    out = []
    for var in container.env():
        flag = by_env.get(var.name)
        if flag is None:
            continue
        value = var.value if var.value is not None and not _unknowable(var.value) else None
        path = (*var.path, "value") if var.value is not None else var.path
        out.append(Setting(flag, value, path, f"{var.name}={var.value or '...'}", "env"))
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


def workload_processes(data: Any, kind: str) -> Iterator[Process]:
    for container in containers(data, kind):
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


def flatten_options(options: Any, base: Path, prefix: str = "") -> Iterator[Setting]:
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
            yield Setting(name, text, where, f"--{name}={text}", "option", empty=text == "")


def _merged(spec: Any, section: str, component_path: Path) -> tuple[dict[str, Any], Path | None]:
    """Component-level resources first, then ``spec.resources`` (operator util.Merge)."""
    merged: dict[str, Any] = {}
    where: Path | None = None
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
    if not isinstance(spec, dict) or not str(api).startswith("jaegertracing.io/"):
        return
    names = ["allInOne"] if cr_strategy(data) == "allinone" else ["collector", "query"]
    if isinstance(spec.get("agent"), dict):  # only an agent the CR configures is judged
        names.append("agent")
    crname = get_in(data, ("metadata", "name"))
    for name in names:
        path: Path = ("spec", name)
        requests, req_path = _merged(data, "requests", path)
        limits, lim_path = _merged(data, "limits", path)
        options = get_in(data, (*path, "options"))
        settings = tuple(flatten_options(options, (*path, "options")))
        holder = path if isinstance(get_in(data, path), dict) else ("spec",)
        yield Process(
            _CR_COMPONENTS[name],
            f'Jaeger "{crname if isinstance(crname, str) else "<unnamed>"}" {name}',
            settings,
            requests,
            limits,
            (req_path, lim_path),
            holder,
        )


def processes(data: Any, kind: str) -> Iterator[Process]:
    """Every Jaeger v1 process of a document: workload containers or a Jaeger CR."""
    if kind == "Jaeger":
        yield from cr_processes(data)
    else:
        yield from workload_processes(data, kind)


# -- memory models (SPEC §8) -------------------------------------------------------


def parse_count(setting: Setting | None, default: int) -> int | None:
    """An int flag's value as Go's strconv reads it (base prefixes, ``_``); None if unknowable."""
    if setting is None:
        return default
    if setting.value is None or setting.bare:
        return None
    try:
        value = int(setting.value.strip(), 0)
    except ValueError:
        return None
    return value if value >= 0 else None


@dataclass(frozen=True, slots=True)
class CollectorQueue:
    """What the collector's span queue can hold, as J001 models it."""

    spans: int
    span_size: int  # serialized bytes per span
    span_overhead: int  # heap bytes per queued span beyond span_size
    baseline: int  # bytes of the process without its queue
    budget_mib: int | None  # queue-size-memory when the dynamic queue is on
    sized_by: Setting | None  # the setting that decided the queue's size

    @property
    def bytes_per_span(self) -> int:
        return self.span_size + self.span_overhead

    @property
    def queue_bytes(self) -> int:
        return self.spans * self.bytes_per_span

    @property
    def total(self) -> int:
        return self.queue_bytes + self.baseline

    @property
    def raised(self) -> bool:
        """Dynamic queue on, or the static queue above the default."""
        return self.budget_mib is not None or self.spans > DEFAULT_QUEUE_SIZE


def collector_queue(
    process: Process, span_size: int, span_overhead: int, baseline_mib: int
) -> CollectorQueue | None:
    """Static: queue_size x (span + overhead); dynamic (queue-size-memory M > 0):
    min(1e6, M MiB / span) x (span + overhead). None when a value is unknowable."""
    size_setting = process.setting("collector.queue-size")
    memory_setting = process.setting("collector.queue-size-memory")
    queue_size = parse_count(size_setting, DEFAULT_QUEUE_SIZE)
    budget = parse_count(memory_setting, 0)
    if queue_size is None or budget is None or span_size <= 0:
        return None
    baseline = baseline_mib * MIB
    if budget > 0:
        spans = min(MAX_DYNAMIC_QUEUE, budget * MIB // span_size)
        return CollectorQueue(spans, span_size, span_overhead, baseline, budget, memory_setting)
    return CollectorQueue(queue_size, span_size, span_overhead, baseline, None, size_setting)


@dataclass(frozen=True, slots=True)
class UdpQueue:
    """One agent UDP processor: every queued packet holds a max-packet-size buffer."""

    processor: str
    queue_size: int
    workers: int
    packet_size: int
    settings: tuple[Setting, ...]  # the ones set explicitly

    @property
    def bytes(self) -> int:
        return (self.queue_size + self.workers) * self.packet_size


def agent_queues(process: Process) -> list[UdpQueue] | None:
    """The three v1 UDP processors; None when a value is unknowable."""
    out = []
    for processor in catalogue.AGENT_PROCESSORS:
        values: dict[str, int] = {}
        explicit = []
        for key, default in AGENT_DEFAULTS.items():
            setting = process.setting(f"processor.{processor}.{key}")
            value = parse_count(setting, default)
            if value is None:
                return None
            values[key] = value
            if setting is not None:
                explicit.append(setting)
        out.append(
            UdpQueue(
                processor,
                values["server-queue-size"],
                values["workers"],
                values["server-max-packet-size"],
                tuple(explicit),
            )
        )
    return out


# -- reaching the agent (J003) --------------------------------------------------------

AGENT_UDP_PORTS = frozenset({5775, 6831, 6832})
AGENT_HOST_VARIABLES = ("JAEGER_AGENT_HOST", "OTEL_EXPORTER_JAEGER_AGENT_HOST")


def _port_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def udp_agent_ports(service: Any) -> tuple[int, ...]:
    """The agent UDP ports (by port or targetPort) a Service exposes."""
    found = []
    for entry in get_in(service, ("spec", "ports")) or []:
        if not isinstance(entry, dict) or entry.get("protocol") != "UDP":
            continue  # protocol defaults to TCP
        for key in ("port", "targetPort"):
            number = _port_number(entry.get(key))
            if number in AGENT_UDP_PORTS:
                found.append(number)
                break
    return tuple(sorted(set(found)))


def agent_pods(data: Any, kind: str) -> bool:
    """Pods that receive spans like a node agent: a Jaeger v1 agent container, or
    a DaemonSet listening on the agent's UDP ports (an OTel collector in agent mode)."""
    for container in containers(data, kind):
        if component_of(container) is Component.JAEGER_AGENT:
            return True
        if kind != "DaemonSet":
            continue
        for port in get_in(container.data, ("ports",)) or []:
            if (
                isinstance(port, dict)
                and port.get("protocol") == "UDP"
                and _port_number(port.get("containerPort")) in AGENT_UDP_PORTS
            ):
                return True
    return False


@dataclass(frozen=True, slots=True)
class AgentHost:
    """A literal agent address: ``jaeger-agent``, ``jaeger-agent.ns``, ``...svc.cluster.local``."""

    variable: str
    value: str
    name: str
    namespace: str | None
    service_dns: bool  # ``<name>.<namespace>.svc[...]``: a Service by construction


def parse_agent_host(variable: str, value: str) -> AgentHost | None:
    """None for addresses that are not names (IPs, localhost, substitutions)."""
    text = value.strip().lower()
    if not text or _unknowable(text) or text == "localhost" or ":" in text:
        return None
    parts = text.rstrip(".").split(".")
    if not parts[0] or all(p.isdigit() for p in parts):
        return None  # an IPv4 address, or no name at all
    namespace = parts[1] if len(parts) > 1 else None
    return AgentHost(variable, value, parts[0], namespace, len(parts) > 2 and parts[2] == "svc")


def agent_host_of(data: Any, kind: str) -> Iterator[tuple[AgentHost, Path]]:
    """Literal ``JAEGER_AGENT_HOST`` values of a workload's containers, with their paths."""
    for container in containers(data, kind):
        for variable in AGENT_HOST_VARIABLES:
            var = container.env_var(variable)
            if var is None or var.value is None:
                continue
            host = parse_agent_host(variable, var.value)
            if host is not None:
                yield host, (*var.path, "value")
