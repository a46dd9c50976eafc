"""
## What it does
Works out how long each in-memory exporter queue (`sending_queue`, or `queue`
of Jaeger v2's `jaeger_storage_exporter` when enabled) can take to drain at
shutdown, and flags queues that need longer than the pod's
`terminationGracePeriodSeconds` (default 30):
`ceil(queue_size / num_consumers) x timeout` (defaults 1000, 10 and 5s).

Judged where the pod is known: an `OpenTelemetryCollector`
(`spec.terminationGracePeriodSeconds`), or a ConfigMap mounted by a workload in
the linted files. Queues sized in items or bytes, persistent queues (`storage`),
exporters without a `sending_queue` block and exporters without a timeout are
not judged.

## Why is this bad?
On SIGTERM the collector stops retrying and drains its queue with one attempt
per request, `num_consumers` at a time, each attempt taking up to `timeout`
against a slow or hung backend. The kubelet sends SIGKILL when the grace period
ends: whatever is still queued is lost, which is the data the queue was there
to save. The chart's own defaults need 500s to drain against 30s of grace
(open-telemetry/opentelemetry-helm-charts#2143; also
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
        timeout: 10s
        sending_queue:
          queue_size: 2000
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

## References
- OpenTelemetry Collector `exporter/exporterhelper/internal/base_exporter.go`
  (shutdown stops retries, then drains the queue) and exporterhelper README
  (`queue_size`, `num_consumers`, `timeout` defaults)
- open-telemetry/opentelemetry-helm-charts#2143, open-telemetry/opentelemetry-collector#13853,
  open-telemetry/opentelemetry-collector-contrib#33441
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Location, Rule, Severity, Violation
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


@dataclass(frozen=True, slots=True)
class Draining:
    name: str  # 'Exporter "otlp" sending_queue'
    seconds: float
    arithmetic: str
    at: Location


def _drains(view: ConfigView) -> Iterator[Draining]:
    for drain in drains(view):
        yield Draining(drain.label, drain.seconds, drain.arithmetic, view.locate(drain.path))


def _judge(draining: Draining, budget: Budget) -> Violation | None:
    if draining.seconds <= budget.grace:
        return None
    grace = "" if budget.grace_set else " (default)"
    return Violation(
        at=draining.at,
        message=f"{draining.name} can take {duration_text(draining.seconds)} to drain at "
        f"shutdown ({draining.arithmetic}), longer than terminationGracePeriodSeconds "
        f"{budget.grace:g}{grace} of {budget.owner}: what is still queued at SIGKILL is lost",
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for view in views(doc):
        budget = own_budget(view)
        if budget is None:
            continue  # a ConfigMap's pods are found across files (check_run)
        for draining in _drains(view):
            verdict = _judge(draining, budget)
            if verdict is not None:
                yield verdict


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    yield from collect_linked(doc, _drains)


def check_run(ctx: Context) -> Iterator[Violation]:
    for draining, budget in linked_items(ctx.facts):
        if budget is not None:  # a config no pod mounts has no grace period to judge against
            verdict = _judge(draining, budget)
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
)
