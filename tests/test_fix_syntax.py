"""Issue #29: fixes are written in the file's own syntax: JSON in a JSON
manifest, a flow list's neighbouring comments kept, the file's dominant line
ending."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml
from test_cli_installed import console_script

COLLECTOR = {
    "apiVersion": "opentelemetry.io/v1beta1",
    "kind": "OpenTelemetryCollector",
    "metadata": {"name": "relay"},
    "spec": {
        "mode": "deployment",
        "resources": {"limits": {"memory": "1Gi"}},
        "config": {
            "receivers": {"otlp": {"protocols": {"grpc": {}}}},
            "processors": {"memory_limiter": {"limit_mib": 400}, "batch": {}},
            "exporters": {"otlp": {"endpoint": "tempo:4317"}},
            "service": {
                "pipelines": {
                    "traces": {
                        "receivers": ["otlp"],
                        "processors": ["batch", "memory_limiter"],
                        "exporters": ["otlp"],
                    }
                }
            },
        },
    },
}

BALLAST = """\
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: relay}
spec:
  resources:
    limits: {memory: 1Gi}
  config:
    extensions:
      health_check: {}
      memory_ballast: {size_mib: 64}
    receivers: {otlp: {protocols: {grpc: {}}}}
    processors:
      memory_limiter: {check_interval: 1s, limit_mib: 400}
    exporters: {otlp: {endpoint: "tempo:4317"}}
    service:
      extensions: [
        health_check,   # the probes need it
        memory_ballast  # gone since v0.109.0
      ]
      pipelines:
        traces: {receivers: [otlp], processors: [memory_limiter], exporters: [otlp]}
"""

LIMITER = """\
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: relay
spec:
  resources:
    limits:
      memory: 1Gi
  config:
    receivers:
      otlp:
        protocols:
          grpc: {}
    processors:
      memory_limiter:
        limit_mib: 400
    exporters:
      otlp:
        endpoint: tempo:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter]
          exporters: [otlp]
"""


def _fix(cwd: Path, *paths: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), "check", "--isolated", "--fix", "--unsafe-fixes", *paths],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )


def test_a_json_manifest_stays_json(tmp_path: Path) -> None:
    (tmp_path / "relay.json").write_text(json.dumps(COLLECTOR, indent=2) + "\n")
    run = _fix(tmp_path, "relay.json")
    assert "Fixed" in run.stdout, run.stdout + run.stderr
    fixed = json.loads((tmp_path / "relay.json").read_text())  # still JSON
    limiter = fixed["spec"]["config"]["processors"]["memory_limiter"]
    assert limiter["check_interval"] == "1s"
    assert fixed["spec"]["config"]["service"]["pipelines"]["traces"]["processors"][0] == (
        "memory_limiter"
    )


def test_a_json_flow_document_in_yaml_gets_json(tmp_path: Path) -> None:
    text = "# the relay\n" + json.dumps(COLLECTOR) + "\n"
    (tmp_path / "relay.yaml").write_text(text)
    run = _fix(tmp_path, "relay.yaml")
    assert "Fixed" in run.stdout
    fixed = (tmp_path / "relay.yaml").read_text()
    assert fixed.startswith("# the relay\n")
    data = json.loads(fixed.split("\n", 1)[1])  # the document is JSON still
    assert data["spec"]["config"]["processors"]["memory_limiter"]["check_interval"] == "1s"


def test_removing_from_a_multi_line_flow_list_keeps_the_neighbours_comment(
    tmp_path: Path,
) -> None:
    (tmp_path / "relay.yaml").write_text(BALLAST)
    run = _fix(tmp_path, "relay.yaml")
    assert "Fixed" in run.stdout, run.stdout + run.stderr
    fixed = (tmp_path / "relay.yaml").read_text()
    assert "health_check   # the probes need it\n      ]" in fixed
    assert "memory_ballast" not in fixed
    data = yaml.safe_load(fixed)
    assert data["spec"]["config"]["service"]["extensions"] == ["health_check"]


def test_one_crlf_line_does_not_make_inserted_lines_crlf(tmp_path: Path) -> None:
    text = LIMITER.replace("metadata:\n", "metadata:\r\n", 1)
    (tmp_path / "relay.yaml").write_bytes(text.encode())
    run = _fix(tmp_path, "relay.yaml")
    assert "Fixed" in run.stdout, run.stdout + run.stderr
    fixed = (tmp_path / "relay.yaml").read_bytes()
    assert fixed.count(b"\r\n") == 1  # the one that was there
    assert b"check_interval" in fixed


def test_a_crlf_file_gets_crlf_lines(tmp_path: Path) -> None:
    (tmp_path / "relay.yaml").write_bytes(LIMITER.replace("\n", "\r\n").encode())
    run = _fix(tmp_path, "relay.yaml")
    assert "Fixed" in run.stdout
    fixed = (tmp_path / "relay.yaml").read_bytes()
    assert fixed.count(b"\n") == fixed.count(b"\r\n")
    assert b"check_interval" in fixed
