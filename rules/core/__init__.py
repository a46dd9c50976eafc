"""Core rules: input that does not load as the API server would read it."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.core import (
        duplicate_key,
        invalid_embedded_config,
        invalid_quantity,
        yaml_syntax_error,
    )

    return [
        yaml_syntax_error.RULE,
        duplicate_key.RULE,
        invalid_quantity.RULE,
        invalid_embedded_config.RULE,  # M004
    ]
