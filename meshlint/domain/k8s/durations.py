"""Go duration grammar (``time.ParseDuration``), the one place that reads it.

Every duration meshlint reads is finally parsed by Go's ``time.ParseDuration``:
``[-+]?`` then one or more ``<decimal><unit>`` parts (``1h2m3.5s``, ``500ms``,
``.5s``, ``1.s``), units ``ns us µs μs ms s m h``, or the lone ``0`` (with or
without a sign). No spaces, a unit on every part, at most about 292 years.

What differs between surfaces is how a YAML *number* (no quotes, no unit) is
read, so each surface names its rule through ``bare``:

* ``collector_duration``: OpenTelemetry collector configs are decoded with
  mapstructure into ``time.Duration``, an int64 of nanoseconds: a bare
  ``5`` is 5ns (confmap's string hook only handles strings).
* ``proto_duration``: Istio ProxyConfig/MeshConfig durations are protobuf
  ``google.protobuf.Duration``. Istio turns YAML into JSON and decodes it with
  golang/protobuf ``jsonpb``, which unquotes a JSON string and hands it to
  ``time.ParseDuration``; a JSON number is rejected, so a bare number is not a
  duration (None, like any value that cannot be read).

Every function returns seconds as a float, or None for a value it cannot read:
schema violations are M004's business, rules treat an unreadable value as absent.
"""

from __future__ import annotations

import re
from typing import Any

# seconds per unit; "µs" is U+00B5 (micro sign), "μs" U+03BC (Greek mu): Go takes both
UNIT_SECONDS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_MAX_SECONDS = (2**63 - 1) / 1e9  # time.Duration is an int64 of nanoseconds
NANOSECONDS = 1e-9  # ``bare`` for mapstructure-decoded time.Duration fields


def parse_go_duration(text: str) -> float | None:
    """``time.ParseDuration(text)`` in seconds, None where Go returns an error."""
    sign = -1.0 if text[:1] == "-" else 1.0
    body = text[1:] if text[:1] in "+-" and text else text
    if body == "0":
        return 0.0
    if not body:
        return None
    total, pos = 0.0, 0
    for match in _PART.finditer(body):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(body) or total > _MAX_SECONDS:
        return None
    return sign * total


def duration(value: Any, *, bare: float | None) -> float | None:
    """A YAML value read as a Go duration, in seconds.

    ``bare`` says what a YAML number means on this surface: the seconds one
    unit stands for (``NANOSECONDS`` for a ``time.Duration`` field decoded by
    mapstructure), or None where a number is not a duration at all.
    Booleans and null are never durations.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return None if bare is None else value * bare
    if isinstance(value, str):
        return parse_go_duration(value)
    return None


def collector_duration(value: Any) -> float | None:
    """An OpenTelemetry collector setting (``check_interval``, ``timeout``): a bare
    number counts nanoseconds, as mapstructure decodes it into ``time.Duration``."""
    return duration(value, bare=NANOSECONDS)


def proto_duration(value: Any) -> float | None:
    """An Istio ProxyConfig/MeshConfig ``google.protobuf.Duration``
    (``terminationDrainDuration``): a string only, as jsonpb reads it."""
    return duration(value, bare=None)


def duration_text(value: float) -> str:
    """Seconds as messages show them: ``5s``, ``0.5s``."""
    return f"{value:g}s"
