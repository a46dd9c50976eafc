"""Istio rules."""

from __future__ import annotations

from meshlint import Rule


def rules() -> list[Rule]:
    return []
