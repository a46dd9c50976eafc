"""--fix: fixes change only their bytes, are proved by re-parsing, converge, and
are never written where they must not be."""

from __future__ import annotations

import codecs
import difflib
import json
import os
import re
import shutil
import stat
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import CORPUS, FIXTURES, require_shared
from meshlint.api import Settings, applicable, fix_paths, lint_paths, lint_text
from meshlint.cli import main
from meshlint.core import fixing
from meshlint.core.model import Applicability, Edit, Finding, Fix, Intent, Location

ISOLATED = Settings(isolated=True)

DEPLOYMENT = """\
# the collector of the platform team
apiVersion: apps/v1
kind: Deployment
metadata:
  name: otel-collector
spec:
  template:
    spec:
      containers:
      - name: otel-collector   # pinned by Renovate
        image: otel/opentelemetry-collector-contrib:0.115.0
        env:
        - name: GOMEMLIMIT
          value: '400Mi'   # Kubernetes spelling
        resources:
          limits: {memory: 512Mi}
"""

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: relay
data:
  relay: |
    extensions:
      health_check: {}
      memory_ballast:
        size_mib: 165
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      batch: {}
      memory_limiter:
        limit_mib: 400
    exporters:
      otlp: {endpoint: "tempo:4317"}
    service:
      extensions: [health_check, memory_ballast]
      pipelines:
        traces:
          receivers: [otlp]
          processors:
            - batch
            - memory_limiter
          exporters: [otlp]
"""


def test_a_fix_changes_only_its_bytes_crlf_and_bom_kept(tmp_path: Path) -> None:
    text = DEPLOYMENT.replace("\n", "\r\n")
    target = tmp_path / "collector.yaml"
    target.write_bytes(codecs.BOM_UTF8 + text.encode())
    done = fix_paths([str(target)], ISOLATED)
    assert done.fixed == Counter({"K004": 1})
    expected = codecs.BOM_UTF8 + text.replace("'400Mi'", "'400MiB'").encode()
    assert target.read_bytes() == expected
    assert not [f for f in done.run.report.findings if f.rule == "K004"]


def test_edits_inside_an_embedded_config_land_in_the_block_scalar(tmp_path: Path) -> None:
    target = tmp_path / "relay.yaml"
    target.write_text(CONFIGMAP)
    done = fix_paths([str(target)], ISOLATED)
    assert done.fixed == Counter({"O005": 2, "O001": 1, "O002": 1})
    after = target.read_text()
    assert after == (
        CONFIGMAP.replace("      memory_ballast:\n        size_mib: 165\n", "")
        .replace("[health_check, memory_ballast]", "[health_check]")
        .replace(
            "            - batch\n            - memory_limiter\n",
            "            - memory_limiter\n            - batch\n",
        )
        .replace("        limit_mib: 400\n", "        limit_mib: 400\n        check_interval: 1s\n")
    )
    assert not {"O001", "O002", "O005"} & {f.rule for f in done.run.report.findings}


def test_inserted_blocks_follow_the_documents_sequence_style(tmp_path: Path) -> None:
    target = tmp_path / "jaeger.yaml"
    target.write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: jaeger\nspec:\n"
        "  template:\n    spec:\n      containers:\n        - name: collector\n"
        "          image: jaegertracing/jaeger-collector:1.57.0\n"
        "          resources:\n            limits: {memory: 1Gi}\n"
    )
    assert fix_paths([str(target)], ISOLATED).fixed == Counter()  # K005's fix is unsafe
    fix_paths([str(target)], ISOLATED, unsafe=True)
    assert target.read_text().endswith(
        "            limits: {memory: 1Gi}\n          env:\n"
        "            - name: GOMEMLIMIT\n              value: 819MiB\n"
    )


def test_a_fix_that_does_not_read_back_as_intended_is_skipped() -> None:
    data = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: '1'\n"
    start = data.index(b"'1'")
    lying = Fix(
        title="set x",
        applicability=Applicability.SAFE,
        edits=(Edit(start, start + 3, "2"),),  # an int, where the intent says a string
        intents=(Intent(0, ("data", "x"), "2"),),
    )
    finding = Finding("K004", "gomemlimit-invalid", 3, "m", Location("a.yaml", 6, 6), lying)  # type: ignore[arg-type]
    outcome = fixing.apply("a.yaml", data, [finding])
    assert outcome.data == data and outcome.rejected == [finding]
    honest = Fix(
        title="set x",
        applicability=Applicability.SAFE,
        edits=(Edit(start, start + 3, "'2'"),),
        intents=(Intent(0, ("data", "x"), "2"),),
    )
    finding = Finding("K004", "gomemlimit-invalid", 3, "m", Location("a.yaml", 6, 6), honest)  # type: ignore[arg-type]
    assert fixing.apply("a.yaml", data, [finding]).data == data.replace(b"'1'", b"'2'")


def test_every_bad_fixture_converges_and_rereads_clean(tmp_path: Path) -> None:
    """--fix --unsafe-fixes on every rule's bad.yaml: a second run changes nothing,
    and what was fixed is gone."""
    for fixture in sorted(FIXTURES.glob("*/bad.yaml")):
        shutil.copy(fixture, tmp_path / f"{fixture.parent.name}.yaml")
    settings = Settings(isolated=True, report_unused_ignores=True)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    first = fix_paths([str(tmp_path)], settings, unsafe=True)
    assert first.fixed and not [n for n in first.notes if "skipped" in n]
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    written = {Path(f.name).name for f in first.files if f.written}
    assert written == {n for n in before if before[n] != after[n]}
    helm = {Path(f.name).name for f in first.files if not f.written}
    assert all("Helm-rendered" in (f.not_written or "") for f in first.files if not f.written)
    second = fix_paths([str(tmp_path)], settings, unsafe=True)
    # what was written is done; only the Helm streams (never written) fix again
    assert {Path(f.name).name for f in second.files} == helm
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == after
    left = [f for f in second.run.report.findings if applicable(f, True)]
    assert {Path(f.location.file).name for f in left} <= helm


def test_fix_lints_again_only_the_files_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each round after the first reads only the files the fixes changed; the
    report is still of the whole run (what the unchanged file holds is kept)."""
    from meshlint.core import engine

    (tmp_path / "fixable.yaml").write_text(CONFIGMAP, encoding="utf-8")  # O002's safe fix
    (tmp_path / "clean.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers:\n    - {name: app, image: app:1}\n",  # K001, no fix
        encoding="utf-8",
    )
    linted: list[str] = []
    lint_one = engine._lint_and_sweep

    def counted(item: engine.Input, plan: engine.Plan) -> engine.FileReport:
        linted.append(Path(item.name).name)
        return lint_one(item, plan)

    monkeypatch.setattr(engine, "_lint_and_sweep", counted)
    done = fix_paths([str(tmp_path)], ISOLATED)
    assert done.fixed["O002"] == 1
    assert Counter(linted) == {"clean.yaml": 1, "fixable.yaml": 2}
    rules = {(Path(f.location.file).name, f.rule) for f in done.run.report.findings}
    assert ("clean.yaml", "K001") in rules and ("fixable.yaml", "O002") not in rules
    assert rules == {
        (Path(f.location.file).name, f.rule)
        for f in lint_paths([str(tmp_path)], ISOLATED).report.findings
    }


def test_stdin_is_never_written_and_diff_shows_the_change(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--isolated", "--diff", "-"], input=DEPLOYMENT)
    assert result.exit_code == 1
    assert "-          value: '400Mi'   # Kubernetes spelling" in result.output
    assert "+          value: '400MiB'   # Kubernetes spelling" in result.output
    result = CliRunner().invoke(main, ["check", "--isolated", "--fix", "-"], input=DEPLOYMENT)
    assert "standard input is never written" in result.output
    assert "K004" in result.output  # still reported: nothing was fixed on disk


def test_read_only_file_is_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    locked, open_ = tmp_path / "a.yaml", tmp_path / "b.yaml"
    locked.write_text(DEPLOYMENT)
    open_.write_text(DEPLOYMENT)
    locked.chmod(stat.S_IRUSR)
    done = fix_paths([str(tmp_path)], ISOLATED)
    assert locked.read_text() == DEPLOYMENT
    assert "400MiB" in open_.read_text()
    assert [n for n in done.notes if n.endswith("a.yaml: not fixed: is read-only")]
    assert [f.location.file for f in done.run.report.findings if f.rule == "K004"] == [str(locked)]


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "a.yaml"
    target.write_text("x: 1\n")
    assert fixing.write(str(target), b"x: 0\n", b"x: 2\n") == "changed since it was read"
    assert target.read_text() == "x: 1\n"
    target.chmod(0o640)
    assert fixing.write(str(target), b"x: 1\n", b"x: 2\n") is None
    assert target.read_text() == "x: 2\n" and stat.S_IMODE(target.stat().st_mode) == 0o640
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    assert fixing.write(str(link), b"x: 2\n", b"x: 3\n") == "is a symbolic link"


def test_reports_carry_fixes_and_the_exit_code_follows_what_is_left(tmp_path: Path) -> None:
    target = tmp_path / "a.yaml"
    target.write_text(DEPLOYMENT)
    runner = CliRunner()
    result = runner.invoke(main, ["check", "--isolated", "--select", "K004", str(target)])
    assert (
        "[*] GOMEMLIMIT" in result.output
        and "[*] 1 fixable with the `--fix` option" in result.output
    )
    result = runner.invoke(main, ["check", "--isolated", "--format", "json", str(target)])
    found = json.loads(result.output)
    (k004,) = [f for f in found["findings"] if f["rule"] == "K004"]
    start = DEPLOYMENT.encode().index(b"'400Mi'")
    assert k004["fix"] == {
        "title": "write 400MiB",
        "applicability": "safe",
        "edits": [{"start": start, "end": start + 7, "content": "'400MiB'"}],
    }
    result = runner.invoke(main, ["check", "--isolated", "--format", "sarif", str(target)])
    (sarif,) = [r for r in json.loads(result.output)["runs"][0]["results"] if r["ruleId"] == "K004"]
    (replacement,) = sarif["fixes"][0]["artifactChanges"][0]["replacements"]
    assert replacement == {
        "deletedRegion": {"byteOffset": start, "byteLength": 7},
        "insertedContent": {"text": "'400MiB'"},
    }
    result = runner.invoke(main, ["check", "--isolated", "--select", "K004", "--fix", str(target)])
    assert result.exit_code == 0, result.output
    assert "Fixed 1; All checks passed" in result.output


@pytest.mark.slow  # corpus-wide
def test_corpus_diffs_touch_only_the_lines_of_fixed_findings(tmp_path: Path) -> None:
    """One round of fixes per corpus file: every changed line of the original is
    a line the applied fixes edit, and re-linting shows the fixed findings gone
    and no new one (counted per rule and object)."""
    corpus = require_shared(CORPUS, "the corpus")
    copy = tmp_path / "real"
    shutil.copytree(corpus, copy)
    for root, _, files in os.walk(copy):
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    report = lint_paths([str(copy)], ISOLATED, jobs=2).report
    by_file: dict[str, list[Finding]] = {}
    for finding in report.findings:
        if applicable(finding, True):
            by_file.setdefault(finding.location.file, []).append(finding)
    assert by_file
    fixed: Counter[tuple[str, str, str]] = Counter()
    for name, findings in by_file.items():
        data = Path(name).read_bytes()
        outcome = fixing.apply(name, data, findings)
        if outcome.rejected:  # only at an anchor that aliases share: it would change them all
            assert re.search(rb"&[A-Za-z]", data), name
        allowed = set()
        for finding in outcome.applied:
            assert finding.fix is not None
            for edit in finding.fix.edits:
                first = data.count(b"\n", 0, edit.start)
                last = data.count(b"\n", 0, max(edit.start, edit.end - 1))
                allowed.update(range(first, last + 1))
            fixed[(name, finding.rule, str(finding.location.resource))] += 1
        old = data.decode("utf-8", "replace").splitlines()
        new = outcome.data.decode("utf-8", "replace").splitlines()
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        for tag, i1, i2, _, _ in matcher.get_opcodes():
            if tag in ("replace", "delete"):
                assert set(range(i1, i2)) <= allowed, (name, i1, i2)
            elif tag == "insert":  # inserted after line i1 - 1 (or before line i1)
                assert {i1 - 1, i1} & allowed, (name, i1)
        Path(name).write_bytes(outcome.data)
    after = lint_paths([str(copy)], ISOLATED, jobs=2).report
    count = Counter((f.location.file, f.rule, str(f.location.resource)) for f in report.findings)
    left = Counter((f.location.file, f.rule, str(f.location.resource)) for f in after.findings)
    expected = count - fixed
    assert left - expected == Counter(), "new findings after fixing"
    assert expected - left == Counter(), "fixed findings still reported"


COLLECTOR_CR = """\
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: gateway
  namespace: observability
spec:
  mode: deployment
  image: otel/opentelemetry-collector-contrib:0.158.0
ENV  resources:
    limits: {memory: 1Gi}
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


def _k005_fix(text: str) -> Fix | None:
    (finding,) = [f for f in lint_text(text, "collector.yaml").findings if f.rule == "K005"]
    return finding.fix


def test_gomemlimit_on_the_collector_cr_goes_to_spec_env_where_that_is_one_list(
    tmp_path: Path,
) -> None:
    """The operator builds the container's env from spec.env: GOMEMLIMIT is added
    there (the list created when missing); a spec.env that is not a list has no
    exact place, so the finding carries no fix."""
    target = tmp_path / "collector.yaml"
    cases = {
        "": "  env:\n  - name: GOMEMLIMIT\n    value: 819MiB\n",
        "  env:\n    - {name: K8S_NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}\n": (
            "    - {name: GOMEMLIMIT, value: 819MiB}\n"
        ),
    }
    for env, added in cases.items():
        text = COLLECTOR_CR.replace("ENV", env)
        target.write_text(text)
        done = fix_paths([str(target)], ISOLATED, unsafe=True)
        assert done.fixed == Counter({"K005": 1})
        after = target.read_text()
        if env:
            assert after == text.replace(env, env + added)
        else:
            assert after == text + added
        assert not [f for f in done.run.report.findings if f.rule == "K005"]
    assert _k005_fix(COLLECTOR_CR.replace("ENV", "  env:\n")) is None  # null: no list to add to
    written = COLLECTOR_CR.replace("ENV", "  env:\n    - {name: GOMEMLIMIT, value: 1GiB}\n")
    fix = _k005_fix(written)
    assert fix is not None and fix.title == "set GOMEMLIMIT to 819MiB"


AGENT = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: agent-config, namespace: observability}
data:
  config.yaml: |
    EXTENSIONSreceivers:
      otlp:
        protocols: {grpc: {}}
    exporters:
      debug: {}
    service:
      SERVICEpipelines:
        traces: {receivers: [otlp], exporters: [debug]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: observability}
spec:
  template:
    spec:
      containers:
        - name: otelcol
          image: otel/opentelemetry-collector-k8s:0.115.0
          args: [--config=/conf/config.yaml]
          resources:
            limits: {memory: 512Mi}
          volumeMounts:
            - {name: config, mountPath: /conf}
      volumes:
        - name: config
          configMap: {name: agent-config}
"""


def _with_cgroupruntime(text: str) -> str:
    extension = text.replace("EXTENSIONS", "extensions:\n      cgroupruntime: {}\n    ")
    return extension.replace("SERVICE", "extensions: [cgroupruntime]\n      ")


def test_a_collector_container_judged_after_its_config_map_carries_its_fix(
    tmp_path: Path,
) -> None:
    """K005 defers a collector container until the ConfigMaps it mounts are read
    (cgroupruntime sets the limit itself); the finding reported then still adds
    GOMEMLIMIT, and none is reported or added where cgroupruntime runs."""
    target = tmp_path / "agent.yaml"
    text = AGENT.replace("EXTENSIONS", "").replace("SERVICE", "")
    target.write_text(text)
    done = fix_paths([str(target)], ISOLATED, unsafe=True)
    assert done.fixed == Counter({"K005": 1})
    added = "          env:\n            - name: GOMEMLIMIT\n              value: 409MiB\n"
    mounts = "            - {name: config, mountPath: /conf}\n"
    assert target.read_text() == text.replace(mounts, mounts + added)
    text = _with_cgroupruntime(AGENT)
    target.write_text(text)
    done = fix_paths([str(target)], ISOLATED, unsafe=True)
    assert done.fixed == Counter() and target.read_text() == text


def test_request_equals_limit_only_where_a_limit_is_written() -> None:
    """K003 (versions as --kube-version says): a request below its limit is fixed
    to the limit as written; a request with no limit has nothing to be set to."""
    pod = """\
apiVersion: v1
kind: Pod
metadata:
  name: api
  annotations:
    sidecar.istio.io/proxyMemory: 128Mi
    sidecar.istio.io/proxyMemoryLimit: "1Gi"
spec:
  containers:
    - name: api
      image: registry.example.com/api:2.3.0
      resources:
        requests: {memory: 1Gi}
        limits: {memory: 2048Mi}
    - name: worker
      image: registry.example.com/worker:2.3.0
      resources:
        requests: {memory: 256Mi}
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates: {MemoryQoS: true}
"""
    settings = Settings(isolated=True, kube_version="1.30")
    found = {
        f.message.split(" ")[1]: f.fix
        for f in lint_text(pod, "pod.yaml", settings).findings
        if f.rule == "K003"
    }
    assert set(found) == {'"api"', '"worker"', "injected"}
    assert found['"worker"'] is None
    api, proxy = found['"api"'], found["injected"]
    assert api is not None and api.title == "set the memory request to 2048Mi"
    assert proxy is not None and proxy.title == "set the memory request to 1Gi"
    before_memory_qos = Settings(isolated=True, kube_version="1.21")
    assert not [
        f for f in lint_text(pod, "pod.yaml", before_memory_qos).findings if f.rule == "K003"
    ]


def test_the_limiter_moves_first_only_where_o001_reports_the_order(tmp_path: Path) -> None:
    """A pipeline whose receivers refuse data through the memory_limiter extension
    needs no processor order: O001 is silent and nothing moves."""
    limited = (
        CONFIGMAP.replace(
            "      health_check: {}\n",
            "      health_check: {}\n      memory_limiter/rx: {check_interval: 1s, limit_mib: 400}\n",
        )
        .replace(
            "protocols: {grpc: {}}", "protocols: {grpc: {middlewares: [{id: memory_limiter/rx}]}}"
        )
        .replace(
            "[health_check, memory_ballast]", "[health_check, memory_ballast, memory_limiter/rx]"
        )
    )
    target = tmp_path / "relay.yaml"
    target.write_text(limited)
    done = fix_paths([str(target)], ISOLATED)
    assert done.fixed == Counter({"O005": 2, "O002": 1})
    assert "            - batch\n            - memory_limiter\n" in target.read_text()


def test_a_collector_config_file_of_its_own_is_fixed_like_one_in_a_config_map(
    tmp_path: Path,
) -> None:
    """A standalone config (no apiVersion/kind, kept beside a configMapGenerator)
    is edited at its own top level."""
    relay = CONFIGMAP.split("  relay: |\n", 1)[1]
    text = "".join(line[4:] for line in relay.splitlines(True))
    target = tmp_path / "otel-collector-config.yaml"
    target.write_text(text)
    done = fix_paths([str(target)], ISOLATED)
    assert done.fixed == Counter({"O005": 2, "O001": 1, "O002": 1})
    assert target.read_text() == (
        text.replace("  memory_ballast:\n    size_mib: 165\n", "")
        .replace("[health_check, memory_ballast]", "[health_check]")
        .replace(
            "        - batch\n        - memory_limiter\n",
            "        - memory_limiter\n        - batch\n",
        )
        .replace("    limit_mib: 400\n", "    limit_mib: 400\n    check_interval: 1s\n")
    )


def test_fix_joins_the_scopes_check_joins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A collector and the ConfigMap that starts its cgroupruntime, in two
    directories a config's ``scopes`` joins: --fix sees the link as check does,
    and adds no GOMEMLIMIT that would switch the extension off."""
    monkeypatch.chdir(tmp_path)
    configmap, daemonset = _with_cgroupruntime(AGENT).split("---\n")
    for directory, text in (("config", configmap), ("agent", daemonset)):
        (tmp_path / directory).mkdir()
        (tmp_path / directory / "agent.yaml").write_text(text)
    (tmp_path / ".meshlint.yaml").write_text('scopes:\n  cluster: ["config/**", "agent/**"]\n')
    settings = Settings(select=["K005"])
    assert not lint_paths(["."], settings).report.findings
    done = fix_paths(["."], settings, unsafe=True)
    assert done.fixed == Counter() and not done.run.report.findings
    assert (tmp_path / "agent" / "agent.yaml").read_text() == daemonset


def test_no_fix_inside_what_aliases_share(tmp_path: Path) -> None:
    """An edit inside an anchored node, or of a key a merge key brings in, would
    change every alias: such findings carry no fix; a container of its own does."""
    text = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - &api
          name: api
          image: registry.example.com/shop-api:2.3.0
          env: &env
            - {name: LOG_LEVEL, value: info}
          resources:
            requests: {memory: 1Gi}
            limits: {memory: 2Gi}
        - name: proxy
          image: registry.example.com/shop-proxy:2.3.0
          env: *env
          resources:
            requests: {memory: 64Mi}
            limits: {memory: 128Mi}
        - <<: *api
          name: worker
---
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
featureGates: {MemoryQoS: true}
"""
    settings = Settings(isolated=True, select=["K003"], kube_version="1.30")
    fixes = {
        f.message.split('"')[1]: f.fix for f in lint_text(text, "shop.yaml", settings).findings
    }
    assert set(fixes) == {"api", "proxy", "worker"}
    assert fixes["api"] is None and fixes["worker"] is None and fixes["proxy"] is not None
    target = tmp_path / "shop.yaml"
    target.write_text(text)
    assert fix_paths([str(target)], settings, unsafe=True).fixed == Counter({"K003": 1})
    assert target.read_text() == text.replace("{memory: 64Mi}", "{memory: 128Mi}")


@pytest.mark.parametrize("star", ["", "    # a note with a * in it\n"])
def test_no_fix_inside_what_aliases_share_in_an_embedded_config(star: str) -> None:
    """The same inside a collector config in a ConfigMap: the limiter an alias
    shares gets no fix, the one of its own does (the editor looks for shared
    nodes only where the text has a ``*``; a ``*`` elsewhere changes nothing)."""
    text = f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: collector}}
data:
  config.yaml: |
    receivers:
      otlp: {{protocols: {{grpc: {{}}}}}}
    processors:
      memory_limiter: &limits
        limit_mib: 400
      memory_limiter/2: *limits
      memory_limiter/3:
        limit_mib: 300
    exporters:
      debug: {{}}
    service:
      pipelines:
        traces: {{receivers: [otlp], processors: [memory_limiter], exporters: [debug]}}
---
apiVersion: v1
kind: ConfigMap
metadata: {{name: plain}}
data:
  config.yaml: |
{star}    receivers:
      otlp: {{protocols: {{grpc: {{}}}}}}
    processors:
      memory_limiter:
        limit_mib: 400
    exporters:
      debug: {{}}
    service:
      pipelines:
        traces: {{receivers: [otlp], processors: [memory_limiter], exporters: [debug]}}
"""
    settings = Settings(isolated=True, select=["O002"])
    fixes = [
        (f.location.resource.name, f.message.split('"')[1], f.fix is not None)
        for f in lint_text(text, "collector.yaml", settings).findings
    ]
    assert fixes == [
        ("collector", "memory_limiter", False),
        ("collector", "memory_limiter/2", False),
        ("collector", "memory_limiter/3", True),
        ("plain", "memory_limiter", True),
    ]
