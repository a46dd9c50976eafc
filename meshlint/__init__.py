"""meshlint: a linter for Kubernetes, Istio, Jaeger and OpenTelemetry manifests.

The public API for rule authors and plugins is what this module exports; the
domain helpers they may use are the public faces of ``meshlint.domain.<name>``,
and ``meshlint.testing`` lints a text and checks marked fixtures.
"""

from __future__ import annotations

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
from meshlint.core.version import __version__

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
