"""Numbers written as text in the input, converted only when they are short.

Python refuses to convert an integer of more than 4,300 digits between text and
``int`` (a ValueError that would end a run as an internal error), and a long
number costs time to convert; no product setting, version part or quantity
exponent is that long (an int64 has 19 digits). Every parser of versions,
counts, sizes and exponents in ``meshlint.domain`` converts through here.
"""

from __future__ import annotations

__all__ = ["MAX_DIGITS", "integer"]

# Digits (with a sign, underscores and a base prefix) a number may have: twice
# a uint64's, so that every value a Go program could parse still converts.
MAX_DIGITS = 40


def integer(text: str, base: int = 10) -> int:
    """``int(text, base)`` for a text of at most MAX_DIGITS characters (blanks
    around it not counted); ValueError, as ``int`` raises for a malformed one,
    for anything longer."""
    text = text.strip()
    if len(text) > MAX_DIGITS:
        raise ValueError(f"a number of more than {MAX_DIGITS} digits")
    return int(text, base)
