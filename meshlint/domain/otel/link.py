"""Which pod runs a collector config, and how much memory it has.

An ``OpenTelemetryCollector`` carries its own ``spec.resources`` and
``spec.env``. A ConfigMap does not: the Deployment, DaemonSet or StatefulSet
that mounts it does, possibly in another file linted by another worker. So
cross-object rules ``collect`` two kinds of small facts, ``Mount`` (a container
that mounts a ConfigMap, with its budget) and ``Hosted`` (a rule's finding
candidate inside a ConfigMap's config), and ``link`` joins them once every file
was read. ``collect_linked`` and ``linked_items`` are that skeleton for a rule:
it says only what it reads from a config and how it judges one item.

Several pods can mount a ConfigMap of the same name (unrelated Helm examples
rendered into ``default``); the nearest ones win: same file, then the longest
shared directory.

Namespaces: in a Helm stream (documents with a ``# Source:`` comment) an object
without ``metadata.namespace`` is installed into the release namespace. Where
the stream's objects that write a namespace all write the same one (the chart's
``{{ .Release.Namespace }}``, ``default`` under ``helm template``), that is the
release namespace; else it is unknown, and one unknown namespace is shared by
every object of that stream without one. Outside Helm streams an object
without a namespace joins only others without one.

Values: a config resolves ``${env:X}``, ``${X}`` and ``${env:X:-default}``
from the env of the container that runs it (the collector's env provider);
``Budget.expand`` does that once the pod is known.
"""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from meshlint.core.model import Document, pickled_as_fields, same_namespace
from meshlint.domain.components import Component, component_of
from meshlint.domain.golang.runtime import (
    OFF,
    Malformed,
    gomemlimit_of,
    parse_gomemlimit,
)
from meshlint.domain.k8s.objects import (
    Container,
    Resources,
    containers_of,
    get_in,
    has_variable_reference,
    list_at,
    mapping_at,
    number,
    pod_resources,
    pod_spec_path,
)
from meshlint.domain.k8s.quantity import human_bytes
from meshlint.domain.otel.config import COLLECTOR_CR, CONFIG_MAP, ConfigView, views

# The API server's default terminationGracePeriodSeconds.
DEFAULT_GRACE_SECONDS = 30.0

_COLLECTORS = (Component.OTEL_COLLECTOR, Component.JAEGER_V2)


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Budget:
    """The pod a collector runs in: its memory (bytes, None where unset), whether
    it runs one copy per node, and how long it may take to stop."""

    owner: str  # 'container "otc" of Deployment/ns/name'
    limit: int | None
    limit_text: str | None
    gomemlimit: int | None = None
    gomemlimit_text: str | None = None
    per_node: bool = False  # a DaemonSet, or an OpenTelemetryCollector in daemonset mode
    grace: float = DEFAULT_GRACE_SECONDS  # terminationGracePeriodSeconds
    grace_set: bool = False  # written in the manifest, not the API default
    env: tuple[tuple[str, str], ...] = ()  # the container's literal env values
    # the env var names the container gets; None where they cannot be known (envFrom)
    env_names: frozenset[str] | None = None
    image: str = ""  # the container's image ("" where unset: the operator's default)

    def expand(self, value: str) -> str | None:
        """``value`` with its ``${env:X}`` references resolved from the env of the
        container, or None where one names a variable the container does not set
        literally (valueFrom, or not at all) and gives no default."""
        env = dict(self.env)
        missing = False

        def one(match: re.Match[str]) -> str:
            nonlocal missing
            found = env.get(match.group(1), match.group(2))
            if found is None:
                missing = True
                return ""
            return found

        expanded = _ENV_REFERENCE.sub(one, value)
        return None if missing else expanded

    def describe_limit(self) -> str:
        size = f" ({human_bytes(self.limit)})" if self.limit is not None else ""
        return f"memory limit {self.limit_text}{size} of {self.owner}"

    def cap(self) -> tuple[int, str] | None:
        """What the heap must stay under, and how a message names it: the memory
        limit, else GOMEMLIMIT; None when neither is set."""
        if self.limit is not None:
            return self.limit, self.describe_limit()
        if self.gomemlimit is not None:
            soft = self.gomemlimit
            return soft, f"GOMEMLIMIT {self.gomemlimit_text} ({human_bytes(soft)}) of {self.owner}"
        return None


# The collector's env provider: ${env:NAME}, the bare ${NAME}, and ":-default".
_ENV_REFERENCE = re.compile(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _literal_env(container: Container) -> tuple[tuple[str, str], ...]:
    values = {v.name: v.value for v in container.env() if v.value is not None}
    return tuple(values.items())


def _gomemlimit(container: Container) -> tuple[int | None, str | None]:
    var = gomemlimit_of(container)
    if var is None or var.value is None or has_variable_reference(var.value):
        return None, None
    try:
        soft = parse_gomemlimit(var.value)
    except Malformed:
        return None, None  # K004 reports it
    return (None, None) if soft is None or soft == OFF else (soft, var.value)


def budget_of(
    container: Container,
    owner: str,
    pod: Resources | None = None,
    *,
    per_node: bool = False,
    grace: Any = None,
) -> Budget:
    """A container's memory limit (else the pod-level one) and GOMEMLIMIT, and its
    pod's shape: one per node or not, its terminationGracePeriodSeconds."""
    limit = container.resources.limit("memory") or (pod.limit("memory") if pod else None)
    soft, soft_text = _gomemlimit(container)
    seconds = _seconds(grace)
    env = None if list_at(container.data, ("envFrom",)) else frozenset(container.env_names())
    return Budget(
        owner,
        limit.value() if limit is not None else None,
        str(limit) if limit is not None else None,
        soft,
        soft_text,
        per_node,
        DEFAULT_GRACE_SECONDS if seconds is None else seconds,
        seconds is not None,
        _literal_env(container),
        env,
        container.image,
    )


def _seconds(value: Any) -> float | None:
    """terminationGracePeriodSeconds: an integer (the API refuses anything else)."""
    seconds = number(value)  # None for bools, and for an integer no float holds
    return None if seconds is None or seconds < 0 else seconds


def cr_budget(doc: Document) -> Budget:
    """An OpenTelemetryCollector's ``spec.resources``, ``spec.env``, ``spec.mode``
    and ``spec.terminationGracePeriodSeconds``."""
    spec = get_in(doc.data, ("spec",))
    spec = spec if isinstance(spec, dict) else {}
    budget = budget_of(
        Container(("spec",), spec, "container"),
        f"{doc.resource}",
        per_node=str(spec.get("mode", "")).lower() == "daemonset",
        grace=spec.get("terminationGracePeriodSeconds"),
    )
    if budget.env_names is None:
        return budget
    return replace(budget, env_names=budget.env_names | operator_env(spec.get("config")))


# What the operator adds to the collector container (opentelemetry-operator
# v0.158.0 internal/manifests/collector/container.go getInferredContainerEnvVars:
# POD_NAME always, GOMEMLIMIT and GOMAXPROCS under the SetGolangFlags gate), and
# per receiver a pipeline uses (internal/otelconfig/config.go
# GetEnvironmentVariables): K8S_NODE_NAME for kubeletstats / kubelet_stats only
# (internal/components/receivers/kubeletstats.go).
_OPERATOR_ENV = frozenset({"POD_NAME", "GOMEMLIMIT", "GOMAXPROCS"})
_RECEIVER_ENV = {"kubeletstats": "K8S_NODE_NAME", "kubelet_stats": "K8S_NODE_NAME"}


def operator_env(config: Any) -> frozenset[str]:
    """The env var names the operator sets on the collector of ``spec.config``."""
    names = set(_OPERATOR_ENV)
    for pipeline in mapping_at(config, ("service", "pipelines")).values():
        for rid in list_at(pipeline, ("receivers",)):
            kind = str(rid).split("/", 1)[0]
            if kind in _RECEIVER_ENV:
                names.add(_RECEIVER_ENV[kind])
    return frozenset(names)


def own_budget(view: ConfigView) -> Budget | None:
    """The budget a config brings along: an OpenTelemetryCollector's, or the
    container's that runs a built-in config. None for a ConfigMap: the pods
    that mount it tell (``collect_linked``)."""
    if view.container is not None:
        host = view.host
        owner = f'container "{view.container.name}" of {host.resource}'
        spec = get_in(host.data, pod_spec_path(host.kind) or ("spec",))
        return budget_of(
            view.container,
            owner,
            pod_resources(host.data, host.kind),
            per_node=host.kind == "DaemonSet",
            grace=get_in(spec, ("terminationGracePeriodSeconds",)),
        )
    if view.host.kind == COLLECTOR_CR:
        return cr_budget(view.host)
    return None


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Mount:
    """A container that mounts ConfigMap ``config_map`` (``keys`` None: all of them)."""

    file: str
    namespace: str | None
    config_map: str
    keys: tuple[str, ...] | None
    budget: Budget
    stream: str | None = None  # the Helm stream (file) it was rendered into
    collector: bool = False  # a recognised collector image (not a guess among mounters)


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Hosted:
    """A rule's fact about the config in ConfigMap ``config_map`` under ``key``."""

    file: str
    namespace: str | None
    config_map: str
    key: str
    item: Any
    stream: str | None = None  # the Helm stream (file) it was rendered into


HELM_RELEASE = "<helm release>"


def _stream(doc: Document) -> str | None:
    """The Helm release a document was rendered for, where a ``# Source:`` comment
    names its template: one per join scope (a render's directory, whether
    ``helm template`` wrote one stream or ``--output-dir`` a file per template)."""
    return HELM_RELEASE if doc.source is not None else None


def hosted(view: ConfigView, item: Any) -> Hosted:
    res = view.host.resource
    return Hosted(
        view.host.file.name, res.namespace, res.name or "", view.key or "", item, _stream(view.host)
    )


def _config_map_volumes(spec: Any) -> dict[str, tuple[str, tuple[str, ...] | None]]:
    """Volume name -> (ConfigMap name, mounted keys or None for all)."""
    out: dict[str, tuple[str, tuple[str, ...] | None]] = {}
    for volume in list_at(spec, ("volumes",)):
        name = get_in(volume, ("name",))
        sources = [get_in(volume, ("configMap",))] + [
            get_in(s, ("configMap",)) for s in list_at(volume, ("projected", "sources"))
        ]
        for source in sources:
            cm = get_in(source, ("name",))
            if isinstance(name, str) and isinstance(cm, str):
                items = list_at(source, ("items",))
                keys = tuple(str(get_in(i, ("key",))) for i in items) if items else None
                out[name] = (cm, keys)
    return out


def mounts(doc: Document) -> Iterator[Mount]:
    """The collector containers of a workload and the ConfigMaps they mount.

    Worked out once per document: every rule that links configs to pods
    (``collect_linked``) asks, and the answer depends on the document alone (the
    facts are frozen, so the rules share the same objects)."""
    return iter(doc.memo(mounts, lambda: tuple(_mounts(doc))))


def _mounts(doc: Document) -> Iterator[Mount]:
    spec_path = pod_spec_path(doc.kind)
    if spec_path is None:
        return
    spec = get_in(doc.data, spec_path)
    volumes = _config_map_volumes(spec)
    if not volumes:
        return
    mounting: dict[str, list[tuple[Container, str]]] = defaultdict(list)
    for container in containers_of(doc):
        for mount in list_at(container.data, ("volumeMounts",)):
            volume, path = get_in(mount, ("name",)), get_in(mount, ("mountPath",))
            if isinstance(volume, str) and volume in volumes:
                mounting[volume].append((container, path if isinstance(path, str) else ""))
    for volume, users in mounting.items():
        cm, keys = volumes[volume]
        known = any(component_of(c) in _COLLECTORS for c, _ in users)
        for container in _collectors(users):
            owner = f'container "{container.name}" of {doc.resource}'
            budget = budget_of(
                container,
                owner,
                pod_resources(doc.data, doc.kind),
                per_node=doc.kind == "DaemonSet",
                grace=get_in(spec, ("terminationGracePeriodSeconds",)),
            )
            yield Mount(
                doc.file.name, doc.resource.namespace, cm, keys, budget, _stream(doc), known
            )


def _collectors(users: list[tuple[Container, str]]) -> list[Container]:
    """Which of the containers mounting a config run it.

    A config reloader may mount it too: recognised collector images win, then
    containers whose arguments name the mount path or a ``--config`` flag.
    """
    known = [c for c, _ in users if component_of(c) in _COLLECTORS]
    if known:
        return known
    named = [
        c
        for c, path in users
        if any((path and path in a) or a.startswith("--config") for a in c.args)
    ]
    return named or [c for c, _ in users]


def _nearness(a: str, b: str) -> int:
    """Same file beats any directory; else the number of shared directories."""
    if a == b:
        return 1 << 30
    da, db = posixpath.dirname(a).split("/"), posixpath.dirname(b).split("/")
    shared = 0
    for x, y in zip(da, db, strict=False):
        if x != y:
            break
        shared += 1
    return shared


Linked = Mount | Hosted


@dataclass(frozen=True, slots=True)
class Applied:
    """The namespace the run's objects without one are applied to (``check
    --namespace``): the engine adds it to the facts of rules that join."""

    namespace: str


def release_namespaces(facts: Iterable[Any]) -> dict[str | None, str | None]:
    """The release namespace of each Helm stream among ``facts``: ``--namespace``
    when given (for every object without one, key None), else the one namespace
    the stream's objects write, None where they write none or several."""
    items = list(facts)
    applied = next((f.namespace for f in items if isinstance(f, Applied)), None)
    if applied is not None:
        return {None: applied}
    written: dict[str, set[str]] = defaultdict(set)
    for fact in items:
        if isinstance(fact, (Mount, Hosted)) and fact.stream is not None:
            found = written[fact.stream]
            if fact.namespace is not None:
                found.add(fact.namespace)
    return {stream: next(iter(ns)) if len(ns) == 1 else None for stream, ns in written.items()}


def namespace_of(fact: Linked, releases: dict[str | None, str | None]) -> str | None:
    """The namespace an object lands in (see the module docstring)."""
    if fact.namespace is not None:
        return fact.namespace
    if None in releases:
        return releases[None]  # --namespace
    if fact.stream is None:
        return None
    return releases.get(fact.stream) or "<unknown release namespace>"


def _matches(h: Hosted, m: Mount, releases: dict[str | None, str | None]) -> bool:
    return (
        same_namespace(namespace_of(h, releases), namespace_of(m, releases))
        and m.config_map == h.config_map
        and (m.keys is None or h.key in m.keys)
    )


def link(facts: Iterable[Any]) -> Iterator[tuple[Hosted, Sequence[Budget]]]:
    """Each Hosted fact with the budgets of the nearest pods that mount it."""
    items = list(facts)
    releases = release_namespaces(items)
    by_name: dict[str, list[Mount]] = defaultdict(list)
    for fact in items:
        if isinstance(fact, Mount):
            by_name[fact.config_map].append(fact)
    for fact in items:
        if not isinstance(fact, Hosted):
            continue
        candidates = [m for m in by_name.get(fact.config_map, ()) if _matches(fact, m, releases)]
        if not candidates:
            yield fact, ()
            continue
        best = max(_nearness(fact.file, m.file) for m in candidates)
        near = [m.budget for m in candidates if _nearness(fact.file, m.file) == best]
        yield fact, list(dict.fromkeys(near))


def _file(fact: Linked) -> str:
    return fact.file


def unjoined(facts: Iterable[Any]) -> Iterator[str]:
    """The joins a run expected and did not make, one sentence each: a collector
    config in a ConfigMap no pod of the run mounts, a collector pod mounting a
    ConfigMap that is not in the linted files. Whatever order the facts come in
    (workers report files as they finish), a ConfigMap's note names its first
    file and key, and a mount's its first file."""
    items = list(facts)
    releases = release_namespaces(items)
    hosts: dict[tuple[str, str | None], Hosted] = {}
    for f in items:
        if isinstance(f, Hosted):
            where = (f.config_map, namespace_of(f, releases))
            known = hosts.get(where)
            if known is None or (f.file, f.key) < (known.file, known.key):
                hosts[where] = f
    mounted = {(m.config_map, namespace_of(m, releases)) for m in items if isinstance(m, Mount)}
    for (name, ns), h in sorted(hosts.items(), key=lambda kv: (kv[1].file, kv[0][0])):
        if not any(same_namespace(ns, n) and c == name for c, n in mounted):
            yield (
                f'{h.file}: the collector config in ConfigMap "{name}" (key "{h.key}") is '
                "mounted by no pod in the linted files: its memory limit, env and grace "
                "period are unknown"
            )
    seen: set[tuple[str, str | None, str]] = set()
    for m in sorted((f for f in items if isinstance(f, Mount) and f.collector), key=_file):
        ns = namespace_of(m, releases)
        key = (m.config_map, ns, m.budget.owner)
        if key in seen or any(same_namespace(ns, n) and c == m.config_map for c, n in hosts):
            continue
        seen.add(key)
        yield (
            f'{m.file}: {m.budget.owner} mounts ConfigMap "{m.config_map}", which is not in '
            "the linted files (or holds no collector config): its config is not judged"
        )


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Present:
    """The item of a Hosted fact that says only that the config is there, so a
    join is known to be expected even where a rule has nothing to judge in it."""


_PRESENT = Present()  # frozen and without fields: one is every one


def collect_linked(doc: Document, items: Callable[[ConfigView], Iterable[Any]]) -> Iterator[Any]:
    """The ``collect`` of a rule that judges ConfigMap configs against the pods that
    mount them: a workload's ``Mount`` facts, and ``items(view)`` of each config a
    ConfigMap holds, as ``Hosted`` facts."""
    if doc.kind != CONFIG_MAP:
        yield from mounts(doc)
        return
    for view in views(doc):
        # the same fact for every rule that links this config: made once and
        # shared (a stream of ConfigMaps would keep one per rule and config)
        present = doc.memo((Present, view.key), partial(hosted, view, _PRESENT))
        yield present
        for item in items(view):
            # ``hosted(view, item)``, its other fields read from the shared one
            yield Hosted(
                present.file,
                present.namespace,
                present.config_map,
                present.key,
                item,
                present.stream,
            )


def linked_items(facts: Iterable[Any]) -> Iterator[tuple[Any, Budget | None]]:
    """What ``collect_linked`` gathered, joined: each item with each budget of the
    nearest pods that mount its ConfigMap, or once with None when no pod in the
    run mounts it."""
    for fact, budgets in link(facts):
        if isinstance(fact.item, Present):
            continue
        for budget in budgets or (None,):
            yield fact.item, budget
