"""Istio rules: mesh-wide and per-workload proxy settings, resolved by
``meshlint.domain.istio.mesh`` across every object of the run."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.istio import (
        drain_exceeds_grace_period,
        host_header_fallback_enabled,
        istio_end_of_life,
        istio_proxy_stats_too_wide,
        istio_unbounded_metric_tag,
        proxy_memory_limit_missing,
        sidecar_drain_missing,
        tracing_sampling_too_high,
        unbounded_tracer_buffer,
    )

    return [
        host_header_fallback_enabled.RULE,  # I001
        tracing_sampling_too_high.RULE,  # I002
        unbounded_tracer_buffer.RULE,  # I003
        sidecar_drain_missing.RULE,  # I004
        drain_exceeds_grace_period.RULE,  # I005
        proxy_memory_limit_missing.RULE,  # I006
        istio_unbounded_metric_tag.RULE,  # I007
        istio_proxy_stats_too_wide.RULE,  # I008
        istio_end_of_life.RULE,  # I009
    ]
