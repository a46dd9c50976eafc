"""Versions written in manifests: image tags, chart labels, ``spec.version``.

The one place that reads a version out of text. Every parse is bounded: a
component longer than ``MAX_DIGITS`` digits is no version (``int()`` of a
5,000-digit tag would raise, and no release is numbered like that).
"""

from __future__ import annotations

import re
from typing import Any

MAX_DIGITS = 9
# a version starts at the beginning or after a non-digit, non-dot character, and
# no component may run on past MAX_DIGITS digits
_PART = f"([0-9]{{1,{MAX_DIGITS}}})"
_VERSION = re.compile(rf"(?:^|(?<=[^0-9.]))v?{_PART}\.{_PART}(?:\.{_PART})?(?![0-9])")


def image_tag(image: str) -> str:
    """``docker.io/istio/pilot:1.20.1-distroless@sha256:..`` -> ``1.20.1-distroless``;
    "" for an image without a tag."""
    name = image.split("@", 1)[0]
    colon = name.rfind(":")
    return name[colon + 1 :] if colon > name.rfind("/") else ""


def parse(text: Any) -> tuple[int, ...] | None:
    """The first ``major.minor[.patch]`` in ``text`` (``v1.20.1``, ``1.20-alpha``,
    ``istiod-1.22.0``), or None."""
    if not isinstance(text, str) or len(text) > 256:
        return None
    match = _VERSION.search(text)
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def image_version(image: str) -> tuple[int, ...] | None:
    """The version an image's tag names (``jaegertracing/jaeger-collector:1.37.0`` ->
    (1, 37, 0)); None without a numeric tag (``latest``, a digest only)."""
    tag = image_tag(image) if isinstance(image, str) else ""
    match = _VERSION.match(tag)
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def minor(version: tuple[int, ...] | None) -> tuple[int, int] | None:
    return (version[0], version[1]) if version is not None and len(version) >= 2 else None


def istio_version(text: Any) -> tuple[int, int] | None:
    """An Istio release (1.x) named by a tag, an image or a chart label:
    ``1.22.3``, ``1.22-alpha.x``, ``docker.io/istio/pilot:1.20.1-distroless`` ->
    (1, 22); None for anything else."""
    if not isinstance(text, str):
        return None
    if "/" in text or ":" in text:
        text = image_tag(text)
    found = minor(parse(text))
    return found if found is not None and found[0] == 1 else None


def shown(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)
