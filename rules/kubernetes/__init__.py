"""Kubernetes rules: memory requests, limits and the Go runtime."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.kubernetes import (
        gomemlimit_exceeds_limit,
        gomemlimit_invalid,
        memory_limit_missing,
        memory_request_missing,
        memoryqos_throttling_risk,
    )

    return [
        memory_limit_missing.RULE,  # K001
        memory_request_missing.RULE,  # K002
        memoryqos_throttling_risk.RULE,  # K003
        gomemlimit_invalid.RULE,  # K004
        gomemlimit_exceeds_limit.RULE,  # K005
    ]
