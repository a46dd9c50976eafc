"""Jaeger rules: collector and agent queues, agents behind Services, unknown flags,
v1 past its end of life, in-memory trace stores."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.jaeger import (
        jaeger_agent_behind_service,
        jaeger_agent_queue_exceeds_memory,
        jaeger_memory_store_unbounded,
        jaeger_queue_exceeds_memory,
        jaeger_unknown_flag,
        jaeger_v1_end_of_life,
    )

    return [
        jaeger_queue_exceeds_memory.RULE,  # J001
        jaeger_agent_queue_exceeds_memory.RULE,  # J002
        jaeger_agent_behind_service.RULE,  # J003
        jaeger_unknown_flag.RULE,  # J004
        jaeger_v1_end_of_life.RULE,  # J005
        jaeger_memory_store_unbounded.RULE,  # J006
    ]
