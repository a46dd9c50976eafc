"""Which Envoy stats a proxy keeps: ``proxyStatsMatcher`` inclusions and the
older ``sidecar.istio.io/statsInclusion*`` annotations, wherever they are set.

Istio trims Envoy's stats to a small default set to save proxy memory and CPU
(istio/api ``mesh/v1alpha1/proxy.proto``, ``ProxyStatsMatcher``); pilot-agent
adds the inclusions it is given to that set, the annotations replacing the
ProxyConfig lists as a whole (istio ``pkg/bootstrap/config.go``,
``getStatsOptions``). Envoy matches prefixes as string prefixes and regexes
against the whole stat name.

A pattern is *wide* when it keeps every stat of a family with one member per
upstream cluster, listener or HTTP connection manager: those families grow with
the mesh, so keeping them whole multiplies each proxy's stats by the number of
services it can reach.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from meshlint.core.model import Document, KeyPath
from meshlint.domain.istio.workload import PROXY_CONFIG
from meshlint.domain.k8s.objects import (
    WORKLOAD_KINDS,
    get_in,
    list_at,
    mapping_at,
    pod_template_metadata,
)

# Stat names of each family, for two members each: a pattern that keeps all of
# them keeps the family.
FAMILIES: dict[str, tuple[str, ...]] = {
    "cluster.*": (
        "cluster.outbound|9080||reviews.bookinfo.svc.cluster.local.upstream_rq_total",
        "cluster.outbound|9080||reviews.bookinfo.svc.cluster.local.upstream_cx_active",
        "cluster.outbound|443||api.example.com.upstream_rq_total",
        "cluster.outbound|443||api.example.com.circuit_breakers.default.rq_open",
    ),
    "listener.*": (
        "listener.0.0.0.0_15006.downstream_cx_total",
        "listener.0.0.0.0_15006.server_ssl_socket_factory.ssl_context_update_by_sds",
        "listener.10.12.0.7_9080.downstream_cx_active",
        "listener.10.12.0.7_9080.http.inbound_10.12.0.7_9080.downstream_rq_2xx",
    ),
    "http.*": (
        "http.outbound_0.0.0.0_9080.downstream_rq_total",
        "http.outbound_0.0.0.0_9080.rds.http.9080.update_success",
        "http.inbound_0.0.0.0_8080.downstream_cx_active",
        "http.inbound_0.0.0.0_8080.rq_total",
    ),
}
ANNOTATIONS = {
    "sidecar.istio.io/statsInclusionPrefixes": "prefix",
    "sidecar.istio.io/statsInclusionRegexps": "regex",
    "sidecar.istio.io/statsInclusionSuffixes": "suffix",
}
_FIELDS = {
    "inclusionPrefixes": "prefix",
    "inclusionRegexps": "regex",
    "inclusionSuffixes": "suffix",
}


def _keeps(kind: str, pattern: str, name: str) -> bool:
    if kind == "prefix":
        return name.startswith(pattern)
    if kind == "suffix":
        return name.endswith(pattern)
    try:
        return re.fullmatch(pattern, name) is not None
    except re.error:
        return False  # Envoy rejects it; not a width question


# What one member of each family is: the stats it keeps come once per member.
MEMBERS = {
    "cluster.*": "upstream cluster",
    "listener.*": "listener",
    "http.*": "HTTP connection manager",
}


def wide(kind: str, pattern: str) -> tuple[str, ...]:
    """The families ``pattern`` keeps whole (empty when it is narrower)."""
    return tuple(f for f, names in FAMILIES.items() if all(_keeps(kind, pattern, n) for n in names))


def kept_text(kind: str, pattern: str, families: tuple[str, ...]) -> str:
    """What ``pattern`` keeps of the ``families`` it keeps whole, for a message:
    the stats it matches, once per member of each family."""
    what = {
        "prefix": f"every stat whose name starts {pattern!r}",
        "suffix": f"every stat whose name ends {pattern!r}",
    }.get(kind, f"every stat whose name matches {pattern!r}")
    members = [MEMBERS[f] for f in families]
    per = ", ".join(members[:-1]) + f" and {members[-1]}" if len(members) > 1 else members[0]
    return f"{what}, a set for every {per} the proxy has"


def _matcher(cfg: object, base: KeyPath, surface: str) -> Iterator[tuple[KeyPath, str, str, str]]:
    matcher = mapping_at(cfg, ("proxyStatsMatcher",))
    for field, kind in _FIELDS.items():
        for i, value in enumerate(list_at(matcher, (field,))):
            if isinstance(value, str):
                yield (*base, "proxyStatsMatcher", field, i), kind, value, surface


def inclusions(doc: Document) -> Iterator[tuple[Document, KeyPath, str, str, str]]:
    """(document, path, kind, pattern, surface) of every stats inclusion ``doc`` sets."""
    kind = doc.kind
    if kind == "IstioOperator":
        for base in (("spec", "meshConfig"), ("spec", "values", "meshConfig")):
            cfg = get_in(doc.data, (*base, "defaultConfig"))
            for found in _matcher(cfg, (*base, "defaultConfig"), "meshConfig.defaultConfig"):
                yield (doc, *found)
    elif kind == "ConfigMap":
        name = doc.resource.name or ""
        if (name == "istio" or name.startswith("istio-")) and "mesh" in mapping_at(
            doc.data, ("data",)
        ):
            mesh = doc.embedded(("data", "mesh"))
            if isinstance(mesh, Document):
                cfg = get_in(mesh.data, ("defaultConfig",))
                for found in _matcher(cfg, ("defaultConfig",), "mesh config defaultConfig"):
                    yield (mesh, *found)
    elif kind in WORKLOAD_KINDS:
        meta = pod_template_metadata(kind) or ("metadata",)
        annotations = mapping_at(doc.data, (*meta, "annotations"))
        if PROXY_CONFIG in annotations:
            proxy = doc.embedded((*meta, "annotations", PROXY_CONFIG))
            if isinstance(proxy, Document):
                for found in _matcher(proxy.data, (), PROXY_CONFIG):
                    yield (proxy, *found)
        for annotation, how in ANNOTATIONS.items():
            value = annotations.get(annotation)
            if isinstance(value, str):
                path = (*meta, "annotations", annotation)
                for item in value.split(","):
                    if item.strip():  # pilot-agent ignores an empty annotation
                        yield doc, path, how, item.strip(), f"{annotation} (deprecated)"
