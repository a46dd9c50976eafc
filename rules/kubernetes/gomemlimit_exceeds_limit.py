"""
## What it does
Flags a `GOMEMLIMIT` at or above the container's memory limit (set literally,
or from `resourceFieldRef: limits.memory`), and a Go-based telemetry component
(Jaeger, the OpenTelemetry collector) that has a memory limit but no
`GOMEMLIMIT` at all. About 80% of the limit is the recommended value. Istio and
Envoy proxies are left out: their memory is Envoy's (C++), and the GOMEMLIMIT
Istio sets to the limit bounds only the small Go agent beside it.

An `OpenTelemetryCollector` with a memory limit and no `GOMEMLIMIT` in
`spec.env` is reported on the resource: the OpenTelemetry Operator sets
`GOMEMLIMIT` from `limits.memory` itself, the whole limit. A collector whose
config starts the contrib `cgroupruntime` extension (`gomemlimit` on, 90% of
the cgroup limit) sets its own limit and is not reported, unless its
`gomemlimit.ratio` is 1 (the whole limit: reported on the ratio); the extension
does nothing where a `GOMEMLIMIT` env var exists, so under the operator it does
not help.

A `GOMEMLIMIT` from `resourceFieldRef` is judged by the number the kubelet
writes, ceil(quantity / divisor): with `divisor: 1Mi` a 1Gi limit becomes
`1024`, which Go reads as 1024 bytes, and the garbage collector never rests.

Versions: GOMEMLIMIT exists since Go 1.19; images whose tag names a release
built with an older Go ignore it and are not judged: Jaeger v1 before 1.38.0,
collector distributions (`otel/...`, `opentelemetry-collector-releases`)
before 0.61.0. The operator sets GOMEMLIMIT by default since v0.140.0
(`operator.golang.flags`, beta; stable in v0.158.0), not at all before.

## Why is this bad?
`GOMEMLIMIT` is a soft limit on the Go heap and runtime: the garbage collector
works harder as the process approaches it. Set at or above the cgroup limit it
does not press the collector before the kernel can OOM-kill the process (a
collector's `memory_limiter` forces a GC at its own limit, below it, but only
there); left unset, a collector whose queue fills grows until it is killed,
losing every queued span.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-collector
spec:
  template:
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.57.0
          env:
            - {name: GOMEMLIMIT, value: 1GiB}
          resources:
            requests: {memory: 1Gi}
            limits: {memory: 1Gi}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-collector
spec:
  template:
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.57.0
          env:
            - {name: GOMEMLIMIT, value: 819MiB}
          resources:
            requests: {memory: 1Gi}
            limits: {memory: 1Gi}
```

## Parameters
`limit-percent` (default 80) is the share of the limit that the message recommends.

## References
- OpenTelemetry Collector README, GOMEMLIMIT at 80% of the memory limit
- OpenTelemetry Operator `internal/manifests/collector/container.go` and
  `pkg/featuregate/featuregate.go` (`operator.golang.flags`), v0.158.0; contrib
  `extension/cgroupruntimeextension` `config.go` / `factory.go` (`gomemlimit.enabled`
  true and `ratio` 0.9 by default; `Validate` allows (0, 1])
- Kubernetes `pkg/api/v1/resource/helpers.go` `convertResourceMemoryToString`
  (ceil(quantity / divisor) for a `resourceFieldRef`)
- Go "A Guide to the Go Garbage Collector", https://go.dev/doc/gc-guide#Memory_limit
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Fix, KeyPath, Location, Param, Rule, Severity, Violation
from meshlint.domain.components import Component, component_of, ignores_gomemlimit
from meshlint.domain.golang import GOMEMLIMIT, OFF, Malformed, gomemlimit_of, parse_gomemlimit
from meshlint.domain.k8s import (
    WORKLOAD_KINDS,
    Container,
    EnvVar,
    Quantity,
    QuantityError,
    containers_of,
    get_in,
    has_variable_reference,
    human_bytes,
    quantity_of,
)
from meshlint.domain.otel import (
    COLLECTOR_CR,
    HOST_KINDS,
    ConfigView,
    collect_linked,
    gomemlimit_ratio,
    linked_items,
    sets_gomemlimit,
    views,
)


@dataclass(frozen=True, slots=True)
class Unset:
    """A collector container with a limit and no GOMEMLIMIT: reported unless a
    config it mounts starts the cgroupruntime extension."""

    owner: str  # as the mount link names it: 'container "otc" of Deployment/ns/name'
    at: Location
    message: str
    fix: Fix | None


def _from_field(var: EnvVar, container: Container) -> tuple[int, Quantity, str] | None:
    """A ``valueFrom.resourceFieldRef`` of the container's memory limit or request:
    (what the kubelet writes, the divisor, which resource). The kubelet writes
    ceil(quantity / divisor) as a plain number (kubernetes
    ``pkg/api/v1/resource/helpers.go`` ``convertResourceMemoryToString``), and Go
    reads a plain number as bytes: any divisor but 1 makes GOMEMLIMIT tiny."""
    ref = get_in(var.value_from, ("resourceFieldRef",))
    resource = ref.get("resource") if isinstance(ref, dict) else None
    if resource not in ("limits.memory", "requests.memory"):
        return None
    try:
        divisor = quantity_of(ref.get("divisor") or "1")
    except QuantityError:
        return None  # the API refuses it
    source = container.resources.limit("memory") if resource == "limits.memory" else None
    if resource == "requests.memory":
        source = container.resources.request("memory") or container.resources.limit("memory")
    if divisor is None or divisor.value() <= 0 or source is None:
        return None
    return -(-source.value() // divisor.value()), divisor, str(resource)


def _recommend(limit: Quantity, percent: int) -> str:
    return f"{limit.value() * percent // 100 // 2**20}MiB"


def _added(doc: Document, env: KeyPath, limit: Quantity, percent: int) -> Fix | None:
    """GOMEMLIMIT at the recommended share, appended to the env list at ``env``
    (created when missing). Unsafe: the garbage collector then works harder near
    the limit, a behaviour change."""
    value = _recommend(limit, percent)
    added = doc.append(env, {"name": GOMEMLIMIT, "value": value})
    return Fix.unsafe(f"add GOMEMLIMIT={value}", added)


def _unset(doc: Document, container: Container, limit: Quantity, percent: int) -> Violation | None:
    component = component_of(container)
    if component is None:
        return None
    return Violation(
        at=container.path,
        message=f'{component.value} container "{container.name}" has a memory limit of {limit} but '
        f"no GOMEMLIMIT: the Go runtime does not know the limit, so the heap grows at GOGC's "
        f"pace up to the OOM kill{_LIMITER if component is Component.OTEL_COLLECTOR else ''}; "
        f"set GOMEMLIMIT to about "
        f"{percent}% of the limit ({_recommend(limit, percent)})",
        fix=_added(doc, (*container.path, "env"), limit, percent),
    )


_AT_THE_KILL = (
    "the Go runtime does not press its garbage collector until the heap reaches the OOM kill"
)
# a collector's memory_limiter forces a GC at its own limit: true, but only there
_LIMITER = " (a memory_limiter, where one runs, forces a GC only at its own limit)"


def _at_the_kill(container: Container | None) -> str:
    collector = container is None or component_of(container) is Component.OTEL_COLLECTOR
    return _AT_THE_KILL + (_LIMITER if collector else "")


def _judge_set(
    doc: Document, var: EnvVar, name: str, limit: Quantity, percent: int, container: Container
) -> Violation | None:
    if var.value is None:
        found = _from_field(var, container)
        if found is None:
            return None
        written, divisor, resource = found
        if divisor.value() != 1:
            return Violation(
                at=(*var.path, "valueFrom", "resourceFieldRef", "divisor"),
                message=f"GOMEMLIMIT of {name} comes from resourceFieldRef {resource} with "
                f"divisor {divisor}: the kubelet writes {written}, which Go reads as "
                f"{human_bytes(written)}, not {written} x {divisor}: the garbage collector "
                f"runs without pause; drop the divisor and use about {percent}% of the limit "
                f"({_recommend(limit, percent)})",
            )
        if written < limit.value():
            return None  # the request, below the limit
        return Violation(
            at=(*var.path, "valueFrom"),
            message=f"GOMEMLIMIT of {name} is the whole memory limit {limit}: "
            f"{_at_the_kill(container)}; "
            f"use about {percent}% ({_recommend(limit, percent)})",
        )
    if has_variable_reference(var.value):
        return None
    try:
        soft = parse_gomemlimit(var.value)
    except Malformed:
        return None  # K004 reports it
    if soft is None or soft == OFF or soft < limit.value():
        return None
    path, value = (*var.path, "value"), _recommend(limit, percent)
    return Violation(
        at=path,
        message=f"GOMEMLIMIT {var.value!r} ({human_bytes(soft)}) of {name} is "
        f">= its memory limit {limit} ({human_bytes(limit.value())}): the kernel can OOM-kill "
        f"before the garbage collector reacts; use about {percent}% ({value})",
        # the garbage collector then works harder near the limit: a behaviour change
        fix=Fix.unsafe(f"set GOMEMLIMIT to {value}", doc.set_value(path, value)),
    )


def _limited(container: Container) -> Quantity | None:
    limit = container.resources.limit("memory")
    if limit is None or limit.value() <= 0 or ignores_gomemlimit(container):
        return None
    component = component_of(container)
    if component is not None and not component.go_binary:
        # Envoy (C++) holds the container's memory; the GOMEMLIMIT Istio sets to
        # the limit only bounds its small Go agent, on purpose
        return None
    return limit


def _defers(container: Container) -> bool:
    """A collector's own config may start cgroupruntime: judged once every file was read."""
    return component_of(container) is Component.OTEL_COLLECTOR


def _operator(doc: Document, percent: int) -> Iterator[Violation]:
    """The OpenTelemetryCollector: the operator builds the container from spec."""
    spec = get_in(doc.data, ("spec",))
    spec = spec if isinstance(spec, dict) else {}
    container = Container(("spec",), spec, "container")
    limit = container.resources.limit("memory")
    if limit is None or limit.value() <= 0 or ignores_gomemlimit(container):
        return
    name = f"{doc.resource}"
    var = gomemlimit_of(container)
    if var is not None:
        verdict = _judge_set(doc, var, name, limit, percent, container)
        if verdict is not None:
            yield verdict
        return
    extension = any(sets_gomemlimit(view) for view in views(doc))
    note = (
        " (its cgroupruntime extension then does nothing: it skips when GOMEMLIMIT is set)"
        if extension
        else ""
    )
    # the operator copies spec.env into the container: GOMEMLIMIT is added there (the
    # list created when missing); a spec.env that is no list (null, a template) has
    # no exact place, and the edit is refused
    fix = _added(doc, ("spec", "env"), limit, percent)
    yield Violation(
        at=("spec", "env") if isinstance(spec.get("env"), list) else ("spec",),
        message=f"{name} has a memory limit of {limit} and no GOMEMLIMIT in spec.env: the "
        f"OpenTelemetry Operator sets GOMEMLIMIT to the whole limit (v0.140 and later){note}: "
        f"{_at_the_kill(None)}; set GOMEMLIMIT in "
        f"spec.env to about {percent}% ({_recommend(limit, percent)})",
        fix=fix,
    )


def _whole_ratio(doc: Document) -> Iterator[Violation]:
    """A cgroupruntime extension whose gomemlimit ratio is 1: GOMEMLIMIT at the
    whole cgroup limit (where no GOMEMLIMIT env var makes it skip)."""
    for view in views(doc):
        found = gomemlimit_ratio(view)
        if found is not None and found[0] >= 1:
            yield view.violation(
                found[1],
                f"the cgroupruntime extension sets GOMEMLIMIT to ratio {found[0]:g} of the "
                f"container's memory limit, the whole limit: {_at_the_kill(None)}; use ratio 0.8",
            )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    percent: int = ctx.params["limit-percent"]
    if doc.kind == COLLECTOR_CR:
        yield from _operator(doc, percent)
        return
    if doc.kind in HOST_KINDS:
        yield from _whole_ratio(doc)
    for container in containers_of(doc):
        limit = _limited(container)
        if limit is None:
            continue
        var = gomemlimit_of(container)
        if var is None:
            verdict = None if _defers(container) else _unset(doc, container, limit, percent)
        else:
            verdict = _judge_set(
                doc, var, f'container "{container.name}"', limit, percent, container
            )
        if verdict is not None:
            yield verdict


def _cgroup_runtime(view: ConfigView) -> Iterator[bool]:
    if sets_gomemlimit(view):
        yield True


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    """Collector containers without GOMEMLIMIT, the ConfigMaps they mount, and
    the ConfigMap configs that start cgroupruntime."""
    if doc.kind == COLLECTOR_CR:
        return
    yield from collect_linked(doc, _cgroup_runtime)
    percent: int = ctx.params["limit-percent"]
    for container in containers_of(doc):
        limit = _limited(container)
        if limit is None or gomemlimit_of(container) is not None or not _defers(container):
            continue
        verdict = _unset(doc, container, limit, percent)
        if verdict is not None:
            owner = f'container "{container.name}" of {doc.resource}'
            yield Unset(owner, doc.locate(container.path), verdict.message, verdict.fix)


def check_run(ctx: Context) -> Iterator[Violation]:
    covered = {b.owner for item, b in linked_items(ctx.facts) if item is True and b is not None}
    for fact in ctx.facts:
        if isinstance(fact, Unset) and fact.owner not in covered:
            yield Violation(at=fact.at, message=fact.message, fix=fact.fix)


RULE = Rule(
    id="K005",
    slug="gomemlimit-exceeds-limit",
    severity=Severity.WARNING,
    summary="GOMEMLIMIT >= the memory limit, or a Go telemetry component without GOMEMLIMIT",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | HOST_KINDS,
    collect=collect,
    check_run=check_run,
    params=(
        Param(
            name="limit-percent",
            type=int,
            default=80,
            help="share of the memory limit to recommend",
            minimum=1,
            maximum=100,
        ),
    ),
)
