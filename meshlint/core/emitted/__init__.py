"""The rules the engine emits itself: a document that does not load (M001), a
repeated key (M002), a Helm template given as a manifest (M005), a chart Helm
cannot render (M006), a suppression
that suppresses nothing (M100).

No check function produces them, so they live with the engine rather than in a
rule pack, and they are in every catalogue, plugins or not.
"""

from __future__ import annotations

from meshlint.core.emitted import (
    duplicate_key,
    helm_render_error,
    helm_template_source,
    unused_ignore,
    yaml_syntax_error,
)
from meshlint.core.hookspecs import hookimpl
from meshlint.core.model import Rule

YAML_SYNTAX_ERROR = yaml_syntax_error.RULE
DUPLICATE_KEY = duplicate_key.RULE
UNUSED_IGNORE = unused_ignore.RULE
HELM_TEMPLATE_SOURCE = helm_template_source.RULE
HELM_RENDER_ERROR = helm_render_error.RULE


@hookimpl
def meshlint_rules() -> list[Rule]:
    return [
        YAML_SYNTAX_ERROR,
        DUPLICATE_KEY,
        HELM_TEMPLATE_SOURCE,
        HELM_RENDER_ERROR,
        UNUSED_IGNORE,
    ]


__all__ = [
    "DUPLICATE_KEY",
    "HELM_RENDER_ERROR",
    "HELM_TEMPLATE_SOURCE",
    "UNUSED_IGNORE",
    "YAML_SYNTAX_ERROR",
    "meshlint_rules",
]
