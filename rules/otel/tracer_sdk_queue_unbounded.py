"""
## What it does
Reads the tracer SDK environment of every container of a workload and flags:

- a span queue whose worst case exceeds the container's memory limit (else
  its request): `OTEL_BSP_MAX_QUEUE_SIZE` or `JAEGER_REPORTER_MAX_QUEUE_SIZE`
  x (span size + overhead);
- `OTEL_BSP_MAX_EXPORT_BATCH_SIZE` above `OTEL_BSP_MAX_QUEUE_SIZE` (default
  2048), which the specification forbids; this is also checked in the
  OpenTelemetry operator's `Instrumentation` (`spec.env` and each language's
  `env`), whose pods' memory is not known there.

## Why is this bad?
The SDK keeps finished spans in the application's heap until the exporter
sends them. When the collector or agent is slow or unreachable the queue fills
to its maximum, and a queue raised "to stop dropping spans" takes the
application down with an OOM kill instead of dropping telemetry.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  template:
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:1.4.2
          env:
            - {name: OTEL_BSP_MAX_QUEUE_SIZE, value: "1000000"}
          resources:
            requests: {memory: 512Mi}
            limits: {memory: 512Mi}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  template:
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:1.4.2
          env:
            - {name: OTEL_BSP_MAX_QUEUE_SIZE, value: "8192"}
            - {name: OTEL_BSP_MAX_EXPORT_BATCH_SIZE, value: "512"}
          resources:
            requests: {memory: 512Mi}
            limits: {memory: 512Mi}
```

## Parameters
- `span-size-bytes` (default 1024): serialized size of an average span.
- `span-overhead-bytes` (default 4096): what a finished span costs in the heap
  beyond its serialized size.

## References
- OpenTelemetry specification, SDK environment variables (batch span processor),
  https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
- Jaeger documentation, performance tuning (client reporter queue)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from meshlint import Context, Document, Fix, Rule, Severity, Violation
from meshlint.domain.k8s import WORKLOAD_KINDS, Container, containers_of, human_bytes
from meshlint.domain.otel import (
    BSP_BATCH,
    BSP_QUEUE,
    DEFAULTS,
    INSTRUMENTATION,
    instrumentation_envs,
    queue_in_effect,
    queue_settings,
    sdk_setting,
)
from meshlint.domain.spans import SPAN_OVERHEAD, SPAN_SIZE, span_cost


def _batch(
    doc: Document, container: Container, who: str, inherited: Container | None = None
) -> Violation | None:
    batch = sdk_setting(container, BSP_BATCH)
    if batch is None:
        return None
    queue = queue_in_effect(container, inherited)
    size = queue.value if queue is not None else DEFAULTS[BSP_QUEUE]
    if batch.value <= size:
        return None
    default = "" if queue is not None else " (the default)"
    path = (*batch.var.path, "value")
    return Violation(
        at=path,
        message=f"{BSP_BATCH} {batch.value} of {who} is above {BSP_QUEUE} {size}{default}: the "
        f"specification requires batch <= queue; lower the batch size",
        # a batch can never be larger than the queue it is taken from: same behaviour
        fix=Fix.safe(f"set {BSP_BATCH} to {size}", doc.set_value(path, str(size))),
    )


def _queues(container: Container, per_span: int) -> Iterator[Violation]:
    res = container.resources
    memory = res.limit("memory") or res.request("memory")
    if memory is None or memory.value() <= 0:
        return
    what = "limit" if res.limit("memory") is not None else "request"
    for found in queue_settings(container):
        size = found.value * per_span
        if size > memory.value():
            yield Violation(
                at=(*found.var.path, "value"),
                message=f'{found.var.name} {found.value} of container "{container.name}" can buffer '
                f"~{human_bytes(size)} ({found.value} spans x {human_bytes(per_span)} in the "
                f"heap), more than its memory {what} {memory}; keep the queue small enough to "
                f"drop spans instead",
            )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    if doc.kind == INSTRUMENTATION:
        for env, inherited in instrumentation_envs(doc.data):
            where = ".".join(str(p) for p in env.path)
            verdict = _batch(doc, env, f"{doc.resource} {where}", inherited)
            if verdict is not None:
                yield verdict
        return
    per_span = sum(span_cost(ctx.params))
    for container in containers_of(doc):
        yield from _queues(container, per_span)
        verdict = _batch(doc, container, f'container "{container.name}"')
        if verdict is not None:
            yield verdict


RULE = Rule(
    id="O004",
    slug="tracer-sdk-queue-unbounded",
    severity=Severity.WARNING,
    summary="A tracer SDK span queue can exceed the container's memory, or batch > queue",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | {INSTRUMENTATION},
    params=(
        SPAN_SIZE,
        replace(SPAN_OVERHEAD, help="heap bytes of a finished span beyond its size"),
    ),
)
