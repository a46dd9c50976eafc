"""Kubernetes knowledge: memory.high under MemoryQoS, QoS classes, containers."""

from __future__ import annotations

import pytest

from meshlint.domain.k8s import selects
from meshlint.domain.k8s.objects import (
    Container,
    Resources,
    containers,
    memory_high,
    qos_class,
    resources_of,
)

MI = 2**20


@pytest.mark.parametrize(
    ("req", "limit", "version", "expected"),
    [
        # KEP-2570 worked examples (limit 1000Mi, factor 0.9 from 1.27, 0.8 before)
        (0, 1000 * MI, (1, 30), 900 * MI),
        (500 * MI, 1000 * MI, (1, 30), 950 * MI),
        (900 * MI, 1000 * MI, (1, 30), 990 * MI),
        (1000 * MI, 1000 * MI, (1, 30), None),
        (500 * MI, 1000 * MI, (1, 26), 800 * MI),
        (850 * MI, 1000 * MI, (1, 26), None),  # old formula lands below the request
        (850 * MI, 1000 * MI, (1, 27), 985 * MI),
        # rounding down to the 4 KiB page can drop it to the request: none is written
        (512 * MI - 1, 512 * MI, (1, 30), None),
        # 1Gi request, 2Gi limit: 1073741824 + 0.9 x 1073741824 = 2040109465.6 -> page floor
        (2**30, 2**31, (1, 30), 2040107008),
        # no MemoryQoS before 1.22; from 1.37 the default factor is nil: nothing written
        (0, 1000 * MI, (1, 21), None),
        (500 * MI, 1000 * MI, (1, 37), None),
    ],
)
def test_memory_high_follows_the_kubelet(
    req: int, limit: int, version: tuple[int, int], expected: int | None
) -> None:
    assert memory_high(req, limit, version) == expected


def test_a_configured_factor_replaces_the_default() -> None:
    from fractions import Fraction

    assert memory_high(500 * MI, 1000 * MI, (1, 37), Fraction(9, 10)) == 950 * MI
    assert memory_high(0, 1000 * MI, (1, 30), Fraction(1)) == 1000 * MI  # = the limit
    assert memory_high(0, 1000 * MI, (1, 21), Fraction(9, 10)) is None  # no MemoryQoS at all


def _res(**values: dict[str, str]) -> Resources:
    return resources_of(values)


def test_qos_classes_with_limit_to_request_defaulting() -> None:
    guaranteed = _res(limits={"cpu": "1", "memory": "1Gi"})
    assert qos_class([guaranteed, guaranteed]) == "Guaranteed"
    assert qos_class([guaranteed, _res(requests={"memory": "1Gi"})]) == "Burstable"
    assert qos_class([Resources(), _res(requests={"ephemeral-storage": "1Gi"})]) == "BestEffort"


def test_containers_marks_init_containers_and_native_sidecars() -> None:
    data = {
        "spec": {
            "template": {
                "spec": {
                    "initContainers": [
                        {"name": "migrate"},
                        {"name": "agent", "restartPolicy": "Always"},
                        "not-a-container",
                    ],
                    "containers": {"name": "wrong-type"},
                }
            }
        }
    }
    found = [(c.name, c.role, c.path) for c in containers(data, "Deployment")]
    assert found == [
        ("migrate", "init", ("spec", "template", "spec", "initContainers", 0)),
        ("agent", "sidecar", ("spec", "template", "spec", "initContainers", 1)),
    ]


def test_an_empty_selector_selects_nothing_and_an_absent_one_only_when_asked() -> None:
    labels = {"app": "web", "tier": "front"}
    assert selects({"app": "web"}, labels)
    assert not selects({"app": "web", "tier": "back"}, labels)
    assert not selects({}, labels)  # a Service without a selector has no pods
    assert not selects({}, labels, absent_selects_all=True)
    assert not selects(None, labels)
    assert selects(None, labels, absent_selects_all=True)  # an Istio policy without selector


BURSTABLE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.3.0
          resources:
            requests: {memory: 1Gi}
            limits: {memory: 2Gi}
        - name: worker
          image: registry.example.com/worker:2.3.0
          resources:
            requests: {memory: 1Gi}
"""


@pytest.mark.parametrize(
    ("version", "factor", "expected"),
    [
        ((1, 21), 0.0, []),  # before MemoryQoS
        ((1, 26), 0.0, ["memory.high = 1717986918 bytes", "0.8 x node allocatable"]),
        ((1, 30), 0.0, ["memory.high = 2040107008 bytes", "1Gi + 0.9 x (node allocatable"]),
        ((1, 37), 0.0, []),  # beta: memoryThrottlingFactor defaults to nil
        ((1, 37), 0.9, ["memory.high = 2040107008 bytes", "1Gi + 0.9 x (node allocatable"]),
        ((1, 30), 1.0, []),  # memory.high = limit: no early throttling
    ],
)
def test_k003_follows_memoryqos_version_by_version(
    version: tuple[int, int], factor: float, expected: list[str]
) -> None:
    from conftest import lint_text

    report = lint_text(
        BURSTABLE,
        select=["K003"],
        kube_version=version,
        rules={"K003": {"memory-throttling-factor": factor}},
        cluster={"feature-gates": {"MemoryQoS": True}},  # the cluster runs MemoryQoS
    )
    messages = [f.message for f in report.findings]
    assert len(messages) == len(expected)
    for message, part in zip(messages, expected, strict=True):
        assert part in message


@pytest.mark.parametrize(
    ("version", "gates", "count"),
    [
        ((1, 30), {}, 0),  # alpha, nothing says it is on: silent
        ((1, 30), {"MemoryQoS": False}, 0),
        ((1, 37), {}, 2),  # beta, on by default; the parameter sets a factor
        ((1, 37), {"MemoryQoS": False}, 0),  # switched off
    ],
)
def test_k003_needs_memoryqos_on(version: tuple[int, int], gates: dict, count: int) -> None:  # type: ignore[type-arg]
    from conftest import lint_text

    report = lint_text(
        BURSTABLE,
        select=["K003"],
        kube_version=version,
        rules={"K003": {"memory-throttling-factor": 0.9}},
        cluster={"feature-gates": gates},
    )
    assert len(report.findings) == count


def test_cached_values_are_worked_out_once_and_kept_on_the_instance() -> None:
    from dataclasses import dataclass

    from meshlint.core.model import cached

    calls: list[int] = []

    @dataclass(frozen=True)
    class Box:
        n: int

        @cached
        def double(self) -> int:
            """Twice n."""
            calls.append(self.n)
            return self.n * 2

    box = Box(2)
    assert box.double == 4 and box.double == 4 and calls == [2]
    assert Box(3).double == 6 and calls == [2, 3]
    assert Box.__dict__["double"].__doc__ == "Twice n."
    container = Container(("spec",), {"resources": {"limits": {"memory": "1Gi"}}}, "container")
    assert container.resources is container.resources
