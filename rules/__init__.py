"""meshlint's built-in rules: a plugin like any other (entry point ``builtin``)."""

from __future__ import annotations

from meshlint import Rule, hookimpl

# Retired ids are listed here and never reused.
RETIRED: frozenset[str] = frozenset()


@hookimpl
def meshlint_rules() -> list[Rule]:
    from meshlint.rules.core import duplicate_key, invalid_quantity, yaml_syntax_error
    from meshlint.rules.kubernetes import (
        gomemlimit_exceeds_limit,
        gomemlimit_invalid,
        memory_limit_missing,
        memory_request_missing,
        memoryqos_throttling_risk,
    )

    return [
        yaml_syntax_error.RULE,  # M001
        duplicate_key.RULE,  # M002
        invalid_quantity.RULE,  # M003
        memory_limit_missing.RULE,  # K001
        memory_request_missing.RULE,  # K002
        memoryqos_throttling_risk.RULE,  # K003
        gomemlimit_invalid.RULE,  # K004
        gomemlimit_exceeds_limit.RULE,  # K005
    ]
