"""Core rules: quantities and embedded configs that do not load as Kubernetes,
Istio or a collector would read them."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    from meshlint.rules.core import invalid_embedded_config, invalid_quantity

    # M001, M002 and M100 are the engine's own (meshlint.core.emitted)
    return [invalid_quantity.RULE, invalid_embedded_config.RULE]  # M003, M004
