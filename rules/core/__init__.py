"""Core rules: input that does not load as the API server would read it, and
suppressions that suppress nothing."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.core import (
        duplicate_key,
        invalid_embedded_config,
        invalid_quantity,
        unused_ignore,
        yaml_syntax_error,
    )

    return [
        yaml_syntax_error.RULE,  # M001
        duplicate_key.RULE,  # M002
        invalid_quantity.RULE,  # M003
        invalid_embedded_config.RULE,  # M004
        unused_ignore.RULE,  # M100
    ]
