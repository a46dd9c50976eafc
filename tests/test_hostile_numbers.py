"""Numbers of thousands of digits wherever a version, a count, a size, a
duration or a quantity is read (issue #28 "Huge numbers still abort the run"):
findings or silence, never ``Exceeds the limit (4300 digits)``."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_untrusted import run_installed

from meshlint.domain.numbers import MAX_DIGITS, integer

BIG = "9" * 5000
HEX = "0x" + "f" * 4500  # converts to an int of 5,400 digits, which cannot be printed

WORKLOAD = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: checkout, namespace: shop}}
spec:
  template:
    metadata:
      annotations:
        sidecar.istio.io/proxyMemoryLimit: "{BIG}Mi"
        proxy.istio.io/config: "terminationDrainDuration: {BIG}s"
    spec:
      terminationGracePeriodSeconds: {BIG}
      containers:
        - name: checkout
          image: registry.example.com/checkout:1.{BIG}.0
          env:
            - {{name: GOMEMLIMIT, value: "{BIG}MiB"}}
            - {{name: OTEL_BSP_MAX_QUEUE_SIZE, value: "{BIG}"}}
            - {{name: JAEGER_REPORTER_MAX_QUEUE_SIZE, value: "{BIG}"}}
          resources: {{limits: {{memory: 1e{BIG}}}, requests: {{memory: "{BIG}"}}}}
        - name: collector
          image: jaegertracing/jaeger-collector:1.{BIG}
          args: ["--collector.queue-size={BIG}", "--collector.queue-size-memory={HEX}"]
          resources: {{limits: {{memory: {BIG}Mi}}}}
        - name: otel
          image: otel/opentelemetry-collector-contrib:0.{BIG}.0
          resources: {{limits: {{memory: 512Mi}}}}
"""
COLLECTOR_CONFIG = f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: otel-config, namespace: shop}}
data:
  config.yaml: |
    receivers: {{otlp: {{protocols: {{grpc: {{max_recv_msg_size_mib: {BIG}}}}}}}}}
    processors:
      memory_limiter: {{check_interval: 1s, limit_mib: {BIG}, spike_limit_mib: "{BIG}"}}
      batch: {{send_batch_size: {BIG}, send_batch_max_size: {HEX}}}
      tail_sampling: {{num_traces: {BIG}, decision_wait: {BIG}s}}
    exporters:
      otlp: {{endpoint: "x:4317", sending_queue: {{queue_size: {BIG}, num_consumers: "{BIG}"}}}}
    service:
      pipelines: {{traces: {{receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp]}}}}
"""
ISTIO = f"""\
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {{name: control-plane, namespace: istio-system}}
spec:
  tag: 1.{BIG}.0
  meshConfig: {{defaultConfig: {{tracing: {{sampling: {BIG}}}}}}}
  values: {{pilot: {{traceSampling: {BIG}}}}}
"""


@pytest.mark.parametrize(
    "manifest", [WORKLOAD, COLLECTOR_CONFIG, ISTIO], ids=["workload", "collector", "istio"]
)
def test_numbers_of_thousands_of_digits_abort_nothing(tmp_path: Path, manifest: str) -> None:
    (tmp_path / "huge.yaml").write_text(manifest)
    done = run_installed(tmp_path, "check", "--isolated", "-q", "huge.yaml")
    assert "internal error" not in done.stderr and "digits" not in done.stderr, done.stderr
    assert done.returncode in (0, 1), done.stderr


def test_the_workload_s_huge_values_are_findings(tmp_path: Path) -> None:
    (tmp_path / "huge.yaml").write_text(WORKLOAD)
    done = run_installed(tmp_path, "check", "--isolated", "-q", "huge.yaml")
    rules = [line.split()[1] for line in done.stdout.splitlines()]
    assert done.returncode == 1
    assert {"K004", "M003"} <= set(rules)  # GOMEMLIMIT and the memory quantities


def test_integer_bounds_the_text_before_converting() -> None:
    assert integer(" 12 ") == 12
    assert integer("0x1f", 0) == 31
    assert integer("9" * MAX_DIGITS) == int("9" * MAX_DIGITS)
    with pytest.raises(ValueError, match="more than"):
        integer("9" * (MAX_DIGITS + 1))
    with pytest.raises(ValueError):
        integer("12a")
