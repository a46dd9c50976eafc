"""meshlint's built-in rules: a plugin like any other (entry point ``builtin``).

Each rule pack lists its rules in its own ``rules()``; modules are imported
only when the hook runs.
"""

from __future__ import annotations

from meshlint import Rule, hookimpl

# Retired ids are listed here and never reused.
RETIRED: frozenset[str] = frozenset()


@hookimpl
def meshlint_rules() -> list[Rule]:
    from meshlint.rules import core, istio, jaeger, kubernetes, otel

    return [*core.rules(), *kubernetes.rules(), *jaeger.rules(), *istio.rules(), *otel.rules()]
