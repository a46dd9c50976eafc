"""The effective Istio mesh and proxy configuration of a run: the one place
that knows Istio's precedence. Every Istio rule asks here.

Files are linted one by one (maybe in worker processes), so rules gather small
facts with ``collect`` (installs, Telemetry/EnvoyFilter/Sidecar resources and
workloads) and build a ``Mesh`` from ``ctx.facts`` and ``ctx.index`` in
``check_run``. Precedence, most specific first:

* sampling: Telemetry ``randomSamplingPercentage`` (workload selector, then
  namespace, then root namespace) > ``proxy.istio.io/config`` ``tracing`` >
  ``meshConfig.defaultConfig.tracing.sampling`` > ``PILOT_TRACE_SAMPLING`` /
  ``values.pilot.traceSampling`` (OSSM: ``spec.tracing.sampling`` / 100) > 1%;
* other ProxyConfig fields: the annotation, field by field, over the mesh's
  ``defaultConfig``, over Istio's defaults (terminationDrainDuration 5s);
* proxy resources: ``sidecar.istio.io/proxy*`` annotations replace
  ``global.proxy.resources`` as a whole (the injection template's rule), which
  defaults to a 1024Mi memory limit;
* native sidecar: the ``sidecar.istio.io/nativeSidecar`` annotation >
  istiod ``ENABLE_NATIVE_SIDECARS`` > ``auto`` (Istio >= 1.27 on kubelets >= 1.33).

When a run holds several installs a workload could belong to, a workload
finding needs every candidate to agree (no false positive from a guess).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from meshlint.core.model import Context, Document, Index, Location, Resource, selects
from meshlint.domain.istio.control_plane import Install
from meshlint.domain.istio.install import InstallFact, install_facts
from meshlint.domain.istio.proxy import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_MIN_DRAIN_SECONDS,
    DEFAULT_PROXY_MEMORY_LIMIT,
    ProxyDefaults,
)
from meshlint.domain.istio.telemetry import ScopedFact, scoped_facts
from meshlint.domain.istio.values import Located, falsy, truthy
from meshlint.domain.istio.workload import WorkloadFact, native_requested, workload_facts
from meshlint.domain.k8s.objects import WORKLOAD_KINDS

FACT_KINDS = WORKLOAD_KINDS | {
    "IstioOperator",
    "ConfigMap",
    "ServiceMeshControlPlane",
    "Telemetry",
    "EnvoyFilter",
    "Sidecar",
    "ProxyConfig",
}
# How pilot-agent shuts a proxy down (istio pkg/envoy/agent.go, Agent.Run/terminate):
# DURATION: on SIGTERM, drain and sleep terminationDrainDuration, then exit;
# EXIT_ON_ZERO: EXIT_ON_ZERO_ACTIVE_CONNECTIONS, sleep MINIMUM_DRAIN_DURATION, then
# exit once no connection is left; NATIVE: a native sidecar whose preStop
# (``pilot-agent request POST drain``, Istio >= 1.21) drains when the pod starts
# stopping and which exits at once on the SIGTERM that follows the app's exit.
DURATION, EXIT_ON_ZERO, NATIVE = "duration", "exit-on-zero", "native"
INSTALL_KINDS = frozenset({"IstioOperator", "ConfigMap", "Deployment", "ServiceMeshControlPlane"})
MESH_KINDS = FACT_KINDS - WORKLOAD_KINDS | {"Deployment"}  # istiod is a Deployment


def document_facts(doc: Document) -> tuple[Any, ...]:
    """Everything the Istio rules read from one document (installs, mesh resources,
    workloads), read once per document however many rules ask."""
    return doc.memo(
        document_facts, lambda: (*install_facts(doc), *scoped_facts(doc), *workload_facts(doc))
    )


def collect(doc: Document, ctx: Context) -> Iterator[Any]:
    """Every Istio rule's ``collect``: the facts ``Mesh`` is built from."""
    yield from document_facts(doc)


def collect_mesh(doc: Document, ctx: Context) -> Iterator[Any]:
    """``collect`` for rules that judge installs and mesh resources, not workloads."""
    yield from (f for f in document_facts(doc) if not isinstance(f, WorkloadFact))


@dataclass(frozen=True)
class Proxy:
    """The effective proxy of one workload under one install."""

    workload: WorkloadFact
    install: Install
    config: ProxyDefaults  # annotation over mesh defaultConfig
    sampling: float
    drain: float
    exit_on_zero: bool
    native: bool
    memory_limit: Located | None  # value "" or None: no limit
    prestop: float  # the proxy's own preStop, seconds
    shutdown: str = DURATION  # the drain mechanism pilot-agent really runs (see ``_shutdown``)
    wait: float = DEFAULT_DRAIN_SECONDS  # what that mechanism sleeps after SIGTERM, at least
    cert_writer: bool = False  # OUTPUT_CERTS and no redirection: carries no app traffic

    @property
    def drain_at(self) -> Located | None:
        return self.config.drain

    @property
    def wait_at(self) -> Located | None:
        """Where ``wait`` is set (None: Istio's default, or nothing to set)."""
        if self.shutdown == EXIT_ON_ZERO:
            return self.config.min_drain
        return self.config.drain if self.shutdown == DURATION else None


class Mesh:
    def __init__(self, facts: Iterable[Any], index: Index | None, kube: tuple[int, int]) -> None:
        self.index = index or Index()
        self.kube = kube
        self.scoped: list[ScopedFact] = []
        self.workloads: list[WorkloadFact] = []
        groups: dict[tuple[Any, ...], list[InstallFact]] = defaultdict(list)
        operators: list[InstallFact] = []
        for fact in facts:
            if isinstance(fact, InstallFact):
                if fact.surface == "ServiceMeshControlPlane":
                    groups[(id(fact),)].append(fact)
                elif fact.surface == "IstioOperator":
                    operators.append(fact)
                else:
                    groups[("rendered", fact.file, fact.namespace, fact.revision)].append(fact)
            elif isinstance(fact, ScopedFact):
                self.scoped.append(fact)
            elif isinstance(fact, WorkloadFact):
                self.workloads.append(fact)
        for parts in _overlays(operators):
            groups[(id(parts[0]),)] = parts
        # the part that carries mesh config first (it names and anchors the install);
        # of IstioOperators, later documents before earlier ones (overlays win)
        self.installs = [
            Install(tuple(sorted(parts, key=_precedence))) for parts in groups.values()
        ]
        # asked once per workload and candidate install: computed once per run
        self._roots = {i.mesh.root_namespace for i in self.installs} or {"istio-system"}
        self._mesh_scoped: dict[str, list[ScopedFact]] = defaultdict(list)
        # by (kind, namespace): a workload looks only at its own namespace's resources
        self._by_namespace: dict[tuple[str, str | None], list[ScopedFact]] = defaultdict(list)
        for fact in self.scoped:
            self._by_namespace[(fact.kind, fact.namespace)].append(fact)
            if fact.selector is None and fact.namespace in self._roots:
                self._mesh_scoped[fact.kind].append(fact)
        # installs by revision, and by every directory above their file: a workload
        # is judged under the installs nearest to it, so a run over many
        # repositories stays linear instead of trying every install on every pod
        self._subtree: dict[tuple[str, str], list[Install]] = defaultdict(list)
        for install in self.installs:
            for directory in _ancestors(install.parts[0].file if install.parts else ""):
                self._subtree[(install.revision, directory)].append(install)
        self._namespaces: dict[str | None, Mapping[str, str]] = {}

    @classmethod
    def of(cls, ctx: Context) -> Mesh:
        return cls(ctx.facts, ctx.index, ctx.kube_version)

    @classmethod
    def of_document(cls, doc: Document, ctx: Context) -> Mesh:
        """What one document says on its own (the per-document half of a rule).

        Several rules ask in turn about the same document: built once per
        document and cluster version (``Document.memo``).
        """
        kube = ctx.kube_version
        return doc.memo((Mesh, kube), lambda: cls(document_facts(doc), None, kube))

    # --- scope -------------------------------------------------------------
    def mesh_scoped(self, kind: str) -> list[ScopedFact]:
        """Resources of ``kind`` in a root namespace without a selector: mesh-wide."""
        return self._mesh_scoped.get(kind, [])

    def applying(self, kind: str, w: WorkloadFact) -> list[ScopedFact]:
        """Resources of ``kind`` that apply to ``w``, most specific first."""
        local = self._by_namespace.get((kind, w.resource.namespace), [])
        applying = [f for f in local if selects(f.selector, w.labels, absent_selects_all=True)]
        own = [f for f in applying if f.selector is not None]
        space = [f for f in applying if f.selector is None]
        seen = {id(f) for f in space}
        return own + space + [f for f in self.mesh_scoped(kind) if id(f) not in seen]

    # --- installs ----------------------------------------------------------
    def candidates(self, revision: str | None, near: str = "") -> list[Install]:
        """Installs of ``revision``; with ``near`` (a file), those closest to it."""
        for directory in _ancestors(near):
            found = self._subtree.get((revision or "", directory))
            if found:
                return found
        return [Install()]

    def mesh_sampling(self, install: Install) -> tuple[float, Located | None, bool]:
        """(rate, where, from Telemetry) for proxies with no override of their own."""
        for fact in self.mesh_scoped("Telemetry"):
            if fact.sampling is not None:
                return fact.sampling.value, fact.sampling, True
        rate, where = install.sampling()
        return rate, where, False

    def prometheus_off(self) -> bool:
        """A mesh-wide Telemetry sends metrics to other providers only."""
        return any(f.prometheus_off for f in self.mesh_scoped("Telemetry"))

    def fallback_cleared(self) -> bool:
        return any(f.clears_outbound_fallback for f in self.scoped)

    def registry_only(self, install: Install) -> bool:
        outbound = install.outbound
        if outbound is not None and outbound.value == "REGISTRY_ONLY":
            return True
        return any(f.registry_only for f in self.mesh_scoped("Sidecar"))

    # --- workloads ---------------------------------------------------------
    def injection(self, w: WorkloadFact) -> tuple[bool, str | None]:
        """Whether Istio injects a proxy into ``w``, and with which revision."""
        if w.proxy_container is not None:
            return True, w.revision
        if w.host_network or (w.inject is not None and falsy(w.inject.value)):
            return False, None
        labels = self._namespace_labels(w.resource.namespace)
        if labels.get("istio-injection") == "disabled":
            return False, None  # the webhook never sees pods of such namespaces
        if w.inject is not None and truthy(w.inject.value):
            return True, w.revision
        if w.revision:
            return True, w.revision
        if labels.get("istio-injection") == "enabled":
            return True, None
        if labels.get("istio.io/rev"):
            rev = labels["istio.io/rev"]
            return True, None if rev == "default" else rev
        return False, None

    def _namespace_labels(self, ns: str | None) -> Mapping[str, str]:
        """Injection labels of the Namespace ``ns`` in the run ({} when unknown).

        Several Namespace objects of one name that disagree (one repository's
        test data next to another's) leave the namespace unknown rather than
        letting whichever file came first decide.
        """
        if ns is None:
            return {}  # rendered without a namespace: which labels apply is unknown
        if ns not in self._namespaces:
            self._namespaces[ns] = self._labels_of(ns)
        return self._namespaces[ns]

    def _labels_of(self, ns: str) -> Mapping[str, str]:
        keys = ("istio-injection", "istio.io/rev")
        seen = {
            tuple((k, e.labels.get(k)) for k in keys) for e in self.index.find("Namespace", name=ns)
        }
        if len(seen) != 1:
            return {}
        return {k: v for k, v in next(iter(seen)) if v is not None}

    def proxies(self, w: WorkloadFact, *, assume_injected: bool = False) -> list[Proxy]:
        """The effective proxy of ``w`` under each candidate install.

        [] when Istio does not inject ``w``, unless ``assume_injected`` (a pod that
        writes ``proxy.istio.io/config`` expects a proxy even where its namespace
        labels are not in the run).
        """
        injected, revision = self.injection(w)
        if not injected:
            opted_out = w.inject is not None and falsy(w.inject.value)
            if not assume_injected or opted_out or w.host_network:
                return []
            revision = w.revision
        return [self._proxy(w, install) for install in self.candidates(revision, w.at.file)]

    def _proxy(self, w: WorkloadFact, install: Install) -> Proxy:
        config = w.proxy.over(install.mesh.proxy)
        telemetry = next((f.sampling for f in self.applying("Telemetry", w) if f.sampling), None)
        if telemetry is not None:
            sampling: float = telemetry.value
        elif config.sampling is not None:
            sampling = config.sampling.value
        else:
            sampling = install.sampling()[0]
        box = w.proxy_container
        # a ProxyConfig resource's environment wins over proxyMetadata (most specific first)
        cr = next((f.exit_on_zero for f in self.applying("ProxyConfig", w) if f.exit_on_zero), None)
        if box is not None and not box.auto:  # a written container's env is what runs
            config = box.agent.over(config)
        exit_on_zero = cr or config.exit_on_zero
        exits_on_zero = bool(exit_on_zero and exit_on_zero.value) or bool(box and box.exit_on_zero)
        injected_hook = box is None or box.auto  # the injector adds global.proxy.lifecycle
        native = self._native(w, install)
        shutdown = self._shutdown(w, install, native, exits_on_zero)
        drain = config.drain.value if config.drain else DEFAULT_DRAIN_SECONDS
        if shutdown == EXIT_ON_ZERO:
            wait = config.min_drain.value if config.min_drain else DEFAULT_MIN_DRAIN_SECONDS
        else:
            wait = 0.0 if shutdown == NATIVE else drain
        return Proxy(
            w,
            install,
            config,
            sampling,
            drain,
            exits_on_zero,
            native,
            self._memory_limit(w, install),
            (box.prestop.value if box and box.prestop else 0.0)
            or (install.proxy_prestop.value if install.proxy_prestop and injected_hook else 0.0),
            shutdown,
            wait,
            config.output_certs is not None and not w.intercepts,
        )

    def _shutdown(
        self, w: WorkloadFact, install: Install, native: bool, exits_on_zero: bool
    ) -> str:
        """The drain mechanism pilot-agent runs for ``w``'s proxy under ``install``."""
        if native:
            box = w.proxy_container
            if box is not None and not box.auto:
                hook = box.drain_hook  # kube-inject output carries the template's hook
            else:  # the template adds the drain hook unless global.proxy.lifecycle replaces it
                hook = install.proxy_prestop is None and not (box and box.prestop)
            version = install.version
            if hook and (version is None or version >= (1, 21)):
                return NATIVE
        return EXIT_ON_ZERO if exits_on_zero else DURATION

    def default_shutdown(self, install: Install) -> tuple[str, float, Located | None]:
        """(mechanism, seconds, where set) of a proxy that sets nothing itself."""
        proxy = self._proxy(_ANY_WORKLOAD, install)
        return proxy.shutdown, proxy.wait, proxy.wait_at

    def _native(self, w: WorkloadFact, install: Install) -> bool:
        """Whether the proxy runs as a native sidecar, decided as the injector does
        (pkg/kube/inject/webhook.go, injection-template.yaml): the pod's
        annotation as that install's version reads it (``native_requested``), else istiod's ENABLE_NATIVE_SIDECARS; ``auto`` (the default
        since 1.27; false before) needs every kubelet >= 1.33, read here from
        --kube-version. An install of unknown version counts as a supported one
        (>= 1.27)."""
        if w.proxy_container is not None and not w.proxy_container.auto:
            return w.proxy_container.native
        asked = native_requested(w.native.value, install.version) if w.native else None
        if asked is not None:
            return asked
        mode = install.native.value if install.native is not None else None
        if mode is not None:
            return bool(mode)
        version = install.version
        if version is not None and version < (1, 27):
            return False  # a bool defaulting to false before 1.27 ("auto" did not parse)
        return self.kube >= (1, 33)

    def _memory_limit(self, w: WorkloadFact, install: Install) -> Located | None:
        box = w.proxy_container
        if box is not None and (box.memory_limit or not box.auto):
            return Located(box.memory_limit or "", box.resources_at)
        if w.resource_annotations:  # the annotations replace global.proxy.resources
            return w.memory_limit or Located("", w.at)
        if install.proxy_limit is not None:
            return install.proxy_limit
        return Located(DEFAULT_PROXY_MEMORY_LIMIT, w.at)  # Istio's global.proxy.resources


_ANY_WORKLOAD = WorkloadFact(Resource("v1", "Pod"), Location("", 0, 0))


def every(proxies: list[Proxy], test: Callable[[Proxy], bool]) -> Proxy | None:
    """The first proxy when ``test`` holds for all candidates, else None."""
    return proxies[0] if proxies and all(test(p) for p in proxies) else None


def _precedence(part: InstallFact) -> tuple[bool, int]:
    return part.mesh is None, -part.order if part.surface == "IstioOperator" else 0


def _overlays(operators: list[InstallFact]) -> list[list[InstallFact]]:
    """IstioOperators that are layers of one install, in the order they apply.

    The documents of one file are overlays (``istioctl install -f``); a document of
    another file with the same revision, namespace and name that names no profile
    of its own is a patch of it (a kustomize overlay of a base). Files apply in
    path order, documents in file order. Two files that each name a profile are
    two installs, whatever their names (istio's own test inputs are all called
    ``install``).
    """
    if not operators:
        return []  # the common case (a workload's own mesh, ``Mesh.of_document``)
    ordered = sorted(operators, key=lambda f: (f.file, f.at.line))
    parent = list(range(len(ordered)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[tuple[Any, ...], int] = {}
    for i, fact in enumerate(ordered):
        keys: list[tuple[Any, ...]] = [("file", fact.file, fact.revision)]
        if fact.name:
            keys.append(("name", fact.namespace, fact.name, fact.revision))
        for key in keys:
            if key not in first:
                first[key] = i
            elif key[0] == "file" or fact.profile is None:
                parent[root(i)] = root(first[key])
    # option files (``istioctl install -f base.yaml -f options/x.yaml``, ASM's
    # ``options/``): a nameless IstioOperator that names no profile, in a
    # directory below an install, is a layer of the nearest install above it with
    # the same revision. Nameless files side by side are alternatives (a
    # repository's ``ci-mesh.yaml`` and ``ci-no-mesh.yaml``), not layers.
    bases: dict[tuple[str, str], int] = {}
    for i, fact in enumerate(ordered):
        if fact.profile is not None or fact.name:
            bases.setdefault((_directory(fact.file), fact.revision), i)
    for i, fact in enumerate(ordered):
        if fact.profile is not None or fact.name:
            continue
        for directory in _ancestors(fact.file)[1:]:
            base = bases.get((directory, fact.revision))
            if base is not None:
                parent[root(i)] = root(base)
                break
    groups: dict[int, list[InstallFact]] = defaultdict(list)
    for i, fact in enumerate(ordered):
        groups[root(i)].append(replace(fact, order=i))
    return list(groups.values())


def _directory(file: str) -> str:
    return _ancestors(file)[0]


def _ancestors(file: str) -> list[str]:
    """``a/b/c.yaml`` -> ``["a/b", "a", ""]``: nearest directory first, the run last."""
    parts = file.replace("\\", "/").split("/")[:-1]
    return ["/".join(parts[:n]) for n in range(len(parts), -1, -1)]
