"""Small value grammars the Istio rules share: numbers, percentages, preStop
sleeps, booleans written as strings, and version tags (durations are Go's
grammar, in ``meshlint.durations``).

Every parser returns None for a value it cannot read: schema violations are
M004's business, the other rules treat an unreadable value as absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from meshlint.model import Location

_SLEEP = re.compile(r"\bsleep\s+(\d+(?:\.\d+)?)\b")
_VERSION = re.compile(r"(?:^|[^0-9])(\d+)\.(\d+)(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Setting:
    """A value and the place that set it (a picklable fact for check_run)."""

    value: Any
    at: Location


def float_value(value: Any) -> float | None:
    """A float written as a YAML number or a numeric string (``"100"`` in env
    values, read by Go's strconv.ParseFloat): sampling rates, seconds counts."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            return None
    return None


def truthy(value: Any) -> bool:
    """``true``/``"true"``/``"True"`` as Go's strconv.ParseBool reads them."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in ("true", "1", "t")


def falsy(value: Any) -> bool:
    if isinstance(value, bool):
        return not value
    return isinstance(value, str) and value.strip().lower() in ("false", "0", "f")


def prestop_seconds(lifecycle: Any) -> float | None:
    """How long a preStop hook keeps the container alive: ``sleep N`` or ``sleep.seconds``."""
    if not isinstance(lifecycle, dict):
        return None
    hook = lifecycle.get("preStop")
    if not isinstance(hook, dict):
        return None
    sleep = hook.get("sleep")
    if isinstance(sleep, dict):
        return float_value(sleep.get("seconds"))
    command = hook.get("exec", {}).get("command") if isinstance(hook.get("exec"), dict) else None
    if isinstance(command, list):
        match = _SLEEP.search(" ".join(str(c) for c in command))
        if match:
            return float(match.group(1))
    return 0.0  # a hook of unknown length: present, but we cannot add it up


def version_of(tag: Any) -> tuple[int, int] | None:
    """``1.22.3``, ``1.22-alpha.x``, ``docker.io/istio/pilot:1.20.1-distroless`` -> (1, 22)."""
    if not isinstance(tag, str):
        return None
    text = tag.rsplit(":", 1)[-1] if "/" in tag or ":" in tag else tag
    match = _VERSION.search(text)
    if not match or match.group(1) != "1":
        return None
    return int(match.group(1)), int(match.group(2))


def percent(value: float) -> str:
    return f"{value:g}%"
