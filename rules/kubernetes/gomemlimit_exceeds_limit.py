"""
## What it does
Flags a `GOMEMLIMIT` at or above the container's memory limit (set literally,
or from `resourceFieldRef: limits.memory`), and a Go-based telemetry component
(Jaeger, the OpenTelemetry collector) that has a memory limit but no
`GOMEMLIMIT` at all. About 80% of the limit is the recommended value. Istio and
Envoy proxies are left out: their memory is Envoy's (C++), and the GOMEMLIMIT
Istio sets to the limit bounds only the small Go agent beside it.

## Why is this bad?
`GOMEMLIMIT` is a soft limit on the Go heap and runtime: the garbage collector
works harder as the process approaches it. Set at or above the cgroup limit it
never engages before the kernel OOM-kills the process; left unset, a collector
whose queue fills grows until it is killed, losing every queued span.

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
- Go "A Guide to the Go Garbage Collector", https://go.dev/doc/gc-guide#Memory_limit
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Fix, Param, Rule, Severity, Violation
from meshlint.domain.components import component_of
from meshlint.domain.golang import GOMEMLIMIT, OFF, Malformed, gomemlimit_of, parse_gomemlimit
from meshlint.domain.k8s import (
    WORKLOAD_KINDS,
    Container,
    EnvVar,
    Quantity,
    containers,
    get_in,
    has_variable_reference,
    human_bytes,
)


def _from_limit(var: EnvVar) -> bool:
    """``valueFrom.resourceFieldRef`` of ``limits.memory`` with no scaling divisor."""
    ref = get_in(var.value_from, ("resourceFieldRef",))
    if not isinstance(ref, dict) or ref.get("resource") != "limits.memory":
        return False
    return str(ref.get("divisor", "1")) in ("1", "")


def _recommend(limit: Quantity, percent: int) -> str:
    return f"{limit.value() * percent // 100 // 2**20}MiB"


def _judge(doc: Document, container: Container, limit: Quantity, ctx: Context) -> Violation | None:
    percent: int = ctx.params["limit-percent"]
    var = gomemlimit_of(container)
    component = component_of(container)
    if component is not None and not component.go_binary:
        # Envoy (C++) holds the container's memory; the GOMEMLIMIT Istio sets to
        # the limit only bounds its small Go agent, on purpose
        return None
    if var is None:
        if component is None:
            return None
        value = _recommend(limit, percent)
        added = doc.append((*container.path, "env"), {"name": GOMEMLIMIT, "value": value})
        return Violation(
            at=container.path,
            message=f'{component.value} container "{container.name}" has a memory limit of {limit} but '
            f"no GOMEMLIMIT: the Go heap grows until the OOM kill; set GOMEMLIMIT to about "
            f"{percent}% of the limit ({value})",
            # the garbage collector then works harder near the limit: a behaviour change
            fix=Fix.unsafe(f"add GOMEMLIMIT={value}", added),
        )
    if var.value is None:
        if not _from_limit(var):
            return None
        return Violation(
            at=(*var.path, "valueFrom"),
            message=f'GOMEMLIMIT of container "{container.name}" is the whole memory limit {limit}: '
            f"the garbage collector never engages before the OOM kill; use about {percent}% "
            f"({_recommend(limit, percent)})",
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
        message=f'GOMEMLIMIT {var.value!r} ({human_bytes(soft)}) of container "{container.name}" is '
        f">= its memory limit {limit} ({human_bytes(limit.value())}): the kernel OOM-kills "
        f"before the garbage collector reacts; use about {percent}% ({value})",
        fix=Fix.unsafe(f"set GOMEMLIMIT to {value}", doc.set_value(path, value)),
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for container in containers(doc.data, doc.kind):
        limit = container.resources.limit("memory")
        if limit is None or limit.value() <= 0:
            continue
        verdict = _judge(doc, container, limit, ctx)
        if verdict is not None:
            yield verdict


RULE = Rule(
    id="K005",
    slug="gomemlimit-exceeds-limit",
    severity=Severity.WARNING,
    summary="GOMEMLIMIT >= the memory limit, or a Go telemetry component without GOMEMLIMIT",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS,
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
