"""Telemetry, EnvoyFilter and Sidecar resources as the Istio rules see them:
sampling and tracing providers by scope, and everything that turns the stats
filter's host-header fallback (``destination_service`` from the Host header)
on or off.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import Document, KeyPath, Location
from meshlint.domain.istio.values import Located, float_value
from meshlint.domain.k8s.objects import (
    get_in,
    list_at,
    mapping_at,
    mappings_at,
    str_at,
    string_map,
)

FALLBACK = "disable_host_header_fallback"
_FALLBACK_JSON = re.compile(r'"disable_host_header_fallback"\s*:\s*"?(true|false)', re.I)
# Telemetry tag values that copy the request's Host into destination_service
_HOST_EXPR = re.compile(r"request\.host|:authority|headers\s*\[\s*['\"](host|:authority)", re.I)
_OUTBOUND_MODES = frozenset({None, "CLIENT", "CLIENT_AND_SERVER"})


@dataclass(frozen=True, slots=True)
class ScopedFact:
    """A Telemetry, EnvoyFilter or Sidecar: where it applies and what it says."""

    kind: str
    namespace: str | None
    selector: Mapping[str, str] | None  # None: the whole namespace (or mesh, in the root)
    at: Location
    sampling: Located | None = None  # Telemetry tracing randomSamplingPercentage
    tracing_providers: tuple[Located, ...] = ()  # provider names, where they are referenced
    clears_outbound_fallback: bool = False  # removes destination_service or the fallback
    registry_only: bool = False  # Sidecar outboundTrafficPolicy REGISTRY_ONLY
    exit_on_zero: Located | None = None  # ProxyConfig CR environmentVariables
    prometheus_off: bool = False  # Telemetry metrics providers without prometheus


def _enum(value: Any, allowed: frozenset[str | None] | set[str | None]) -> bool:
    """An enum field set to one of ``allowed`` (None: unset); other types never are."""
    return (value is None or isinstance(value, str)) and value in allowed


def _selector(data: Any) -> Mapping[str, str] | None:
    spec = mapping_at(data, ("spec",))
    if isinstance(get_in(spec, ("selector", "matchLabels")), dict):
        return string_map(get_in(spec, ("selector", "matchLabels")))
    if isinstance(get_in(spec, ("workloadSelector", "labels")), dict):
        return string_map(get_in(spec, ("workloadSelector", "labels")))
    if spec.get("targetRef") or spec.get("targetRefs"):
        return {"\0targetRef": ""}  # a gateway/service target: never the whole namespace
    return None


def _telemetry(doc: Document) -> ScopedFact:
    sampling, providers = None, []
    for i, item in enumerate(list_at(doc.data, ("spec", "tracing"))):
        if not isinstance(item, dict):
            continue
        rate = float_value(item.get("randomSamplingPercentage"))
        if rate is not None and sampling is None:
            path = ("spec", "tracing", i, "randomSamplingPercentage")
            sampling = Located(rate, doc.locate(path), doc.slot(path))
        for j, provider in enumerate(list_at(item, ("providers",))):
            name = provider.get("name") if isinstance(provider, dict) else None
            if isinstance(name, str):
                at = doc.locate(("spec", "tracing", i, "providers", j, "name"))
                providers.append(Located(name, at))
    clears = prometheus_off = False
    for item in list_at(doc.data, ("spec", "metrics")):
        names = [get_in(p, ("name",)) for p in list_at(item, ("providers",))]
        if names and "prometheus" not in names:
            prometheus_off = True  # its providers replace the default ones
        for _, override in mappings_at(item, ("overrides",)):
            mode = get_in(override, ("match", "mode"))
            metric = get_in(override, ("match", "metric"))
            # an override the API server would refuse (mode: []) applies to nothing
            if not _enum(mode, _OUTBOUND_MODES) or not _enum(metric, {None, "ALL_METRICS"}):
                continue
            if get_in(override, ("tagOverrides", "destination_service", "operation")) == "REMOVE":
                clears = True
            if override.get("disabled") is True:
                clears = True
    return ScopedFact(
        "Telemetry",
        doc.resource.namespace,
        _selector(doc.data),
        doc.locate(("metadata", "name")),
        sampling,
        tuple(providers),
        clears,
        prometheus_off=prometheus_off,
    )


_TCP_FILTERS = frozenset({"envoy.filters.network.tcp_proxy", "envoy.tcp_proxy"})


def _http_patch(patch: dict[Any, Any]) -> bool:
    """A patch of the HTTP stats filter, the only one with a host-header fallback
    (the TCP one, a NETWORK_FILTER beside tcp_proxy, sees no Host header)."""
    if patch.get("applyTo") == "NETWORK_FILTER":
        return False
    # str_at: a name of the wrong type (a map, say) is no filter's name, and not hashable
    name = str_at(patch, ("match", "listener", "filterChain", "filter", "name"))
    return name not in _TCP_FILTERS


def stats_patches(
    doc: Document, *, http_only: bool = False
) -> Iterator[tuple[int, str, str, Located | None]]:
    """(patch index, context, operation, fallback setting) of each istio.stats patch
    (``http_only``: of the HTTP stats filter only)."""
    for i, patch in enumerate(list_at(doc.data, ("spec", "configPatches"))):
        if not isinstance(patch, dict) or (http_only and not _http_patch(patch)):
            continue
        value = get_in(patch, ("patch", "value"))
        sub = get_in(patch, ("match", "listener", "filterChain", "filter", "subFilter", "name"))
        text = json.dumps(value, default=str) if value is not None else ""
        markers = ("istio.stats", "stats.PluginConfig", "stats_outbound", "stats_inbound")
        if sub != "istio.stats" and not any(m in text for m in markers):
            continue
        context = str_at(patch, ("match", "context")) or "ANY"
        operation = str_at(patch, ("patch", "operation")) or ""
        found = _find_fallback(value, ("spec", "configPatches", i, "patch", "value"), doc)
        yield i, context, operation, found


def _find_fallback(value: Any, path: KeyPath, doc: Document) -> Located | None:
    if isinstance(value, dict):
        if FALLBACK in value:
            flag = value[FALLBACK]
            at = (*path, FALLBACK)
            # the proto field is a bool: only a written false is turned into true
            slot = doc.slot(at) if flag is False else None
            return Located(flag is True or str(flag).lower() == "true", doc.locate(at), slot)
        for key, item in value.items():
            found = _find_fallback(item, (*path, key), doc)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_fallback(item, (*path, i), doc)
            if found:
                return found
    elif isinstance(value, str) and FALLBACK in value:
        match = _FALLBACK_JSON.search(value)  # Wasm-era configs keep JSON in a string
        if match:
            return Located(match.group(1).lower() == "true", doc.locate(path))
    return None


def _envoy_filter(doc: Document) -> ScopedFact:
    clears = any(
        found is not None and found.value and context in ("ANY", "SIDECAR_OUTBOUND")
        for _, context, _, found in stats_patches(doc, http_only=True)
    )
    return ScopedFact(
        "EnvoyFilter",
        doc.resource.namespace,
        _selector(doc.data),
        doc.locate(("metadata", "name")),
        clears_outbound_fallback=clears,
    )


def _sidecar(doc: Document) -> ScopedFact:
    mode = get_in(doc.data, ("spec", "outboundTrafficPolicy", "mode"))
    return ScopedFact(
        "Sidecar",
        doc.resource.namespace,
        _selector(doc.data),
        doc.locate(("metadata", "name")),
        registry_only=mode == "REGISTRY_ONLY",
    )


def _proxy_config(doc: Document) -> ScopedFact:
    """networking.istio.io ProxyConfig: per-namespace/workload agent environment."""
    env = mapping_at(doc.data, ("spec", "environmentVariables"))
    found = None
    if "EXIT_ON_ZERO_ACTIVE_CONNECTIONS" in env:
        path = ("spec", "environmentVariables", "EXIT_ON_ZERO_ACTIVE_CONNECTIONS")
        found = Located(
            str(env["EXIT_ON_ZERO_ACTIVE_CONNECTIONS"]).lower() == "true", doc.locate(path)
        )
    return ScopedFact(
        "ProxyConfig",
        doc.resource.namespace,
        _selector(doc.data),
        doc.locate(("metadata", "name")),
        exit_on_zero=found,
    )


def scoped_facts(doc: Document) -> Iterator[ScopedFact]:
    kind = doc.kind
    if kind == "ProxyConfig" and doc.api_version.startswith("networking.istio.io/"):
        yield _proxy_config(doc)
    if kind == "Telemetry":
        yield _telemetry(doc)
    elif kind == "EnvoyFilter":
        yield _envoy_filter(doc)
    elif kind == "Sidecar":
        yield _sidecar(doc)


def from_request_host(expression: str) -> bool:
    """A tag expression that copies the request's Host (I001's case)."""
    return _HOST_EXPR.search(expression) is not None


def host_tag_overrides(doc: Document) -> Iterator[tuple[KeyPath, str]]:
    """Telemetry ``tagOverrides.destination_service`` values taken from the request host."""
    for i, item in enumerate(list_at(doc.data, ("spec", "metrics"))):
        for j, override in mappings_at(item, ("overrides",)):
            tag = get_in(override, ("tagOverrides", "destination_service"))
            value = tag.get("value") if isinstance(tag, dict) else None
            if isinstance(value, str) and from_request_host(value):
                path = ("spec", "metrics", i, "overrides", j, "tagOverrides")
                yield (*path, "destination_service", "value"), value


_CONFIG_OVERRIDE = ("spec", "values", "telemetry", "v2", "prometheus", "configOverride")


def metric_tags(doc: Document) -> Iterator[tuple[KeyPath, str, str, str]]:
    """(path of the value, tag, expression, surface) of every metric tag a document
    sets from an expression: Telemetry ``tagOverrides``, IstioOperator/Helm
    ``telemetry.v2.prometheus.configOverride`` dimensions, and the ``dimensions``
    of ``istio.stats`` EnvoyFilter patches (object or JSON string)."""
    if doc.kind == "Telemetry":
        for i, item in enumerate(list_at(doc.data, ("spec", "metrics"))):
            for j, override in enumerate(list_at(item, ("overrides",))):
                if isinstance(override, dict) and override.get("disabled") is True:
                    continue  # the metric is not generated: its tags cost nothing
                base: KeyPath = ("spec", "metrics", i, "overrides", j, "tagOverrides")
                for tag, body in mapping_at(override, ("tagOverrides",)).items():
                    value = body.get("value") if isinstance(body, dict) else None
                    if isinstance(value, str) and body.get("operation", "UPSERT") == "UPSERT":
                        yield (*base, tag, "value"), str(tag), value, "Telemetry tagOverrides"
    elif doc.kind == "IstioOperator":
        for block, config in mapping_at(doc.data, _CONFIG_OVERRIDE).items():
            base = (*_CONFIG_OVERRIDE, block)
            for path, tag, value in _dimensions(config, base):
                yield path, tag, value, f"configOverride.{block}"
    elif doc.kind == "EnvoyFilter":
        for i, context, _, _ in stats_patches(doc):
            base = ("spec", "configPatches", i, "patch", "value")
            for path, tag, value in _dimensions(get_in(doc.data, base), base):
                yield path, tag, value, f"istio.stats EnvoyFilter patch for {context}"


def _dimensions(value: Any, path: KeyPath) -> Iterator[tuple[KeyPath, str, str]]:
    """``metrics[].dimensions`` anywhere in a stats filter config; a JSON string
    (Wasm-era ``configuration.value``) is read whole and anchored at the string."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "metrics" and isinstance(item, list):
                for k, metric in enumerate(item):
                    dims = metric.get("dimensions") if isinstance(metric, dict) else None
                    for tag, expr in dims.items() if isinstance(dims, dict) else ():
                        if isinstance(expr, str):
                            yield (*path, key, k, "dimensions", tag), str(tag), expr
            else:
                yield from _dimensions(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _dimensions(item, (*path, i))
    elif isinstance(value, str) and "dimensions" in value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return
        for _, tag, expr in _dimensions(parsed, ()):
            yield path, tag, expr
