"""Findings people trust: one finding per cause, joins inside one deployment,
suppressions where people write them."""

from __future__ import annotations

from conftest import lint_text

BARE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.4.2
"""


def _rules(report: object) -> list[tuple[str, int]]:
    return [(f.rule, f.location.line) for f in report.findings]  # type: ignore[attr-defined]


def test_a_container_without_memory_settings_gets_one_finding() -> None:
    report = lint_text(BARE, select=["K"])
    assert _rules(report) == [("K001", 8)]
    assert report.findings[0].message.endswith("has no memory limit and no memory request")


def test_the_implied_rule_reports_when_the_stronger_one_is_deselected() -> None:
    assert _rules(lint_text(BARE, select=["K"], ignore=("K001",))) == [("K002", 8)]


def test_the_implied_rule_reports_when_the_stronger_one_is_suppressed_there() -> None:
    text = BARE.replace("        - name: api\n", "        - name: api  # meshlint: ignore[K001]\n")
    assert _rules(lint_text(text, select=["K"])) == [("K002", 8)]


def test_a_request_without_limit_is_k001_alone_and_says_only_that() -> None:
    text = BARE + "          resources: {requests: {memory: 128Mi}}\n"
    report = lint_text(text, select=["K001", "K002"])
    assert _rules(report) == [("K001", 10)]
    assert report.findings[0].message.endswith('"api" has no memory limit')


GATEWAY = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-ingressgateway, namespace: istio-ingress}
spec:
  template:
    spec:
      containers:
        - name: istio-proxy
          image: docker.io/istio/proxyv2:1.22.3
          args: ["proxy", "router"]
"""


def test_an_istio_gateway_without_limit_is_reported_once() -> None:
    assert [r for r, _ in _rules(lint_text(GATEWAY, select=["K001", "I006"]))] == ["K001"]
    alone = lint_text(GATEWAY, select=["K001", "I006"], ignore=("K001",))
    assert [r for r, _ in _rules(alone)] == ["I006"]
