"""Jaeger knowledge: settings on every surface, the queue arithmetic, agent addresses."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from conftest import lint_text
from meshlint.core.model import Severity
from meshlint.domain.components import Component, component_of
from meshlint.domain.jaeger.agents import parse_agent_host, udp_agent_ports
from meshlint.domain.jaeger.queues import MIB, agent_queues, collector_queue
from meshlint.domain.jaeger.settings import (
    Process,
    container_process,
    cr_processes,
    cr_strategy,
    env_name,
    flag_type,
    parse_args,
)
from meshlint.domain.k8s.objects import containers


def _processes(text: str) -> list[Process]:
    data = yaml.safe_load(text)
    if data["kind"] == "Jaeger":
        return list(cr_processes(data))
    out = [container_process(c) for c in containers(data, data["kind"])]
    return [p for p in out if p is not None]


def _collector(args: Any = (), env: Any = (), resources: Any = None) -> Process:
    container: dict[str, Any] = {
        "name": "c",
        "image": "jaegertracing/jaeger-collector:1.57.0",
        "args": list(args),
        "env": [{"name": k, "value": v} for k, v in env],
    }
    if resources is not None:
        container["resources"] = resources
    data = {"kind": "Pod", "spec": {"containers": [container]}}
    process = container_process(next(containers(data, "Pod")))
    assert process is not None
    return process


def test_env_names_follow_vipers_replacer() -> None:
    assert env_name("collector.queue-size-memory") == "COLLECTOR_QUEUE_SIZE_MEMORY"
    assert (
        env_name("processor.jaeger-compact.server-queue-size")
        == "PROCESSOR_JAEGER_COMPACT_SERVER_QUEUE_SIZE"
    )


def test_args_in_every_form() -> None:
    items = [
        "--collector.queue-size=5",
        "--collector.num-workers",
        "7",
        "--collector.zipkin.keep-alive",  # a bool never takes the next item
        "--collector.tags",
        "--collector.queue-size-memory",
        "--",
        "--ignored=1",
    ]
    got = [
        (s.flag, s.value, s.path[-1], s.bare)
        for s in parse_args(items, ("args",), Component.JAEGER_COLLECTOR)
    ]
    assert got == [
        ("collector.queue-size", "5", 0, False),
        ("collector.num-workers", "7", 2, False),
        ("collector.zipkin.keep-alive", "true", 3, False),
        ("collector.tags", None, 4, True),
        ("collector.queue-size-memory", None, 5, True),
    ]


def test_substituted_values_are_unknowable() -> None:
    (setting,) = parse_args(["--collector.queue-size=$(Q)"], (), Component.JAEGER_COLLECTOR)
    assert setting.value is None and not setting.bare


def test_static_queue_arithmetic() -> None:
    queue = collector_queue(_collector(), 1024, 4096, 64)
    assert queue is not None
    assert (queue.spans, queue.bytes_per_span, queue.budget_mib) == (2000, 5120, None)
    assert queue.queue_bytes == 10_240_000
    assert queue.total == 10_240_000 + 64 * MIB
    assert not queue.raised


def test_dynamic_queue_arithmetic_and_cap() -> None:
    queue = collector_queue(_collector(env=[("COLLECTOR_QUEUE_SIZE_MEMORY", "80")]), 1024, 4096, 64)
    assert queue is not None
    assert queue.spans == 81920  # 80 MiB / 1024 B
    assert queue.queue_bytes == 400 * MIB  # 5x the budget with the defaults
    assert queue.total == 464 * MIB
    capped = collector_queue(_collector(["--collector.queue-size-memory=5000"]), 1024, 4096, 64)
    assert capped is not None and capped.spans == 1_000_000
    tuned = collector_queue(_collector(env=[("COLLECTOR_QUEUE_SIZE_MEMORY", "80")]), 2048, 2048, 0)
    assert tuned is not None and tuned.spans == 40960 and tuned.total == 160 * MIB


def test_flag_wins_over_env_and_bad_values_give_up() -> None:
    process = _collector(["--collector.queue-size=300"], [("COLLECTOR_QUEUE_SIZE", "100000")])
    queue = collector_queue(process, 1024, 4096, 64)
    assert queue is not None and queue.spans == 300 and queue.sized_by is not None
    assert queue.sized_by.source == "arg"
    assert collector_queue(_collector(["--collector.queue-size=lots"]), 1024, 4096, 64) is None
    assert collector_queue(_collector(["--collector.queue-size-memory"]), 1024, 4096, 64) is None


def test_cr_options_flatten_and_resources_merge_component_first() -> None:
    (collector, query, agent) = _processes(
        """
apiVersion: jaegertracing.io/v1
kind: Jaeger
metadata: {name: prod}
spec:
  strategy: Production
  resources:
    requests: {memory: 100Mi}
    limits: {memory: 1Gi}
  collector:
    options:
      collector: {queue-size-memory: 80}
      collector.num-workers: 10
      es: {server-urls: [a, b]}
    resources:
      limits: {memory: 300Mi}
  agent:
    options: {processor: {jaeger-compact: {workers: 20}}}
"""
    )
    assert (collector.component, query.component) == (
        Component.JAEGER_COLLECTOR,
        Component.JAEGER_QUERY,
    )
    assert [(s.flag, s.value) for s in collector.settings] == [
        ("collector.queue-size-memory", "80"),
        ("collector.num-workers", "10"),
        ("es.server-urls", "a"),
        ("es.server-urls", "b"),
    ]
    assert collector.settings[0].path == (
        "spec",
        "collector",
        "options",
        "collector",
        "queue-size-memory",
    )
    assert str(collector.limit) == "300Mi" and str(collector.request) == "100Mi"
    assert collector.memory_paths == (
        ("spec", "resources", "requests", "memory"),
        ("spec", "collector", "resources", "limits", "memory"),
    )
    assert str(agent.limit) == "1Gi"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (None, "allinone"),
        ("all-in-one", "allinone"),
        ("allInOne", "allinone"),
        ("streaming", "streaming"),
    ],
)
def test_cr_strategy(strategy: str | None, expected: str) -> None:
    assert cr_strategy({"spec": {"strategy": strategy}}) == expected


def test_agent_queue_defaults_and_overrides() -> None:
    data = {
        "kind": "DaemonSet",
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "a",
                            "image": "jaegertracing/jaeger-agent:1.57.0",
                            "env": [
                                {"name": "PROCESSOR_JAEGER_BINARY_SERVER_QUEUE_SIZE", "value": "90"}
                            ],
                        }
                    ]
                }
            }
        },
    }
    process = container_process(next(containers(data, "DaemonSet")))
    assert process is not None
    queues = agent_queues(process)
    assert queues is not None
    assert [(q.processor, q.bytes) for q in queues] == [
        ("jaeger-compact", 1010 * 65000),
        ("jaeger-binary", 100 * 65000),
        ("zipkin-compact", 1010 * 65000),
    ]


def test_node_exporter_is_not_a_jaeger_collector() -> None:
    data = {
        "kind": "Pod",
        "spec": {
            "containers": [
                {
                    "name": "n",
                    "image": "quay.io/prometheus/node-exporter:v1.8.2",
                    "args": ["--collector.filesystem.mount-points-exclude=^/proc"],
                },
                {
                    "name": "j",
                    "image": "example/custom-jaeger",
                    "args": ["--collector.queue-size=9"],
                },
            ]
        },
    }
    found = [component_of(c) for c in containers(data, "Pod")]
    assert found == [None, Component.JAEGER_COLLECTOR]


def test_flag_types_and_open_families() -> None:
    assert flag_type(Component.JAEGER_COLLECTOR, "collector.queue-size-memory") == "u"
    assert flag_type(Component.JAEGER_COLLECTOR, "collector.dyn-queue-size-memory") is None
    assert flag_type(Component.JAEGER_COLLECTOR, "es.anything-new") == "?"
    assert flag_type(Component.JAEGER_AGENT, "es.server-urls") is None
    assert flag_type(Component.JAEGER_ALL_IN_ONE, "reporter.grpc.host-port") == "s"


@pytest.mark.parametrize(
    ("value", "name", "namespace", "service_dns"),
    [
        ("jaeger-agent", "jaeger-agent", None, False),
        ("jaeger-agent.tracing", "jaeger-agent", "tracing", False),
        ("jaeger-agent.tracing.svc.cluster.local", "jaeger-agent", "tracing", True),
    ],
)
def test_agent_host_names(value: str, name: str, namespace: str | None, service_dns: bool) -> None:
    host = parse_agent_host("JAEGER_AGENT_HOST", value)
    assert host is not None
    assert (host.name, host.namespace, host.service_dns) == (name, namespace, service_dns)


@pytest.mark.parametrize("value", ["localhost", "10.0.0.7", "$(HOST_IP)", "fd00::1", "", "..."])
def test_agent_host_addresses_that_are_not_names(value: str) -> None:
    assert parse_agent_host("JAEGER_AGENT_HOST", value) is None


def test_udp_agent_ports_default_to_tcp() -> None:
    service = {
        "spec": {
            "ports": [
                {"port": 6831},
                {"port": 16831, "targetPort": 6832, "protocol": "UDP"},
                {"port": 5775, "protocol": "UDP"},
            ]
        }
    }
    assert udp_agent_ports(service) == (5775, 6832)


SEED_2715 = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: collector}
spec:
  template:
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.21.0
          env: [{name: COLLECTOR_QUEUE_SIZE_MEMORY, value: "80"}]
          resources: {requests: {memory: 200M}, limits: {memory: 250M}}
"""


def test_seed_2715_is_an_error_that_shows_its_arithmetic() -> None:
    (finding,) = lint_text(SEED_2715, select=["J001"]).findings
    assert finding.severity is Severity.ERROR
    assert finding.location.path.endswith(".env[0].value")
    for part in ("81920 spans x 5120 B", "64 MiB baseline", "464 MiB", "limit 250M (238 MiB)"):
        assert part in finding.message


def test_parameters_change_the_verdict() -> None:
    relaxed = {"J001": {"span-size-bytes": 1024, "span-overhead-bytes": 1024, "baseline-mib": 16}}
    # 80 MiB x 2 + 16 = 176 MiB < 200 MB request: clean with these parameters.
    assert not lint_text(SEED_2715, select=["J001"], rules=relaxed).findings


def test_over_the_request_only_is_a_warning() -> None:
    text = SEED_2715.replace("200M}", "100Mi}").replace("250M", "1Gi")
    (finding,) = lint_text(text, select=["J001"]).findings
    assert finding.severity is Severity.WARNING and "request 100Mi" in finding.message


def test_agent_host_pointing_at_a_local_service_is_fine() -> None:
    text = """
apiVersion: v1
kind: Service
metadata: {name: agent, namespace: t}
spec:
  internalTrafficPolicy: Local
  selector: {app: agent}
  ports: [{port: 6831, protocol: UDP}]
---
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: t}
spec:
  containers:
    - {name: app, image: app, env: [{name: JAEGER_AGENT_HOST, value: agent}]}
"""
    assert not lint_text(text, select=["J003"]).findings
    flagged = lint_text(text.replace("Local", "Cluster"), select=["J003"]).findings
    assert [f.location.line for f in flagged] == [6, 15]  # the Service, the app's env


AGENT_64MI = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  template:
    spec:
      containers:
        - name: agent
          image: jaegertracing/jaeger-agent:1.57.0
          args: [--processor.jaeger-compact.workers, "50"]
          resources: {limits: {memory: 64Mi}}
"""


def test_agent_with_a_64mi_limit_shows_its_arithmetic() -> None:
    (finding,) = lint_text(AGENT_64MI, select=["J002"]).findings
    assert finding.severity is Severity.WARNING
    assert "jaeger-compact (1000 + 50 workers) x 65000 B = 65.1 MiB" in finding.message
    assert "~190 MiB" in finding.message and "limit 64Mi" in finding.message
    assert finding.location.path.endswith(".args[1]")  # the value of "--flag value"


def test_a_bare_value_flag_is_reported_and_a_separate_value_is_not() -> None:
    bare = AGENT_64MI.replace('"50"]', "--reporter.type=grpc]")
    (finding,) = lint_text(bare, select=["J004"]).findings
    assert "has no value" in finding.message and finding.location.path.endswith(".args[0]")
    assert not lint_text(AGENT_64MI, select=["J004"]).findings
