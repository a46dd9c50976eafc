"""Only what an owner would change (issue 24), through the installed console
script on realistic manifests: worst cases that cannot happen, short-lived pods,
files that are not manifests, one decision one ignore."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from test_cli_installed import run

VENDOR_AGENT = """\
# Source: splunk-otel-collector/templates/configmap-cluster-receiver.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: default-splunk-otel-collector-otel-k8s-cluster-receiver
  namespace: default
data:
  relay: |
    exporters:
      splunk_hec/platform_logs:
        endpoint: http://collector.splunk.example:8088/services/collector
        timeout: 10s
        sending_queue:
          queue_size: 1000
          num_consumers: 10
      otlp:
        endpoint: gateway.observability:4317
    processors:
      memory_limiter:
        check_interval: 2s
        limit_percentage: 80
        spike_limit_percentage: 25
      batch:
        send_batch_max_size: 32768
        send_batch_size: 16384
    receivers:
      k8sobjects:
        objects:
          - {name: events, mode: watch}
    service:
      pipelines:
        logs:
          receivers: [k8sobjects]
          processors: [memory_limiter, batch]
          exporters: [splunk_hec/platform_logs]
        logs/forward:
          receivers: [k8sobjects]
          processors: [memory_limiter, batch]
          exporters: [otlp]
---
# Source: splunk-otel-collector/templates/deployment-cluster-receiver.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: default-splunk-otel-collector-k8s-cluster-receiver
  namespace: default
spec:
  selector:
    matchLabels: {app: splunk-otel-collector}
  template:
    metadata:
      labels: {app: splunk-otel-collector}
    spec:
      terminationGracePeriodSeconds: 600
      containers:
        - name: otel-collector
          image: quay.io/signalfx/splunk-otel-collector:0.130.0
          args: [--config=/conf/relay.yaml]
          env:
            - {name: GOMEMLIMIT, value: 400MiB}
          resources:
            requests: {memory: 500Mi}
            limits: {memory: 500Mi}
          volumeMounts:
            - {name: collector-configmap, mountPath: /conf}
      volumes:
        - name: collector-configmap
          configMap:
            name: default-splunk-otel-collector-otel-k8s-cluster-receiver
            items:
              - {key: relay, path: relay.yaml}
"""


def _check(cwd: Path, *args: str) -> dict[str, Any]:
    done = run(cwd, "check", "--isolated", "--format", "json", "--fail-on", "never", *args)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def _rules(report: dict[str, Any]) -> list[tuple[str, int]]:
    return [(f["rule"], f["line"]) for f in report["findings"]]


def test_queues_behind_a_memory_limiter_and_a_healthy_drain_are_not_reported(
    tmp_path: Path,
) -> None:
    (tmp_path / "rendered.yaml").write_text(VENDOR_AGENT, encoding="utf-8")
    report = _check(tmp_path, "--select", "O003,O009,O010", "rendered.yaml")
    # 1000 requests x 32768 items is ~156 GiB on paper, but the memory_limiter
    # refuses data first; 1000 / 10 x 200 ms drains in 20s of 600s; the batch
    # flushes every 200ms, 2000 spans at 10000 spans/s (logs: not span sized).
    assert _rules(report) == []


def test_the_same_queues_without_a_limiter_are_reported_with_their_parameters(
    tmp_path: Path,
) -> None:
    text = VENDOR_AGENT.replace("[memory_limiter, batch]", "[batch]")
    text = text.replace("terminationGracePeriodSeconds: 600", "terminationGracePeriodSeconds: 10")
    (tmp_path / "rendered.yaml").write_text(text, encoding="utf-8")
    report = _check(tmp_path, "--select", "O003,O010", "rendered.yaml")
    by_rule = {(f["rule"], f["line"]): f["message"] for f in report["findings"]}
    queue = by_rule[("O003", 14)]
    assert "~156 GiB (1000 requests x 32768 items" in queue
    assert "span-size-bytes 1024, span-overhead-bytes 4096" in queue
    assert "no memory_limiter guards" in queue
    # the otlp exporter has no sending_queue block: its default queue is judged
    default = by_rule[("O003", 16)]
    assert 'Exporter "otlp" default sending_queue' in default
    assert "1000 requests x 32768 items" in default
    drain = by_rule[("O010", 14)]
    assert "takes 20s to drain" in drain and "export-latency-ms 200" in drain


def test_a_batch_is_judged_at_the_rate_its_timeout_implies(tmp_path: Path) -> None:
    agent = VENDOR_AGENT.replace("logs:", "traces:").replace("logs/forward:", "traces/forward:")
    (tmp_path / "rendered.yaml").write_text(agent, encoding="utf-8")
    assert _rules(_check(tmp_path, "--select", "O009", "rendered.yaml")) == []
    slow = agent.replace("send_batch_size: 16384", "send_batch_size: 16384\n        timeout: 2s")
    (tmp_path / "rendered.yaml").write_text(slow, encoding="utf-8")
    (finding,) = _check(tmp_path, "--select", "O009", "rendered.yaml")["findings"]
    assert "~16 MiB under load" in finding["message"]
    assert "min(send_batch_size 16384, 10000 spans/s x timeout 2s)" in finding["message"]
    fast = slow.replace("timeout: 2s", "timeout: 0s")
    (tmp_path / "rendered.yaml").write_text(fast, encoding="utf-8")
    assert _rules(_check(tmp_path, "--select", "O009", "rendered.yaml")) == []


BARE_APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout, namespace: shop}
spec:
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        # meshlint: ignore[K001] sized by the namespace LimitRange
        - name: checkout
          image: registry.example.com/checkout:2.3.1
"""


def test_one_decision_one_ignore(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(BARE_APP, encoding="utf-8")
    report = _check(tmp_path, "--select", "K", "app.yaml")
    assert _rules(report) == []
    assert report["summary"]["suppressed"] == 1


CHART_RENDER = """\
---
# Source: jaeger/templates/query-deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-query
spec:
  selector:
    matchLabels: {app: jaeger-query}
  template:
    metadata:
      labels: {app: jaeger-query}
    spec:
      initContainers:
        - name: wait-for-cassandra
          image: busybox:1.36
          command: [sh, -c, "until nc -z jaeger-cassandra 9042; do sleep 2; done"]
      containers:
        - name: query
          image: jaegertracing/jaeger-query:1.57.0
          resources:
            requests: {memory: 256Mi}
            limits: {memory: 256Mi}
---
# Source: jaeger/templates/tests/test-connection.yaml
apiVersion: v1
kind: Pod
metadata:
  name: jaeger-test-connection
  annotations:
    "helm.sh/hook": test
spec:
  restartPolicy: Never
  containers:
    - name: wget
      image: busybox:1.36
      command: ['wget']
      args: ['jaeger-query:16686']
---
# Source: jaeger/templates/cassandra-schema-job.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: jaeger-cassandra-schema
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
spec:
  template:
    spec:
      restartPolicy: OnFailure
      containers:
        - name: schema
          image: jaegertracing/jaeger-cassandra-schema:1.57.0
---
# Source: jaeger/templates/collector-otel.yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: jaeger-otel
spec:
  mode: deployment
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    exporters:
      debug: {}
    service:
      pipelines:
        traces: {receivers: [otlp], exporters: [debug]}
"""


def test_short_lived_pods_are_not_judged_and_a_collector_cr_is(tmp_path: Path) -> None:
    (tmp_path / "render.yaml").write_text(CHART_RENDER, encoding="utf-8")
    report = _check(tmp_path, "--select", "K001,K002", "render.yaml")
    (finding,) = report["findings"]
    assert (finding["rule"], finding["resource"]["kind"]) == ("K001", "OpenTelemetryCollector")
    assert "no memory limit and no memory request in spec.resources" in finding["message"]


def test_walks_skip_files_that_are_not_manifests(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "testdata").mkdir()
    (tmp_path / "deploy" / "render.yaml").write_text(CHART_RENDER, encoding="utf-8")
    (tmp_path / "testdata" / "spans.json").write_text(
        '{"traceId":"5b8efff798038103d269b633813fc60c","name":"GET /cart"}\n'
        '{"traceId":"eee19b7ec3c1b174a0c2a0e0e7e2a6c9","name":"POST /checkout"}\n',
        encoding="utf-8",
    )
    (tmp_path / "deploy" / "configmap.tmpl.yaml").write_text(
        "{{- if .Values.enabled }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n"
        "  name: {{ .Release.Name }}\ndata:\n  level: {{ .Values.level | quote }}\n{{- end }}\n",
        encoding="utf-8",
    )
    (tmp_path / "deploy" / "scripts.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: discoverer}\ndata:\n"
        "  script: |\n    #! /usr/bin/bash\n    set -ex\n"
        "    yq e '.receivers.kubeletstats.endpoint = env(NODE)' -i relay.yaml\n"
        '    if [[ "${POD}" == *-0 ]]; then echo "exporters: pipelines"; fi\n',
        encoding="utf-8",
    )
    report = _check(tmp_path, "--select", "M", ".")
    assert report["findings"] == []
    assert report["summary"]["not_manifests"] == 2
    assert report["summary"]["skipped"] == 0  # spans.json is skipped as a file, not counted twice
    named = _check(tmp_path, "--select", "M", "testdata/spans.json")
    assert [f["rule"] for f in named["findings"]] == ["M001"]


def test_a_helm_stream_joins_in_the_release_namespace_and_resolves_env(tmp_path: Path) -> None:
    render = Path(__file__).parent / "fixtures" / "jaeger-v2-helm-render.yaml"
    (tmp_path / "render.yaml").write_text(render.read_text(encoding="utf-8"), encoding="utf-8")
    done = run(tmp_path, "check", "--isolated", "--select", "J006,O003", "-v", "render.yaml")
    assert done.returncode == 1, done.stderr
    # the ConfigMap writes namespace: default, the Deployment none: one release
    assert "render.yaml:31:27: J006 [warning]" in done.stdout
    assert "max_traces ${env:MEMORY_MAX_TRACES} = 25000" in done.stdout
    assert "more than the memory limit 600Mi (600 MiB)" in done.stdout
    # the collector pod whose ConfigMap is not in the linted files is named
    assert (
        'meshlint: note: render.yaml: container "otelcol" of Deployment/otel-agent mounts '
        'ConfigMap "otel-agent-config", which is not in the linted files'
    ) in done.stderr
    quiet = run(tmp_path, "check", "--isolated", "--select", "J006,O003", "render.yaml")
    assert "meshlint: note:" not in quiet.stderr


def test_objects_of_a_stream_in_different_namespaces_do_not_join(tmp_path: Path) -> None:
    render = Path(__file__).parent / "fixtures" / "jaeger-v2-helm-render.yaml"
    text = render.read_text(encoding="utf-8").replace(
        "  name: otel-agent\n", "  name: otel-agent\n  namespace: monitoring\n"
    )
    (tmp_path / "render.yaml").write_text(text, encoding="utf-8")
    report = _check(tmp_path, "--select", "J006", "render.yaml")
    # two namespaces written: the release namespace is unknown, the Deployment
    # without one is not assumed to be in "default"
    assert report["findings"] == []


def test_namespace_option_names_the_release_namespace(tmp_path: Path) -> None:
    render = Path(__file__).parent / "fixtures" / "jaeger-v2-helm-render.yaml"
    text = render.read_text(encoding="utf-8").replace(
        "  namespace: default\n", "  namespace: observability\n"
    )
    (tmp_path / "render.yaml").write_text(text, encoding="utf-8")
    # rendered with -n observability: the Deployment without one is there too
    inside = _check(tmp_path, "--select", "J006", "--namespace", "observability", "render.yaml")
    assert _rules(inside) == [("J006", 31)]
    # applied to another namespace, the Deployment does not mount that ConfigMap
    other = _check(tmp_path, "--select", "J006", "--namespace", "tracing", "render.yaml")
    assert other["findings"] == []


CHAINSAW_TEST = """\
apiVersion: chainsaw.kyverno.io/v1alpha1
kind: Test
metadata: {name: instrumentation-go}
spec:
  steps:
    - try:
        - apply: {file: 00-install-collector.yaml}
        - assert: {file: 00-assert.yaml}
"""

E2E_COLLECTOR = """\
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: deployment}
spec:
  mode: deployment
  config:
    receivers: {otlp: {protocols: {grpc: {}}}}
    exporters: {debug: {}}
    service:
      pipelines:
        traces: {receivers: [otlp], exporters: [debug]}
"""


def test_what_an_e2e_test_step_applies_is_not_judged_for_long_running_risks(
    tmp_path: Path,
) -> None:
    """The operator's chainsaw tests apply a collector for one test run in a
    throw-away cluster: nobody sizes it. The same collector deployed is judged."""
    step = tmp_path / "tests" / "e2e" / "instrumentation-go"
    step.mkdir(parents=True)
    (step / "chainsaw-test.yaml").write_text(CHAINSAW_TEST, encoding="utf-8")
    (step / "00-install-collector.yaml").write_text(E2E_COLLECTOR, encoding="utf-8")
    (step / "00-assert.yaml").write_text("apiVersion: v1\nkind: Pod\n", encoding="utf-8")
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "collector.yaml").write_text(E2E_COLLECTOR, encoding="utf-8")
    report = _check(tmp_path, "--select", "K001,K002", ".")
    assert [(f["rule"], f["file"]) for f in report["findings"]] == [
        ("K001", "deploy/collector.yaml")
    ]
    # a kuttl step directory (its <n>-assert.yaml) is one too
    (step / "chainsaw-test.yaml").unlink()
    assert _rules(_check(tmp_path, "--select", "K001", "tests")) == []
