"""How applications reach Jaeger v1 agents (J003): the agents' UDP ports on a
Service, agent pods, and ``JAEGER_AGENT_HOST``-style settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import Document, KeyPath
from meshlint.domain.components import Component, component_of
from meshlint.domain.jaeger.settings import unknowable
from meshlint.domain.k8s.objects import containers_of, mappings_at

AGENT_UDP_PORTS = frozenset({5775, 6831, 6832})
AGENT_HOST_VARIABLES = ("JAEGER_AGENT_HOST", "OTEL_EXPORTER_JAEGER_AGENT_HOST")


def _port_number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def udp_agent_ports(service: Any) -> tuple[int, ...]:
    """The agent UDP ports (by port or targetPort) a Service exposes."""
    found = []
    for _, entry in mappings_at(service, ("spec", "ports")):
        if entry.get("protocol") != "UDP":
            continue  # protocol defaults to TCP
        for key in ("port", "targetPort"):
            number = _port_number(entry.get(key))
            if number in AGENT_UDP_PORTS:
                found.append(number)
                break
    return tuple(sorted(set(found)))


def agent_pods(doc: Document) -> bool:
    """Pods that receive spans like a node agent: a Jaeger v1 agent container, or
    a DaemonSet listening on the agent's UDP ports (an OTel collector in agent mode)."""
    kind = doc.kind
    for container in containers_of(doc):
        if component_of(container) is Component.JAEGER_AGENT:
            return True
        if kind != "DaemonSet":
            continue
        for _, port in mappings_at(container.data, ("ports",)):
            if (
                port.get("protocol") == "UDP"
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
    if not text or unknowable(text) or text == "localhost" or ":" in text:
        return None
    parts = text.rstrip(".").split(".")
    if not parts[0] or all(p.isdigit() for p in parts):
        return None  # an IPv4 address, or no name at all
    namespace = parts[1] if len(parts) > 1 else None
    return AgentHost(variable, value, parts[0], namespace, len(parts) > 2 and parts[2] == "svc")


def agent_host_of(doc: Document) -> Iterator[tuple[AgentHost, KeyPath]]:
    """Literal ``JAEGER_AGENT_HOST`` values of a workload's containers, with their paths."""
    for container in containers_of(doc):
        for variable in AGENT_HOST_VARIABLES:
            var = container.env_var(variable)
            if var is None or var.value is None:
                continue
            host = parse_agent_host(variable, var.value)
            if host is not None:
                yield host, (*var.path, "value")
