"""Domain facts behind J006, O006-O010, I007 and I008, each against the upstream
behaviour it encodes."""

from __future__ import annotations

import pytest

from meshlint.domain.cardinality import istio_unbounded
from meshlint.domain.istio import wide
from meshlint.domain.otel import is_type


@pytest.mark.parametrize(
    ("component", "section", "types", "expected"),
    [
        ("otlp/tempo", "exporters", ("otlp",), True),
        ("otlp_grpc/tempo", "exporters", ("otlp",), True),
        ("otlp", "exporters", ("otlp_grpc",), True),
        ("otlphttp", "exporters", ("otlp",), False),
        ("k8sattributes", "processors", ("k8s_attributes",), True),
        ("span_metrics", "connectors", ("spanmetrics",), True),
        ("spanmetrics/red", "connectors", ("span_metrics",), True),
        ("servicegraph", "connectors", ("spanmetrics",), False),
    ],
)
def test_both_spellings_are_one_component(
    component: str, section: str, types: tuple[str, ...], expected: bool
) -> None:
    assert is_type(component, section, *types) is expected


@pytest.mark.parametrize(
    ("kind", "pattern", "family"),
    [
        ("regex", ".*", ("cluster.*", "listener.*", "http.*")),
        ("prefix", "", ("cluster.*", "listener.*", "http.*")),
        ("prefix", "cluster.", ("cluster.*",)),
        ("prefix", "cluster.outbound", ("cluster.*",)),
        ("regex", r"cluster\..*", ("cluster.*",)),
        ("prefix", "http.", ("http.*",)),
        ("prefix", "listener", ("listener.*",)),
        ("prefix", "cluster.outbound|9080||reviews.bookinfo.svc.cluster.local", ()),
        ("prefix", "cluster_manager", ()),
        ("regex", ".*outlier_detection.*", ()),
        ("suffix", "upstream_rq_total", ()),
        ("regex", "[unclosed", ()),
    ],
)
def test_stats_inclusion_width(kind: str, pattern: str, family: tuple[str, ...]) -> None:
    assert wide(kind, pattern) == family


@pytest.mark.parametrize(
    ("expression", "attribute"),
    [
        ("request.url_path", "request.url_path"),
        ("request.headers['user-agent']", "request.headers["),
        ("string(request.id)", "request.id"),
        ("request.path", "request.path"),
        ("request.method", None),
        ("has(request.headers['x-tenant']) ? 'yes' : 'no'", None),
        ("request.url_path.startsWith('/v2') ? 'v2' : 'v1'", None),
        ("response.code", None),
    ],
)
def test_unbounded_istio_expressions(expression: str, attribute: str | None) -> None:
    assert istio_unbounded(expression) == attribute


def test_stats_message_names_what_one_prefix_keeps() -> None:
    """One prefix keeps its own family, not every cluster, listener and manager."""
    from meshlint.domain.istio import kept_text

    text = kept_text("prefix", "listener.", wide("prefix", "listener."))
    assert (
        text == "every stat whose name starts 'listener.', a set for every listener the proxy has"
    )
    assert "cluster" not in text
    everything = kept_text("regex", ".*", wide("regex", ".*"))
    assert everything.endswith(
        "upstream cluster, listener and HTTP connection manager the proxy has"
    )
