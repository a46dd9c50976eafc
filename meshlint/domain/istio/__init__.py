"""Istio: the effective mesh and proxy configuration of each workload (``Mesh``),
resolved from installs, mesh ConfigMaps, Telemetry, EnvoyFilters and annotations;
embedded ProxyConfig/MeshConfig validation."""

from __future__ import annotations

from meshlint.domain.istio.control_plane import Install
from meshlint.domain.istio.embedded import embedded_config_violations
from meshlint.domain.istio.install import TELEMETRY_V2
from meshlint.domain.istio.mesh import (
    DURATION,
    EXIT_ON_ZERO,
    FACT_KINDS,
    INSTALL_KINDS,
    MESH_KINDS,
    NATIVE,
    Mesh,
    Proxy,
    collect,
    collect_mesh,
    every,
)
from meshlint.domain.istio.proxy import DEFAULT_DRAIN_SECONDS, DEFAULT_GRACE_SECONDS
from meshlint.domain.istio.releases import SOURCE as SUPPORT_SOURCE
from meshlint.domain.istio.releases import end_of_support, long_out_of_support
from meshlint.domain.istio.releases import installs as istio_installs
from meshlint.domain.istio.stats import inclusions, kept_text, wide
from meshlint.domain.istio.telemetry import (
    FALLBACK,
    from_request_host,
    host_tag_overrides,
    metric_tags,
    stats_patches,
)
from meshlint.domain.istio.values import Located, falsy, percent, truthy
from meshlint.domain.istio.workload import (
    PROXY_RESOURCE_ANNOTATIONS,
    is_gateway,
    is_istio_proxy,
    proxy_resources,
)

__all__ = [
    "DEFAULT_DRAIN_SECONDS",
    "DEFAULT_GRACE_SECONDS",
    "DURATION",
    "EXIT_ON_ZERO",
    "FACT_KINDS",
    "FALLBACK",
    "INSTALL_KINDS",
    "MESH_KINDS",
    "NATIVE",
    "PROXY_RESOURCE_ANNOTATIONS",
    "SUPPORT_SOURCE",
    "TELEMETRY_V2",
    "Install",
    "Located",
    "Mesh",
    "Proxy",
    "collect",
    "collect_mesh",
    "embedded_config_violations",
    "end_of_support",
    "every",
    "falsy",
    "from_request_host",
    "host_tag_overrides",
    "inclusions",
    "is_gateway",
    "is_istio_proxy",
    "istio_installs",
    "kept_text",
    "long_out_of_support",
    "metric_tags",
    "percent",
    "proxy_resources",
    "stats_patches",
    "truthy",
    "wide",
]
