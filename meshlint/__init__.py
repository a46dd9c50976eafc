"""meshlint: a linter for Kubernetes, Istio, Jaeger and OpenTelemetry manifests.

The public API for rule authors and plugins is what this module exports.
"""

from __future__ import annotations

import pluggy

from meshlint.model import Context, Location, Param, Resource, Rule, Severity, Violation
from meshlint.source import Document

__version__ = "0.1.0"

hookimpl = pluggy.HookimplMarker("meshlint")

__all__ = [
    "Context",
    "Document",
    "Location",
    "Param",
    "Resource",
    "Rule",
    "Severity",
    "Violation",
    "__version__",
    "hookimpl",
]
