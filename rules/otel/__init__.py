"""OpenTelemetry collector and tracer SDK rules."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.otel import (
        otel_memory_limiter_misconfigured,
        otel_memory_limiter_missing,
        otel_queue_exceeds_memory,
        otel_removed_component,
        tracer_sdk_queue_unbounded,
    )

    return [
        otel_memory_limiter_missing.RULE,  # O001
        otel_memory_limiter_misconfigured.RULE,  # O002
        otel_queue_exceeds_memory.RULE,  # O003
        tracer_sdk_queue_unbounded.RULE,  # O004
        otel_removed_component.RULE,  # O005
    ]
