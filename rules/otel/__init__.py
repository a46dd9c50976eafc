"""OpenTelemetry collector and tracer SDK rules."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.otel import (
        otel_batch_exceeds_grpc_limit,
        otel_config_invalid,
        otel_connector_unbounded_cardinality,
        otel_k8sattributes_unfiltered,
        otel_memory_limiter_misconfigured,
        otel_memory_limiter_missing,
        otel_queue_drain_exceeds_grace_period,
        otel_queue_exceeds_memory,
        otel_removed_component,
        otel_tail_sampling_buffer_exceeds_memory,
        tracer_sdk_queue_unbounded,
    )

    return [
        otel_memory_limiter_missing.RULE,  # O001
        otel_memory_limiter_misconfigured.RULE,  # O002
        otel_queue_exceeds_memory.RULE,  # O003
        tracer_sdk_queue_unbounded.RULE,  # O004
        otel_removed_component.RULE,  # O005
        otel_tail_sampling_buffer_exceeds_memory.RULE,  # O006
        otel_connector_unbounded_cardinality.RULE,  # O007
        otel_k8sattributes_unfiltered.RULE,  # O008
        otel_batch_exceeds_grpc_limit.RULE,  # O009
        otel_queue_drain_exceeds_grace_period.RULE,  # O010
        otel_config_invalid.RULE,  # O011
    ]
