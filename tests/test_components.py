"""What a container is, from its image, name and settings."""

from __future__ import annotations

import pytest

from meshlint.domain.components import Component, component_of, repository
from meshlint.domain.k8s.objects import Container


def _container(image: str, name: str = "main", args: tuple[str, ...] = ()) -> Container:
    return Container((), {"name": name, "image": image, "args": list(args)}, "container")


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "docker.io/jaegertracing/jaeger-collector:1.57.0@sha256:abc",
            "jaegertracing/jaeger-collector",
        ),
        ("localhost:5000/team/app:1", "team/app"),
        ("nginx", "nginx"),
        ("registry.example.com:443/a/b/c:tag", "b/c"),
    ],
)
def test_repository_drops_registry_tag_and_digest(image: str, expected: str) -> None:
    assert repository(image) == expected


@pytest.mark.parametrize(
    ("image", "name", "args", "expected"),
    [
        ("jaegertracing/jaeger-collector:1.57.0", "c", (), Component.JAEGER_COLLECTOR),
        (
            "registry.redhat.io/rhosdt/jaeger-collector-rhel8:1.57",
            "c",
            (),
            Component.JAEGER_COLLECTOR,
        ),
        ("jaegertracing/all-in-one:1.57", "j", (), Component.JAEGER_ALL_IN_ONE),
        ("jaegertracing/jaeger:2.1.0", "j", (), Component.JAEGER_V2),
        ("otel/opentelemetry-collector-contrib:0.115.0", "o", (), Component.OTEL_COLLECTOR),
        ("ghcr.io/acme/otelcol-custom:1.0", "o", (), Component.OTEL_COLLECTOR),
        ("gcr.io/istio-release/proxyv2:1.22.0", "istio-proxy", (), Component.ISTIO_PROXY),
        ("auto", "istio-proxy", (), Component.ISTIO_PROXY),
        ("docker.io/istio/ztunnel:1.22.0", "istio-proxy", (), None),
        ("envoyproxy/envoy:v1.31.0", "envoy", (), Component.ENVOY),
        (
            "registry.example.com/tracing:1",
            "c",
            ("--collector.queue-size=5000",),
            Component.JAEGER_COLLECTOR,
        ),
        (
            "quay.io/prometheus/node-exporter:v1.8.0",
            "n",
            ("--collector.filesystem.mount-points-exclude=^/sys",),
            None,
        ),
        ("nginx:1.27", "web", (), None),
    ],
)
def test_component_recognition(
    image: str, name: str, args: tuple[str, ...], expected: Component | None
) -> None:
    assert component_of(_container(image, name, args)) is expected


def test_the_containers_of_a_document_and_what_they_are_are_read_once() -> None:
    """Rules share one Container per container of a document, and what it runs
    is worked out once: the same answers as reading the data each time."""
    from meshlint.core.loading import parse_text
    from meshlint.domain import components
    from meshlint.domain.k8s.objects import containers, containers_of

    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template:
    spec:
      initContainers:
        - {name: setup, image: busybox}
        - {name: agent, image: jaegertracing/jaeger-agent:1.57, restartPolicy: Always}
      containers:
        - {name: app, image: app:1, args: [--collector.queue-size=10]}
        - {name: istio-proxy, image: docker.io/istio/proxyv2:1.22.0}
"""
    (doc,) = parse_text("a.yaml", text).documents
    found = containers_of(doc)
    assert found is containers_of(doc)
    assert found == tuple(containers(doc.data, doc.kind))
    assert containers_of(doc, init=False) == tuple(containers(doc.data, doc.kind, init=False))
    assert [component_of(c) for c in found] == [
        components._component_of(c) for c in containers(doc.data, doc.kind)
    ]
    assert [component_of(c) for c in found] == [
        None,
        Component.JAEGER_AGENT,
        Component.JAEGER_COLLECTOR,
        Component.ISTIO_PROXY,
    ]
    assert all(component_of in c._memo for c in found)
