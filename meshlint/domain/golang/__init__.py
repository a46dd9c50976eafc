"""The Go runtime as containers configure it: GOMEMLIMIT's grammar and where it is set."""

from __future__ import annotations

from meshlint.domain.golang.runtime import (
    GOMEMLIMIT,
    OFF,
    Malformed,
    gomemlimit_of,
    parse_gomemlimit,
    suggestion,
)

__all__ = ["GOMEMLIMIT", "OFF", "Malformed", "gomemlimit_of", "parse_gomemlimit", "suggestion"]
