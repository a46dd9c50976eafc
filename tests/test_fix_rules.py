"""The fixes of I001, I002, I005 and J004: what each edits, where each declines.

Each case runs ``--fix --unsafe-fixes`` on a manifest and checks the whole
fixed text (so every byte outside the edit is as it was), that the engine
verified it (no fix skipped), that a second run changes nothing, and that no
finding appears that was not there before.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from conftest import FIXTURES
from meshlint.api import Settings, fix_paths, lint_text
from meshlint.core.model import Finding

ISOLATED = Settings(isolated=True)


def _findings(text: str, settings: Settings) -> Counter[tuple[str, str]]:
    report = lint_text(text, "manifest.yaml", settings)
    return Counter((f.rule, str(f.location.resource)) for f in report.findings)


def _fixed(
    tmp_path: Path,
    text: str,
    fixed: Counter[str],
    settings: Settings = ISOLATED,
    *,
    appear: Counter[tuple[str, str]] | None = None,
    vanish: Counter[tuple[str, str]] | None = None,
) -> str:
    """``text`` after --fix --unsafe-fixes, which must apply ``fixed`` (per rule),
    verified and converging; the findings left are those not fixed, except what
    the fixes' new behaviour makes ``appear`` or ``vanish`` (rule, object)."""
    target = tmp_path / "manifest.yaml"
    target.write_bytes(text.encode())
    done = fix_paths([str(target)], settings, unsafe=True, write=False)
    assert done.fixed == fixed
    assert not [n for n in done.notes if "skipped" in n]
    after = done.files[0].after.decode() if done.files else text
    assert len(list(yaml.safe_load_all(after))) == len(list(yaml.safe_load_all(text)))
    target.write_bytes(after.encode())
    again = fix_paths([str(target)], settings, unsafe=True, write=False)
    assert again.fixed == Counter() and again.files == []
    before, left = _findings(text, settings), _findings(after, settings)
    assert left - before == (appear or Counter()), "a fix made a new finding"
    gone = before - left
    assert (vanish or Counter()) <= gone
    assert sum((gone - (vanish or Counter())).values()) == sum(fixed.values())
    return after


def _replaced(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def _fix_of(text: str, rule: str, settings: Settings = ISOLATED) -> list[Finding]:
    return [f for f in lint_text(text, "manifest.yaml", settings).findings if f.rule == rule]


# -- I002 -------------------------------------------------------------------------


def test_sampling_comes_down_to_the_maximum_where_each_surface_writes_it(tmp_path: Path) -> None:
    """Every surface of the fixture: percent as a number, percent in a string
    (PILOT_TRACE_SAMPLING), inside a proxy.istio.io/config block scalar, and
    OSSM 2.x in units of 0.01%; the demo profile's rate has no place to edit."""
    text = (FIXTURES / "tracing-sampling-too-high" / "bad.yaml").read_text()
    after = _fixed(tmp_path, text, Counter({"I002": 8}))
    assert after == _replaced(
        text,
        ("        sampling: 50 #", "        sampling: 10 #"),
        ("      traceSampling: 100 #", "      traceSampling: 10 #"),
        ("    traceSampling: 25.0 #", "    traceSampling: 10 #"),
        ('              value: "100" #', '              value: "10" #'),
        ("      randomSamplingPercentage: 100 #", "      randomSamplingPercentage: 10 #"),
        ("            sampling: 100 #", "            sampling: 10 #"),
        ("    sampling: 10000 #", "    sampling: 1000 #"),
        ("      traceSampling: 100.0 #", "      traceSampling: 10 #"),
    )
    (demo,) = [f for f in _fix_of(after, "I002") if "demo profile" in f.message]
    assert demo.fix is None


MESH_CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: istio
  namespace: istio-system
data:
  mesh: |-
    enableTracing: true
    defaultConfig:
      discoveryAddress: istiod.istio-system.svc:15012
      tracing:
        sampling: 100.0
        zipkin:
          address: zipkin.istio-system:9411
    rootNamespace: istio-system
"""


def test_sampling_inside_the_mesh_config_map_keeps_its_crlf_lines(tmp_path: Path) -> None:
    text = MESH_CONFIGMAP.replace("\n", "\r\n")
    after = _fixed(tmp_path, text, Counter({"I002": 1}))
    assert after == text.replace("sampling: 100.0\r\n", "sampling: 10\r\n")


def test_ossm_units_round_down_and_a_zero_maximum_is_not_written(tmp_path: Path) -> None:
    """12.345% is 1234 units of 0.01% (an int32 field): rounded down to stay
    within the maximum. A maximum of 0 is no fix: Istio reads a rate of 0 as unset."""
    text = (
        "apiVersion: maistra.io/v2\nkind: ServiceMeshControlPlane\n"
        "metadata: {name: basic, namespace: istio-system}\n"
        "spec:\n  version: v2.5\n  tracing: {type: Jaeger, sampling: 10000}\n"
    )
    after = _fixed(tmp_path, text, Counter({"I002": 1}), _maximum(tmp_path, 12.345))
    assert after == text.replace("sampling: 10000}", "sampling: 1234}")
    (finding,) = _fix_of(text, "I002", _maximum(tmp_path, 0.0))
    assert finding.fix is None


def _maximum(tmp_path: Path, percent: float) -> Settings:
    config = tmp_path / "meshlint.yaml"
    config.write_text(f"rules:\n  I002:\n    max-sampling-percent: {percent}\n")
    return Settings(config_path=str(config))


def test_no_sampling_fix_in_an_annotation_that_is_not_a_literal_block() -> None:
    """A one-line (flow or quoted) proxy.istio.io/config does not map line for line
    into the file: the finding carries no fix."""
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: frontend
  namespace: web
spec:
  template:
    metadata:
      labels: {sidecar.istio.io/inject: "true"}
      annotations:
        proxy.istio.io/config: '{"tracing": {"sampling": 100}}'
    spec:
      containers:
        - name: frontend
          image: registry.example.com/frontend:1.4.0
"""
    (finding,) = _fix_of(text, "I002")
    assert finding.fix is None


# -- I001 -------------------------------------------------------------------------


def test_fallback_false_in_an_envoy_filter_becomes_true_only_where_written_as_a_bool(
    tmp_path: Path,
) -> None:
    text = (FIXTURES / "host-header-fallback-enabled" / "bad.yaml").read_text()
    # the outbound fallback is then off mesh-wide: the installs' info findings go too
    mesh_wide = Counter(
        {
            ("I001", "IstioOperator/istio-system/control-plane"): 1,
            ("I001", "ConfigMap/istio-system/istio"): 1,
            ("I001", "IstioOperator/istio-system/ambient"): 1,
        }
    )
    after = _fixed(tmp_path, text, Counter({"I001": 1}), vanish=mesh_wide)
    assert after == _replaced(
        text,
        (
            "disable_host_header_fallback: false # [host",
            "disable_host_header_fallback: true # [host",
        ),
    )
    # a patch that omits the option, a configOverride, a Telemetry tag: no fix
    assert all(f.fix is None for f in _fix_of(after, "I001"))


WASM_STATS = """\
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: stats-filter-1.8
  namespace: istio-system
spec:
  configPatches:
    - applyTo: HTTP_FILTER
      match:
        context: SIDECAR_OUTBOUND
        listener:
          filterChain:
            filter:
              name: envoy.filters.network.http_connection_manager
              subFilter:
                name: envoy.filters.http.router
      patch:
        operation: INSERT_BEFORE
        value:
          name: istio.stats
          typed_config:
            "@type": type.googleapis.com/udpa.type.v1.TypedStruct
            type_url: type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
            value:
              config:
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: |
                    {"debug": "false", "stat_prefix": "istio", "disable_host_header_fallback": false}
                root_id: stats_outbound
"""


def test_no_fallback_fix_inside_a_json_string_nor_for_a_quoted_false() -> None:
    """The Wasm-era config is JSON in a string, and a quoted "false" is not the
    proto's bool: both are reported, neither is rewritten."""
    (finding,) = _fix_of(WASM_STATS, "I001")
    assert finding.fix is None
    quoted = (FIXTURES / "host-header-fallback-enabled" / "bad.yaml").read_text()
    quoted = quoted.replace(
        "disable_host_header_fallback: false", 'disable_host_header_fallback: "false"'
    )
    assert next(f for f in _fix_of(quoted, "I001") if "sets disable" in f.message).fix is None


# -- I005 -------------------------------------------------------------------------


def test_grace_period_is_raised_where_no_sidecar_would_outlive_its_app(tmp_path: Path) -> None:
    """The gateway (its own preStop 25s + 5s drain) gets a grace period added to
    its pod spec; the EXIT_ON_ZERO pod (45s minimum drain) has its own raised.
    Injected sidecars that stop a fixed drain after SIGTERM get none (a longer
    grace period would let the app outlive its proxy: I004), nor mesh defaults."""
    text = (FIXTURES / "drain-exceeds-grace-period" / "bad.yaml").read_text()
    after = _fixed(tmp_path, text, Counter({"I005": 2}))
    assert after == _replaced(
        text,
        (
            '                command: ["sleep", "25"]\n',
            '                command: ["sleep", "25"]\n      terminationGracePeriodSeconds: 35\n',
        ),
        (
            "45s # [drain-exceeds-grace-period]\n    spec:\n      terminationGracePeriodSeconds: 30\n",
            "45s # [drain-exceeds-grace-period]\n    spec:\n      terminationGracePeriodSeconds: 50\n",
        ),
    )
    left = _fix_of(after, "I005")
    assert len(left) == 6 and all(f.fix is None for f in left)


GATEWAY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
    name: istio-ingressgateway
    namespace: istio-ingress
spec:
    template:
        spec:
            serviceAccountName: istio-ingressgateway   # the chart's account
            containers:
            -   name: istio-proxy
                image: docker.io/istio/proxyv2:1.22.3
                args: ["proxy", "router"]
                lifecycle:
                    preStop:
                        exec:
                            command: ["sleep", "27.5"]
            GRACE
"""


def test_an_added_grace_period_follows_the_documents_indentation(tmp_path: Path) -> None:
    """Four-space indentation, a CRLF file: the key lands at the pod spec's column;
    a preStop of 27.5s rounds up (28 + 5s drain + 5s margin). A grace period that
    is written is replaced in place, its comment kept."""
    text = GATEWAY.replace("            GRACE\n", "").replace("\n", "\r\n")
    after = _fixed(tmp_path, text, Counter({"I005": 1}))
    assert after == text + "            terminationGracePeriodSeconds: 38\r\n"
    commented = GATEWAY.replace("GRACE", "terminationGracePeriodSeconds: 20  # raised by SRE")
    after = _fixed(tmp_path, commented, Counter({"I005": 1}))
    assert after == commented.replace("Seconds: 20  #", "Seconds: 38  #")


def test_no_grace_fix_for_a_grace_period_that_is_not_a_whole_number() -> None:
    text = GATEWAY.replace("GRACE", 'terminationGracePeriodSeconds: "20"')
    (finding,) = _fix_of(text, "I005")
    assert finding.fix is None


# -- J004 -------------------------------------------------------------------------


def test_misspelt_jaeger_flags_are_renamed_where_the_rename_is_exact(tmp_path: Path) -> None:
    """The flag part of a --flag=value arg, an env var's name, an option key
    (nested or dotted); not a bare flag, not one that is not close to exactly
    one real flag (base-path is a hint for query.base-path, not a misspelling)."""
    text = (FIXTURES / "jaeger-unknown-flag" / "bad.yaml").read_text()
    # the queue the renamed flag now sizes has no memory limit to fit in: J001
    sized = Counter({("J001", "Deployment/jaeger-collector"): 1})
    after = _fixed(tmp_path, text, Counter({"J004": 4}), appear=sized)
    assert after == _replaced(
        text,
        ("- --collector.dyn-queue-size-memory=80 ", "- --collector.queue-size-memory=80 "),
        ("- name: COLLECTOR_DYN_QUEUE_SIZE_MEMORY ", "- name: COLLECTOR_QUEUE_SIZE_MEMORY "),
        ("        dyn-queue-size-memory: 80 ", "        queue-size-memory: 80 "),
        (
            "      processor.jaeger-compact.server-queue: 2000 ",
            "      processor.jaeger-compact.server-queue-size: 2000 ",
        ),
    )
    assert all(f.fix is None for f in _fix_of(after, "J004"))


COLLECTOR = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-collector
  namespace: tracing
spec:
  template:
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.57.0
          args: [ARGS]
"""


def test_no_flag_rename_that_would_change_what_the_binary_reads() -> None:
    """Declined: ``--flag value`` (two items), a value the real flag's type
    refuses, a flag the process sets already, a name close to two real ones."""
    declined = [
        '"--collector.queue-size-memori", "80"',
        '"--collector.queue-size-memori=lots"',
        '"--collector.queue-size-memori=80", "--collector.queue-size-memory=80"',
        '"--collector.grpc.tls.mn-version=1.2"',  # min-version, and max-version as close
    ]
    for args in declined:
        (finding,) = _fix_of(COLLECTOR.replace("ARGS", args), "J004")
        assert finding.fix is None, args
    (finding,) = _fix_of(COLLECTOR.replace("ARGS", '"--collector.queue-size-memori=80"'), "J004")
    assert finding.fix is not None
    assert (
        finding.fix.title == "rename --collector.queue-size-memori to --collector.queue-size-memory"
    )


def test_an_option_is_renamed_only_within_its_own_parent_key() -> None:
    """``colector: {queue-size: ...}`` names collector.queue-size through a parent
    key the others under it share: renaming the last key cannot fix it."""
    text = """\
apiVersion: jaegertracing.io/v1
kind: Jaeger
metadata:
  name: prod
spec:
  strategy: production
  collector:
    options:
      colector:
        queue-size: 5000
"""
    (finding,) = _fix_of(text, "J004")
    assert "did you mean --collector.queue-size?" in finding.message
    assert finding.fix is None
