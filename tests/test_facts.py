"""Judging what runs at the version that runs (issue 22), through the installed
console script: install versions, MemoryQoS, end of life, one install per overlays."""

from __future__ import annotations

import json
from pathlib import Path

from test_cli_installed import run

# A vendored Istio 1.5 release: Mixer-era mesh config, read by its own 1.5 pilot.
MESH_1_5 = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
  labels: {app: istio, release: istio}
data:
  mesh: |-
    mixerCheckServer: istio-policy.istio-system.svc.cluster.local:15004
    disablePolicyChecks: true
    sdsUdsPath: unix:/etc/istio/proxy/SDS
    defaultConfig:
      connectTimeout: 10s
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istio-pilot
  namespace: istio-system
  labels: {app: pilot, release: istio}
spec:
  template:
    spec:
      containers:
        - name: discovery
          image: docker.io/istio/pilot:1.5.10
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: grafana
  namespace: istio-system
  labels: {app: grafana, release: istio}
spec:
  template:
    spec:
      containers:
        - name: grafana
          image: grafana/grafana:6.5.2
"""

# The team's own mesh config, carried over to an Istio 1.20 istiod.
MESH_1_20 = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |-
    mixerCheckServer: istio-policy.istio-system.svc.cluster.local:15004
    disablePolicyChecks: true
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: istiod
  namespace: istio-system
spec:
  template:
    spec:
      containers:
        - name: discovery
          image: docker.io/istio/pilot:1.20.3
"""

BURSTABLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.3.0
          resources:
            requests: {cpu: 500m, memory: 900Mi}
            limits: {cpu: "1", memory: 1030Mi}
"""

KUBELET = """\
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates:
  MemoryQoS: true
"""


def findings(cwd: Path, *args: str) -> list[dict]:  # type: ignore[type-arg]
    done = run(cwd, "check", "--isolated", "--format", "json", *args)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)["findings"]  # type: ignore[no-any-return]


def test_istio_1_5_install_keeps_its_mixer_era_fields_and_gets_one_end_of_life(
    tmp_path: Path,
) -> None:
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "istio-1.5.yaml").write_text(MESH_1_5)
    found = findings(tmp_path, "vendor")
    assert [f["rule"] for f in found if f["rule"] == "M004"] == []
    (eol,) = [f for f in found if f["rule"] == "I009"]
    assert eol["line"] == 26 and "Istio 1.5" in eol["message"] and "2020-08-24" in eol["message"]
    # nothing else is reported inside the release's own objects (Grafana's missing limits)
    assert [f["rule"] for f in found] == ["I009"]


def test_the_same_fields_under_istio_1_20_are_removed_fields_naming_the_version(
    tmp_path: Path,
) -> None:
    (tmp_path / "mesh").mkdir()
    (tmp_path / "mesh" / "istio.yaml").write_text(MESH_1_20)
    removed = [f for f in findings(tmp_path, "mesh") if f["rule"] == "M004"]
    assert [f["line"] for f in removed] == [8, 9]
    for finding in removed:
        assert "was removed in Istio 1.8" in finding["message"]
        assert "the install's Istio 1.20 (at mesh/istio.yaml:21)" in finding["message"]


def test_k003_only_where_a_kubelet_configuration_turns_memory_qos_on(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "api.yaml").write_text(BURSTABLE)
    assert [f for f in findings(tmp_path, "deploy") if f["rule"] == "K003"] == []
    (tmp_path / "deploy" / "kubelet.yaml").write_text(KUBELET)
    (k003,) = [f for f in findings(tmp_path, "deploy") if f["rule"] == "K003"]
    assert "MemoryQoS on at deploy/kubelet.yaml:4" in k003["message"]
    # 900Mi + 0.9 x 130Mi = 1017Mi, shown as such (it was "1.02e+03 MiB")
    assert "memory.high = 1066401792 bytes (1017 MiB)" in k003["message"]


def test_k003_gate_declared_in_the_config(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "api.yaml").write_text(BURSTABLE)
    (tmp_path / ".meshlint.yaml").write_text(
        "cluster:\n  feature-gates: {MemoryQoS: true}\n  memory-throttling-factor: 0.8\n"
    )
    done = run(tmp_path, "check", "--format", "json", "deploy")
    (k003,) = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "K003"]
    assert "MemoryQoS on at .meshlint.yaml:2" in k003["message"]
    assert "memoryThrottlingFactor 0.8 at .meshlint.yaml:3" in k003["message"]


def test_an_install_split_over_three_overlay_files_is_one_install(tmp_path: Path) -> None:
    install = tmp_path / "istio"
    (install / "options").mkdir(parents=True)
    (install / "operator.yaml").write_text(
        "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n"
        "metadata: {name: asm, namespace: istio-system}\nspec:\n  profile: default\n"
    )
    for name, spec in (
        ("tracing.yaml", "  meshConfig: {enableTracing: true}\n"),
        ("hub.yaml", "  hub: gcr.io/example/istio\n"),
    ):
        (install / "options" / name).write_text(
            "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n" + spec
        )
    # `meshlint check .`: the repository's istio/ directory is one scope
    found = [f for f in findings(tmp_path, ".") if f["rule"] == "I001"]
    # once, where the install's mesh config is written (the option file that sets it)
    assert [(f["file"], f["line"]) for f in found] == [("istio/options/tracing.yaml", 4)]
    # each file alone is an install of its own: three findings
    for name in ("operator.yaml", "options/tracing.yaml", "options/hub.yaml"):
        alone = [f for f in findings(tmp_path, f"istio/{name}") if f["rule"] == "I001"]
        assert len(alone) == 1, name


def test_show_settings_prints_the_facts_per_scope_with_their_sources(tmp_path: Path) -> None:
    (tmp_path / "mesh").mkdir()
    (tmp_path / "mesh" / "istio.yaml").write_text(MESH_1_20)
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "kubelet.yaml").write_text(KUBELET)
    done = run(tmp_path, "check", "--isolated", "--show-settings", ".", "--kube-version", "1.31")
    assert done.returncode == 0, done.stderr
    facts = done.stdout.split("facts (per scope")[1]
    assert "Kubernetes: 1.31  (--kube-version)" in facts
    assert (
        "scope mesh:\n    Istio install in istio-system: 1.20  (mesh/istio.yaml:21, pilot image)"
        in facts
    )
    assert (
        "scope nodes:\n    feature gate MemoryQoS: on  (nodes/kubelet.yaml:4, KubeletConfiguration)"
        in facts
    )


def test_a_5000_digit_tag_is_no_version(tmp_path: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "istio.yaml").write_text(MESH_1_20.replace("1.20.3", "1." + "9" * 5000))
    done = run(tmp_path, "check", "--isolated", "--format", "json", "m")
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr
    removed = [f for f in json.loads(done.stdout)["findings"] if f["rule"] == "M004"]
    assert all("every supported Istio ignores it" in f["message"] for f in removed)


KIND = """\
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    image: kindest/node:v1.31.2
    kubeadmConfigPatches:
      - |
        kind: KubeletConfiguration
        featureGates:
          MemoryQoS: true
        memoryThrottlingFactor: 0.7
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
nodeRegistration:
  kubeletExtraArgs:
    - {name: feature-gates, value: "MemoryQoS=false,SidecarContainers=true"}
"""


def test_kind_and_kubeadm_configs_state_gates_and_settings_where_they_are_written() -> None:
    from meshlint.api import lint_text

    (cluster,) = lint_text(KIND, name="kind.yaml").clusters.values()
    gate = cluster.gate("MemoryQoS")
    assert gate is not None and gate.value is True and gate.source == "kind.yaml:10"
    factor = cluster.kubelet("memoryThrottlingFactor")
    assert factor is not None and factor.value == 0.7 and factor.source == "kind.yaml:11"
    sidecars = cluster.gate("SidecarContainers")
    assert sidecars is not None and sidecars.source == "kind.yaml:17"
    shown = {(f.topic, f.value) for f in cluster.facts if not f.declared}
    assert ("kube-version", (1, 31)) in shown and ("feature-gate", False) in shown


def test_versions_are_read_in_one_bounded_place() -> None:
    from meshlint.domain.versions import image_version, istio_version

    assert istio_version("docker.io/istio/pilot:1.20.1-distroless") == (1, 20)
    assert istio_version("1.22-alpha.abc") == (1, 22)
    assert istio_version("gcr.io/istio-release/pilot@sha256:ab") is None
    assert istio_version("2.4") is None  # not an Istio 1.x release
    assert image_version("otel/opentelemetry-collector-contrib:0.115.0") == (0, 115, 0)
    assert image_version("x:1." + "9" * 5000) is None
    assert istio_version("1." + "9" * 5000) is None
