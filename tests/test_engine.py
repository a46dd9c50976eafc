"""The engine: plugins, selection, suppression, cross-object rules, rule bugs, workers."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

import meshlint.rules
from conftest import RULES, lint_text
from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.core.config import Config
from meshlint.core.engine import _lint_document, lint
from meshlint.core.plan import Plan
from meshlint.core.plugins import PluginError, collect_rules, plugin_manager
from meshlint.core.report import Input

sys.path.insert(0, str(Path(__file__).parent))
from stress import FIXABLE

import example_plugin

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations: {ANNOTATIONS}
spec:
  containers:
    - name: web
      image: nginx:latest
      resources:
        requests: {memory: 128Mi}
"""


# K003 judges only where the kubelets run MemoryQoS: the run shows them doing so
MEMORY_QOS = """---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates: {MemoryQoS: true}
"""


def _ids(report: object) -> list[str]:
    return [f.rule for f in report.findings]  # type: ignore[attr-defined]


def test_a_third_party_plugin_adds_rules_through_the_same_hook() -> None:
    pm = plugin_manager(entry_points_=False, plugins=[meshlint.rules, example_plugin])
    rules = collect_rules(pm)
    assert "ACM001" in rules and "K001" in rules
    plan = Plan.build(rules, Config(select=("ACM",)))
    report = lint([Input("p.yaml", data=POD.replace("{ANNOTATIONS}", "{}").encode())], plan)
    assert [(f.rule, f.location.line, f.location.column) for f in report.findings] == [
        ("ACM001", 9, 14)
    ]


DOC = "## What it does\nx\n\n## Why is this bad?\ny\n"


def _plugin(rule: Rule) -> object:
    class Plugin:
        @meshlint.hookimpl
        def meshlint_rules(self) -> list[Rule]:
            return [rule]

    return Plugin()


def test_clashing_rule_slugs_name_both_plugins() -> None:
    twin = Rule(
        id="ACM900", slug="memory-limit-missing", severity=Severity.INFO, summary="x", doc=DOC
    )
    pm = plugin_manager(entry_points_=False, plugins=[meshlint.rules])
    pm.register(_plugin(twin), name="twin")
    with pytest.raises(
        PluginError,
        match=r"ACM900 \(memory-limit-missing\) of plugin 'twin' clashes with K001 .* 'meshlint.rules'",
    ):
        collect_rules(pm)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            Rule(id="K006", slug="acme-k", severity=Severity.INFO, summary="x", doc=DOC),
            "built-in prefix 'K'",
        ),
        (
            Rule(id="ACM002", slug="acme-doc", severity=Severity.INFO, summary="x", doc="x"),
            "lacks ## What it does",
        ),
        (
            Rule(id="acm3", slug="acme-id", severity=Severity.INFO, summary="x", doc=DOC),
            "is not like",
        ),
        (
            Rule(id="ACM004", slug="Acme_Slug", severity=Severity.INFO, summary="x", doc=DOC),
            "kebab-case",
        ),
    ],
)
def test_a_plugin_rule_is_validated_at_load_and_the_rest_still_loads(
    rule: Rule, problem: str
) -> None:
    pm = plugin_manager(entry_points_=False, plugins=[meshlint.rules])
    pm.register(_plugin(rule), name="acme")
    errors: list[str] = []
    rules = collect_rules(pm, errors)
    assert len(errors) == 1 and errors[0].startswith("plugin 'acme'") and problem in errors[0]
    assert rule.id not in rules and "K001" in rules and "M001" in rules


def test_selection_by_prefix_slug_and_ignore() -> None:
    text = POD.replace("{ANNOTATIONS}", "{}") + MEMORY_QOS
    assert _ids(lint_text(text, select=["K"])) == ["K001", "K003"]
    assert _ids(lint_text(text, select=["memory-limit-missing"])) == ["K001"]
    assert _ids(lint_text(text, select=["K"], ignore=("K00",))) == []


def test_annotation_suppression_with_ids_and_slugs() -> None:
    text = (
        POD.replace("{ANNOTATIONS}", '{meshlint.io/ignore: "K001,memoryqos-throttling-risk"}')
        + MEMORY_QOS
    )
    report = lint_text(text, select=["K"])
    assert _ids(report) == [] and report.suppressed == 2 and not report.unused_ignores


def test_comment_suppression_covers_its_line_or_the_next() -> None:
    text = (
        POD.replace("{ANNOTATIONS}", "{}").replace(
            "      resources:\n",
            "      # meshlint: ignore[K001] limit set by LimitRange\n      resources:\n",
        )
        + MEMORY_QOS
    )
    report = lint_text(text, select=["K001", "K003"])
    assert _ids(report) == ["K003"]
    trailing = (
        POD.replace("{ANNOTATIONS}", "{}").replace(
            "requests: {memory: 128Mi}", "requests: {memory: 128Mi}  # meshlint: ignore[K003]"
        )
        + MEMORY_QOS
    )
    assert _ids(lint_text(trailing, select=["K001", "K003"])) == ["K001"]


def test_file_wide_suppression_and_unused_ignores() -> None:
    text = "# meshlint: ignore-file[K001]\n# meshlint: ignore[J001]\n" + POD.replace(
        "{ANNOTATIONS}", "{}"
    )
    report = lint_text(text, select=["K001"])
    assert _ids(report) == []
    assert [(i.line, sorted(i.tokens)) for i in report.unused_ignores] == [(2, ["J001"])]


def test_per_file_ignores_and_severity_overrides() -> None:
    text = POD.replace("{ANNOTATIONS}", "{}") + MEMORY_QOS
    report = lint_text(
        text,
        select=["K"],
        name="legacy/pod.yaml",
        per_file_ignores={"legacy/**": ("K001",)},
        severity={"K003": Severity.ERROR},
    )
    assert [(f.rule, f.severity) for f in report.findings] == [("K003", Severity.ERROR)]


def _cross_rule() -> Rule:
    """A cross-object rule: Services that select no workload in the run."""

    def collect(doc: Document, ctx: Context) -> Iterator[object]:
        if doc.kind == "Service":
            yield doc.locate(("spec", "selector"))

    def check_run(ctx: Context) -> Iterator[Violation]:
        assert ctx.index is not None
        for service in ctx.index.find("Service"):
            if not ctx.index.selected_by(service):
                anchor = next(a for a in ctx.facts if a.resource == service.resource)
                yield Violation(
                    at=anchor, message=f"Service {service.resource.name} selects nothing"
                )

    return Rule(
        id="TST001",
        slug="service-selects-nothing",
        severity=Severity.WARNING,
        summary="x",
        doc="x",
        kinds=frozenset({"Service"}),
        collect=collect,
        check_run=check_run,
    )


def test_cross_object_rules_see_every_file_of_the_run() -> None:
    rule = _cross_rule()
    plan = Plan.build({rule.id: rule}, Config())
    svc = b"apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n  selector: {app: %s}\n"
    deploy = (
        b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
        b"spec:\n  template:\n    metadata:\n      labels: {app: web}\n"
    )
    report = lint(
        [
            Input("a.yaml", data=svc % (b"web", b"web") + b"---\n" + svc % (b"db", b"db")),
            Input("b.yaml", data=deploy),
        ],
        plan,
    )
    assert [(f.message, f.location.file, f.location.line) for f in report.findings] == [
        ("Service db selects nothing", "a.yaml", 11)
    ]


def test_a_failing_rule_is_reported_and_the_run_continues() -> None:
    def boom(doc: Document, ctx: Context) -> Iterator[Violation]:
        raise ZeroDivisionError("division by zero")
        yield  # pragma: no cover

    broken = Rule(
        id="TST002", slug="always-broken", severity=Severity.ERROR, summary="x", doc="x", check=boom
    )
    plan = Plan.build({broken.id: broken, "K001": RULES["K001"]}, Config())
    report = lint([Input("p.yaml", data=POD.replace("{ANNOTATIONS}", "{}").encode())], plan)
    assert _ids(report) == ["K001"]
    assert report.errors == [
        "p.yaml:1:1: internal error in rule TST002 (always-broken) on Pod/web: "
        "ZeroDivisionError: division by zero"
    ]


def test_worker_processes_give_the_same_report_as_in_process(tmp_path: Path) -> None:
    for i in range(40):
        (tmp_path / f"pod{i}.yaml").write_text(
            POD.replace("{ANNOTATIONS}", "{}").replace("web", f"web{i}") * 1
        )
    # K003's verdicts wait for this file's facts, whichever worker reads it
    (tmp_path / "pod99-kubelet.yaml").write_text(MEMORY_QOS)
    plan = Plan.build(RULES, Config())
    inputs = [Input(str(p), path=str(p)) for p in sorted(tmp_path.iterdir())]
    import meshlint.core.engine as engine

    serial = lint(inputs, plan, jobs=1)
    old, engine.PARALLEL_MIN_BYTES = engine.PARALLEL_MIN_BYTES, 0
    try:
        parallel = lint(inputs, plan, jobs=2)
    finally:
        engine.PARALLEL_MIN_BYTES = old
    assert [(f.rule, f.location) for f in parallel.findings] == [
        (f.rule, f.location) for f in serial.findings
    ]
    assert len(serial.findings) == 80


def test_progress_is_reported_once_per_file() -> None:
    calls: list[tuple[int, int]] = []
    text = POD.replace("{ANNOTATIONS}", "{}").encode()
    inputs = [Input(f"p{i}.yaml", data=text) for i in range(3)]
    lint(
        inputs,
        Plan.build(RULES, Config()),
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_duplicate_keys_belong_to_their_object_and_its_suppressions() -> None:
    stream = (
        "---\n# Source: shop/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n"
        "metadata:\n  name: dup\n  namespace: x\ndata:\n  a: '1'\n  a: '2'\n"
    )
    (finding,) = lint_text(stream, select=["M002"]).findings
    assert finding.location.resource is not None
    assert str(finding.location.resource) == "ConfigMap/x/dup"
    assert finding.location.source == "shop/templates/cm.yaml"
    assert finding.location.path == "$.data.a"
    ignored = stream.replace(
        "  namespace: x\n", "  namespace: x\n  annotations: {meshlint.io/ignore: M002}\n"
    )
    report = lint_text(ignored, select=["M002"])
    assert report.findings == [] and report.suppressed == 1


def test_list_items_that_are_not_objects_are_counted_as_skipped() -> None:
    text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata: {name: a}\n- 5\n- null\n"
    report = lint_text(text)
    assert (report.documents, report.skipped) == (1, 2)


def test_linted_objects_keep_the_input_order_whatever_the_workers(tmp_path: Path) -> None:
    import meshlint.core.engine as engine

    for i in range(12):
        body = POD.replace("{ANNOTATIONS}", "{}").replace("web", f"web{i}")
        (tmp_path / f"p{i:02}.yaml").write_text("---\n".join([body] * (1 + (i % 3) * 50)))
    inputs = [Input(str(p), path=str(p)) for p in sorted(tmp_path.iterdir())]
    plan = Plan.build(RULES, Config(), list_resources=True)
    old, engine.PARALLEL_MIN_BYTES = engine.PARALLEL_MIN_BYTES, 0
    try:
        parallel = lint(inputs, plan, jobs=2)
    finally:
        engine.PARALLEL_MIN_BYTES = old
    serial = lint(inputs, plan, jobs=1)
    assert [r.file for r in parallel.resources] == [r.file for r in serial.resources]
    assert [r.file for r in serial.resources][:1] == [str(inputs[0].name)]


def test_a_failing_rule_is_in_the_json_report_too() -> None:
    import json

    from meshlint.output import Options, renderer

    def boom(doc: Document, ctx: Context) -> Iterator[Violation]:
        raise KeyError("spec")
        yield  # pragma: no cover

    broken = Rule(
        id="TST003",
        slug="always-broken-too",
        severity=Severity.ERROR,
        summary="x",
        doc="x",
        check=boom,
    )
    plan = Plan.build({broken.id: broken}, Config())
    report = lint([Input("p.yaml", data=POD.replace("{ANNOTATIONS}", "{}").encode())], plan)
    document = json.loads(renderer("json")(report, Options()))
    assert document["errors"] == [
        "p.yaml:1:1: internal error in rule TST003 (always-broken-too) on Pod/web: KeyError: 'spec'"
    ]


def test_the_index_joins_a_service_to_the_workloads_of_its_namespace() -> None:
    from meshlint.core.indexing import entry_for
    from meshlint.core.loading import parse_text
    from meshlint.core.model import Index

    text = (
        "apiVersion: v1\nkind: Service\nmetadata: {name: agent, namespace: tracing}\n"
        "spec: {selector: {app: jaeger-agent}}\n---\n"
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: agent, namespace: tracing}\n"
        "spec:\n  template:\n    metadata: {labels: {app: jaeger-agent, tier: tracing}}\n---\n"
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: other, namespace: shop}\n"
        "spec:\n  template:\n    metadata: {labels: {app: jaeger-agent}}\n"
    )
    index = Index(entry_for(d) for d in parse_text("x.yaml", text).documents)
    (service,) = index.find("Service", name="agent")
    assert [e.resource.name for e in index.selected_by(service)] == ["agent"]  # not shop's


def test_a_linted_document_is_freed_without_the_cyclic_collector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine pauses the cyclic collector: a document linted in a stream must
    not be kept alive by a cycle (its embedded configs, a fix's editor in their
    memo) until the file ends, or a 200,000-document stream grows without bound."""
    linted: list[weakref.ref[Document]] = []
    original = _lint_document

    def recording(doc: Document, plan: Plan, report: object) -> None:
        original(doc, plan, report)  # type: ignore[arg-type]
        linted.append(weakref.ref(doc))

    import meshlint.core.engine as engine

    monkeypatch.setattr(engine, "_lint_document", recording)
    istio = POD.replace("{ANNOTATIONS}", '{proxy.istio.io/config: "tracing: {sampling: 50}"}')
    stream = "".join("---\n" + FIXABLE[i % 2].format(i=i) for i in range(6)) + "---\n" + istio
    plan = Plan.build(RULES, Config())
    enabled = gc.isenabled()
    gc.disable()
    try:
        report = engine.lint_input(Input("-", data=stream.encode()), plan)
        alive = [ref() for ref in linted if ref() is not None]
    finally:
        if enabled:
            gc.enable()
    assert len(linted) == 7 and {c.rule for c in report.candidates} >= {"O002", "K003"}
    assert alive == []


COLLECTOR_CONFIG_MAP = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: otel-gateway, namespace: obs}
data:
  relay.yaml: |
    receivers:
      otlp:
        protocols:
          grpc: {}
    processors:
      memory_limiter:
        limit_mib: 400
      batch: {}
    exporters:
      otlp:
        endpoint: tempo:4317
        sending_queue: {queue_size: 5000}
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [otlp]
"""
MOUNTING_COLLECTOR = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: otel-agent, namespace: obs}
spec:
  template:
    spec:
      containers:
        - name: otel-collector
          image: otel/opentelemetry-collector-contrib:0.115.0
          args: [--config=/conf/agent.yaml]
          resources: {limits: {memory: 512Mi}}
          volumeMounts: [{name: conf, mountPath: /conf}]
      volumes:
        - name: conf
          configMap: {name: otel-agent-config}
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_each_join_a_run_misses_is_one_note_however_many_rules_expected_it(
    jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a dozen rules hold facts about the gateway's config and about the agent's
    # mount; each missing join is still said once, wherever the files were linted
    import meshlint.core.engine as engine

    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    plan = Plan.build(RULES, Config())
    inputs = [
        Input("gateway.yaml", data=COLLECTOR_CONFIG_MAP.encode()),
        Input("agent.yaml", data=MOUNTING_COLLECTOR.encode()),
    ]
    report = lint(inputs, plan, jobs)
    assert report.unjoined == [
        'gateway.yaml: the collector config in ConfigMap "otel-gateway" (key "relay.yaml") '
        "is mounted by no pod in the linted files: its memory limit, env and grace period "
        "are unknown",
        'agent.yaml: container "otel-collector" of Deployment/obs/otel-agent mounts '
        'ConfigMap "otel-agent-config", which is not in the linted files (or holds no '
        "collector config): its config is not judged",
    ]


PLAIN_CONFIG = """\
    receivers:
      otlp:
        protocols:
          grpc: {}
    exporters:
      otlp: {endpoint: tempo:4317}
    service:
      pipelines:
        traces:
          receivers: [otlp]
          exporters: [otlp]
"""


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_note_about_a_configmap_names_its_first_file_and_key_whatever_the_order(
    jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one ConfigMap with a config a dozen rules judge ("relay.yaml") and a plain
    # one ("agent.yaml"), and another file with the same ConfigMap: one note,
    # naming the first file and key, however the facts arrive
    import meshlint.core.engine as engine

    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    two_keys = COLLECTOR_CONFIG_MAP.replace("data:\n", "data:\n  agent.yaml: |\n" + PLAIN_CONFIG)
    inputs = [
        Input("a.yaml", data=COLLECTOR_CONFIG_MAP.replace("relay.yaml", "zz.yaml").encode()),
        Input("b.yaml", data=two_keys.encode()),
    ]
    report = lint(inputs, Plan.build(RULES, Config()), jobs)
    assert report.unjoined == [
        'a.yaml: the collector config in ConfigMap "otel-gateway" (key "zz.yaml") is '
        "mounted by no pod in the linted files: its memory limit, env and grace period "
        "are unknown"
    ]
    alone = lint(inputs[1:], Plan.build(RULES, Config()), jobs)
    assert [note.split(" is mounted")[0] for note in alone.unjoined] == [
        'b.yaml: the collector config in ConfigMap "otel-gateway" (key "agent.yaml")'
    ]


def test_this_process_sweeps_its_own_tasks_apart_from_the_reports_it_received(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # while this process lints its share, the workers' reports it holds are
    # frozen (its sweep walks only what its task made); after the run nothing is
    import meshlint.core.engine as engine

    for i in range(8):
        stream = "---\n".join(FIXABLE[j % 2].format(i=j) for j in range(40))
        (tmp_path / f"{i}.yaml").write_text(stream)
    inputs = [Input(str(path)) for path in sorted(tmp_path.iterdir())]
    frozen: list[int] = []
    original = engine._run

    def run(task: object, plan: Plan) -> object:
        frozen.append(gc.get_freeze_count())
        return original(task, plan)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "_run", run)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    report = lint(inputs, Plan.build(RULES, Config()), jobs=2)
    assert frozen and max(frozen) > 0  # what this process held was frozen as it linted
    assert gc.get_freeze_count() == 0
    assert sum(f.rule == "O002" for f in report.findings) == 8 * 20
    # a program that froze objects of its own (a pre-fork server) keeps them
    # frozen, and meshlint freezes nothing of its own then
    gc.freeze()
    try:
        held, frozen[:] = gc.get_freeze_count(), []
        lint(inputs, Plan.build(RULES, Config()), jobs=2)
        # (frozen objects may still be freed: the count only ever shrinks)
        assert frozen and max(frozen) <= held and 0 < gc.get_freeze_count() <= held
    finally:
        gc.unfreeze()
