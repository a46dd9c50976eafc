"""Findings people trust: one finding per cause, joins inside one deployment,
suppressions where people write them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import lint_text
from meshlint.cli import main

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


def test_suppressing_the_stronger_rule_there_keeps_the_implied_one_silent() -> None:
    text = BARE.replace("        - name: api\n", "        - name: api  # meshlint: ignore[K001]\n")
    assert _rules(lint_text(text, select=["K"])) == []


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


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: api
  namespace: shop
spec:
  containers:
    - name: api
      image: registry.example.com/api:2.3.0
      resources:
        requests: {memory: 256Mi}
    - name: worker
      image: registry.example.com/worker:2.3.0
      resources:
        requests: {memory: 256Mi}
"""


def _k001(text: str, **config: object) -> list[tuple[str, int]]:
    return _rules(lint_text(text, select=["K001", "M100"], **config))


def test_an_ignore_on_the_container_line_covers_the_container() -> None:
    text = POD.replace(
        "    - name: api\n", "    - name: api  # meshlint: ignore[K001] LimitRange\n"
    )
    assert _k001(text, report_unused_ignores=True) == [("K001", 14)]  # worker still reported


def test_an_ignore_above_the_container_covers_the_container() -> None:
    text = POD.replace("    - name: api\n", "    # meshlint: ignore[K001]\n    - name: api\n")
    assert _k001(text, report_unused_ignores=True) == [("K001", 15)]


def test_an_ignore_on_the_kind_line_or_first_line_covers_the_object() -> None:
    on_kind = POD.replace("kind: Pod\n", "kind: Pod  # meshlint: ignore[K001]\n")
    assert _k001(on_kind, report_unused_ignores=True) == []
    above = "# meshlint: ignore[memory-limit-missing] all of them\n" + POD
    assert _k001(above, report_unused_ignores=True) == []


def test_ids_and_slugs_in_comments_match_in_any_case() -> None:
    text = POD.replace("kind: Pod\n", "kind: Pod  # meshlint: ignore[k001]\n")
    assert _k001(text) == []
    text = POD.replace("kind: Pod\n", "kind: Pod  # meshlint: ignore[Memory-Limit-Missing]\n")
    assert _k001(text) == []


def test_a_malformed_directive_covers_nothing_and_is_reported() -> None:
    for bad in ("# meshlint: ignore K001", "# meshlint: ignore: K001", "# meshlint: ignore[K001"):
        text = POD.replace("kind: Pod\n", f"kind: Pod  {bad}\n")
        report = lint_text(text, select=["K001", "M100"])
        assert sorted(_rules(report)) == [("K001", 10), ("K001", 14), ("M100", 2)], bad
        assert "suppresses nothing" in report.findings[0].message


def test_an_unknown_rule_in_a_directive_is_reported_without_asking() -> None:
    text = POD.replace("kind: Pod\n", "kind: Pod  # meshlint: ignore[K001,K0001]\n")
    report = lint_text(text, select=["K001", "M100"])
    assert _rules(report) == [("M100", 2)]
    assert "unknown rule 'K0001'" in report.findings[0].message


def test_a_bare_ignore_with_a_reason_still_covers_every_rule() -> None:
    text = POD.replace("kind: Pod\n", "kind: Pod  # meshlint: ignore the platform sets limits\n")
    assert _k001(text) == []


def test_junit_and_the_exit_code_agree(tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text(BARE + "          resources: {requests: {memory: 1Gi}}\n")
    result = CliRunner().invoke(
        main, ["check", str(tmp_path), "--isolated", "--format", "junit", "--fail-on", "error"]
    )
    assert result.exit_code == 0, result.output
    root = ET.fromstring(result.stdout.encode())
    assert root.get("failures") == "0" and "K001" in (root.findtext(".//system-out") or "")


def test_a_reused_anchor_name_is_read_as_kubectl_reads_it() -> None:
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:1.4.2
          resources: &res {requests: {memory: 256Mi}}
        - name: worker
          image: registry.example.com/worker:1.4.2
          resources: &res {requests: {memory: 512Mi}, limits: {memory: 512Mi}}
        - name: cron
          image: registry.example.com/cron:1.4.2
          resources: *res
"""
    report = lint_text(text, select=["M001", "K001"])
    # the alias refers to the latest &res: only "api" lacks a limit
    assert _rules(report) == [("K001", 10)]
    assert '"api"' in report.findings[0].message


CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: otel-gateway, namespace: observability}
data:
  relay: |
    receivers:
      otlp:
        protocols:
          grpc: {}
    processors:
      memory_limiter:
        check_interval: 1s
        limit_mib: 512
        spike_limit_mib: 100
    exporters:
      otlp:
        endpoint: tempo.observability:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter]
          exporters: [otlp]
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: otel-gateway, namespace: observability}
spec:
  selector:
    matchLabels: {app: otel-gateway}
  template:
    metadata:
      labels: {app: otel-gateway}
    spec:
      containers:
        - name: otelcol
          image: otel/opentelemetry-collector-contrib:0.115.0
          args: [--config=/conf/relay.yaml]
          resources:
            requests: {memory: 512Mi}
            limits: {memory: 512Mi}
          volumeMounts:
            - {name: config, mountPath: /conf}
      volumes:
        - name: config
          configMap: {name: otel-gateway}
"""


def _o002(tmp_path: Path, *paths: str) -> list[str]:
    result = CliRunner().invoke(
        main, ["check", *paths, "--select", "O002", "--format", "json", "-j", "1"]
    )
    assert result.exit_code in (0, 1), result.output
    return [f["file"] for f in json.loads(result.stdout)["findings"]]


def test_joins_stay_inside_one_project_of_a_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ConfigMap of one project is not judged against another project's pod."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gateway").mkdir()
    (tmp_path / "gateway" / "configmap.yaml").write_text(CONFIG_MAP)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "deployment.yaml").write_text(DEPLOYMENT)
    assert _o002(tmp_path, ".") == []
    assert _o002(tmp_path, "gateway") == [] and _o002(tmp_path, "demo") == []
    # one project: the same two files joined, as a kustomization or by the config
    (tmp_path / "gateway" / "deployment.yaml").write_text(DEPLOYMENT)
    assert _o002(tmp_path, ".") == ["gateway/configmap.yaml"]
    (tmp_path / "gateway" / "deployment.yaml").unlink()
    (tmp_path / ".meshlint.yaml").write_text('scopes:\n  cluster: ["gateway/**", "demo/**"]\n')
    assert _o002(tmp_path, ".") == ["gateway/configmap.yaml"]


def test_a_kustomization_is_one_scope_and_files_named_alone_join_like_a_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "deploy" / "base"
    base.mkdir(parents=True)
    (base / "kustomization.yaml").write_text("resources: [configmap.yaml, deployment.yaml]\n")
    (base / "configmap.yaml").write_text(CONFIG_MAP)
    (base / "deployment.yaml").write_text(DEPLOYMENT)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "deployment.yaml").write_text(DEPLOYMENT)
    walked = _o002(tmp_path, ".")
    assert walked == ["deploy/base/configmap.yaml"]
    # pre-commit names files: the same scopes as the walk
    named = _o002(tmp_path, "deploy/base/configmap.yaml", "deploy/base/deployment.yaml")
    assert named == walked


def test_objects_without_a_namespace_do_not_join_every_namespace() -> None:
    from meshlint.domain.k8s import same_namespace

    assert same_namespace(None, None) and same_namespace("shop", "shop")
    assert not same_namespace(None, "shop") and not same_namespace("shop", None)


STANDALONE = """\
# otelcol-config.yml, mounted through a kustomize configMapGenerator
receivers:
  otlp:
    protocols:
      grpc: {endpoint: 0.0.0.0:4317}
processors:
  batch: {}
exporters:
  otlp:
    endpoint: tempo.observability:4317
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [otlp]
"""


def test_a_standalone_collector_config_is_judged_like_an_embedded_one() -> None:
    report = lint_text(STANDALONE, select=["O001", "M"], name="otelcol-config.yml")
    assert [(f.rule, f.location.line) for f in report.findings] == [("O001", 15)]
    assert str(report.findings[0].location.resource) == "CollectorConfig/<unnamed>"


def test_a_repeated_key_in_a_collector_config_is_refused_by_the_collector() -> None:
    text = STANDALONE.replace("  batch: {}\n", "  batch: {}\n  batch: {send_batch_size: 512}\n")
    (m002,) = [f for f in lint_text(text, select=["M002"]).findings]
    assert m002.location.line == 8 and "the collector refuses to load the config" in m002.message
    manifest = lint_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {}\ndata: {}\n"
    )
    message = manifest.findings[0].message
    # kubectl decodes on the client and sends the last value: nothing refuses it
    assert "kubectl (apply, create, apply --server-side) and Helm keep only the last" in message
    assert "kustomize (kubectl -k) refuses the file" in message


def test_values_files_that_are_not_configs_are_still_skipped() -> None:
    report = lint_text("replicaCount: 2\nreceivers: {otlp: {}}\n", select=["ALL"])
    assert report.findings == [] and report.skipped == 1


def test_test_assertions_are_not_linted_when_walking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kuttl/chainsaw assertions are partial objects: their "missing" limits are not
    missing, and nothing else in them is linted; what a step applies is (a malformed
    GOMEMLIMIT fails in the test cluster too), except for long-running resource
    risks: it lives for one test run."""
    monkeypatch.chdir(tmp_path)
    step = tmp_path / "tests" / "e2e" / "sidecar"
    step.mkdir(parents=True)
    malformed = BARE + "          env:\n            - {name: GOMEMLIMIT, value: 400Mi}\n"
    for name in ("00-install.yaml", "00-assert.yaml", "01-errors.yaml", "verify-app.yaml"):
        (step / name).write_text(malformed)
    (step / "chainsaw-test.yaml").write_text(
        "apiVersion: chainsaw.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: sidecar}\n"
        "spec:\n  steps:\n  - try:\n    - apply:\n        file: 00-install.yaml\n"
        "    - assert:\n        file: verify-app.yaml\n"
    )
    result = CliRunner().invoke(main, ["check", ".", "--select", "K001,K004", "-q", "--no-color"])
    assert [line.split(": ")[1].split()[0] for line in result.output.splitlines()] == ["K004"]
    assert result.output.startswith("tests/e2e/sidecar/00-install.yaml:")
    named = CliRunner().invoke(main, ["check", str(step / "00-assert.yaml"), "--select", "K001"])
    assert named.exit_code == 1  # named on the command line, it is linted


def test_a_kustomize_overlay_joins_the_base_it_builds_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    base = tmp_path / "deploy" / "base"
    overlay = tmp_path / "deploy" / "overlays" / "prod"
    other = tmp_path / "deploy" / "overlays" / "dev"
    for d in (base, overlay, other):
        d.mkdir(parents=True)
    (base / "kustomization.yaml").write_text("resources: [configmap.yaml]\n")
    (base / "configmap.yaml").write_text(CONFIG_MAP)
    (overlay / "kustomization.yaml").write_text("resources: [../../base, deployment.yaml]\n")
    (overlay / "deployment.yaml").write_text(DEPLOYMENT)
    (other / "kustomization.yaml").write_text("resources: [deployment.yaml]\n")
    (other / "deployment.yaml").write_text(DEPLOYMENT.replace("otel-gateway}", "other}"))
    assert _o002(tmp_path, ".") == ["deploy/base/configmap.yaml"]
    named = _o002(tmp_path, "deploy/base/configmap.yaml", "deploy/overlays/prod/deployment.yaml")
    assert named == ["deploy/base/configmap.yaml"]
    # without the overlay's reference the base stands alone
    (overlay / "kustomization.yaml").write_text("resources: [deployment.yaml]\n")
    assert _o002(tmp_path, ".") == []
