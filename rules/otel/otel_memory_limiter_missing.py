"""
## What it does
Flags a pipeline of an OpenTelemetry collector (or Jaeger v2, which is one)
that has no `memory_limiter` processor, or has it after another processor.
Configs are found in ConfigMaps (any data key), in `OpenTelemetryCollector`
resources (`spec.config` as a string or an object, whatever image runs it),
in Helm-rendered charts, and in the built-in all-in-one config a
`jaegertracing/jaeger` container runs when it gets no `--config` (its `traces`
pipeline has only `batch`; the finding then points at the container).
Pipelines fed only by connectors are skipped: their data already passed the
limiter of the pipeline that produced it. So is a pipeline with no processor
whose every exporter is a connector into pipelines that start with
`memory_limiter` (a routing connector splitting one input): connectors pass
data on synchronously, so it is refused there before anything buffered it. A
pipeline with no receivers carries nothing (O011 reports it). So are pipelines whose every
receiver refuses data through the `memory_limiter` extension
(`middlewares: [{id: memory_limiter}]` on each of its gRPC/HTTP servers, the
extension started in `service.extensions`).

Versions: the `memory_limiter` extension works as receiver middleware since
collector v0.142.0 (beta in v0.158.0; no official distribution ships it, so it
is for custom builds); Jaeger v2 (2.0 to 2.20) ships the processor only, and
its built-in config has been the same `batch`-only pipeline in every release.

## Why is this bad?
When the backend slows down, exporters queue and retry while receivers keep
accepting data, and the collector grows until the kernel OOM-kills it, losing
everything queued. `memory_limiter` checks the heap and refuses new data
(a retryable error for senders) before that happens; placed after other
processors, the data has already been decoded and copied when it is refused.

## Example
```yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: otel-collector
data:
  relay: |
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      batch: {}
    exporters:
      otlp:
        endpoint: tempo:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [batch]
          exporters: [otlp]
```

## Use instead
```yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: otel-collector
data:
  relay: |
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 80, spike_limit_percentage: 20}
      batch: {}
    exporters:
      otlp:
        endpoint: tempo:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter, batch]
          exporters: [otlp]
```

## References
- OpenTelemetry Collector, memory limiter processor README (put it first in
  every pipeline), https://github.com/open-telemetry/opentelemetry-collector/tree/main/processor/memorylimiterprocessor
- OpenTelemetry Collector, memory limiter extension README (receiver
  middleware), https://github.com/open-telemetry/opentelemetry-collector/tree/main/extension/memorylimiterextension
- Jaeger v2 ships `memory_limiter`; its example configs and its built-in
  all-in-one config use only `batch` (jaegertracing/jaeger
  `cmd/jaeger/config-elasticsearch.yaml`, `cmd/jaeger/internal/all-in-one.yaml`)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Fix, Rule, Severity, Violation
from meshlint.domain.k8s import WORKLOAD_KINDS, get_in
from meshlint.domain.otel import (
    HOST_KINDS,
    MEMORY_LIMITER,
    ConfigView,
    Pipeline,
    component_type,
    fed_by_connectors_only,
    limited_by_extension,
    limited_downstream,
    pipelines,
    views,
)


def _judge(view: ConfigView, pipeline: Pipeline) -> Violation | None:
    types = [component_type(p) for p in pipeline.processors]
    if MEMORY_LIMITER not in types:
        listed = get_in(view.data, (*pipeline.path, "processors")) is not None
        path = (*pipeline.path, "processors") if listed else pipeline.path
        shown = ", ".join(pipeline.processors) or "none"
        return view.violation(
            path,
            f'Pipeline "{pipeline.name}"{view.origin} has no memory_limiter processor '
            f"(processors: {shown}): "
            f"when the backend slows down the collector may buffer until it is OOM-killed; "
            + (
                "give it a --config whose pipelines start with memory_limiter"
                if view.builtin
                else "add memory_limiter as the first processor"
            ),
        )
    first = types.index(MEMORY_LIMITER)
    if first == 0:
        return None
    path = pipeline.processor_path(first)
    return view.violation(
        path,
        f'memory_limiter "{pipeline.processors[first]}" is processor #{first + 1} of pipeline '
        f'"{pipeline.name}"{view.origin}, after "{pipeline.processors[0]}": data is decoded and processed '
        f"before it can be refused; move it first",
        # the order of the other processors is kept; the limiter only refuses earlier
        Fix.safe(f"move {pipeline.processors[first]} first", view.move_first(path)),
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for view in views(doc):
        for pipeline in pipelines(view):
            if not pipeline.receivers:
                continue  # it carries nothing (and the collector refuses it: O011)
            if (
                fed_by_connectors_only(view, pipeline)
                or limited_downstream(view, pipeline)
                or limited_by_extension(view, pipeline)
            ):
                continue
            verdict = _judge(view, pipeline)
            if verdict is not None:
                yield verdict


RULE = Rule(
    id="O001",
    slug="otel-memory-limiter-missing",
    severity=Severity.WARNING,
    summary="A collector pipeline lacks memory_limiter, or it is not the first processor",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS | WORKLOAD_KINDS,
)
