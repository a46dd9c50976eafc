"""Jaeger v1: its settings from every surface (flags, env, the operator's CR,
Helm output), the flag catalogue, queue models and agent reachability; Jaeger
v2: its built-in all-in-one config, its own components and memory stores (its
configs are collector configs, read by ``meshlint.domain.otel``)."""

from __future__ import annotations

from meshlint.domain.jaeger.agents import AgentHost, agent_host_of, agent_pods, udp_agent_ports
from meshlint.domain.jaeger.flags import CATALOGUE_VERSIONS
from meshlint.domain.jaeger.lifecycle import (
    LAST_V1_RELEASE,
    V1_END_OF_LIFE,
    EndOfLife,
    is_jaeger_cr,
    v1_image,
)
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
    reads_as,
)
from meshlint.domain.jaeger.store import V1Store, v1_stores
from meshlint.domain.jaeger.v2 import (
    ALL_IN_ONE_MAX_TRACES,
    DEFAULT_MAX_TRACES,
    MemoryStore,
    all_in_one_config,
    is_jaeger_config,
    memory_stores,
    runs_all_in_one,
)

__all__ = [
    "ALL_IN_ONE_MAX_TRACES",
    "CATALOGUE_VERSIONS",
    "DEFAULT_MAX_TRACES",
    "LAST_V1_RELEASE",
    "V1_END_OF_LIFE",
    "AgentHost",
    "CollectorQueue",
    "EndOfLife",
    "FlagValue",
    "MemoryStore",
    "Process",
    "UdpQueue",
    "V1Store",
    "agent_host_of",
    "agent_pods",
    "agent_queues",
    "all_in_one_config",
    "collector_queue",
    "container_process",
    "cr_processes",
    "env_flags",
    "flag_type",
    "is_jaeger_config",
    "is_jaeger_cr",
    "known_flags",
    "memory_stores",
    "owns_env",
    "processes",
    "reads_as",
    "runs_all_in_one",
    "udp_agent_ports",
    "v1_image",
    "v1_stores",
]
