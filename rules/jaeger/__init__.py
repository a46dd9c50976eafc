"""Jaeger rules: collector and agent queues, agents behind Services, unknown flags."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.jaeger import (
        jaeger_agent_behind_service,
        jaeger_agent_queue_exceeds_memory,
        jaeger_queue_exceeds_memory,
        jaeger_unknown_flag,
    )

    return [
        jaeger_queue_exceeds_memory.RULE,  # J001
        jaeger_agent_queue_exceeds_memory.RULE,  # J002
        jaeger_agent_behind_service.RULE,  # J003
        jaeger_unknown_flag.RULE,  # J004
    ]
