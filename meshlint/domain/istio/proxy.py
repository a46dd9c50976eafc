"""ProxyConfig and MeshConfig fields that the Istio rules read, as small facts.

The same ProxyConfig is written in three places (``meshConfig.defaultConfig`` of
an IstioOperator, ``defaultConfig`` inside the ``istio`` ConfigMap's
``data.mesh``, and a pod's ``proxy.istio.io/config`` annotation); this module
reads any of them into ``ProxyDefaults`` so that precedence is decided in one
place (``meshlint.domain.istio.mesh``), never by a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from meshlint.core.model import KeyPath, Location, Slot, pickled_as_fields
from meshlint.domain.istio.values import Located, float_value, truthy
from meshlint.domain.k8s.durations import parse_go_duration, proto_duration
from meshlint.domain.k8s.objects import get_in, list_at, mapping_at

Anchor = Callable[[KeyPath], Location]
Slotter = Callable[[KeyPath], Slot | None]  # Document.slot, for values a fix may rewrite

# Istio reads a sampling of 0 as "unset" and values above 100 as its default.
DEFAULT_SAMPLING = 1.0
DEFAULT_DRAIN_SECONDS = 5.0
# pilot-agent MINIMUM_DRAIN_DURATION (pilot/cmd/pilot-agent/options/options.go): the
# wait before EXIT_ON_ZERO_ACTIVE_CONNECTIONS starts counting connections
DEFAULT_MIN_DRAIN_SECONDS = 5.0
DEFAULT_GRACE_SECONDS = 30.0
DEFAULT_PROXY_MEMORY_LIMIT = "1024Mi"  # istio-discovery values global.proxy.resources


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class ProxyDefaults:
    """ProxyConfig settings the rules need; None where the config says nothing."""

    drain: Located | None = None  # terminationDrainDuration, in seconds
    sampling: Located | None = None  # tracing.sampling, percent (0 and >100 read as unset)
    datadog: Located | None = None  # tracing.datadog (the tracer with no span bound)
    exit_on_zero: Located | None = None  # proxyMetadata.EXIT_ON_ZERO_ACTIVE_CONNECTIONS
    tracing_at: Location | None = None  # where "tracing" is, when it is set at all
    min_drain: Located | None = None  # proxyMetadata.MINIMUM_DRAIN_DURATION, seconds
    output_certs: Located | None = None  # proxyMetadata.OUTPUT_CERTS (a certificate writer)

    def over(self, base: ProxyDefaults) -> ProxyDefaults:
        """This (a pod annotation) over ``base`` (mesh defaults): per field, as Istio merges."""
        return ProxyDefaults(
            self.drain or base.drain,
            # a "tracing" block in the annotation replaces the mesh's whole tracing block
            self.sampling if self.tracing_at else base.sampling,
            self.datadog if self.tracing_at else base.datadog,
            self.exit_on_zero or base.exit_on_zero,
            self.tracing_at or base.tracing_at,
            self.min_drain or base.min_drain,
            self.output_certs or base.output_certs,
        )


def proxy_defaults(
    cfg: Any, anchor: Anchor, base: KeyPath = (), slot: Slotter | None = None
) -> ProxyDefaults:
    """Read a ProxyConfig mapping at ``base`` (positions through ``anchor``; the
    sampling rate's ``Slot`` through ``slot``)."""
    if not isinstance(cfg, dict):
        return ProxyDefaults()
    drain = proto_duration(
        cfg.get("terminationDrainDuration", cfg.get("termination_drain_duration"))
    )
    drain_key = (
        "terminationDrainDuration"
        if "terminationDrainDuration" in cfg
        else "termination_drain_duration"
    )
    tracing = cfg.get("tracing")
    sampling = datadog = None
    tracing_at = None
    if isinstance(tracing, dict):
        tracing_at = anchor((*base, "tracing"))
        value = float_value(tracing.get("sampling"))
        if value is not None and 0 < value <= 100:
            path = (*base, "tracing", "sampling")
            sampling = Located(value, anchor(path), slot(path) if slot else None)
        if "datadog" in tracing:
            address = get_in(tracing, ("datadog", "address"))
            datadog = Located(address or "datadog", anchor((*base, "tracing", "datadog")))
    metadata = cfg.get("proxyMetadata", cfg.get("proxy_metadata"))
    meta_key = "proxyMetadata" if "proxyMetadata" in cfg else "proxy_metadata"
    agent = agent_env(metadata if isinstance(metadata, dict) else {}, anchor, (*base, meta_key))
    return ProxyDefaults(
        Located(drain, anchor((*base, drain_key))) if drain is not None else None,
        sampling,
        datadog,
        agent.exit_on_zero,
        tracing_at,
        agent.min_drain,
        agent.output_certs,
    )


def agent_env(env: dict[Any, Any], anchor: Anchor, base: KeyPath = ()) -> ProxyDefaults:
    """The pilot-agent environment a proxy's shutdown and role depend on, from
    ``proxyMetadata`` or a written istio-proxy's ``env`` (name -> value)."""
    exit_on_zero = min_drain = output_certs = None
    if "EXIT_ON_ZERO_ACTIVE_CONNECTIONS" in env:
        at = anchor((*base, "EXIT_ON_ZERO_ACTIVE_CONNECTIONS"))
        exit_on_zero = Located(truthy(env["EXIT_ON_ZERO_ACTIVE_CONNECTIONS"]), at)
    # an env var of type time.Duration: Go's time.ParseDuration; unreadable keeps the default
    wait = env.get("MINIMUM_DRAIN_DURATION")
    seconds = parse_go_duration(wait) if isinstance(wait, str) else None
    if seconds is not None:
        min_drain = Located(seconds, anchor((*base, "MINIMUM_DRAIN_DURATION")))
    certs = env.get("OUTPUT_CERTS")
    if isinstance(certs, str) and certs.strip():
        output_certs = Located(certs, anchor((*base, "OUTPUT_CERTS")))
    return ProxyDefaults(exit_on_zero=exit_on_zero, min_drain=min_drain, output_certs=output_certs)


@dataclass(frozen=True, slots=True)
class Provider:
    """A ``meshConfig.extensionProviders`` entry."""

    name: str
    type: str  # "datadog", "zipkin", "opentelemetry", "prometheus", ...
    at: Location


@dataclass(frozen=True, slots=True)
class MeshSettings:
    """The MeshConfig fields the rules read (IstioOperator meshConfig or data.mesh)."""

    proxy: ProxyDefaults = field(default_factory=ProxyDefaults)
    providers: tuple[Provider, ...] = ()
    default_tracing: tuple[str, ...] = ()
    default_metrics: tuple[str, ...] | None = None  # None: not set (Prometheus by default)
    outbound: Located | None = None  # outboundTrafficPolicy.mode
    root_namespace: str = "istio-system"
    enable_tracing: bool | None = None

    def over(self, base: MeshSettings) -> MeshSettings:
        """This (a later IstioOperator of the same install) over ``base``, field by
        field, as istioctl merges the files it is given."""
        return MeshSettings(
            self.proxy.over(base.proxy),
            self.providers or base.providers,
            self.default_tracing or base.default_tracing,
            self.default_metrics if self.default_metrics is not None else base.default_metrics,
            self.outbound or base.outbound,
            self.root_namespace if self.root_namespace != "istio-system" else base.root_namespace,
            self.enable_tracing if self.enable_tracing is not None else base.enable_tracing,
        )


def mesh_settings(
    cfg: Any, anchor: Anchor, base: KeyPath = (), slot: Slotter | None = None
) -> MeshSettings:
    if not isinstance(cfg, dict):
        return MeshSettings()
    providers = []
    for i, item in enumerate(list_at(cfg, ("extensionProviders",))):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        kinds = [k for k in item if k != "name"]
        providers.append(
            Provider(
                item["name"], kinds[0] if kinds else "", anchor((*base, "extensionProviders", i))
            )
        )
    defaults = mapping_at(cfg, ("defaultProviders",))
    metrics = defaults.get("metrics")
    mode = get_in(cfg, ("outboundTrafficPolicy", "mode"))
    root = cfg.get("rootNamespace")
    enable = cfg.get("enableTracing")
    return MeshSettings(
        proxy_defaults(cfg.get("defaultConfig"), anchor, (*base, "defaultConfig"), slot),
        tuple(providers),
        tuple(str(n) for n in list_at(defaults, ("tracing",))),
        tuple(str(n) for n in metrics) if isinstance(metrics, list) else None,
        Located(mode, anchor((*base, "outboundTrafficPolicy", "mode")))
        if isinstance(mode, str)
        else None,
        root if isinstance(root, str) and root else "istio-system",
        enable if isinstance(enable, bool) else None,
    )
