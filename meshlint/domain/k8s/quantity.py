"""The Kubernetes resource quantity grammar, as apimachinery's ParseQuantity reads it.

Behaviour follows ``kubernetes/apimachinery:pkg/api/resource/quantity.go`` and
``suffix.go`` (tests/test_quantity.py replays vectors executed on that parser):

* suffixes ``n u m "" k M G T P E`` (decimal), ``Ki Mi Gi Ti Pi Ei`` (binary) and
  ``e<int>``/``E<int>`` exponents; upper-case ``K`` is not a suffix, ``E`` alone is exa;
* values are rounded *up* (away from zero) to nano precision; binary values are
  capped at 2**63-1; ``Value()`` rounds up to a whole number, so ``512m`` of memory
  is a one-byte limit;
* values arriving through JSON/YAML are trimmed of surrounding white space and may
  be bare numbers.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from meshlint.domain.numbers import integer

_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_BINARY = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_MAX_INT64 = 2**63 - 1
_NANO = Fraction(1, 10**9)
# Exponents beyond this only describe absurd amounts; clamping them keeps the
# arithmetic finite on hostile input ("1e999999999") without changing any verdict.
_MAX_EXPONENT = 64
_MAX_DIGITS = 1000


class QuantityError(ValueError):
    """The text is not a Kubernetes quantity; the message says why, as the API would."""


@dataclass(frozen=True, slots=True)
class Quantity:
    text: str
    amount: Fraction  # exact, after the API's rounding and capping
    binary: bool  # written with a binary suffix (Ki, Mi, ...)

    def value(self) -> int:
        """The whole-number value, rounded up like ``Quantity.Value()``."""
        return _round_away(self.amount)

    def milli_value(self) -> int:
        return _round_away(self.amount * 1000)

    @property
    def fractional(self) -> bool:
        """True for a non-integer amount: invalid for bytes (``512m``)."""
        if self.amount.denominator == 1:
            return False  # a whole amount (the common case), without Fraction arithmetic
        return self.milli_value() % 1000 != 0

    def __str__(self) -> str:
        return self.text


def _round_away(x: Fraction) -> int:
    if x.denominator == 1:
        return x.numerator  # a whole amount (the common case): nothing to round
    return math.ceil(x) if x >= 0 else math.floor(x)


def _split(text: str) -> tuple[bool, str, str, str]:
    """Split into (positive, numerator digits, denominator digits, suffix)."""
    pos, end, positive = 0, len(text), True
    if text[:1] in ("+", "-"):
        positive = text[0] == "+"
        pos = 1
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos].lstrip("0") or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos != end:
        raise QuantityError(
            "quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        )
    return positive, num, denom, text[suffix_start:end]


def _interpret(suffix: str) -> tuple[int, int, bool]:
    """(base, exponent, binary) of a suffix, or QuantityError."""
    if suffix in _DECIMAL:
        return 10, _DECIMAL[suffix], False
    if suffix in _BINARY:
        return 2, _BINARY[suffix], True
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[0] in "+-" else digits
        if body and body.isdigit() and body.isascii():
            try:
                # ParseQuantity reads the exponent as an int32: a longer one fails
                return 10, integer(digits), False
            except ValueError:
                pass
    raise QuantityError("unable to parse quantity's suffix")


@functools.lru_cache(maxsize=4096)  # several rules read each container's few quantities
def parse_quantity(text: str) -> Quantity:
    """Parse exactly as ParseQuantity does (no trimming); raise QuantityError."""
    if not text:
        raise QuantityError("quantities must not be empty")
    positive, num, denom, suffix = _split(text)
    base, exponent, binary = _interpret(suffix)
    if len(num) + len(denom) > _MAX_DIGITS:
        raise QuantityError(f"quantities of more than {_MAX_DIGITS} digits are not evaluated")
    amount = Fraction(int(num + denom), 10 ** len(denom))
    if base == 2:
        amount *= 2**exponent
    else:
        exponent = max(-_MAX_EXPONENT, min(_MAX_EXPONENT, exponent))
        amount *= Fraction(10) ** exponent
    if amount:
        amount = math.ceil(amount / _NANO) * _NANO
    if binary and amount > _MAX_INT64:
        amount = Fraction(_MAX_INT64)
    return Quantity(text, amount if positive else -amount, binary and amount >= 1)


def quantity_of(value: object) -> Quantity | None:
    """Read a manifest value (string or bare number) as the API server would.

    Returns None for null. Raises QuantityError for anything the API rejects,
    including booleans and collections.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuantityError(f"a quantity must be a string or a number, not {_kind(value)}")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QuantityError("quantities must be finite numbers")
        text = repr(value)
    else:
        text = str(value).strip()
    return parse_quantity(text)


def _kind(value: object) -> str:
    return {dict: "a mapping", list: "a list", bool: "a boolean"}.get(type(value), "a value")


def human_bytes(n: int) -> str:
    """``268435456`` -> ``256 MiB``; ``262144000`` -> ``250 MiB``; ``1500`` -> ``1.5 KiB``."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n) >= size:
            if not n % size:
                return f"{n // size} {unit}"
            if unit != "TiB" and abs(n) < 1000 * size:
                return f"{n / size:.3g} {unit}"
            if unit != "TiB":  # 1000-1023.9 of a unit: no "1.01e+03 MiB"; never rounded up to 1024
                return f"{math.floor(n * 10 / size) / 10:.1f} {unit}"
            try:
                return f"{n / size:.3g} {unit}"
            except OverflowError:  # more than a float holds (a 400-digit limit)
                return f"{Decimal(n) / size:.3g} {unit}"
    return f"{n} B"
