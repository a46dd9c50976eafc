"""Kubernetes: objects, pod templates and containers read with typed accessors
(a wrong type reads as absent), resource quantities, durations, label selectors."""

from __future__ import annotations

from meshlint.core.model.index import same_namespace, selects
from meshlint.domain.k8s.durations import collector_duration, duration_text
from meshlint.domain.k8s.objects import (
    MEMORY_QOS_SINCE,
    WORKLOAD_KINDS,
    Container,
    EnvVar,
    Resources,
    containers,
    get_in,
    has_variable_reference,
    helm_hook,
    list_at,
    mapping_at,
    mappings_at,
    memory_high,
    number,
    pod_annotations,
    pod_labels,
    pod_resources,
    pod_spec_path,
    pod_template_metadata,
    qos_class,
    resources_of,
    str_at,
    string_map,
    throttling_factor,
)
from meshlint.domain.k8s.quantity import Quantity, QuantityError, human_bytes, quantity_of

__all__ = [
    "MEMORY_QOS_SINCE",
    "WORKLOAD_KINDS",
    "Container",
    "EnvVar",
    "Quantity",
    "QuantityError",
    "Resources",
    "collector_duration",
    "containers",
    "duration_text",
    "get_in",
    "has_variable_reference",
    "helm_hook",
    "human_bytes",
    "list_at",
    "mapping_at",
    "mappings_at",
    "memory_high",
    "number",
    "pod_annotations",
    "pod_labels",
    "pod_resources",
    "pod_spec_path",
    "pod_template_metadata",
    "qos_class",
    "quantity_of",
    "resources_of",
    "same_namespace",
    "selects",
    "str_at",
    "string_map",
    "throttling_factor",
]
