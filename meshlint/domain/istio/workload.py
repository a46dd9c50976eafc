"""Facts about one workload's Istio proxy: what the pod asks for (injection,
native sidecar, ``proxy.istio.io/config``, ``sidecar.istio.io/proxyMemory*``),
its shutdown budget, and an istio-proxy container already in the manifest
(kube-inject output, gateways).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from meshlint.core.model import Document, KeyPath, Location, Resource, Slot, pickled_as_fields
from meshlint.domain.components import Component, component_of
from meshlint.domain.istio.proxy import ProxyDefaults, agent_env, proxy_defaults
from meshlint.domain.istio.values import Located, float_value, prestop_seconds, truthy
from meshlint.domain.k8s.objects import (
    Container,
    Resources,
    containers_of,
    get_in,
    pod_annotations,
    pod_labels,
    pod_spec_path,
    pod_template_metadata,
    resources_of,
)

INJECT = "sidecar.istio.io/inject"
REVISION = "istio.io/rev"
NATIVE = "sidecar.istio.io/nativeSidecar"
PROXY_CONFIG = "proxy.istio.io/config"
# The injected proxy's resources, by (section, resource): as a whole they replace
# global.proxy.resources (the injection template's rule)
PROXY_RESOURCE_ANNOTATIONS = {
    ("requests", "cpu"): "sidecar.istio.io/proxyCPU",
    ("limits", "cpu"): "sidecar.istio.io/proxyCPULimit",
    ("requests", "memory"): "sidecar.istio.io/proxyMemory",
    ("limits", "memory"): "sidecar.istio.io/proxyMemoryLimit",
}
MEMORY_LIMIT = PROXY_RESOURCE_ANNOTATIONS[("limits", "memory")]
PROXY_KINDS = frozenset({Component.ISTIO_PROXY})


@dataclass(frozen=True, slots=True)
class ProxyContainer:
    """An istio-proxy written into the manifest (gateway, or kube-inject output)."""

    name: str
    native: bool  # an init container with restartPolicy: Always
    memory_limit: str | None
    resources_at: Location
    prestop: Located | None  # seconds
    exit_on_zero: bool
    gateway: bool  # the pod's only regular container: a gateway, not a sidecar
    auto: bool = False  # image "auto": the injector fills in what the manifest leaves out
    drain_hook: bool = False  # preStop "pilot-agent request POST drain" (native sidecars)
    agent: ProxyDefaults = field(default_factory=ProxyDefaults)  # its pilot-agent env


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class WorkloadFact:
    resource: Resource
    at: Location  # where pod-level annotations belong
    labels: Mapping[str, str] = field(default_factory=dict)  # pod labels, for selectors
    inject: Located | None = None  # "true"/"false" from the pod label or annotation
    revision: str | None = None  # istio.io/rev on the pod
    native: Located | None = None  # sidecar.istio.io/nativeSidecar, the string written
    proxy: ProxyDefaults = field(default_factory=ProxyDefaults)  # proxy.istio.io/config
    resource_annotations: bool = False  # any sidecar.istio.io/proxy{CPU,Memory}[Limit]
    memory_limit: Located | None = None  # sidecar.istio.io/proxyMemoryLimit
    grace: Located | None = None  # terminationGracePeriodSeconds
    # where a fix writes terminationGracePeriodSeconds (added when absent); kept only
    # where the pod sets something its proxy's shutdown is judged by
    grace_slot: Slot | None = None
    app_prestop: Located | None = None  # the longest app container preStop, seconds (inf: unknown)
    proxy_container: ProxyContainer | None = None
    host_network: bool = False
    app_containers: int = 0
    intercepts: bool = True  # False when no inbound or outbound traffic is redirected
    # a pod of an Istio install itself (istiod, its gateways, ztunnel, CNI): judged
    # with the install, not as the user's workload
    control_plane: bool = False

    @property
    def cert_writer(self) -> bool:
        """A proxy kept only to write its certificates (``OUTPUT_CERTS``, e.g. for
        Prometheus) with no traffic redirected through it: it serves no app traffic."""
        box = self.proxy_container
        certs = self.proxy.output_certs or (box.agent.output_certs if box else None)
        return certs is not None and not self.intercepts


def proxy_resources(annotations: Mapping[str, str]) -> Resources | None:
    """Resources of an injected istio-proxy set by pod annotations, if any."""
    if not any(a in annotations for a in PROXY_RESOURCE_ANNOTATIONS.values()):
        return None
    found: dict[str, dict[str, str]] = {"requests": {}, "limits": {}}
    for (section, name), annotation in PROXY_RESOURCE_ANNOTATIONS.items():
        if annotation in annotations:
            found[section][name] = annotations[annotation]
    return resources_of(found)


def is_istio_proxy(c: Container) -> bool:
    """An Envoy-based istio-proxy (``meshlint.domain.components`` tells ztunnel apart)."""
    return component_of(c) in PROXY_KINDS


def is_gateway(doc: Document, proxy: Container, found: list[Container]) -> bool:
    """The proxy is the pod's main process (a gateway), not a sidecar of an application."""
    if proxy.role != "container":
        return False
    templates = pod_annotations(doc.data, doc.kind).get("inject.istio.io/templates", "")
    regular = [c for c in found if c.role == "container"]
    return len(regular) == 1 or "router" in proxy.args or "gateway" in templates


def _proxy_container(doc: Document, found: list[Container]) -> ProxyContainer | None:
    for c in found:
        if c.role == "init" or not is_istio_proxy(c):
            continue
        limit = c.resources.limit("memory")
        wait = prestop_seconds(c.data.get("lifecycle"), unknown=0.0)  # only known delays add up
        exit_var = c.env_var("EXIT_ON_ZERO_ACTIVE_CONNECTIONS")
        gateway = is_gateway(doc, c, found)
        values = {v.name: v.value for v in c.env() if v.value is not None}
        where: dict[KeyPath, Location] = {
            (v.name,): doc.locate((*v.path, "value")) for v in c.env()
        }
        agent = agent_env(values, where.__getitem__)
        return ProxyContainer(
            c.name,
            c.role == "sidecar",
            str(limit) if limit is not None else None,
            doc.locate(c.resources_path),
            Located(wait, doc.locate((*c.path, "lifecycle", "preStop")))
            if wait is not None
            else None,
            exit_var is not None and truthy(exit_var.value),
            gateway,
            c.image == "auto",
            _drain_hook(c.data.get("lifecycle")),
            agent,
        )
    return None


def _drain_hook(lifecycle: object) -> bool:
    """The injection template's preStop for native sidecars: ``pilot-agent request
    ... POST drain`` starts Envoy's drain when pod shutdown begins, and the agent
    then exits as soon as its SIGTERM comes (istio ``pkg/envoy/agent.go``)."""
    command = get_in(lifecycle, ("preStop", "exec", "command"))
    words = [str(w) for w in command] if isinstance(command, list) else []
    return "pilot-agent" in words and "request" in words and words[-1:] == ["drain"]


# Labels the Istio charts and istioctl put on the pods they install
_COMPONENT_LABEL = "operator.istio.io/component"
_OWNER_LABEL = "install.operator.istio.io/owning-resource"
_CONTROL_PLANE_APPS = frozenset({"istiod", "ztunnel", "istio-cni-node"})


def _control_plane(data: object, labels: Mapping[str, str], found: list[Container]) -> bool:
    own = get_in(data, ("metadata", "labels"))
    marks = (_COMPONENT_LABEL, _OWNER_LABEL)
    if any(m in labels or (isinstance(own, dict) and m in own) for m in marks):
        return True
    if labels.get("app") in _CONTROL_PLANE_APPS:
        return True
    return any(c.name == "discovery" and "pilot" in c.image for c in found)


def _cert_writer_intercepts(annotations: Mapping[str, str], found: list[Container]) -> bool:
    """A written istio-proxy redirects traffic only with an ``istio-init`` (or, with
    the CNI plugin, ``istio-validation``) container, or an injection status the
    CNI plugin acts on."""
    return "sidecar.istio.io/status" in annotations or any(
        c.role == "init" and c.name in ("istio-init", "istio-validation") for c in found
    )


_ISTIO_ANNOTATION_PREFIXES = ("sidecar.istio.io/", "proxy.istio.io/", "istio.io/")


def workload_fact(doc: Document) -> WorkloadFact | None:
    kind, data = doc.kind, doc.data
    spec = pod_spec_path(kind)
    if spec is None:
        return None
    meta = pod_template_metadata(kind) or ("metadata",)
    labels = pod_labels(data, kind)
    annotations = pod_annotations(data, kind)
    anchor = doc.locate((*meta, "annotations") if annotations else meta)
    inject = None
    if INJECT in labels:  # the label wins over the deprecated annotation
        inject = Located(labels[INJECT], doc.locate((*meta, "labels", INJECT)))
    elif INJECT in annotations:
        inject = Located(annotations[INJECT], doc.locate((*meta, "annotations", INJECT)))
    native = None
    if annotations.get(NATIVE):
        # as written: what it means depends on the injecting Istio (``native_requested``)
        at = doc.locate((*meta, "annotations", NATIVE))
        native = Located(annotations[NATIVE], at)
    proxy = ProxyDefaults()
    if PROXY_CONFIG in annotations:
        embedded = doc.embedded((*meta, "annotations", PROXY_CONFIG))
        if isinstance(embedded, Document):
            proxy = proxy_defaults(embedded.data, embedded.locate, slot=embedded.slot)
    limit = None
    if MEMORY_LIMIT in annotations:
        limit = Located(annotations[MEMORY_LIMIT], doc.locate((*meta, "annotations", MEMORY_LIMIT)))
    grace = None
    raw_grace = get_in(data, (*spec, "terminationGracePeriodSeconds"))
    if float_value(raw_grace) is not None:
        grace = Located(
            float_value(raw_grace), doc.locate((*spec, "terminationGracePeriodSeconds"))
        )
    found = list(containers_of(doc))
    proxy_container = _proxy_container(doc, found)
    app_prestop = None
    apps = [c for c in found if c.role == "container" and not is_istio_proxy(c)]
    for c in apps:
        wait = prestop_seconds(c.data.get("lifecycle"), unknown=math.inf)  # may outlast anything
        if wait is not None and (app_prestop is None or wait > app_prestop.value):
            app_prestop = Located(wait, doc.locate((*c.path, "lifecycle", "preStop")))
    revision = labels.get(REVISION) or annotations.get(REVISION) or None
    intercepts = _intercepts(annotations)
    if proxy_container is not None and not proxy_container.auto:
        intercepts = intercepts and _cert_writer_intercepts(annotations, found)
    if (
        doc.resource.namespace is None
        and proxy_container is None
        and inject is None
        and revision is None
        and not any(a.startswith(_ISTIO_ANNOTATION_PREFIXES) for a in annotations)
    ):
        # Injection then rests on namespace labels, and a pod rendered without a
        # namespace has none that can be known (Mesh.injection): no Istio rule can
        # say anything about it, so a large run keeps no fact for it.
        return None
    grace_slot = None
    box_says = proxy_container is not None and (
        proxy_container.prestop is not None or proxy_container.agent.min_drain is not None
    )
    whole = raw_grace is None or (isinstance(raw_grace, int) and not isinstance(raw_grace, bool))
    if whole and (grace is not None or proxy.drain or proxy.min_drain or box_says):
        # what I005 judges a pod by: a fix may raise (or add) its grace period
        grace_slot = doc.slot((*spec, "terminationGracePeriodSeconds"), add=True)
    return WorkloadFact(
        doc.resource,
        anchor,
        labels,
        inject,
        revision,
        native,
        proxy,
        any(a in annotations for a in PROXY_RESOURCE_ANNOTATIONS.values()),
        limit,
        grace,
        grace_slot,
        app_prestop,
        proxy_container,
        get_in(data, (*spec, "hostNetwork")) is True,
        len(apps),
        intercepts,
        _control_plane(data, labels, found),
    )


def _intercepts(annotations: dict[str, str]) -> bool:
    """Whether the app's traffic goes through the proxy at all.

    Prometheus-style pods inject a proxy only for its certificates and switch
    redirection off; their shutdown does not depend on the proxy.
    """
    if annotations.get("sidecar.istio.io/interceptionMode") == "NONE":
        return False
    inbound = annotations.get("traffic.sidecar.istio.io/includeInboundPorts")
    outbound = annotations.get("traffic.sidecar.istio.io/includeOutboundIPRanges")
    return not (
        inbound is not None
        and not inbound.strip()
        and outbound is not None
        and not outbound.strip()
    )


def workload_facts(doc: Document) -> Iterator[WorkloadFact]:
    fact = workload_fact(doc)
    if fact is not None:
        yield fact


# the sidecar.istio.io/nativeSidecar annotation: read from Istio 1.24 (its
# release notes); "true" alone asks for a native sidecar in 1.24-1.26, any value
# but "false" from 1.27 (issue #23's reading of pkg/kube/inject, 1.24-1.31)
NATIVE_ANNOTATION_SINCE = (1, 24)
NATIVE_ANY_VALUE_SINCE = (1, 27)


def native_requested(value: object, version: tuple[int, int] | None) -> bool | None:
    """What the annotation asks of the injecting Istio at ``version`` (None: an
    Istio that does not read it). Unknown version: a supported Istio (>= 1.27)."""
    if version is not None and version < NATIVE_ANNOTATION_SINCE:
        return None
    text = str(value)
    if version is not None and version < NATIVE_ANY_VALUE_SINCE:
        return text == "true"
    return text != "false"
