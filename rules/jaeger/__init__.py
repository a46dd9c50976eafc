"""Jaeger rules: collector and agent queues, agents behind Services, unknown flags,
v1 past its end of life."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.jaeger import (
        jaeger_agent_behind_service,
        jaeger_agent_queue_exceeds_memory,
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
    ]
