"""The LSP wiring (pygls): documents in, diagnostics, code actions and hovers out.

Diagnostics are pushed (``textDocument/publishDiagnostics``) to clients that
cannot pull them, and pulled (``textDocument/diagnostic``, ``workspace/diagnostic``)
by those that can; never both, or an editor would show each finding twice. A
change is linted once the typing pauses (``DEBOUNCE_SECONDS``); opening and
saving lint at once. Each lint covers the join scopes of the documents that
changed, and every file of those scopes gets its findings: a ConfigMap edit
re-judges the pod that mounts it.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path

from meshlint.core.model import Finding
from meshlint.core.version import __version__
from meshlint.server import actions
from meshlint.server.positions import Lines
from meshlint.server.session import CONFIG_NAMES, Session, name_of, read_lines, uri_of

DEBOUNCE_SECONDS = 0.2
_Key = tuple[tuple[str, int, int, str, int], ...]
_WATCHED = ("**/.meshlint.yaml", "**/.meshlint.yml", "**/pyproject.toml", "**/*.{yaml,yml,json}")


class _Protocol(LanguageServerProtocol):
    """pygls 2.1 keeps the future of every notification whose built-in handler is
    a generator (didOpen, didChange, didSave, didClose) in ``_request_futures``
    and never removes it: about 2 KB per keystroke. They are done once the
    notification is handled (our handlers are synchronous); drop them then."""

    def _handle_notification(self, method_name: str, params: Any) -> None:
        super()._handle_notification(method_name, params)
        futures = self._request_futures
        for key in [k for k, future in futures.items() if future.done()]:
            del futures[key]


class MeshlintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "meshlint",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            protocol_cls=_Protocol,
        )
        self.session = Session()
        self.pull = False  # the client pulls diagnostics
        self.refresh = False  # ... and lets the server ask it to pull again
        self.resolve = False  # the client resolves a code action's edit when chosen
        self.watch = False  # the client watches files for the server
        self.pending: str | None = None  # a configuration error not yet shown
        self.timer: asyncio.TimerHandle | None = None
        self.sent: dict[str, _Key] = {}  # uri -> the diagnostics last published
        self.logged: list[str] = []  # the errors last logged to the client

    # documents

    def encoding(self) -> str:
        return str(self.workspace.position_encoding or "utf-16")

    def open_names(self) -> dict[str, str]:
        """Open file documents that meshlint lints: name -> uri."""
        out = {}
        for uri in list(self.workspace.text_documents):
            name = name_of(uri)
            if name is not None and self.session.lintable(name):
                out[name] = uri
        return out

    def texts(self) -> dict[str, bytes]:
        return {
            name: Lines(self.workspace.get_text_document(uri).source).data()
            for name, uri in self.open_names().items()
        }

    def document(self, uri: str) -> tuple[Lines, int | None]:
        """An open document's text and version."""
        doc = self.workspace.get_text_document(uri)
        return Lines(doc.source, self.encoding()), doc.version

    def lines(self, name: str) -> Lines | None:
        uri = self.open_names().get(name)
        if uri is not None:
            return Lines(self.workspace.get_text_document(uri).source, self.encoding())
        return read_lines(name, self.encoding())

    # linting

    def mark(self, name: str) -> None:
        if self.session.lintable(name):
            self.session.dirty.add(self.session.scope_of(name))

    def later(self) -> None:
        """Lint when the typing pauses."""
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(DEBOUNCE_SECONDS, self.run)

    def run(self) -> None:
        """Lint the scopes that changed, and send what changed."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        session = self.session
        if not session.dirty:
            return
        open_scopes = {session.scope_of(n) for n in self.open_names()}
        for scope in session.dirty - open_scopes:  # nothing open there any more
            for name in session.names_in({scope}):
                session.forget(name)
                self.clear(uri_of(name))
        session.dirty &= open_scopes
        if not session.dirty:
            return
        names = session.lint(self.texts(), set(session.dirty))
        if session.errors != self.logged:  # each distinct set once, not on every keystroke
            self.logged = session.errors
            for error in session.errors:
                self.window_log_message(
                    types.LogMessageParams(type=types.MessageType.Warning, message=error)
                )
        self.changed(names)

    def changed(self, names: list[str]) -> None:
        if self.pull:
            if self.refresh and any(self.key(n) != self.sent.get(uri_of(n), ()) for n in names):
                self.workspace_diagnostic_refresh(None)
            return
        opened = self.open_names()
        for name in names:
            uri = opened.get(name) or uri_of(name)
            self.publish(name, uri)

    def current(self, name: str) -> list[Finding]:
        """The findings of ``name`` as its text is now."""
        session = self.session
        if not session.lintable(name):
            return []
        scope = session.scope_of(name)
        if scope in session.dirty or name not in session.findings:
            session.dirty.add(scope)
            self.run()
        return session.findings.get(name, [])

    def key(self, name: str) -> _Key:
        return tuple(
            (f.rule, f.location.line, f.location.column, f.message, int(f.severity))
            for f in self.session.findings.get(name, ())
        )

    def diagnostics(self, name: str) -> list[types.Diagnostic]:
        findings = self.session.findings.get(name, [])
        lines = self.lines(name) if findings else None
        if lines is None:
            return []
        return [self.session.diagnostic(f, lines) for f in findings]

    def publish(self, name: str, uri: str) -> None:
        key = self.key(name)
        if self.sent.get(uri, ()) == key and uri in self.sent:
            return
        if not key and uri not in self.sent and uri not in self.workspace.text_documents:
            return  # a file not open, with nothing to say
        self.sent[uri] = key
        version = None
        if uri in self.workspace.text_documents:
            version = self.workspace.get_text_document(uri).version
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, diagnostics=self.diagnostics(name), version=version
            )
        )

    def clear(self, uri: str) -> None:
        if self.sent.pop(uri, None) and not self.pull:
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
            )

    def reload(self) -> None:
        message = self.session.load()
        if message is not None:
            self.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Error, message=message)
            )
        for name in self.open_names():
            self.mark(name)
        self.run()


def build() -> MeshlintServer:
    server = MeshlintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: MeshlintServer, params: types.InitializeParams) -> None:
        root = params.root_uri
        if params.workspace_folders:
            root = params.workspace_folders[0].uri
        path = to_fs_path(root) if root else None
        if path and os.path.isdir(path):
            os.chdir(path)  # `check .` from the workspace: names, config, scopes
        caps = params.capabilities
        text = caps.text_document
        ls.pull = text is not None and text.diagnostic is not None
        workspace = caps.workspace
        ls.refresh = bool(
            workspace and workspace.diagnostics and workspace.diagnostics.refresh_support
        )
        action = text.code_action if text else None
        ls.resolve = bool(
            action and action.resolve_support and "edit" in action.resolve_support.properties
        )
        watched = workspace.did_change_watched_files if workspace else None
        ls.watch = bool(watched and watched.dynamic_registration)
        ls.pending = ls.session.load()

    @server.feature(types.INITIALIZED)
    async def initialized(ls: MeshlintServer, params: types.InitializedParams) -> None:
        if ls.pending is not None:
            ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Error, message=ls.pending)
            )
            ls.pending = None
        if ls.watch:
            watchers = [types.FileSystemWatcher(glob_pattern=g) for g in _WATCHED]
            options = types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers)
            registration = types.Registration(
                id="meshlint-watch",
                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=options,
            )
            await ls.client_register_capability_async(
                types.RegistrationParams(registrations=[registration])
            )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MeshlintServer, params: types.DidOpenTextDocumentParams) -> None:
        name = name_of(params.text_document.uri)
        if name is not None:
            ls.mark(name)
            if not ls.pull:
                ls.run()

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MeshlintServer, params: types.DidChangeTextDocumentParams) -> None:
        name = name_of(params.text_document.uri)
        if name is not None:
            ls.mark(name)
            ls.later()

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MeshlintServer, params: types.DidSaveTextDocumentParams) -> None:
        name = name_of(params.text_document.uri)
        if name is None:
            return
        if os.path.basename(name) in CONFIG_NAMES:
            ls.reload()
            return
        ls.mark(name)
        ls.run()

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MeshlintServer, params: types.DidCloseTextDocumentParams) -> None:
        name = name_of(params.text_document.uri)
        if name is None:
            return
        ls.session.forget(name)
        ls.clear(params.text_document.uri)
        ls.mark(name)  # the others of its scope: judged with the text on disk again
        ls.later()

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: MeshlintServer, params: types.DidChangeWatchedFilesParams) -> None:
        names = [n for c in params.changes if (n := name_of(c.uri)) is not None]
        created = any(c.type != types.FileChangeType.Changed for c in params.changes)
        if created or any(os.path.basename(n) in CONFIG_NAMES for n in names):
            ls.reload()
            return
        for name in names:
            ls.mark(name)
        ls.later()

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(
            identifier="meshlint", inter_file_dependencies=True, workspace_diagnostics=True
        ),
    )
    def diagnostic(
        ls: MeshlintServer, params: types.DocumentDiagnosticParams
    ) -> types.DocumentDiagnosticReport:
        name = name_of(params.text_document.uri)
        if name is not None:
            ls.current(name)
            ls.sent[params.text_document.uri] = ls.key(name)
        items = ls.diagnostics(name) if name is not None else []
        return types.RelatedFullDocumentDiagnosticReport(items=items)

    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    def workspace_diagnostic(
        ls: MeshlintServer, params: types.WorkspaceDiagnosticParams
    ) -> types.WorkspaceDiagnosticReport:
        session = ls.session
        assert session.project is not None
        report = session.project.lint(ls.texts(), everything=True)
        session.findings.clear()
        for finding in report.findings:
            session.findings.setdefault(finding.location.file, []).append(finding)
        session.dirty.clear()
        opened = ls.open_names()
        items: list[types.WorkspaceDocumentDiagnosticReport] = []
        for name in sorted(set(session.findings) | set(opened)):
            uri = opened.get(name) or uri_of(name)
            version = ls.workspace.get_text_document(uri).version if name in opened else None
            items.append(
                types.WorkspaceFullDocumentDiagnosticReport(
                    uri=uri, version=version, items=ls.diagnostics(name)
                )
            )
        return types.WorkspaceDiagnosticReport(items=items)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, actions.FIX_ALL],
            resolve_provider=True,
        ),
    )
    def code_action(
        ls: MeshlintServer, params: types.CodeActionParams
    ) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        name = name_of(uri)
        if name is None:
            return None
        findings = ls.current(name)
        lines = ls.lines(name)
        if lines is None:
            return None
        return actions.for_range(ls, name, uri, lines, findings, params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    def resolve(ls: MeshlintServer, action: types.CodeAction) -> types.CodeAction:
        return actions.resolve(ls, action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: MeshlintServer, params: types.HoverParams) -> types.Hover | None:
        name = name_of(params.text_document.uri)
        if name is None:
            return None
        findings = ls.current(name)
        lines = ls.lines(name)
        if lines is None or not findings:
            return None
        return actions.hover(ls.session, lines, findings, params.position)

    return server
