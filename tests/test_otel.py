"""Collector config discovery, the ConfigMap -> pod link and the queue arithmetic."""

from __future__ import annotations

import pickle
import textwrap

from conftest import RULES, lint_text
from meshlint.core.config import Config
from meshlint.core.engine import lint
from meshlint.core.loading import parse_text
from meshlint.core.model import Context, Document, ParseError
from meshlint.core.plan import Plan
from meshlint.core.report import Input
from meshlint.domain.k8s.durations import collector_duration
from meshlint.domain.otel.config import ConfigView, config_parse_errors, configs, pipelines
from meshlint.domain.otel.link import Budget, Hosted, Mount, link, mounts
from meshlint.domain.otel.queue import estimate, queues, upstream_batch

CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}
  namespace: obs
data:
  notes: "just text"
  relay: |
    receivers:
      otlp: {{protocols: {{grpc: {{}}}}}}
    processors:
      memory_limiter: {{check_interval: 1s, limit_mib: {mib}}}
      batch: {batch}
    exporters:
      otlp:
        endpoint: tempo:4317
        sending_queue: {queue}
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [otlp]
"""

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: obs
spec:
  template:
    spec:
      containers:
        - name: reloader
          image: jimmidyson/configmap-reload:v0.9.0
          volumeMounts: [{{name: cfg, mountPath: /conf}}]
          resources: {{limits: {{memory: 16Mi}}}}
        - name: otelcol
          image: otel/opentelemetry-collector-contrib:0.115.0
          env: [{{name: GOMEMLIMIT, value: 400MiB}}]
          volumeMounts: [{{name: cfg, mountPath: /conf}}]
          resources: {{limits: {{memory: {limit}}}}}
      volumes:
        - name: cfg
          configMap: {{name: {name}, items: [{{key: {key}, path: relay.yaml}}]}}
"""


def _config_map(
    name: str = "gw",
    mib: int = 400,
    batch: str = "{send_batch_max_size: 1000}",
    queue: str = "{queue_size: 10}",
) -> str:
    return CONFIG_MAP.format(name=name, mib=mib, batch=batch, queue=queue)


def _deployment(name: str = "gw", limit: str = "512Mi", key: str = "relay") -> str:
    return DEPLOYMENT.format(name=name, limit=limit, key=key)


def _docs(text: str) -> list[Document]:
    return parse_text("m.yaml", text).documents


def _view(text: str) -> ConfigView:
    (view,) = [v for doc in _docs(text) for v in configs(doc)]
    assert isinstance(view, ConfigView)
    return view


def test_a_configmap_value_under_any_key_is_found_with_host_positions() -> None:
    text = _config_map()
    view = _view(text)
    assert view.key == "relay"
    assert [p.name for p in pipelines(view)] == ["traces"]
    anchor = view.locate(("processors", "memory_limiter", "limit_mib"))
    line = text.splitlines()[anchor.line - 1]
    assert "limit_mib" in line and line[anchor.column - 1 :].startswith("400")
    assert anchor.path == "$.data.relay.processors.memory_limiter.limit_mib"


def test_collector_crs_hold_a_string_in_v1alpha1_and_an_object_in_v1beta1() -> None:
    body = "receivers: {otlp: {}}\nexporters: {debug: {}}\nservice: {pipelines: {traces: {}}}"
    alpha = f"apiVersion: opentelemetry.io/v1alpha1\nkind: OpenTelemetryCollector\nmetadata: {{name: a}}\nspec:\n  config: |\n{textwrap.indent(body, '    ')}\n"
    beta = f"apiVersion: opentelemetry.io/v1beta1\nkind: OpenTelemetryCollector\nmetadata: {{name: b}}\nspec:\n  config:\n{textwrap.indent(body, '    ')}\n"
    for text in (alpha, beta):
        view = _view(text)
        assert view.host.kind == "OpenTelemetryCollector"
        assert view.locate(("exporters",)).line == 7


def test_values_that_are_not_collector_configs_are_ignored() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: 'receivers exporters pipelines'\n  b: |\n    receivers: {}\n    exporters: {}\n"
    assert [v for doc in _docs(text) for v in configs(doc)] == []


def test_a_broken_embedded_config_is_reported_as_m004_in_the_host_file() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  relay: |\n    receivers: {otlp: {}}\n    exporters: debug: {}\n    service: {pipelines: {}}\n"
    (problem,) = [v for doc in _docs(text) for v in configs(doc)]
    assert isinstance(problem, ParseError) and problem.at.line == 7
    report = lint_text(text, select=["M004", "O"])
    assert [(f.rule, f.location.line) for f in report.findings] == [("M004", 7)]


def test_collector_durations() -> None:
    """The grammar is tested in test_durations; here, what the collector surface adds."""
    assert collector_duration("1m30s") == 90.0
    assert collector_duration(0) == 0.0
    assert collector_duration(1_000_000_000) == 1.0  # mapstructure: a bare integer is ns
    assert collector_duration("${env:INTERVAL}") is None


def test_requests_queue_arithmetic_uses_the_upstream_batch_bound() -> None:
    view = _view(_config_map(batch="{send_batch_max_size: 1000}", queue="{queue_size: 10}"))
    (queue,) = queues(view)
    found = estimate(view, queue, 1024, 4096)
    assert found is not None and found.size == 10 * 1000 * 5120
    assert found.path == ("exporters", "otlp", "sending_queue", "queue_size")
    assert "10 requests x 1000 items" in found.arithmetic


def test_an_unbounded_batch_makes_a_requests_queue_unbounded() -> None:
    view = _view(_config_map(batch="{send_batch_size: 8192}", queue="{enabled: true}"))
    (queue,) = queues(view)
    found = estimate(view, queue, 1024, 4096)
    assert found is not None and found.size is None
    assert found.path == ("exporters", "otlp", "sending_queue")  # no queue_size to point at
    assert "1000 requests of unbounded size" in found.arithmetic


def test_items_and_bytes_sizers_do_not_depend_on_the_batch() -> None:
    items = _view(_config_map(batch="{}", queue="{sizer: items, queue_size: 2000}"))
    assert estimate(items, next(queues(items)), 1024, 4096).size == 2000 * 5120  # type: ignore[union-attr]
    raw = _view(_config_map(batch="{}", queue="{sizer: bytes, queue_size: 1048576}"))
    assert estimate(raw, next(queues(raw)), 1024, 4096).size == 5 * 1048576  # type: ignore[union-attr]


def test_persistent_disabled_and_templated_queues_are_not_estimated() -> None:
    for queue in ("{storage: file_storage}", "{enabled: false}", "{enabled: 'false'}"):
        assert list(queues(_view(_config_map(queue=queue)))) == []
    templated = _view(_config_map(queue="{queue_size: '${env:QUEUE}'}"))
    assert estimate(templated, next(queues(templated)), 1024, 4096) is None


def test_the_largest_batch_over_all_feeding_pipelines_wins() -> None:
    text = _config_map().replace(
        "          exporters: [otlp]\n",
        "          exporters: [otlp]\n"
        "        logs:\n          receivers: [otlp]\n          processors: [batch/big]\n"
        "          exporters: [otlp]\n",
    )
    text = text.replace(
        "      batch: {send", "      batch/big: {send_batch_max_size: 4000}\n      batch: {send"
    )
    view = _view(text)
    batch = upstream_batch(view, next(queues(view)))
    assert batch is not None and batch.size == 4000 and "batch/big" in batch.why


def test_mounts_prefer_the_collector_container_and_keep_its_budget() -> None:
    (doc,) = _docs(_deployment(limit="1Gi"))
    (mount,) = mounts(doc)
    assert mount.config_map == "gw" and mount.keys == ("relay",)
    assert mount.budget.limit == 2**30 and mount.budget.gomemlimit == 400 * 2**20
    assert 'container "otelcol"' in mount.budget.owner


def _facts(*files: tuple[str, str]) -> list[object]:
    facts: list[object] = []
    for name, text in files:
        for doc in parse_text(name, text).documents:
            facts.extend(mounts(doc))
            for view in configs(doc):
                if isinstance(view, ConfigView):
                    facts.append(Hosted(name, "obs", "gw", view.key or "", "item"))
    return facts


def test_link_prefers_the_nearest_pod_and_respects_mounted_keys() -> None:
    facts = _facts(
        ("a/rendered/configmap.yaml", _config_map()),
        ("a/rendered/deployment.yaml", _deployment(limit="1Gi")),
        ("b/rendered/deployment.yaml", _deployment(limit="2Gi")),
    )
    ((_hosted, budgets),) = link(facts)
    assert [b.limit for b in budgets] == [2**30]
    other_key = _facts(("cm.yaml", _config_map()), ("d.yaml", _deployment(key="other")))
    assert [list(b) for _, b in link(other_key)] == [[]]


def test_facts_survive_pickling_for_worker_processes() -> None:
    (doc,) = _docs(_deployment())
    facts = [*mounts(doc), Hosted("f", None, "gw", "relay", Budget("x", 1, "1"))]
    assert pickle.loads(pickle.dumps(facts)) == facts
    assert isinstance(facts[0], Mount)


def test_a_configmap_and_its_deployment_in_different_files_are_joined() -> None:
    plan = Plan.build(RULES, Config(select=("O002", "O003")))
    inputs = [
        Input(name="cm.yaml", data=_config_map(mib=600).encode(), rel="cm.yaml"),
        Input(name="deploy.yaml", data=_deployment(limit="512Mi").encode(), rel="deploy.yaml"),
    ]
    report = lint(inputs, plan)
    assert not report.errors
    (finding,) = report.findings
    assert finding.rule == "O002" and finding.location.file == "cm.yaml"
    assert "limit_mib 600" in finding.message and 'container "otelcol"' in finding.message
    assert finding.location.line == 12


def test_queue_message_states_the_arithmetic_against_the_limit() -> None:
    limited = _config_map(queue="{queue_size: 200}") + "---\n" + _deployment(limit="512Mi")
    # Behind a memory_limiter the oversized queue fails as refused data: not O003's.
    assert lint_text(limited, select=["O003"]).findings == []
    text = limited.replace("[memory_limiter, batch]", "[batch]")
    report = lint_text(text, select=["O003"])
    (finding,) = report.findings
    assert "~977 MiB (200 requests x 1000 items" in finding.message
    assert "x 5 KiB per item in memory" in finding.message
    assert "memory limit 512Mi (512 MiB)" in finding.message
    assert "span-size-bytes 1024, span-overhead-bytes 4096" in finding.message


def test_sdk_queue_arithmetic_uses_the_span_parameters() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: app}\nspec:\n  containers:\n"
        "    - name: app\n      image: app:1\n"
        "      env: [{name: OTEL_BSP_MAX_QUEUE_SIZE, value: '100000'}]\n"
        "      resources: {limits: {memory: 256Mi}}\n"
    )
    (finding,) = lint_text(text, select=["O004"]).findings
    assert "~488 MiB (100000 spans x 5 KiB" in finding.message
    small = {"O004": {"span-size-bytes": 512, "span-overhead-bytes": 1024}}
    assert not lint_text(text, select=["O004"], rules=small).findings


def test_config_parse_errors_yields_only_parse_errors() -> None:
    broken = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  relay: |\n    receivers: {}\n    exporters: a: b\n    pipelines: {}\n"
    assert [v.at.line for doc in _docs(broken) for v in config_parse_errors(doc)] == [7]  # type: ignore[union-attr]
    assert [p for doc in _docs(_config_map()) for p in config_parse_errors(doc)] == []


def test_cross_object_findings_honour_annotations_and_comments() -> None:
    annotated = _config_map(mib=600).replace(
        "  namespace: obs\n", "  namespace: obs\n  annotations: {meshlint.io/ignore: O002}\n", 1
    )
    report = lint_text(annotated + "---\n" + _deployment(), select=["O002"])
    assert not report.findings and report.suppressed == 1
    commented = _config_map(mib=600).replace(
        "limit_mib: 600}", "limit_mib: 600}  # meshlint: ignore[O002] sized by hand"
    )
    assert not lint_text(commented + "---\n" + _deployment(), select=["O002"]).findings


def test_an_unrecognised_image_is_the_collector_when_its_args_name_the_config() -> None:
    text = _deployment().replace(
        "otel/opentelemetry-collector-contrib:0.115.0",
        "public.ecr.aws/aws-observability/aws-otel-collector:v0.40.0\n"
        "          args: [--config=/conf/relay.yaml]",
    )
    (doc,) = _docs(text)
    assert [m.budget.owner.split('"')[1] for m in mounts(doc)] == ["otelcol"]


def test_jaeger_storage_exporter_queue_is_on_when_written_unless_disabled() -> None:
    """Jaeger >= 2.14 reads `queue` as an optional section: written means on."""

    def jaeger(queue: str) -> ConfigView:
        text = _config_map(queue="{}").replace(
            "      otlp:\n        endpoint: tempo:4317\n        sending_queue: {}",
            f"      jaeger_storage_exporter:\n        trace_storage: es\n        queue: {queue}",
        )
        return _view(text.replace("exporters: [otlp]", "exporters: [jaeger_storage_exporter]"))

    assert list(queues(jaeger("{enabled: false, queue_size: 100000}"))) == []
    assert list(queues(jaeger("null"))) == []
    (queue,) = queues(jaeger("{queue_size: 100000}"))
    assert queue.label.endswith(" queue") and queue.path[-1] == "queue"
    (queue,) = queues(jaeger("{enabled: true}"))
    assert estimate(jaeger("{enabled: true}"), queue, 1024, 4096) is None  # queue_size 0: invalid


def test_renamed_component_types_read_as_the_current_name_in_their_section() -> None:
    from meshlint.domain.otel import K8S_ATTRIBUTES, OTLP_GRPC, OTLP_HTTP, component_type

    assert component_type("otlp/tempo", "exporters") == OTLP_GRPC
    assert component_type("otlp_grpc", "exporters") == OTLP_GRPC
    assert component_type("otlphttp", "exporters") == OTLP_HTTP
    assert component_type("k8sattributes/pods", "processors") == K8S_ATTRIBUTES
    assert component_type("otlp", "receivers") == "otlp"  # the receiver was not renamed
    assert component_type("otlp/tempo") == "otlp"  # without a section: the id's own type


JAEGER_V2 = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: jaeger, namespace: obs}
spec:
  template:
    spec:
      containers:
        - name: jaeger
          image: docker.io/jaegertracing/jaeger:2.19.0
          args: ARGS
          resources: {limits: {memory: 512Mi}}
"""


def test_a_jaeger_v2_container_without_config_runs_the_built_in_config() -> None:
    from meshlint.domain.jaeger import ALL_IN_ONE_MAX_TRACES, memory_stores
    from meshlint.domain.otel import own_budget

    view = _view(JAEGER_V2.replace("ARGS", "[]"))
    assert view.builtin and view.container is not None
    assert view.locate(("service", "pipelines", "traces")).line == 8  # the container
    assert [p.processors for p in pipelines(view)] == [("batch",)]
    assert [s.max_traces for s in memory_stores(view.data)] == [ALL_IN_ONE_MAX_TRACES]
    budget = own_budget(view)
    assert budget is not None and budget.limit == 512 * 2**20
    for args in ('["--config", "/etc/jaeger/config.yaml"]', "[--config=file:/c.yaml]", "[--set=x]"):
        assert [v for doc in _docs(JAEGER_V2.replace("ARGS", args)) for v in configs(doc)] == []


def test_a_built_in_config_is_in_no_file_and_offers_no_edits() -> None:
    """Findings on Jaeger v2's built-in config point at the container; an edit of
    the config there would land in the container, so there is none."""
    view = _view(JAEGER_V2.replace("ARGS", "[]"))
    assert view.builtin
    assert view.set_value(("processors", "batch", "timeout"), "1s") is None
    assert view.remove(("processors", "batch")) is None
    assert view.move_first(("service", "pipelines", "traces", "processors", 0)) is None
    assert view.set_value(("image",), "x") is None  # not even where the container has the path
    written = _view(CONFIG_MAP.format(name="relay", mib=400, batch="{}", queue="{}"))
    assert not written.builtin
    assert written.remove(("processors", "batch")) is not None


def test_jaeger_v2_memory_store_defaults_to_a_million_traces() -> None:
    from meshlint.domain.jaeger import DEFAULT_MAX_TRACES, is_jaeger_config, memory_stores

    data = {
        "extensions": {
            "jaeger_storage": {
                "backends": {
                    "a": {"memory": {"max_traces": 5000}},
                    "b": {"memory": None},
                    "c": {"memory": {"max_traces": "${env:MAX}"}},
                    "es": {"elasticsearch": {}},
                }
            }
        }
    }
    found = [(s.backend, s.max_traces, s.written) for s in memory_stores(data)]
    assert found == [("a", 5000, True), ("b", DEFAULT_MAX_TRACES, False), ("c", None, True)]
    assert is_jaeger_config(data) and not is_jaeger_config({"extensions": {"pprof": {}}})


def test_the_memory_limiter_extension_covers_only_receivers_that_use_it_everywhere() -> None:
    from meshlint.domain.otel import limiting_receivers

    text = """\
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata: {name: c}
spec:
  config:
    extensions:
      memory_limiter: {check_interval: 1s, limit_percentage: 80}
    receivers:
      otlp:
        protocols:
          grpc: {middlewares: [{id: memory_limiter}]}
          http: {middlewares: [{id: memory_limiter}]}
      otlp/half:
        protocols:
          grpc: {middlewares: [{id: memory_limiter}]}
          http:
      zipkin: {middlewares: [{id: memory_limiter}]}
      hostmetrics: {}
    exporters: {debug: {}}
    service:
      extensions: [memory_limiter]
      pipelines:
        traces: {receivers: [otlp, zipkin], exporters: [debug]}
"""
    assert limiting_receivers(_view(text)) == {"otlp", "zipkin"}
    not_started = text.replace("extensions: [memory_limiter]", "extensions: []")
    assert limiting_receivers(_view(not_started)) == set()


def test_components_every_distribution_has_are_not_collected_for_the_join() -> None:
    from meshlint.domain.otel import in_every_distribution
    from meshlint.rules.otel import otel_config_invalid

    assert in_every_distribution("receivers", "otlp")
    assert in_every_distribution("exporters", "otlp")
    assert not in_every_distribution("processors", "memory_limiter")  # not in otelcol-otlp
    assert not in_every_distribution("processors", "k8s_attributes")  # contrib and k8s only
    text = _config_map().replace("      batch: {", "      k8s_attributes: {}\n      batch: {")
    (doc,) = _docs(text)
    items = [f.item for f in otel_config_invalid.collect(doc, Context())]
    components = [i for i in items if isinstance(i, otel_config_invalid.Component)]
    # only what some official image lacks can ever be judged against a pod's image
    assert [(c.section, c.type) for c in components] == [
        ("processors", "memory_limiter"),
        ("processors", "k8s_attributes"),
        ("processors", "batch"),
    ]
    core = _deployment().replace(
        "opentelemetry-collector-contrib:0.115.0", "opentelemetry-collector:0.150.0"
    )
    (finding,) = lint_text(text + "---\n" + core, select=["O011"]).findings
    assert '"k8s_attributes"' in finding.message and finding.location.line == 13


def test_a_config_is_read_once_per_view_whatever_asks() -> None:
    from meshlint.domain.otel import limiting_receivers, memory_limiters
    from meshlint.domain.otel.processors import used

    view = _view(_config_map())
    assert list(memory_limiters(view)) == list(memory_limiters(view))
    assert next(memory_limiters(view)) is next(memory_limiters(view))
    assert limiting_receivers(view) is limiting_receivers(view) == frozenset()
    assert [c for c, _, _ in used(view, "processors")] == ["memory_limiter", "batch"]
    assert list(used(view, "processors")) == list(used(view, "processors"))


def test_a_pipeline_without_receivers_is_one_finding_not_two() -> None:
    # what the Splunk chart renders for an agent whose logs go through a gateway
    # it does not run: the collector refuses the pipeline (O011); it carries no
    # data to buffer, so O001 has nothing to add
    text = textwrap.dedent(
        """\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: otel-agent, namespace: obs}
        data:
          relay.yaml: |
            receivers:
              otlp:
                protocols:
                  grpc: {}
            processors:
              memory_limiter: {check_interval: 1s, limit_percentage: 75, spike_limit_percentage: 20}
            exporters:
              otlp_grpc: {endpoint: gateway:4317}
            service:
              pipelines:
                logs:
                  exporters: [otlp_grpc]
                traces:
                  receivers: [otlp]
                  processors: [memory_limiter]
                  exporters: [otlp_grpc]
        """
    )
    report = lint_text(text, select=["O001", "O011"])
    assert [(f.rule, f.location.line) for f in report.findings] == [("O011", 16)]  # "logs:"
