"""The quantity grammar against vectors executed on apimachinery's parser
(``pkg/api/resource/quantity.go``), plus properties over generated quantities."""

from __future__ import annotations

import contextlib
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from meshlint.domain.k8s.quantity import QuantityError, human_bytes, parse_quantity, quantity_of

# (input, Value()) as printed by resource.ParseQuantity(...).Value()
VALID = [
    ("1Ki", 1024),
    ("1k", 1000),
    ("128974848", 128974848),
    ("129e6", 129000000),
    ("123Mi", 128974848),
    ("100M", 100000000),
    ("2G", 2000000000),
    ("1E", 10**18),
    ("1e3", 1000),
    ("1E3", 1000),
    ("1.5e3", 1500),
    ("1E-3", 1),
    ("0.5Gi", 536870912),
    ("1.5Gi", 1610612736),
    ("1.G", 1000000000),
    (".5", 1),
    ("5.", 5),
    ("+1", 1),
    ("-1Gi", -1073741824),
    ("1.5", 2),
    ("512m", 1),
    ("0.1m", 1),
    ("3.001n", 1),
    ("1u", 1),
    ("1n", 1),
    ("10Ei", 2**63 - 1),
    ("9223372036854775807Ki", 2**63 - 1),
]
INVALID_FORMAT = ["1Mb", "1KB", "1Gb", "1 Gi", " 1", "5Mi ", "1e1.5", "1.1.M", "1+1.0M", "aoeu"]
INVALID_SUFFIX = ["1K", "1mi", "1e", "0.1mi", ".5i", "1i", "-3.01i"]


@pytest.mark.parametrize(("text", "value"), VALID)
def test_valid_vectors_give_apimachinery_values(text: str, value: int) -> None:
    assert parse_quantity(text).value() == value


@pytest.mark.parametrize("text", INVALID_FORMAT)
def test_malformed_quantities_fail_with_the_regular_expression_message(text: str) -> None:
    with pytest.raises(QuantityError, match="regular expression"):
        parse_quantity(text)


@pytest.mark.parametrize("text", INVALID_SUFFIX)
def test_unknown_suffixes_fail_with_the_suffix_message(text: str) -> None:
    with pytest.raises(QuantityError, match="suffix"):
        parse_quantity(text)


def test_rounding_is_up_to_nano_precision() -> None:
    assert parse_quantity("3.001n").amount == Fraction(4, 10**9)
    assert parse_quantity("0.9n").amount == Fraction(1, 10**9)
    assert parse_quantity("-3.001n").amount == Fraction(-4, 10**9)


def test_fractional_bytes_are_detected_like_the_api_warning() -> None:
    assert parse_quantity("512m").fractional
    assert parse_quantity(".5").fractional
    assert not parse_quantity("512Mi").fractional
    assert not parse_quantity("1000m").fractional


def test_manifest_values_are_trimmed_and_may_be_bare_numbers() -> None:
    q = quantity_of(" 1Gi ")
    assert q is not None and q.value() == 2**30
    assert quantity_of(134217728).value() == 134217728  # type: ignore[union-attr]
    assert quantity_of(0.5).value() == 1  # type: ignore[union-attr]
    assert quantity_of(None) is None
    for wrong in (True, [1], {"a": 1}, float("inf")):
        with pytest.raises(QuantityError):
            quantity_of(wrong)


def test_absurd_inputs_stay_finite() -> None:
    assert parse_quantity("1e999999999").value() > 2**63
    assert parse_quantity("1e-999999999").value() == 1
    assert parse_quantity("99999999999999999999Ei").value() == 2**63 - 1
    with pytest.raises(QuantityError):
        parse_quantity("9" * 5000)


def test_human_bytes() -> None:
    assert human_bytes(268435456) == "256 MiB"
    assert human_bytes(262144000) == "250 MiB"
    assert human_bytes(2040107008) == "1.9 GiB"
    assert human_bytes(12) == "12 B"


DIGITS = st.text("0123456789", min_size=1, max_size=12)
SUFFIXES = st.sampled_from(
    [
        "",
        "n",
        "u",
        "m",
        "k",
        "M",
        "G",
        "T",
        "P",
        "E",
        "Ki",
        "Mi",
        "Gi",
        "Ti",
        "Pi",
        "Ei",
        "e3",
        "E-2",
        "e+4",
    ]
)


@given(DIGITS, st.one_of(st.none(), st.text("0123456789", max_size=6)), SUFFIXES)
def test_every_grammatical_quantity_parses_and_is_exact(
    num: str, frac: str | None, suffix: str
) -> None:
    text = num + ("." + frac if frac is not None else "") + suffix
    q = parse_quantity(text)
    mantissa = Fraction(int(num + (frac or "")), 10 ** len(frac or ""))
    scale = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
    if suffix in scale:
        exact = min(mantissa * scale[suffix], Fraction(2**63 - 1))
    else:
        exponent = {
            "": 0,
            "n": -9,
            "u": -6,
            "m": -3,
            "k": 3,
            "M": 6,
            "G": 9,
            "T": 12,
            "P": 15,
            "E": 18,
        }.get(suffix)
        exact = mantissa * Fraction(10) ** (exponent if exponent is not None else int(suffix[1:]))
    # rounded up to the next nano, never down
    assert exact <= q.amount < exact + Fraction(1, 10**9) or q.amount == 2**63 - 1


@given(st.text(max_size=20))
def test_arbitrary_text_parses_or_raises_quantity_error(text: str) -> None:
    with contextlib.suppress(QuantityError):
        parse_quantity(text)
