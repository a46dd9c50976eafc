"""Hook specifications. A plugin implements these with ``@meshlint.hookimpl``."""

from __future__ import annotations

from collections.abc import Iterable

import pluggy

from meshlint.core.model import Rule

hookspec = pluggy.HookspecMarker("meshlint")
hookimpl = pluggy.HookimplMarker("meshlint")


@hookspec
def meshlint_rules() -> Iterable[Rule]:  # type: ignore[empty-body]
    """Return the rules this plugin provides.

    Example::

        import meshlint

        @meshlint.hookimpl
        def meshlint_rules():
            from meshlint_acme import debug_sidecar
            return [debug_sidecar.RULE]
    """
