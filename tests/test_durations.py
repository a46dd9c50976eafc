"""meshlint.domain.k8s.durations: Go's time.ParseDuration, and what a bare number means per surface."""

from __future__ import annotations

import pytest

from meshlint.domain.k8s.durations import (
    NANOSECONDS,
    collector_duration,
    duration,
    parse_go_duration,
    proto_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0.0),
        ("+0", 0.0),
        ("-0", 0.0),
        ("5s", 5.0),
        ("1m30s", 90.0),
        ("1h2m3.5s", 3723.5),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("-1.5s", -1.5),
        ("+2m", 120.0),
        ("100ns", 100e-9),
        ("3us", 3e-6),
        ("3\u00b5s", 3e-6),  # micro sign
        ("3\u03bcs", 3e-6),  # Greek mu
        ("1s500ms", 1.5),
        ("2562047h", 2562047 * 3600.0),  # the largest whole hour time.Duration holds
    ],
)
def test_go_grammar_accepts(text: str, expected: float) -> None:
    assert parse_go_duration(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "5",  # missing unit
        "00",  # only a lone "0" needs no unit
        "s",
        ".s",
        "5 s",
        " 5s",
        "5s ",
        "5sec",
        "1d",  # Go has no day unit
        "--5s",
        "5s-1s",
        "1m+30s",
        "${env:INTERVAL}",
        "2562048h",  # overflows time.Duration
    ],
)
def test_go_grammar_rejects(text: str) -> None:
    assert parse_go_duration(text) is None


def test_bare_numbers_follow_the_surface() -> None:
    # OpenTelemetry collector: mapstructure decodes an integer into time.Duration (ns)
    assert collector_duration(5) == pytest.approx(5e-9)
    assert collector_duration(0) == 0.0
    assert duration(2, bare=NANOSECONDS) == pytest.approx(2e-9)
    # Istio ProxyConfig: protobuf Duration via jsonpb takes only strings
    assert proto_duration(45) is None
    assert proto_duration(0) is None
    # everywhere: strings are Go's grammar, and "0" is a duration
    for read in (collector_duration, proto_duration):
        assert read("0") == 0.0
        assert read("25s") == 25.0
        assert read("5") is None
        assert read(True) is None
        assert read(None) is None
        assert read(["5s"]) is None
