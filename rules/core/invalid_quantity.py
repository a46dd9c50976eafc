"""
## What it does
Checks every resource quantity (container and pod `resources`, Istio
`sidecar.istio.io/proxy*` annotations, `LimitRange`, `ResourceQuota`,
`PersistentVolumeClaim`, volume claim templates, `emptyDir.sizeLimit`) against
the grammar of the Kubernetes API server, and flags negative amounts, memory
and storage amounts that are fractions of a byte, and CPU amounts written with
a memory suffix (`cpu: 128Mi`, `cpu: 2G`), which the API accepts as millions
or billions of cores. The grammar is the API server's since Kubernetes 1.0
(`k8s.io/apimachinery/pkg/api/resource`); nothing here depends on the version.

## Why is this bad?
The API server rejects `1K`, `1Mb` or `1 Gi`, so the rollout fails at apply
time. Worse, `memory: 512m` is *accepted*: `m` is milli, so it means 0.512
bytes, which the kubelet rounds up to a one-byte limit and the container is
OOM-killed at start. The API server only prints a warning for it.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.3.0
          resources:
            requests: {cpu: 250m, memory: 512m}
            limits: {cpu: "1", memory: 1G}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.3.0
          resources:
            requests: {cpu: 250m, memory: 512Mi}
            limits: {cpu: "1", memory: 1Gi}
```

## References
- apimachinery `pkg/api/resource/quantity.go` (the grammar; `K` is not a suffix, `E` is exa)
- Kubernetes docs, "Resource units in Kubernetes",
  https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/#resource-units-in-kubernetes
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from meshlint import Context, Document, KeyPath, Rule, Severity, Violation
from meshlint.domain.istio import PROXY_RESOURCE_ANNOTATIONS
from meshlint.domain.k8s import (
    WORKLOAD_KINDS,
    QuantityError,
    containers_of,
    get_in,
    list_at,
    mapping_at,
    pod_spec_path,
    pod_template_metadata,
    quantity_of,
)

_BYTES = ("memory", "ephemeral-storage", "storage")


def _is_bytes(resource: str) -> bool:
    return resource in _BYTES or resource.startswith("hugepages-")


# Suffixes that scale by a thousand or more: byte sizes, never CPU amounts.
_MEMORY_SUFFIXES = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "k", "M", "G", "T", "P", "E")


def _memory_suffix(text: str) -> str | None:
    for suffix in _MEMORY_SUFFIXES:
        if text.endswith(suffix):
            return suffix
    return None


def check_value(value: Any, resource: str, path: KeyPath) -> Iterator[Violation]:
    """One quantity: invalid, a fraction of a byte for a byte resource, or a CPU
    amount written with a memory suffix."""
    try:
        q = quantity_of(value)
    except QuantityError as exc:
        yield Violation(at=path, message=f"{resource} quantity {value!r} is invalid: {exc}")
        return
    if q is not None and q.amount < 0:
        yield Violation(
            at=path,
            message=f"{resource} quantity {str(q)!r} is negative: the API server rejects it",
        )
    elif q is not None and _is_bytes(resource) and q.fractional:
        hint = f"; did you mean {str(q)[:-1] + 'Mi'!r}?" if str(q).endswith("m") else ""
        yield Violation(
            at=path,
            message=f"{resource} quantity {str(q)!r} is {float(q.amount):g} bytes, a fraction of a "
            f"byte that the kubelet rounds up to {q.value()}{hint}",
        )
    elif q is not None and resource == "cpu" and (suffix := _memory_suffix(q.text)):
        yield Violation(
            at=path,
            message=f"cpu quantity {q.text!r} uses the memory suffix {suffix!r}: it means "
            f"{q.value():,} cores, so a request leaves the pod unschedulable and a limit "
            f"limits nothing; write CPU in cores (2) or millicores (500m)",
        )


def _resource_map(values: Any, path: KeyPath) -> Iterator[Violation]:
    """The quantities of ``values``, the mapping found at ``path`` (read from
    where the caller holds it, not walked to again from the document's root)."""
    if not isinstance(values, dict):
        return
    for name, value in values.items():
        if isinstance(name, str):
            yield from check_value(value, name, (*path, name))


def _requirements(resources: Any, path: KeyPath) -> Iterator[Violation]:
    """``resources``: the ``requests``/``limits`` mapping found at ``path``."""
    if not isinstance(resources, dict):
        return
    for section in ("requests", "limits"):
        yield from _resource_map(resources.get(section), (*path, section))


def _pod(doc: Document) -> Iterator[Violation]:
    data, kind = doc.data, doc.kind
    for container in containers_of(doc):
        yield from _requirements(container.data.get("resources"), (*container.path, "resources"))
    spec = pod_spec_path(kind) or ()
    yield from _requirements(get_in(data, (*spec, "resources")), (*spec, "resources"))
    for i, volume in enumerate(list_at(data, (*spec, "volumes"))):
        size = get_in(volume, ("emptyDir", "sizeLimit"))
        if size is not None:
            yield from check_value(size, "memory", (*spec, "volumes", i, "emptyDir", "sizeLimit"))
    meta = pod_template_metadata(kind) or ("metadata",)
    annotations = mapping_at(data, (*meta, "annotations"))
    for (_, resource), annotation in PROXY_RESOURCE_ANNOTATIONS.items():
        if annotation in annotations:
            path = (*meta, "annotations", annotation)
            yield from check_value(annotations[annotation], resource, path)
    for i, _ in enumerate(list_at(data, ("spec", "volumeClaimTemplates"))):
        path = ("spec", "volumeClaimTemplates", i, "spec", "resources")
        yield from _requirements(get_in(data, path), path)


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    kind, data = doc.kind, doc.data
    if kind in WORKLOAD_KINDS:
        yield from _pod(doc)
    elif kind == "LimitRange":
        for i, _ in enumerate(list_at(data, ("spec", "limits"))):
            for section in ("default", "defaultRequest", "max", "min"):
                path = ("spec", "limits", i, section)
                yield from _resource_map(get_in(data, path), path)
    elif kind == "ResourceQuota":
        for name, value in mapping_at(data, ("spec", "hard")).items():
            if isinstance(name, str) and name.split(".")[-1] in ("cpu", "memory", "storage"):
                resource = name.split(".")[-1]
                yield from check_value(value, resource, ("spec", "hard", name))
    elif kind == "PersistentVolumeClaim":
        yield from _requirements(get_in(data, ("spec", "resources")), ("spec", "resources"))


RULE = Rule(
    id="M003",
    slug="invalid-quantity",
    severity=Severity.ERROR,
    summary="A resource quantity does not parse, or a memory amount is a fraction of a byte",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | {"LimitRange", "ResourceQuota", "PersistentVolumeClaim"},
)
