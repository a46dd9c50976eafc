"""meshlint: a linter for Kubernetes, Istio, Jaeger and OpenTelemetry manifests.

The public API for rule authors and plugins is what this module exports; the
domain helpers they may use are the public faces of ``meshlint.domain.<name>``,
and ``meshlint.testing`` lints a text and checks marked fixtures.

The API is imported on first use (PEP 562): a process that needs one module of
the package (the Helm child, ``--version``) does not load the engine with it.
"""

from __future__ import annotations

import typing as _typing

from meshlint.core.version import __version__

if _typing.TYPE_CHECKING:
    from meshlint.core.hookspecs import hookimpl
    from meshlint.core.model import (
        MAX_FINDINGS_PER_RULE,
        Applicability,
        Cluster,
        Context,
        Document,
        Fix,
        KeyPath,
        Location,
        Param,
        Resource,
        Rule,
        Severity,
        Violation,
        pickled_as_fields,
    )

__all__ = [
    "MAX_FINDINGS_PER_RULE",
    "Applicability",
    "Cluster",
    "Context",
    "Document",
    "Fix",
    "KeyPath",
    "Location",
    "Param",
    "Resource",
    "Rule",
    "Severity",
    "Violation",
    "__version__",
    "hookimpl",
    "pickled_as_fields",
]

# Where each name of the API is defined.
_HOMES = {
    "hookimpl": "meshlint.core.hookspecs",
    **{name: "meshlint.core.model" for name in __all__ if name not in ("hookimpl", "__version__")},
}

if not _typing.TYPE_CHECKING:  # type checkers see the imports above, and no fallback

    def __getattr__(name: str) -> object:
        home = _HOMES.get(name)
        if home is None:
            raise AttributeError(f"module 'meshlint' has no attribute {name!r}")
        from importlib import import_module

        value = getattr(import_module(home), name)
        globals()[name] = value  # asked once
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
