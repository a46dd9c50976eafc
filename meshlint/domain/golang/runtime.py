"""The Go runtime's ``GOMEMLIMIT``: grammar and value (Go 1.19+ ``parseByteCount``).

A value is decimal digits with an optional ``B``, ``KiB``, ``MiB``, ``GiB`` or
``TiB`` suffix, or ``off``; anything else (``400Mi``, ``512M``, ``1.5GiB``)
aborts the process at start-up with "malformed GOMEMLIMIT" (golang/go
``src/runtime/string.go`` ``parseByteCount``, read by ``src/runtime/mgcpacer.go``
``readGOMEMLIMIT``; observed with a Go 1.19.8 binary).
"""

from __future__ import annotations

import re

from meshlint.domain.k8s.objects import Container, EnvVar
from meshlint.domain.numbers import integer

GOMEMLIMIT = "GOMEMLIMIT"
_GRAMMAR = re.compile(r"^([0-9]+)((?:[KMGT]i)?B)?$")
_UNITS = {None: 1, "B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}
OFF = -1


class Malformed(ValueError):
    pass


def parse_gomemlimit(text: str) -> int | None:
    """Bytes; OFF for ``off``; None for unset (empty); raises Malformed."""
    if text == "":
        return None
    if text == "off":
        return OFF
    match = _GRAMMAR.match(text)
    if not match or len(match.group(1)) > 20:
        raise Malformed(text)
    value = integer(match.group(1)) * _UNITS[match.group(2)]
    if value >= 2**63:  # parseByteCount refuses what overflows an int64
        raise Malformed(text)
    return value


def suggestion(text: str) -> str | None:
    """A Kubernetes-style quantity rewritten for Go: ``400Mi`` -> ``400MiB``."""
    match = re.fullmatch(r"([0-9]+)(Ki|Mi|Gi|Ti)", text.strip())
    if match:
        return f"{match.group(1)}{match.group(2)}B"
    match = re.fullmatch(r"([0-9]+)(KiB|MiB|GiB|TiB|B)?", text.strip())
    if match and text != text.strip():
        return text.strip()
    return None


def gomemlimit_of(container: Container) -> EnvVar | None:
    """The GOMEMLIMIT entry that wins for this container, if any."""
    return container.env_var(GOMEMLIMIT)
