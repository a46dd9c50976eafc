"""
## What it does
Works out how long each in-memory exporter queue counted in requests
(`sending_queue`, the default queue of an `otlp`/`otlphttp` exporter without
one, or `queue` of Jaeger v2's `jaeger_storage_exporter`) takes to drain at
shutdown when it is full and the backend is healthy again, and flags queues
that need longer than the pod's `terminationGracePeriodSeconds` (default 30):
`ceil(queue_size / num_consumers) x min(export-latency-ms, timeout)`.

The risk is real in one case: the queue filled during an outage or a slow
period, the backend answers again, and the pod is stopped (a rollout, a node
drain) before the backlog is out. Each export then takes the backend's
latency, a judgement kept in the `export-latency-ms` parameter (200 ms by
default, an OTLP export of one batch to a healthy nearby backend) and named in
the message. A backend that is down delivers nothing whatever the grace
period, so the rule does not count every request as waiting its full timeout;
a persistent queue (`storage`) survives the restart on its volume and is not
judged, nor are queues sized in items or bytes (how many exports is not
known).

Judged where the pod is known: an `OpenTelemetryCollector`
(`spec.terminationGracePeriodSeconds`), or a ConfigMap mounted by a workload in
the linted files.

## Why is this bad?
On SIGTERM the collector stops retrying and drains its queue with one attempt
per request, `num_consumers` at a time. The kubelet sends SIGKILL when the
grace period ends: whatever is still queued is lost, which is the backlog the
queue was there to save (open-telemetry/opentelemetry-helm-charts#2143;
open-telemetry/opentelemetry-collector#13853, contrib#33441).

## Example
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: gateway
  namespace: observability
spec:
  mode: deployment
  resources:
    limits: {memory: 2Gi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
    exporters:
      otlp:
        endpoint: tempo-distributor:4317
        sending_queue:
          queue_size: 5000
          num_consumers: 10
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter]
          exporters: [otlp]
```

## Use instead
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: gateway
  namespace: observability
spec:
  mode: deployment
  terminationGracePeriodSeconds: 60
  resources:
    limits: {memory: 2Gi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
    exporters:
      otlp:
        endpoint: tempo-distributor:4317
        timeout: 5s
        sending_queue:
          queue_size: 100
          num_consumers: 10
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter]
          exporters: [otlp]
```

## Parameters
- `export-latency-ms` (default 200): how long one export takes against a
  healthy backend; a judgement, named in the message.

## References
- OpenTelemetry Collector v0.159 `exporter/exporterhelper/internal/base_exporter.go`
  (shutdown stops retries, then drains the queue), exporterhelper README
  (`queue_size` 1000, `num_consumers` 10, `timeout` 5s),
  `exporter/otlphttpexporter/factory.go` (client `timeout` 30s, queue on by default)
- open-telemetry/opentelemetry-helm-charts#2143, open-telemetry/opentelemetry-collector#13853,
  open-telemetry/opentelemetry-collector-contrib#33441
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Location, Param, Rule, Severity, Violation
from meshlint.domain.k8s import WORKLOAD_KINDS, duration_text
from meshlint.domain.otel import (
    HOST_KINDS,
    Budget,
    ConfigView,
    collect_linked,
    drains,
    linked_items,
    own_budget,
    views,
)

EXPORT_LATENCY = Param(
    name="export-latency-ms",
    type=int,
    default=200,
    help="milliseconds one export takes against a healthy backend",
    minimum=1,
)


@dataclass(frozen=True, slots=True)
class Draining:
    name: str  # 'Exporter "otlp" sending_queue'
    seconds: float
    arithmetic: str
    at: Location


def _latency(ctx: Context) -> float:
    ms: int = ctx.params[EXPORT_LATENCY.name]
    return ms / 1000


def _drains(view: ConfigView, latency: float) -> Iterator[Draining]:
    for drain in drains(view, latency):
        yield Draining(drain.label, drain.seconds, drain.arithmetic, view.locate(drain.path))


def _judge(draining: Draining, budget: Budget, latency_ms: int) -> Violation | None:
    if draining.seconds <= budget.grace:
        return None
    grace = "" if budget.grace_set else " (default)"
    return Violation(
        at=draining.at,
        message=f"{draining.name}, full after an outage, takes {duration_text(draining.seconds)} "
        f"to drain at shutdown against a healthy backend ({draining.arithmetic}, "
        f"export-latency-ms {latency_ms}), longer than terminationGracePeriodSeconds "
        f"{budget.grace:g}{grace} of {budget.owner}: what is still queued at SIGKILL is lost",
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for view in views(doc):
        budget = own_budget(view)
        if budget is None:
            continue  # a ConfigMap's pods are found across files (check_run)
        for draining in _drains(view, _latency(ctx)):
            verdict = _judge(draining, budget, ctx.params[EXPORT_LATENCY.name])
            if verdict is not None:
                yield verdict


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    yield from collect_linked(doc, lambda view: _drains(view, _latency(ctx)))


def check_run(ctx: Context) -> Iterator[Violation]:
    for draining, budget in linked_items(ctx.facts):
        if budget is not None:  # a config no pod mounts has no grace period to judge against
            verdict = _judge(draining, budget, ctx.params[EXPORT_LATENCY.name])
            if verdict is not None:
                yield verdict


RULE = Rule(
    id="O010",
    slug="otel-queue-drain-exceeds-grace-period",
    severity=Severity.INFO,
    summary="An in-memory exporter queue cannot drain within the pod's termination grace period",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS | WORKLOAD_KINDS,
    collect=collect,
    check_run=check_run,
    params=(EXPORT_LATENCY,),
)
