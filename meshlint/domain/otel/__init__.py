"""OpenTelemetry: collector configs wherever they live (ConfigMaps, the
operator's CR, Jaeger v2), their pipelines and queues, the pods that run them,
and the tracer SDK's environment."""

from __future__ import annotations

from meshlint.domain.otel.config import (
    BALLAST_SIZE,
    COLLECTOR_CR,
    CONFIG_MAP,
    HOST_KINDS,
    MEMORY_BALLAST,
    MEMORY_LIMITER,
    ConfigView,
    MemoryLimiter,
    Pipeline,
    component_type,
    config_parse_errors,
    fed_by_connectors_only,
    memory_limiters,
    pipelines,
    views,
)
from meshlint.domain.otel.link import Budget, collect_linked, cr_budget, linked_items
from meshlint.domain.otel.queue import estimate, queues
from meshlint.domain.otel.sdk import (
    BSP_BATCH,
    BSP_QUEUE,
    DEFAULTS,
    INSTRUMENTATION,
    instrumentation_envs,
    queue_in_effect,
    queue_settings,
    sdk_setting,
)

__all__ = [
    "BALLAST_SIZE",
    "BSP_BATCH",
    "BSP_QUEUE",
    "COLLECTOR_CR",
    "CONFIG_MAP",
    "DEFAULTS",
    "HOST_KINDS",
    "INSTRUMENTATION",
    "MEMORY_BALLAST",
    "MEMORY_LIMITER",
    "Budget",
    "ConfigView",
    "MemoryLimiter",
    "Pipeline",
    "collect_linked",
    "component_type",
    "config_parse_errors",
    "cr_budget",
    "estimate",
    "fed_by_connectors_only",
    "instrumentation_envs",
    "linked_items",
    "memory_limiters",
    "pipelines",
    "queue_in_effect",
    "queue_settings",
    "queues",
    "sdk_setting",
    "views",
]
