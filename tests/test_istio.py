"""meshlint.domain.istio.mesh: the effective mesh and proxy configuration, and its precedence."""

from __future__ import annotations

import gc
import math
import textwrap
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import RULES, lint_text
from meshlint.core.config import Config
from meshlint.core.engine import lint
from meshlint.core.indexing import entry_for
from meshlint.core.loading import Document, parse_text
from meshlint.core.model import Context, Index
from meshlint.core.plan import Plan
from meshlint.core.report import Input, Report
from meshlint.domain.istio import mesh as istio
from meshlint.domain.istio.embedded import validator
from meshlint.domain.istio.mesh import Mesh, collect
from meshlint.domain.istio.values import prestop_seconds, version_of
from meshlint.domain.k8s.durations import proto_duration


def mesh_of(text: str, kube: tuple[int, int] = (1, 30)) -> Mesh:
    parsed = parse_text("run.yaml", textwrap.dedent(text))
    ctx = Context(kube_version=kube)
    facts = [fact for doc in parsed.documents for fact in collect(doc, ctx)]
    return Mesh(facts, Index(entry_for(doc) for doc in parsed.documents), kube)


def workload(mesh: Mesh, name: str):  # type: ignore[no-untyped-def]
    return next(w for w in mesh.workloads if w.resource.name == name)


IOP = """
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {{name: cp, namespace: istio-system}}
spec:
{spec}
"""

APP = """
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app, namespace: shop}}
spec:
  template:
    metadata:
      labels: {{sidecar.istio.io/inject: "true", app: app}}
      annotations: {annotations}
    spec:
      terminationGracePeriodSeconds: 60
      containers:
        - name: app
          image: registry.example.com/app:1.0.0
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5s", 5.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        ("0", 0.0),
        (45, None),  # jsonpb rejects a number for google.protobuf.Duration
        ("5", None),
        ("", None),
    ],
)
def test_proxy_config_durations(text: object, expected: float | None) -> None:
    assert proto_duration(text) == expected


def _hook(hook: object) -> float | None:
    return prestop_seconds({"preStop": hook}, unknown=math.inf)


@pytest.mark.parametrize(
    ("hook", "expected"),
    [
        ({"exec": {"command": ["/bin/sh", "-c", "sleep 12"]}}, 12.0),
        ({"exec": {"command": ["sleep", "10"]}}, 10.0),
        ({"exec": {"command": ["/bin/sleep", "1m"]}}, 60.0),
        ({"exec": {"command": ["sh", "-c", "sleep 5; kill -TERM 1 && sleep 2"]}}, 7.0),
        ({"exec": {"command": ["/bin/sh", "-c", "sleep 15 && nginx -s quit"]}}, 15.0),
        ({"sleep": {"seconds": 7}}, 7.0),
        ({"tcpSocket": {"port": 8080}}, 0.0),
        ({}, 0.0),
        # lengths that cannot be read
        ({"httpGet": {"path": "/drain", "port": 8080}}, math.inf),
        ({"exec": {"command": ["/app/drain.sh"]}}, math.inf),
        ({"exec": {"command": ["sh", "-c", "sleep 5 && /app/drain"]}}, math.inf),
        ({"exec": {"command": ["sh", "-c", "while pgrep app; do sleep 1; done"]}}, math.inf),
        ({"exec": {"command": ["sleep", "infinity"]}}, math.inf),
        ({"sleep": {"seconds": "${WAIT}"}}, math.inf),
    ],
)
def test_prestop_lengths(hook: object, expected: float) -> None:
    assert _hook(hook) == expected


def test_unknown_prestop_length_is_the_callers_choice() -> None:
    http = {"preStop": {"httpGet": {"path": "/drain"}}}
    assert prestop_seconds(http, unknown=0.0) == 0.0
    assert prestop_seconds({}, unknown=0.0) is None
    assert prestop_seconds({"postStart": {}}, unknown=math.inf) is None


def test_version_grammar() -> None:
    assert version_of("docker.io/istio/pilot:1.22.3-distroless") == (1, 22)
    assert version_of("latest") is None


def test_default_config_sampling_shadows_pilot_trace_sampling() -> None:
    spec = """
      meshConfig: {defaultConfig: {tracing: {sampling: 2}}}
      values: {pilot: {traceSampling: 100}}
    """
    mesh = mesh_of(IOP.format(spec=textwrap.indent(textwrap.dedent(spec), "  ")))
    (install,) = mesh.installs
    assert install.sampling()[0] == 2


def test_sampling_zero_is_unset_and_out_of_range_is_default() -> None:
    spec = """
      meshConfig: {defaultConfig: {tracing: {sampling: 0}}}
      values: {pilot: {env: {PILOT_TRACE_SAMPLING: "250"}}}
    """
    mesh = mesh_of(IOP.format(spec=textwrap.indent(textwrap.dedent(spec), "  ")))
    assert mesh.installs[0].sampling()[0] == 1.0  # 0 falls through; 250 resets to 1.0


def test_sampling_precedence_for_a_workload() -> None:
    text = IOP.format(spec="  meshConfig: {defaultConfig: {tracing: {sampling: 3}}}") + APP.format(
        annotations='{proxy.istio.io/config: "tracing: {sampling: 7}"}'
    )
    mesh = mesh_of(text)
    (proxy,) = mesh.proxies(workload(mesh, "app"))
    assert proxy.sampling == 7  # the annotation over the mesh default
    namespace_telemetry = """
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: t, namespace: shop}
spec: {tracing: [{randomSamplingPercentage: 0.5}]}
"""
    mesh = mesh_of(text + namespace_telemetry)
    (proxy,) = mesh.proxies(workload(mesh, "app"))
    assert proxy.sampling == 0.5  # a Telemetry over both


def test_telemetry_scope_follows_selector_and_namespace() -> None:
    telemetry = """
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {{name: {name}, namespace: {ns}}}
spec:
  {selector}
  tracing: [{{randomSamplingPercentage: {rate}}}]
"""
    text = APP.format(annotations="{}")
    text += telemetry.format(name="root", ns="istio-system", selector="", rate=4)
    text += telemetry.format(
        name="other", ns="shop", selector="selector: {matchLabels: {app: x}}", rate=9
    )
    mesh = mesh_of(text)
    (proxy,) = mesh.proxies(workload(mesh, "app"))
    assert proxy.sampling == 4  # the root one applies; the other selects different pods
    text += telemetry.format(
        name="mine", ns="shop", selector="selector: {matchLabels: {app: app}}", rate=6
    )
    mesh = mesh_of(text)
    assert mesh.proxies(workload(mesh, "app"))[0].sampling == 6


def test_injection_from_namespace_labels_and_revisions() -> None:
    text = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/rev: canary}}
---
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: canary, namespace: istio-system}
spec:
  revision: canary
  meshConfig: {defaultConfig: {terminationDrainDuration: 12s}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: plain, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: plain, image: registry.example.com/plain:1}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: opted-out, namespace: shop}
spec:
  template:
    metadata: {labels: {sidecar.istio.io/inject: "false"}}
    spec:
      containers: [{name: x, image: registry.example.com/x:1}]
"""
    mesh = mesh_of(text)
    assert mesh.injection(workload(mesh, "plain")) == (True, "canary")
    (proxy,) = mesh.proxies(workload(mesh, "plain"))
    assert proxy.drain == 12  # the canary install's defaults
    assert mesh.proxies(workload(mesh, "opted-out")) == []


def test_annotation_fields_override_mesh_fields_one_by_one() -> None:
    spec = """
      meshConfig:
        defaultConfig:
          terminationDrainDuration: 20s
          proxyMetadata: {EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"}
    """
    text = IOP.format(spec=textwrap.indent(textwrap.dedent(spec), "  "))
    text += APP.format(annotations='{proxy.istio.io/config: "terminationDrainDuration: 40s"}')
    mesh = mesh_of(text)
    (proxy,) = mesh.proxies(workload(mesh, "app"))
    assert proxy.drain == 40 and proxy.exit_on_zero


def test_native_sidecar_precedence() -> None:
    spec = '  values: {pilot: {env: {ENABLE_NATIVE_SIDECARS: "true"}}}'
    mesh = mesh_of(IOP.format(spec=spec) + APP.format(annotations="{}"))
    assert mesh.proxies(workload(mesh, "app"))[0].native
    text = IOP.format(spec=spec) + APP.format(
        annotations='{sidecar.istio.io/nativeSidecar: "false"}'
    )
    mesh = mesh_of(text)
    assert not mesh.proxies(workload(mesh, "app"))[0].native
    auto = IOP.format(spec="  tag: 1.27.1") + APP.format(annotations="{}")
    assert mesh_of(auto, kube=(1, 33)).proxies(workload(mesh_of(auto), "app"))[0].native
    assert not mesh_of(auto, kube=(1, 30)).proxies(workload(mesh_of(auto), "app"))[0].native


def test_proxy_memory_limit_resolution() -> None:
    mesh = mesh_of(APP.format(annotations="{}"))
    limit = mesh.proxies(workload(mesh, "app"))[0].memory_limit
    assert limit is not None and limit.value == "1024Mi"  # Istio's global.proxy.resources
    mesh = mesh_of(APP.format(annotations="{sidecar.istio.io/proxyMemory: 128Mi}"))
    limit = mesh.proxies(workload(mesh, "app"))[0].memory_limit
    assert limit is not None and limit.value == ""  # annotations replace the whole block
    spec = "  values: {global: {proxy: {resources: {limits: {memory: 2Gi}}}}}"
    mesh = mesh_of(IOP.format(spec=spec) + APP.format(annotations="{}"))
    limit = mesh.proxies(workload(mesh, "app"))[0].memory_limit
    assert limit is not None and limit.value == "2Gi"


def lint_files(files: dict[str, str], select: list[str]) -> Report:
    plan = Plan.build(RULES, Config(select=tuple(select)))  # type: ignore[arg-type]
    inputs = [Input(name=n, data=t.encode(), rel=n) for n, t in files.items()]
    return lint(inputs, plan)


def test_several_installs_must_all_agree() -> None:
    slow = IOP.format(spec="  meshConfig: {defaultConfig: {terminationDrainDuration: 90s}}")
    fast = slow.replace("name: cp", "name: cp2").replace("90s", "5s")
    files = {"slow.yaml": slow, "fast.yaml": fast, "app.yaml": APP.format(annotations="{}")}
    report = lint_files(files, ["I004"])
    assert report.findings == []  # under "slow" the 90s drain covers the 60s grace period


def test_istio_operators_of_one_file_are_overlays_of_one_install() -> None:
    """istioctl install -f layers the documents: the later one wins, one install."""
    slow = IOP.format(spec="  meshConfig: {defaultConfig: {terminationDrainDuration: 90s}}")
    fast = slow.replace("name: cp", "name: cp2").replace("90s", "5s")
    mesh = mesh_of(slow + "---" + fast)
    (install,) = mesh.installs
    assert install.mesh.proxy.drain is not None and install.mesh.proxy.drain.value == 5.0
    (finding,) = lint_text(slow + "---" + fast + APP.format(annotations="{}"), ["I004"]).findings
    assert "5s drain" in finding.message
    # another revision in the same file is another install
    canary = fast.replace("spec:\n", "spec:\n  revision: canary\n")
    assert len(mesh_of(slow + "---" + canary).installs) == 2


@pytest.mark.parametrize(
    ("spec", "fires"),
    [
        ("  profile: default", True),
        ("  profile: minimal", True),
        ("  values: {profile: demo}", True),
        ("  components: {pilot: {enabled: true}}", True),
        ("  profile: empty\n  components: {pilot: {enabled: true}}", True),
        ("  meshConfig: {accessLogFile: /dev/stdout}", True),
        ("  meshConfig: {outboundTrafficPolicy: {mode: ALLOW_ANY}}", True),
        ("  values: {global: {outboundTrafficPolicy: {mode: ALLOW_ANY}}}", True),
        # no profile named: istioctl installs the default profile under it
        ("  values: {global: {proxy: {resources: {limits: {memory: 500Mi}}}}}", True),
        ("  components: {pilot: {k8s: {replicaCount: 2}}}", True),
        ("  hub: registry.example.com/istio", True),
        ("  {}", True),
        # no istiod, or no Prometheus metrics
        ("  profile: remote", False),
        ("  profile: default\n  components: {pilot: {enabled: false}}", False),
        ("  profile: default\n  values: {telemetry: {enabled: false}}", False),
        ("  meshConfig: {outboundTrafficPolicy: {mode: REGISTRY_ONLY}}", False),
    ],
)
def test_i001_judges_istio_operators_that_install_a_mesh(spec: str, fires: bool) -> None:
    findings = lint_text(IOP.format(spec=spec), select=["I001"]).findings
    assert len(findings) == int(fires)


def test_i001_reports_an_install_of_several_documents_once() -> None:
    first = IOP.format(spec="  profile: default")
    second = IOP.replace("name: cp", "name: cp-overlay").format(
        spec="  values: {global: {proxy: {resources: {limits: {memory: 2Gi}}}}}"
    )
    (finding,) = lint_text(first + "---" + second, select=["I001"]).findings
    assert finding.location.resource is not None
    assert finding.location.resource.name in ("cp", "cp-overlay")
    empty = IOP.format(spec="")
    assert len(lint_text(empty + "---" + empty, select=["I001"]).findings) == 1


def test_rendered_install_parts_merge_by_file_namespace_and_revision() -> None:
    text = """
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    defaultConfig:
      tracing: {sampling: 5}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  template:
    spec:
      containers:
        - name: discovery
          image: docker.io/istio/pilot:1.22.0
          env: [{name: PILOT_TRACE_SAMPLING, value: "100"}]
"""
    mesh = mesh_of(text)
    (install,) = mesh.installs
    assert install.sampling()[0] == 5 and install.version == (1, 22)
    assert lint_text(text, select=["I002"]).findings == []


def test_host_header_fallback_clean_when_prometheus_is_off_or_registry_only() -> None:
    off = IOP.format(spec="  values: {telemetry: {v2: {prometheus: {enabled: false}}}}")
    assert lint_text(off, select=["I001"]).findings == []
    providers = IOP.format(spec="  meshConfig: {defaultProviders: {metrics: [stackdriver]}}")
    assert lint_text(providers, select=["I001"]).findings == []
    sidecar = (
        IOP.format(spec="  profile: default")
        + """
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
"""
    )
    assert lint_text(sidecar, select=["I001"]).findings == []
    assert len(lint_text(IOP.format(spec="  profile: default"), select=["I001"]).findings) == 1


def test_legacy_wasm_stats_filter_json_is_read() -> None:
    text = """
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: stats-filter-1.8, namespace: istio-system}
spec:
  configPatches:
    - applyTo: HTTP_FILTER
      match: {context: SIDECAR_OUTBOUND}
      patch:
        operation: INSERT_BEFORE
        value:
          name: istio.stats
          typed_config:
            value:
              config:
                root_id: stats_outbound
                configuration:
                  value: |
                    {"debug": "false", "stat_prefix": "istio", "disable_host_header_fallback": true}
"""
    assert mesh_of(text).fallback_cleared()


def test_schema_is_compiled_once() -> None:
    assert validator("istio-proxyconfig.schema.json") is validator("istio-proxyconfig.schema.json")


def test_embedded_positions_map_into_the_host_file() -> None:
    text = APP.format(annotations="").replace(
        "      annotations: \n",
        "      annotations:\n        proxy.istio.io/config: |\n          drainDuraton: 5s\n",
    )
    (finding,) = lint_text(text, select=["M004"]).findings
    line = text.splitlines()[finding.location.line - 1]
    assert "drainDuraton" in line and finding.location.column == line.index("drainDuraton") + 1


def test_disabled_namespace_wins_over_the_pod_label() -> None:
    text = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: disabled}}
""" + APP.format(annotations="{}")
    mesh = mesh_of(text)
    assert mesh.injection(workload(mesh, "app")) == (False, None)


def test_proxy_config_resource_sets_the_agent_environment() -> None:
    text = (
        APP.format(annotations="{}")
        + """
---
apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata: {name: env, namespace: shop}
spec:
  selector: {matchLabels: {app: app}}
  environmentVariables: {EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"}
"""
    )
    mesh = mesh_of(text)
    assert mesh.proxies(workload(mesh, "app"))[0].exit_on_zero
    assert lint_text(text, select=["I004"]).findings == []
    assert len(lint_text(APP.format(annotations="{}"), select=["I004"]).findings) == 1


def test_conflicting_namespace_objects_leave_injection_unknown() -> None:
    namespace = """
---
apiVersion: v1
kind: Namespace
metadata: {{name: shop, labels: {labels}}}
"""
    plain = APP.format(annotations="{}").replace('sidecar.istio.io/inject: "true", ', "")
    enabled = namespace.format(labels="{istio-injection: enabled}")
    mesh = mesh_of(plain + enabled)
    assert mesh.injection(workload(mesh, "app"))[0]
    mesh = mesh_of(plain + enabled + namespace.format(labels="{team: a}"))
    assert not mesh.injection(workload(mesh, "app"))[0]


def test_ossm_control_plane_outbound_policy_and_sampling_units() -> None:
    smcp = """
apiVersion: maistra.io/v2
kind: ServiceMeshControlPlane
metadata: {name: basic, namespace: istio-system}
spec:
  proxy: {networking: {trafficControl: {outbound: {policy: REGISTRY_ONLY}}}}
  tracing: {type: Jaeger, sampling: 2500}
"""
    assert lint_text(smcp, select=["I001"]).findings == []
    (finding,) = lint_text(smcp, select=["I002"]).findings
    assert "25%" in finding.message
    assert mesh_of(smcp).installs[0].sampling()[0] == 25


def test_embedded_type_errors_name_the_expected_type() -> None:
    text = IOP.format(spec="  meshConfig: {defaultProviders: {tracing: dd}, enableTracing: 'yes'}")
    messages = sorted(f.message for f in lint_text(text, select=["M004"]).findings)
    assert "expected a list" in messages[0] and "expected a boolean" in messages[1]


def test_enable_tracing_false_leaves_sampling_and_tracer_unused() -> None:
    spec = "  meshConfig: {enableTracing: false, defaultConfig: {tracing: {sampling: 100, datadog: {}}}}"
    text = IOP.format(spec=spec)
    assert lint_text(text, select=["I002", "I003"]).findings == []
    assert len(lint_text(text.replace("false", "true"), select=["I002", "I003"]).findings) == 2


def test_rendered_injector_values_are_final() -> None:
    text = """
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system}
data:
  values: '{"global": {"proxy": {"resources": {"requests": {"memory": "128Mi"}}}}}'
"""
    (finding,) = lint_text(text, select=["I006"]).findings
    assert "removes the memory limit" in finding.message


def test_each_document_is_read_once_for_every_istio_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine's collect phase (once per rule parameter set) and the rules that
    judge a document on its own (Mesh.of_document) share one reading of it."""
    read: list[str] = []
    original = istio.workload_facts

    def counting(doc: Document) -> Iterator[Any]:
        read.append(doc.resource.name or "")
        return original(doc)

    monkeypatch.setattr(istio, "workload_facts", counting)
    text = APP.format(annotations='{proxy.istio.io/config: "tracing: {sampling: 50}"}')
    text += APP.replace("name: app,", "name: web,").format(annotations="{}")
    report = lint_text(text, select=["I"])
    assert "I002" in {f.rule for f in report.findings}
    assert read == ["app", "web"]


def test_the_per_document_mesh_is_per_document_and_weakly_held() -> None:
    parsed = parse_text("a.yaml", APP.format(annotations="{}") + APP.format(annotations="{}"))
    first, second = parsed.documents
    ctx = Context(kube_version=(1, 30))
    mesh = Mesh.of_document(first, ctx)
    assert Mesh.of_document(first, ctx) is mesh
    assert Mesh.of_document(first, Context(kube_version=(1, 33))) is not mesh
    assert Mesh.of_document(second, ctx) is not Mesh.of_document(first, ctx)
    ref = weakref.ref(Mesh.of_document(second, ctx))
    del parsed, first, second, mesh
    gc.collect()
    assert ref() is None  # the memo dies with its document


@pytest.mark.parametrize(
    ("command", "seconds"),
    [
        (["sh", "-c", "sleep 5 &"], 0.0),  # backgrounded: returns at once
        (["sh", "-c", "sleep 5; exit 0"], 5.0),
        (["sh", "-c", "sleep 15 # wait for endpoints to update"], 15.0),
        (["sh", "-c", "sleep 5 > /dev/null 2>&1"], 5.0),
        (["sh", "-ec", "sleep 5"], 5.0),
        (["sleep", "10"], 10.0),
        (["/bin/sh", "-c", "sleep 5 && /app/bin/drain"], math.inf),
        (["sh", "-c", "while true; do sleep 1; done"], math.inf),
    ],
)
def test_prestop_length_reads_common_shell_hooks(command: list[str], seconds: float) -> None:
    hook = {"preStop": {"exec": {"command": command}}}
    assert prestop_seconds(hook, unknown=math.inf) == seconds


def test_istio_operators_of_one_install_merge_mesh_config_field_by_field() -> None:
    first = IOP.format(
        spec="  profile: default\n  meshConfig:\n    outboundTrafficPolicy: {mode: REGISTRY_ONLY}"
    )
    second = IOP.replace("name: cp", "name: cp-logs").format(
        spec="  meshConfig:\n    accessLogFile: /dev/stdout"
    )
    assert lint_text(first + "---" + second, select=["I001"]).findings == []


def test_i002_names_the_istiod_env_var_of_a_rendered_install_not_its_mesh_config_map() -> None:
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    accessLogFile: /dev/stdout
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  template:
    spec:
      containers:
        - name: discovery
          image: docker.io/istio/pilot:1.26.0
          env:
            - {name: PILOT_TRACE_SAMPLING, value: "50"}
"""
    (finding,) = lint_text(text, select=["I002"]).findings
    assert finding.message.startswith("istiod env PILOT_TRACE_SAMPLING samples 50%")
    assert finding.location.line == 18


def test_m004_unknown_mesh_config_fields_are_warnings_and_wrong_types_errors() -> None:
    from meshlint.core.model import Severity

    text = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: checkout}
spec:
  template:
    metadata:
      annotations:
        proxy.istio.io/config: |
          terminationDrainDuraton: 20s
          proxyMetadata:
            EXIT_ON_ZERO_ACTIVE_CONNECTIONS: true
    spec:
      containers: [{name: checkout, image: registry.example.com/checkout:1.4.2}]
"""
    found = {f.location.line: f for f in lint_text(text, select=["M004"]).findings}
    assert found[9].severity is Severity.WARNING and "Istio ignores it" in found[9].message
    assert found[11].severity is Severity.ERROR


DRAINING_APP = APP.format(annotations='{proxy.istio.io/config: "terminationDrainDuration: 90s"}')


@pytest.mark.parametrize(
    ("spec", "kube", "fires"),
    [
        # ENABLE_NATIVE_SIDECARS=auto (the default since 1.27) needs kubelets >= 1.33
        ("  tag: 1.28.2", (1, 33), False),
        ("  tag: 1.28.2", (1, 32), True),
        # before 1.27 the default is false, and "auto" does not parse as a bool
        ("  tag: 1.26.3", (1, 33), True),
        (
            '  tag: 1.26.3\n  values: {pilot: {env: {ENABLE_NATIVE_SIDECARS: "auto"}}}',
            (1, 33),
            True,
        ),
        ('  values: {pilot: {env: {ENABLE_NATIVE_SIDECARS: "auto"}}}', (1, 33), False),
        ('  values: {pilot: {env: {ENABLE_NATIVE_SIDECARS: "false"}}}', (1, 33), True),
        ('  values: {pilot: {env: {ENABLE_NATIVE_SIDECARS: "true"}}}', (1, 30), False),
        # native sidecars drain from the injected preStop since 1.21 (istio#47226)
        (
            '  tag: 1.20.8\n  values: {pilot: {env: {ENABLE_NATIVE_SIDECARS: "true"}}}',
            (1, 30),
            True,
        ),
        # global.proxy.lifecycle replaces the template's drain hook: a full drain on SIGTERM
        (
            '  values: {pilot: {env: {ENABLE_NATIVE_SIDECARS: "true"}},'
            " global: {proxy: {lifecycle: {preStop: {exec: {command: [sleep, '1']}}}}}}",
            (1, 30),
            True,
        ),
    ],
)
def test_i005_judges_the_drain_pilot_agent_really_runs(
    spec: str, kube: tuple[int, int], fires: bool
) -> None:
    text = IOP.format(spec=spec) + DRAINING_APP
    findings = lint_text(text, select=["I005"], kube_version=kube).findings
    assert len(findings) == int(fires)
    if fires:
        assert "terminationDrainDuration 90s" in findings[0].message


def test_i005_exit_on_zero_waits_minimum_drain_duration_not_the_drain() -> None:
    spec = """
      meshConfig:
        defaultConfig:
          terminationDrainDuration: 90s
          proxyMetadata: {EXIT_ON_ZERO_ACTIVE_CONNECTIONS: "true"}
    """
    text = IOP.format(spec=textwrap.indent(textwrap.dedent(spec), "  "))
    assert lint_text(text + APP.format(annotations="{}"), select=["I005"]).findings == []
    slow = text.replace('"true"}', '"true", MINIMUM_DRAIN_DURATION: 1m}')
    (finding,) = lint_text(slow, select=["I005"]).findings
    assert "MINIMUM_DRAIN_DURATION 60s (EXIT_ON_ZERO_ACTIVE_CONNECTIONS)" in finding.message


SMCP = """
apiVersion: {api}
kind: ServiceMeshControlPlane
metadata: {{name: basic, namespace: istio-system}}
spec:
{spec}
"""

MESH_TELEMETRY = """
---
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  metrics:
    - providers: [{name: stackdriver}]
"""


@pytest.mark.parametrize(
    ("text", "fires"),
    [
        # Mixer-era installs have no istio.stats filter (telemetry v2: 1.5+)
        (IOP.format(spec="  tag: 1.4.6"), False),
        (IOP.format(spec="  tag: 1.5.0"), True),
        (IOP.format(spec="  values: {telemetry: {v2: {enabled: false}}}"), False),
        (SMCP.format(api="maistra.io/v1", spec="  version: v1.1\n  istio: {global: {}}"), False),
        (
            SMCP.format(api="maistra.io/v2", spec="  version: v2.0\n  telemetry: {type: Mixer}"),
            False,
        ),
        (SMCP.format(api="maistra.io/v2", spec="  version: v1.1"), False),
        (SMCP.format(api="maistra.io/v2", spec="  version: v2.6"), True),
        # the remote profile installs the injector only, whatever pilot.enabled says
        (
            IOP.format(spec="  values: {profile: remote}\n  components: {pilot: {enabled: true}}"),
            False,
        ),
        # ambient: waypoints build their stats as inbound sidecars; ztunnel is L4
        (IOP.format(spec="  profile: ambient"), False),
        (IOP.format(spec="  values: {profile: ambient}") + APP.format(annotations="{}"), True),
        # a mesh-wide Telemetry that sends metrics elsewhere: no Prometheus stats
        (IOP.format(spec="  profile: default") + MESH_TELEMETRY, False),
        (
            IOP.format(spec="  profile: default") + MESH_TELEMETRY.replace("istio-system", "shop"),
            True,
        ),
    ],
)
def test_i001_fires_only_where_an_http_stats_filter_keeps_the_fallback(
    text: str, fires: bool
) -> None:
    findings = lint_text(text, select=["I001"]).findings
    assert len(findings) == int(fires)
    assert all(str(f.severity) == "info" for f in findings)


def test_i001_an_istio_operator_and_its_patch_in_other_files_are_one_install() -> None:
    base = IOP.format(spec="  profile: default")
    patch = IOP.format(spec="  values: {global: {proxy: {resources: {limits: {memory: 2Gi}}}}}")
    files = {"base/istio.yaml": base, "overlays/prod/istio-patch.yaml": patch}
    assert len(lint_files(files, ["I001"]).findings) == 1
    closed = IOP.format(spec="  meshConfig: {outboundTrafficPolicy: {mode: REGISTRY_ONLY}}")
    files["overlays/prod/istio-patch.yaml"] = closed
    assert lint_files(files, ["I001"]).findings == []  # the patch closes the install
    # another name is another install
    files["overlays/prod/istio-patch.yaml"] = patch.replace("name: cp", "name: other")
    assert len(lint_files(files, ["I001"]).findings) == 2
    # a file that names its own profile is an install of its own, whatever its name
    files["overlays/prod/istio-patch.yaml"] = IOP.format(spec="  profile: minimal")
    assert len(lint_files(files, ["I001"]).findings) == 2
