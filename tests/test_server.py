"""`meshlint server` end to end: the installed console script driven by a real
LSP client (pytest-lsp) over stdio, in a workspace of realistic manifests."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

MESHLINT = str(Path(sys.executable).parent / "meshlint")
SERVER = ClientServerConfig(server_command=[MESHLINT, "server"])
PUBLISH = types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS
MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")

# A Jaeger collector whose env list is written in flow style after values with
# umlauts and an emoji: its K004 column (127 characters) is 128 UTF-16 units.
JAEGER = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-collector
  namespace: tracing
  annotations:
    description: "Sammelt Spans für das Team 🚀"
spec:
  selector:
    matchLabels: {app: jaeger-collector}
  template:
    metadata:
      labels: {app: jaeger-collector}
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.57.0
          env: [{name: SPAN_STORAGE_TYPE, value: "elasticsearch"}, {name: TEAM, value: "Zähler 🚀"}, {name: GOMEMLIMIT, value: 400Mi}]
          resources:
            requests: {memory: 512Mi}
            limits: {memory: 512Mi}
"""

# An OpenTelemetry gateway and the ConfigMap it mounts: the config starts the
# cgroupruntime extension, which sets the Go memory limit, so the Deployment
# needs no GOMEMLIMIT (K005); without the extension it does.
GATEWAY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: otel-gateway
  namespace: observability
spec:
  replicas: 2
  selector:
    matchLabels: {app: otel-gateway}
  template:
    metadata:
      labels: {app: otel-gateway}
    spec:
      containers:
        - name: otelcol
          image: otel/opentelemetry-collector-contrib:0.110.0
          args: ["--config=/conf/collector.yaml"]
          resources:
            requests: {cpu: 200m, memory: 1Gi}
            limits: {memory: 1Gi}
          volumeMounts:
            - {name: conf, mountPath: /conf}
      volumes:
        - name: conf
          configMap: {name: otel-gateway-config}
"""
GATEWAY_CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: otel-gateway-config
  namespace: observability
data:
  collector.yaml: |
    extensions:
      cgroupruntime:
        gomemlimit: {enabled: true, ratio: 0.8}
    receivers:
      otlp:
        protocols: {grpc: {endpoint: "0.0.0.0:4317"}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 75, spike_limit_percentage: 15}
      batch: {send_batch_size: 512, send_batch_max_size: 1024}
    exporters:
      otlp:
        endpoint: tempo-distributor:4317
    service:
      extensions: [cgroupruntime]
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [otlp]
"""


# `helm template` output beside its chart: findings stay on the rendered
# stream (as in `check` without --chart-dir) and point at the template line.
RENDERED = """\
---
# Source: mychart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: tracing-collector
spec:
  selector:
    matchLabels: {app: collector}
  template:
    metadata:
      labels: {app: collector}
    spec:
      containers:
        - name: collector
          image: "jaegertracing/jaeger-collector:1.57.0"
          env:
            - name: GOMEMLIMIT
              value: 400Mi
          resources:
            limits: {memory: 512Mi}
"""
TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-collector
spec:
  selector:
    matchLabels: {app: collector}
  template:
    metadata:
      labels: {app: collector}
    spec:
      containers:
        - name: collector
          image: "jaegertracing/jaeger-collector:{{ .Values.tag }}"
          env:
            - name: GOMEMLIMIT
              value: {{ .Values.gomemlimit }}
          resources:
            limits: {memory: 512Mi}
"""
TESTS = ("positions", "quickfix", "ignore", "fixall", "unparsable", "broken", "pull")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory (one join scope) per test: tests share a server, not findings."""
    root = tmp_path_factory.mktemp("workspace")
    for name in TESTS:
        (root / name).mkdir()
        (root / name / "collector.yaml").write_text(JAEGER, encoding="utf-8")
    (root / "helm" / "mychart" / "templates").mkdir(parents=True)
    (root / "helm" / "mychart" / "Chart.yaml").write_text("apiVersion: v2\nname: mychart\n")
    (root / "helm" / "mychart" / "templates" / "deployment.yaml").write_text(TEMPLATE)
    (root / "helm" / "rendered.yaml").write_text(RENDERED)
    (root / "otel").mkdir()
    (root / "otel" / "gateway.yaml").write_text(GATEWAY, encoding="utf-8")
    (root / "otel" / "config.yaml").write_text(GATEWAY_CONFIG, encoding="utf-8")
    return root


def _init(root: Path, capabilities: types.ClientCapabilities) -> types.InitializeParams:
    return types.InitializeParams(capabilities=capabilities, root_uri=root.as_uri())


# one server for the module: starting one costs more than every test together
@pytest_lsp.fixture(config=SERVER, scope="module")
async def client(lsp_client: LanguageClient, workspace: Path):  # type: ignore[no-untyped-def]
    await lsp_client.initialize_session(_init(workspace, types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=SERVER, scope="module")
async def puller(lsp_client: LanguageClient, workspace: Path):  # type: ignore[no-untyped-def]
    """A client that pulls diagnostics (VS Code's way)."""
    capabilities = types.ClientCapabilities(
        text_document=types.TextDocumentClientCapabilities(
            diagnostic=types.DiagnosticClientCapabilities(related_document_support=True)
        )
    )
    await lsp_client.initialize_session(_init(workspace, capabilities))
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, path: Path, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="yaml", version=version, text=path.read_text("utf-8")
            )
        )
    )
    return uri


def _change(client: LanguageClient, uri: str, text: str, version: int) -> None:
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )


async def _until(
    client: LanguageClient, ready: Callable[[], bool], what: str, seconds: float = 10
) -> None:
    """Wait for published diagnostics until ``ready()``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not ready():
        left = deadline - loop.time()
        if left <= 0:
            raise AssertionError(f"no diagnostics where {what}: {client.diagnostics}")
        try:
            await asyncio.wait_for(client.wait_for_notification(PUBLISH), left)
        except asyncio.TimeoutError:
            continue


def _codes(client: LanguageClient, uri: str) -> list[str]:
    return [str(d.code) for d in client.diagnostics.get(uri, [])]


def _check(root: Path, *paths: str) -> list[dict[str, object]]:
    """What `meshlint check --format json` reports, run from the workspace."""
    done = subprocess.run(
        [MESHLINT, "check", "--format", "json", *paths],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    findings: list[dict[str, object]] = json.loads(done.stdout)["findings"]
    return findings


def _expected(root: Path, finding: dict[str, object]) -> tuple[str, int, int]:
    """check's 1-based line:column as an LSP position (UTF-16 columns)."""
    line, column = int(str(finding["line"])), int(str(finding["column"]))
    lines = (root / str(finding["file"])).read_text("utf-8").splitlines()
    text = lines[line - 1] if line <= len(lines) else ""  # M001 at the end of the text
    units = len(text[: column - 1].encode("utf-16-le")) // 2
    return str(finding["rule"]), line - 1, units


def _apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply TextEdits as a client does (UTF-16 positions)."""
    lines = text.splitlines(keepends=True)

    def offset(position: types.Position) -> int:
        before = sum(len(x) for x in lines[: position.line])
        line = lines[position.line] if position.line < len(lines) else ""
        units = 0
        for index, char in enumerate(line):
            if units >= position.character:
                return before + index
            units += len(char.encode("utf-16-le")) // 2
        return before + len(line)

    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[::-1]:
        text = text[: offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end) :]
        lines = text.splitlines(keepends=True)
    return text


@MODULE_LOOP
async def test_open_publishes_checks_findings_at_its_positions(
    client: LanguageClient, workspace: Path
) -> None:
    uri = _open(client, workspace / "positions" / "collector.yaml")
    await _until(client, lambda: "K004" in _codes(client, uri), "K004 is reported")
    expected = {_expected(workspace, f) for f in _check(workspace, "positions")}
    got = {
        (str(d.code), d.range.start.line, d.range.start.character) for d in client.diagnostics[uri]
    }
    assert got == expected
    assert ("K004", 17, 127) in got  # 126 characters before it, one of them an emoji
    k004 = next(d for d in client.diagnostics[uri] if d.code == "K004")
    assert k004.severity == types.DiagnosticSeverity.Error
    assert k004.source == "meshlint"
    assert k004.code_description is not None
    assert k004.code_description.href.endswith("rules/kubernetes/gomemlimit_invalid.py")


@MODULE_LOOP
async def test_quick_fix_is_fixs_edit_and_clears_the_finding(
    client: LanguageClient, workspace: Path
) -> None:
    path = workspace / "quickfix" / "collector.yaml"
    uri = _open(client, path)
    await _until(client, lambda: "K004" in _codes(client, uri), "K004 is reported")
    k004 = next(d for d in client.diagnostics[uri] if d.code == "K004")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=k004.range,
            context=types.CodeActionContext(diagnostics=[k004]),
        )
    )
    assert actions is not None
    titles = [a.title for a in actions if isinstance(a, types.CodeAction)]
    assert "Ignore K004 on this line" in titles
    assert "Ignore K004 for this file" in titles
    fix = next(
        a for a in actions if isinstance(a, types.CodeAction) and a.title.startswith("K004:")
    )
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    assert fix.edit is not None and fix.edit.changes is not None
    fixed = _apply(path.read_text("utf-8"), list(fix.edit.changes[uri]))
    # the same bytes as `meshlint check --fix`
    subprocess.run([MESHLINT, "check", "--fix", "quickfix"], cwd=workspace, capture_output=True)
    assert fixed == path.read_text("utf-8")
    _change(client, uri, fixed, 2)
    await _until(client, lambda: "K004" not in _codes(client, uri), "K004 is gone")
    assert "J005" in _codes(client, uri)  # the rest stays


@MODULE_LOOP
async def test_ignore_comment_and_hover(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "ignore" / "collector.yaml"
    uri = _open(client, path)
    await _until(client, lambda: "J005" in _codes(client, uri), "J005 is reported")
    j005 = next(d for d in client.diagnostics[uri] if d.code == "J005")
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=j005.range.start
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith("# J005 jaeger-v1-end-of-life")
    assert "## What it does" in hover.contents.value
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=j005.range,
            context=types.CodeActionContext(diagnostics=[j005]),
        )
    )
    assert actions is not None
    ignore = next(a for a in actions if a.title == "Ignore J005 on this line")
    assert isinstance(ignore, types.CodeAction) and ignore.edit and ignore.edit.changes
    text = _apply(path.read_text("utf-8"), list(ignore.edit.changes[uri]))
    assert "          # meshlint: ignore[J005]\n          image: jaegertracing" in text
    _change(client, uri, text, 2)
    await _until(client, lambda: "J005" not in _codes(client, uri), "J005 is ignored")
    assert "K004" in _codes(client, uri)


@MODULE_LOOP
async def test_fix_all_applies_every_safe_fix(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "fixall" / "collector.yaml"
    uri = _open(client, path)
    await _until(client, lambda: "K004" in _codes(client, uri), "K004 is reported")
    actions = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=[], only=["source.fixAll"]),
        )
    )
    assert actions is not None and len(actions) == 1
    action = actions[0]
    assert isinstance(action, types.CodeAction) and action.kind == "source.fixAll.meshlint"
    assert action.edit is not None and action.edit.changes is not None
    fixed = _apply(path.read_text("utf-8"), list(action.edit.changes[uri]))
    assert "{name: GOMEMLIMIT, value: 400MiB}" in fixed


@MODULE_LOOP
async def test_helm_finding_relates_to_its_template(
    client: LanguageClient, workspace: Path
) -> None:
    uri = _open(client, workspace / "helm" / "rendered.yaml")
    await _until(client, lambda: "K004" in _codes(client, uri), "K004 is reported")
    k004 = next(d for d in client.diagnostics[uri] if d.code == "K004")
    assert (k004.range.start.line, k004.range.start.character) == (18, 21)  # check: 19:22
    [related] = k004.related_information or []
    template = workspace / "helm" / "mychart" / "templates" / "deployment.yaml"
    assert related.location.uri == template.as_uri()
    # the template line that writes the value (check --chart-dir: 17:15)
    start = related.location.range.start
    assert (start.line, start.character) == (16, 14)


@MODULE_LOOP
async def test_configmap_edit_rejudges_the_pod_that_mounts_it(
    client: LanguageClient, workspace: Path
) -> None:
    config = workspace / "otel" / "config.yaml"
    gateway_uri = (workspace / "otel" / "gateway.yaml").as_uri()
    uri = _open(client, config)
    await _until(client, lambda: uri in client.diagnostics, "the ConfigMap is linted")
    assert "K005" not in _codes(client, gateway_uri)
    # the collector no longer starts cgroupruntime: the pod needs its own GOMEMLIMIT
    text = config.read_text("utf-8").replace("extensions: [cgroupruntime]", "extensions: []")
    _change(client, uri, text, 2)
    await _until(client, lambda: "K005" in _codes(client, gateway_uri), "K005 lands on the pod")
    k005 = next(d for d in client.diagnostics[gateway_uri] if d.code == "K005")
    config.write_text(text, encoding="utf-8")  # as saved: check agrees, line and column
    expected = [_expected(workspace, f) for f in _check(workspace, "otel")]
    assert expected == [("K005", k005.range.start.line, k005.range.start.character)]
    _change(client, uri, GATEWAY_CONFIG, 3)
    await _until(client, lambda: "K005" not in _codes(client, gateway_uri), "K005 is gone")


@MODULE_LOOP
async def test_unparsable_document_is_m001(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "unparsable" / "collector.yaml"
    uri = _open(client, path)
    await _until(client, lambda: "K004" in _codes(client, uri), "K004 is reported")
    broken = path.read_text("utf-8").replace("limits: {memory: 512Mi}", "limits: {memory: 512Mi")
    _change(client, uri, broken, 2)
    await _until(client, lambda: _codes(client, uri) == ["M001"], "M001 alone is reported")
    path.write_text(broken, encoding="utf-8")
    [finding] = _check(workspace, "unparsable")
    m001 = client.diagnostics[uri][0]
    assert _expected(workspace, finding) == (
        "M001",
        m001.range.start.line,
        m001.range.start.character,
    )
    _change(client, uri, JAEGER, 3)  # the server lives on
    await _until(client, lambda: "K004" in _codes(client, uri), "K004 is back")


@MODULE_LOOP
async def test_broken_config_is_one_message_and_linting_goes_on(
    client: LanguageClient, workspace: Path
) -> None:
    config = workspace / ".meshlint.yaml"
    config.write_text("select: [ALL]\nignroe: [J005]\n", encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Created)]
        )
    )
    uri = _open(client, workspace / "broken" / "collector.yaml")
    await _until(client, lambda: "J005" in _codes(client, uri), "the defaults still lint")
    errors = [m for m in client.messages if m.type == types.MessageType.Error]
    assert len(errors) == 1
    assert ".meshlint.yaml:2:1: unknown key 'ignroe'; did you mean 'ignore'?" in errors[0].message
    config.write_text("select: [ALL]\nignore: [J005]\n", encoding="utf-8")
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Changed)]
        )
    )
    await _until(client, lambda: "J005" not in _codes(client, uri), "the new config applies")
    assert "K004" in _codes(client, uri)
    assert len(client.messages) == 1
    config.unlink()
    client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=config.as_uri(), type=types.FileChangeType.Deleted)]
        )
    )
    await _until(client, lambda: "J005" in _codes(client, uri), "the defaults are back")


@MODULE_LOOP
async def test_pull_diagnostics(puller: LanguageClient, workspace: Path) -> None:
    uri = _open(puller, workspace / "pull" / "collector.yaml")
    report = await puller.text_document_diagnostic_async(
        types.DocumentDiagnosticParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
    assert sorted(str(d.code) for d in report.items) == ["J005", "K004"]
    everything = await puller.workspace_diagnostic_async(
        types.WorkspaceDiagnosticParams(previous_result_ids=[])
    )
    codes = {item.uri: [str(d.code) for d in item.items] for item in everything.items}
    assert sorted(codes[uri]) == ["J005", "K004"]
    assert puller.diagnostics == {}  # pulled, never pushed as well


def test_without_the_extra_one_line_says_what_to_install() -> None:
    blocked = "import sys; sys.modules['pygls'] = None; from meshlint.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", blocked, "server"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert done.stderr == (
        "meshlint: error: meshlint server needs pygls: pip install 'meshlint[server]'\n"
    )
