"""Kubernetes knowledge, one place each: workload kinds and pod templates,
containers (init containers and native sidecars included), typed access to
their env, args and resources, effective requests and limits, and the pod QoS
class.

Every accessor returns an empty value for a field of the wrong type (metadata
as a list, env as a map, ``containers: null``), so rules never need their own
``isinstance`` checks or ``try``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeVar

from meshlint.core.model import Document, KeyPath, cached
from meshlint.domain.k8s.quantity import Quantity, QuantityError, quantity_of

POD_SPEC_PATHS: dict[str, KeyPath] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "PodTemplate": ("template", "spec"),
}
WORKLOAD_KINDS = frozenset(POD_SPEC_PATHS)


def get_in(data: Any, path: KeyPath) -> Any:
    """The value at ``path``, or None where any step is missing or of the wrong type."""
    for part in path:  # every rule asks, many times a document: the common case first
        if isinstance(data, dict):
            if isinstance(part, int):
                return None
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and -len(data) <= part < len(data):
            data = data[part]
        else:
            return None
    return data


def mapping_at(data: Any, path: KeyPath) -> dict[Any, Any]:
    value = get_in(data, path)
    return value if isinstance(value, dict) else {}


def list_at(data: Any, path: KeyPath) -> list[Any]:
    value = get_in(data, path)
    return value if isinstance(value, list) else []


def str_at(data: Any, path: KeyPath) -> str | None:
    value = get_in(data, path)
    return value if isinstance(value, str) else None


def mappings_at(data: Any, path: KeyPath) -> Iterator[tuple[int, dict[Any, Any]]]:
    """Each mapping of the list at ``path`` with its index; other items are skipped
    (``overrides: [1]``, ``ports: [null]``)."""
    for index, item in enumerate(list_at(data, path)):
        if isinstance(item, dict):
            yield index, item


def number(value: Any) -> float | None:
    """A YAML number (int or float) as a float; None for anything else, booleans
    included, and for an integer too large for a float (``10**400``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def string_map(value: Any) -> dict[str, str]:
    """Labels/annotations/selectors: only string keys with scalar values, as strings."""
    if not isinstance(value, dict):
        return {}
    return {
        k: v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
        for k, v in value.items()
        if isinstance(k, str) and (v is None or isinstance(v, (str, int, float, bool)))
    }


def pod_spec_path(kind: str) -> KeyPath | None:
    return POD_SPEC_PATHS.get(kind)


def pod_template_metadata(kind: str) -> KeyPath | None:
    """Where a workload's pod template keeps its metadata (None for a Pod)."""
    spec = POD_SPEC_PATHS.get(kind)
    if spec is None or kind == "Pod":
        return None
    return (*spec[:-1], "metadata")


def pod_annotations(data: Any, kind: str) -> dict[str, str]:
    """The pod's annotations: the template's for a workload, the object's for a Pod."""
    meta = pod_template_metadata(kind) or ("metadata",)
    return string_map(get_in(data, (*meta, "annotations")))


def pod_labels(data: Any, kind: str) -> dict[str, str]:
    meta = pod_template_metadata(kind) or ("metadata",)
    return string_map(get_in(data, (*meta, "labels")))


HELM_HOOK = "helm.sh/hook"
# Kinds a Helm hook runs to completion as: a test Pod, a hook Job or Pod.
HOOK_RUN_KINDS = frozenset({"Pod", "Job"})


def helm_hook(data: Any, kind: str) -> str | None:
    """The Helm hook a Pod or Job is (``test``, ``pre-install``, ...), or None.

    Helm creates hook objects at one point of a release and waits for them to
    finish (``helm test`` pods, migration Jobs): they live for seconds, so
    risks that need a long-running process do not apply to them."""
    if kind not in HOOK_RUN_KINDS:
        return None
    hook = string_map(get_in(data, ("metadata", "annotations"))).get(HELM_HOOK)
    return hook.strip() or None if hook is not None else None


def has_variable_reference(text: str) -> bool:
    """Whether ``text`` (an env value, a command or args item) holds a ``$(VAR)``
    reference, which the kubelet expands from the container's env: its value is
    not known from the manifest (kubernetes ``third_party/forked/golang/expansion``)."""
    return "$(" in text


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None  # None when set through valueFrom
    value_from: dict[str, Any] | None
    path: KeyPath  # of the entry in the container's env list


@dataclass(frozen=True)
class Resources:
    """Effective memory requests and limits, with the API's limit->request defaulting."""

    requests: Mapping[str, Quantity] = field(default_factory=dict)
    limits: Mapping[str, Quantity] = field(default_factory=dict)

    def request(self, resource: str) -> Quantity | None:
        return self.requests.get(resource) or self.limits.get(resource)

    def limit(self, resource: str) -> Quantity | None:
        return self.limits.get(resource)

    def declares(self, resource: str) -> bool:
        return resource in self.requests or resource in self.limits


def _quantities(value: Any) -> dict[str, Quantity]:
    out: dict[str, Quantity] = {}
    if isinstance(value, dict):
        for name, raw in value.items():
            try:
                q = quantity_of(raw)
            except QuantityError:
                continue  # M003 reports it; other rules see it as absent
            if q is not None and isinstance(name, str):
                out[name] = q
    return out


def resources_of(data: Any) -> Resources:
    """Parse a ``resources`` mapping; invalid quantities count as absent."""
    res = data if isinstance(data, dict) else {}
    return Resources(_quantities(res.get("requests")), _quantities(res.get("limits")))


def pod_resources(data: Any, kind: str) -> Resources:
    """The pod-level ``resources`` of a workload's pod spec (KEP-2837, Kubernetes
    1.32+): a budget every container shares, empty where the pod sets none."""
    spec = POD_SPEC_PATHS.get(kind)
    return resources_of(get_in(data, (*spec, "resources")) if spec is not None else None)


T = TypeVar("T")
_UNSET: Any = object()  # no memo value yet (None is one)


@dataclass(frozen=True)
class Container:
    """One container of a pod spec, with typed accessors."""

    path: KeyPath  # from the document root
    data: dict[str, Any]
    role: str  # "container", "init" or "sidecar" (a native sidecar)
    # what domain code worked out about the container (``memo``)
    _memo: dict[Hashable, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def memo(self, key: Hashable, factory: Callable[[], T]) -> T:
        """``factory()``, computed once per container and ``key``: what a
        container is (``domain.components``) is asked by a dozen rules, and
        ``containers_of`` gives each of them the same Container objects."""
        found: T = self._memo.get(key, _UNSET)  # one lookup: keys are tuples, hashed anew
        if found is _UNSET:
            found = self._memo[key] = factory()
        return found

    @property
    def name(self) -> str:
        name = self.data.get("name")
        return name if isinstance(name, str) else "<unnamed>"

    @property
    def image(self) -> str:
        image = self.data.get("image")
        return image if isinstance(image, str) else ""

    @property
    def args(self) -> list[str]:
        """``command`` then ``args``, every item as a string."""
        return [str(a) for a in list_at(self.data, ("command",)) + list_at(self.data, ("args",))]

    @cached
    def resources(self) -> Resources:
        return resources_of(self.data.get("resources"))

    @property
    def resources_path(self) -> KeyPath:
        """Where a missing setting belongs: ``resources``, or the container itself."""
        if isinstance(self.data.get("resources"), dict):
            return (*self.path, "resources")
        return self.path

    def env(self) -> list[EnvVar]:
        """The env entries with a string name, values as strings (None for valueFrom)."""
        return self._env

    @cached
    def _env(self) -> list[EnvVar]:
        out = []
        for i, item in enumerate(list_at(self.data, ("env",))):
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(name, str):
                out.append(self._var(i, name, item))
        return out

    def _var(self, i: int, name: str, item: dict[str, Any]) -> EnvVar:
        value = item.get("value")
        if isinstance(value, bool):
            value = str(value).lower()
        elif isinstance(value, (int, float)):
            value = str(value)
        elif not isinstance(value, str):
            value = None
        value_from = item.get("valueFrom")
        return EnvVar(
            name,
            value,
            value_from if isinstance(value_from, dict) else None,
            (*self.path, "env", i),
        )

    def env_var(self, name: str) -> EnvVar | None:
        """The entry that wins for ``name`` (the last one, as the kubelet does).

        Read from the end of the raw list, without building every entry: rules
        ask for a few names each, and an env can hold a million entries.
        """
        items = list_at(self.data, ("env",))
        for i in range(len(items) - 1, -1, -1):
            item = items[i]
            if isinstance(item, dict) and item.get("name") == name:
                return self._var(i, name, item)
        return None

    def env_names(self) -> list[str]:
        """The names of the env entries, as ``env()`` has them (without building them)."""
        return [
            name
            for item in list_at(self.data, ("env",))
            if isinstance(item, dict) and isinstance(name := item.get("name"), str)
        ]


def containers(data: Any, kind: str, *, init: bool = True) -> Iterator[Container]:
    """Every container of a workload: init containers (native sidecars marked) first."""
    spec = POD_SPEC_PATHS.get(kind)
    if spec is None:
        return
    fields = ("initContainers", "containers") if init else ("containers",)
    for field_name in fields:
        for i, item in enumerate(list_at(data, (*spec, field_name))):
            if not isinstance(item, dict):
                continue
            role = "container"
            if field_name == "initContainers":
                role = "sidecar" if item.get("restartPolicy") == "Always" else "init"
            yield Container((*spec, field_name, i), item, role)


def containers_of(doc: Document, *, init: bool = True) -> tuple[Container, ...]:
    """``containers_of(doc)``, read once per document: every rule gets
    the same Container objects, and with them what was worked out about each
    (its resources, its component) while the document is linted."""
    found = doc.memo(containers_of, lambda: tuple(containers(doc.data, doc.kind)))
    return found if init else tuple(c for c in found if c.role == "container")


def qos_class(all_resources: list[Resources]) -> str:
    """The pod QoS class from every container's and init container's resources."""
    if not any(r.declares("cpu") or r.declares("memory") for r in all_resources):
        return "BestEffort"
    for res in all_resources:
        for name in ("cpu", "memory"):
            request, limit = res.request(name), res.limit(name)
            if request is None or limit is None or request.amount != limit.amount:
                return "Burstable"
    return "Guaranteed"


PAGE_SIZE = 4096
MEMORY_QOS_SINCE = (1, 22)


def throttling_factor(kube_version: tuple[int, int]) -> Fraction | None:
    """The kubelet's default ``memoryThrottlingFactor`` under MemoryQoS (KEP-2570):
    none before 1.22 (no MemoryQoS), 0.8 in 1.22-1.26, 0.9 in 1.27-1.36, and from
    1.37 (beta, kubernetes/kubernetes#140007) nil: no ``memory.high`` is written
    unless the kubelet configuration sets a factor."""
    if kube_version < MEMORY_QOS_SINCE or kube_version >= (1, 37):
        return None
    return Fraction(8, 10) if kube_version < (1, 27) else Fraction(9, 10)


def memory_high(
    request: int, limit: int, kube_version: tuple[int, int], factor: Fraction | None = None
) -> int | None:
    """cgroup ``memory.high`` the kubelet writes under MemoryQoS, or None for none.

    ``factor`` is the kubelet's ``memoryThrottlingFactor``, its default for
    ``kube_version`` when None. 1.27+: ``floor((request + factor x (limit -
    request)) / page) x page``; 1.22-1.26: ``limit x factor``; either written only
    when above the request. Exact arithmetic: no float rounding ever moves the
    result by a page (KEP-2570).
    """
    if kube_version < MEMORY_QOS_SINCE:
        return None
    factor = factor if factor is not None else throttling_factor(kube_version)
    if factor is None:
        return None
    if kube_version >= (1, 27):
        high = math.floor(request + factor * (limit - request))
        high = high // PAGE_SIZE * PAGE_SIZE
    else:
        high = math.floor(limit * factor)
    # the kubelet writes memory.high only above the request (KEP-2570: request
    # 850Mi under a 1000Mi limit at factor 0.8 is not throttled)
    return high if high > request else None
