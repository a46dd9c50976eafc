"""
## What it does
Flags a `k8sattributes` (`k8s_attributes`) processor without a node filter
(`filter.node_from_env_var`, `filter.node`, or a `filter.fields` selector on
`spec.nodeName`) in a collector that runs one copy
per node: a DaemonSet that mounts the config's ConfigMap (found across files),
or an `OpenTelemetryCollector` with `mode: daemonset`. A processor with
`passthrough: true` never watches the API server (it only tags the pod IP) and
needs no filter.

It also flags a `filter.node_from_env_var` (or a `filter.node` of
`${env:X}`) naming a variable the collector container does not set. The
OpenTelemetry Operator sets `K8S_NODE_NAME` itself only when a pipeline uses
the `kubeletstats` receiver (besides `POD_NAME`, and `GOMEMLIMIT`/`GOMAXPROCS`
under a feature gate); a container with `envFrom` is not judged.

## Why is this bad?
Without a node filter the processor watches every pod of the cluster. On an
agent that only ever sees the spans, metrics and logs of its own node, each
copy caches the whole cluster's pods: memory grows with the cluster on every
node, and the API server serves one full pod watch per node. Agents were
OOM-killed and API servers overloaded on large clusters
(open-telemetry/opentelemetry-helm-charts#768, coralogix/telemetry-shippers#133,
aws-observability/helm-charts#311); the chart's `kubernetesAttributes` preset
sets the filter for this reason.

## Example
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: agent
  namespace: observability
spec:
  mode: daemonset
  resources:
    limits: {memory: 512Mi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
      k8sattributes:
        extract:
          metadata: [k8s.namespace.name, k8s.deployment.name, k8s.pod.name]
    exporters:
      otlp:
        endpoint: otel-gateway:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, k8sattributes]
          exporters: [otlp]
```

## Use instead
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: agent
  namespace: observability
spec:
  mode: daemonset
  resources:
    limits: {memory: 512Mi}
  env:
    - name: K8S_NODE_NAME
      valueFrom:
        fieldRef: {fieldPath: spec.nodeName}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
      k8sattributes:
        filter:
          node_from_env_var: K8S_NODE_NAME
        extract:
          metadata: [k8s.namespace.name, k8s.deployment.name, k8s.pod.name]
    exporters:
      otlp:
        endpoint: otel-gateway:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, k8sattributes]
          exporters: [otlp]
```

## References
- opentelemetry-collector-contrib `processor/k8sattributesprocessor/config.go`
  (`passthrough`: "does not need access to the K8S cluster API";
  `FilterConfig.Validate` refuses an unset `node_from_env_var` in recent
  versions) and `options.go` (`withFilterNode`: `os.Getenv`, empty = no filter)
- opentelemetry-operator v0.158.0 `internal/manifests/collector/container.go`
  (`getInferredContainerEnvVars`), `internal/otelconfig/config.go`
  (`GetEnvironmentVariables`: receivers of a pipeline only),
  `internal/components/receivers/kubeletstats.go` (`K8S_NODE_NAME`)
- OpenTelemetry Collector contrib, k8sattributes processor README ("as an
  agent": `filter.node_from_env_var`),
  https://github.com/open-telemetry/opentelemetry-collector-contrib/tree/main/processor/k8sattributesprocessor
- open-telemetry/opentelemetry-helm-charts#768, coralogix/telemetry-shippers#133,
  aws-observability/helm-charts#311
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Location, Rule, Severity, Violation
from meshlint.domain.k8s import WORKLOAD_KINDS
from meshlint.domain.otel import (
    COLLECTOR_CR,
    HOST_KINDS,
    Budget,
    ConfigView,
    collect_linked,
    linked_items,
    own_budget,
    pod_watches,
    views,
)


@dataclass(frozen=True, slots=True)
class PodCache:
    id: str
    at: Location
    node_env: str | None = None  # the node name comes from this env var
    node_env_at: Location | None = None
    filtered: bool = False


def _caches(view: ConfigView) -> Iterator[PodCache]:
    for watch in pod_watches(view):
        env_at = view.locate(watch.node_env_path) if watch.node_env_path else None
        yield PodCache(
            watch.id, view.locate(watch.path), watch.node_env, env_at, watch.node_filtered
        )


def _violation(cache: PodCache, budget: Budget, owner: str) -> Violation | None:
    if not cache.filtered:
        return Violation(
            at=cache.at,
            message=f'processor "{cache.id}" has no filter.node_from_env_var or filter.node, and '
            f"{owner} runs one copy per node: every agent watches and caches every pod of the "
            "cluster",
        )
    env = cache.node_env
    if (
        env is None
        or budget.env_names is None
        or env in budget.env_names
        or cache.node_env_at is None
    ):
        return None  # a literal node, or an env the container may well get
    if cache.node_env_at.path.endswith("node_from_env_var"):
        outcome = (
            "older collectors then watch every pod of the cluster, recent ones refuse to start"
        )
    else:
        outcome = (
            f"${{env:{env}}} expands to an empty filter.node: every pod of the cluster is watched"
        )
    return Violation(
        at=cache.node_env_at,
        message=f'processor "{cache.id}" takes its node filter from env var {env}, which '
        f"{owner} does not set: {outcome}; set it from the downward API (fieldRef spec.nodeName)",
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for view in views(doc):
        budget = own_budget(view)
        if budget is None or not budget.per_node:
            continue
        owner = f"{doc.resource} (mode: daemonset)" if doc.kind == COLLECTOR_CR else budget.owner
        for cache in _caches(view):
            verdict = _violation(cache, budget, owner)
            if verdict is not None:
                yield verdict


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    yield from collect_linked(doc, _caches)


def check_run(ctx: Context) -> Iterator[Violation]:
    reported: set[object] = set()
    for cache, budget in linked_items(ctx.facts):
        if budget is None or not budget.per_node:
            continue
        verdict = _violation(cache, budget, budget.owner)
        if verdict is not None and verdict.at not in reported:
            reported.add(verdict.at)  # several DaemonSets may mount one ConfigMap
            yield verdict


RULE = Rule(
    id="O008",
    slug="otel-k8sattributes-unfiltered",
    severity=Severity.WARNING,
    summary="A per-node collector's k8sattributes processor caches every pod of the cluster",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS | WORKLOAD_KINDS,
    collect=collect,
    check_run=check_run,
)
