"""Jaeger v1: its settings from every surface (flags, env, the operator's CR,
Helm output), the flag catalogue, queue models and agent reachability."""

from __future__ import annotations

from meshlint.domain.jaeger.agents import AgentHost, agent_host_of, agent_pods, udp_agent_ports
from meshlint.domain.jaeger.flags import CATALOGUE_VERSIONS
from meshlint.domain.jaeger.queues import CollectorQueue, UdpQueue, agent_queues, collector_queue
from meshlint.domain.jaeger.settings import (
    FlagValue,
    Process,
    container_process,
    cr_processes,
    env_flags,
    flag_type,
    known_flags,
    owns_env,
    processes,
)

__all__ = [
    "CATALOGUE_VERSIONS",
    "AgentHost",
    "CollectorQueue",
    "FlagValue",
    "Process",
    "UdpQueue",
    "agent_host_of",
    "agent_pods",
    "agent_queues",
    "collector_queue",
    "container_process",
    "cr_processes",
    "env_flags",
    "flag_type",
    "known_flags",
    "owns_env",
    "processes",
    "udp_agent_ports",
]
