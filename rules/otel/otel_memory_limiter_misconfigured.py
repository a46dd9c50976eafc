"""
## What it does
Checks every `memory_limiter` processor and extension of a collector config
(OpenTelemetry or Jaeger v2) against its own rules and against the container
it runs in:

- `limit_mib` at or above the container's memory limit;
- `limit_percentage` (without `limit_mib`) where the container has no memory
  limit: the percentage is then taken of the node's RAM;
- `check_interval` missing or 0 (the collector refuses to start);
- neither `limit_mib` nor `limit_percentage` set (the collector refuses to start);
- `limit_percentage` or `spike_limit_percentage` above 100 (the collector
  refuses to start);
- a spike limit at or above its limit (`spike_limit_mib` >= `limit_mib`, or
  `spike_limit_percentage` >= `limit_percentage`: the collector refuses to
  start);
- GC intervals the collector refuses: `min_gc_interval_when_soft_limited`
  (default 10s) below `min_gc_interval_when_hard_limited` (default 0), and a
  `max_gc_interval_when_*` (v0.158.0 on, default 30s, 0 = off) below its
  `min_gc_interval_when_*`.

For a ConfigMap the container is the one that mounts it (found across files);
an `OpenTelemetryCollector` brings its own `spec.resources`.

Versions: the processor's settings and validation are those of collector
v0.x up to v0.159; the extension (receiver middleware since v0.142.0, beta
since v0.158.0) takes the same settings and is checked the same way.

## Why is this bad?
The limiter refuses data once the heap passes `limit - spike`. A limit at or
above the cgroup limit never triggers before the OOM kill (the process uses
~50 MiB above `limit_mib` besides the heap). Without a container limit,
`limit_percentage: 80` means 80% of the node, so the collector takes the node
down before it refuses anything.

## Example
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: gateway
spec:
  resources:
    limits: {memory: 512Mi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_mib: 512}
    exporters:
      otlp:
        endpoint: tempo:4317
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
spec:
  resources:
    limits: {memory: 512Mi}
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      memory_limiter: {check_interval: 1s, limit_percentage: 75, spike_limit_percentage: 20}
    exporters:
      otlp:
        endpoint: tempo:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [memory_limiter]
          exporters: [otlp]
```

## References
- opentelemetry-collector v0.159.0 `internal/memorylimiter/config.go`
  (`Config.Validate`: `check_interval` > 0, a limit set, percentages <= 100,
  spike below limit, GC interval pairs; `NewDefaultConfig`) and
  `internal/memorylimiter/memorylimiter.go` (`limit_mib` wins over
  `limit_percentage`; the percentage of the cgroup limit, else of total RAM)
- OpenTelemetry Collector, memory limiter processor README and
  `internal/memorylimiter/config.go` (validation, defaults),
  https://github.com/open-telemetry/opentelemetry-collector/tree/main/processor/memorylimiterprocessor
- `internal/memorylimiter/iruntime/total_memory_linux.go`: without a cgroup
  limit the total is read from `/proc/meminfo`
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Fix, Location, Rule, Severity, Violation, pickled_as_fields
from meshlint.domain.k8s import WORKLOAD_KINDS, collector_duration
from meshlint.domain.otel import (
    HOST_KINDS,
    Budget,
    ConfigView,
    MemoryLimiter,
    collect_linked,
    linked_items,
    memory_limiters,
    own_budget,
    views,
)

MIB = 2**20


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Limits:
    """What the container check needs, small enough to cross process boundaries."""

    label: str  # 'memory_limiter "x"' or 'memory_limiter extension "x"'
    limit_mib: int | None
    limit_mib_at: Location | None  # located only where ``_against`` may point: limit_mib set
    percent: int | None
    percent_at: Location | None  # likewise: limit_percentage set (and no limit_mib)


def _limits(view: ConfigView, limiter: MemoryLimiter) -> Limits:
    mib, percent = limiter.limit_mib, limiter.limit_percentage
    return Limits(
        limiter.label,
        mib,
        view.locate(limiter.setting("limit_mib")) if mib else None,
        percent,
        view.locate(limiter.setting("limit_percentage")) if percent and not mib else None,
    )


def _own(view: ConfigView, limiter: MemoryLimiter) -> Iterator[Violation]:
    """What is wrong with the settings whatever the container."""
    name = limiter.label
    if not limiter.has("check_interval"):
        path = limiter.setting("check_interval")
        yield view.violation(
            limiter.path,
            f"{name} has no check_interval: it defaults to 0s and the collector refuses to "
            f"start; set check_interval: 1s",
            # the value the processor's README recommends; a collector without it does not start
            Fix.safe("add check_interval: 1s", view.set_value(path, "1s")),
        )
    else:
        interval = limiter.body["check_interval"]
        seconds = collector_duration(interval)
        if seconds is not None and seconds <= 0:
            path = limiter.setting("check_interval")
            yield view.violation(
                path,
                f"check_interval {interval!r} of {name} must be above 0 or the collector "
                f"refuses to start; set 1s",
                Fix.safe("set check_interval: 1s", view.set_value(path, "1s")),
            )
    mib, pct = limiter.limit_mib, limiter.limit_percentage
    templated = (limiter.has("limit_mib") and mib is None) or (
        limiter.has("limit_percentage") and pct is None
    )
    if not templated and not mib and not pct:
        yield view.violation(
            limiter.path,
            f"{name} sets neither limit_mib nor limit_percentage: the collector refuses to "
            f"start; set limit_percentage: 80 (with a container memory limit)",
        )
    spike_mib, spike_pct = limiter.spike_limit_mib, limiter.spike_limit_percentage
    for key, value in (("limit_percentage", pct), ("spike_limit_percentage", spike_pct)):
        if value is not None and value > 100:
            yield view.violation(
                limiter.setting(key),
                f"{key} {value} of {name} is above 100: the collector refuses to start",
            )
    if mib and spike_mib is not None and spike_mib >= mib:
        yield view.violation(
            limiter.setting("spike_limit_mib"),
            f"spike_limit_mib {spike_mib} of {name} is >= limit_mib {mib}: the collector "
            f"refuses to start; use about 20% of limit_mib ({mib // 5})",
        )
    if pct and spike_pct is not None and spike_pct >= pct and pct <= 100:
        yield view.violation(
            limiter.setting("spike_limit_percentage"),
            f"spike_limit_percentage {spike_pct} of {name} is >= limit_percentage {pct}: "
            f"the collector refuses to start; use about a fifth of it ({pct // 5})",
        )
    yield from _gc_intervals(view, limiter)


# collector v0.159.0 internal/memorylimiter/config.go NewDefaultConfig
_GC_DEFAULTS = {
    "min_gc_interval_when_soft_limited": 10.0,
    "min_gc_interval_when_hard_limited": 0.0,
    "max_gc_interval_when_soft_limited": 30.0,  # v0.158.0 on
    "max_gc_interval_when_hard_limited": 30.0,
}


def _gc_intervals(view: ConfigView, limiter: MemoryLimiter) -> Iterator[Violation]:
    """The GC interval pairs ``Config.Validate`` refuses (only where one is written)."""
    seconds: dict[str, float] = {}
    for key, default in _GC_DEFAULTS.items():
        value = collector_duration(limiter.body[key]) if limiter.has(key) else default
        if value is None:
            return  # templated: unknown
        seconds[key] = value
    min_soft, min_hard = (
        seconds["min_gc_interval_when_soft_limited"],
        seconds["min_gc_interval_when_hard_limited"],
    )
    max_soft, max_hard = (
        seconds["max_gc_interval_when_soft_limited"],
        seconds["max_gc_interval_when_hard_limited"],
    )
    pairs = (
        (
            min_soft < min_hard,
            "min_gc_interval_when_soft_limited",
            "min_gc_interval_when_hard_limited",
        ),
        (
            0 < max_soft < min_soft,
            "max_gc_interval_when_soft_limited",
            "min_gc_interval_when_soft_limited",
        ),
        (
            0 < max_hard < min_hard,
            "max_gc_interval_when_hard_limited",
            "min_gc_interval_when_hard_limited",
        ),
    )
    for broken, low, high in pairs:
        written = low if limiter.has(low) else high
        if broken and limiter.has(written):
            yield view.violation(
                limiter.setting(written),
                f"{low} ({seconds[low]:g}s) of {limiter.label} is below {high} "
                f"({seconds[high]:g}s): the collector refuses to start",
            )


def _against(limits: Limits, budget: Budget) -> Iterator[Violation]:
    """What is wrong with the settings in the container that runs them."""
    name = limits.label
    if limits.limit_mib:
        if budget.limit is not None and limits.limit_mib * MIB >= budget.limit:
            assert limits.limit_mib_at is not None  # located where limit_mib is set
            yield Violation(
                at=limits.limit_mib_at,
                message=f"limit_mib {limits.limit_mib} of {name} is >= the {budget.describe_limit()}: "
                f"the process can be OOM-killed before the limiter refuses data; use about 80% "
                f"of the limit ({budget.limit * 8 // 10 // MIB}) or limit_percentage",
            )
    elif limits.percent and budget.limit is None:
        assert limits.percent_at is not None  # located where limit_percentage alone is set
        yield Violation(
            at=limits.percent_at,
            message=f"limit_percentage {limits.percent} of {name} is taken of the node's RAM: "
            f"{budget.owner} has no memory limit; set resources.limits.memory",
        )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for view in views(doc):
        budget = own_budget(view)
        for limiter in memory_limiters(view):
            yield from _own(view, limiter)
            if budget is not None:
                yield from _against(_limits(view, limiter), budget)


def _config_limits(view: ConfigView) -> Iterator[Limits]:
    for limiter in memory_limiters(view):
        yield _limits(view, limiter)


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    """ConfigMap limiters and the pods that mount ConfigMaps, for check_run."""
    yield from collect_linked(doc, _config_limits)


def check_run(ctx: Context) -> Iterator[Violation]:
    for limits, budget in linked_items(ctx.facts):
        if budget is not None:  # a config no pod mounts has no container to judge against
            yield from _against(limits, budget)


RULE = Rule(
    id="O002",
    slug="otel-memory-limiter-misconfigured",
    severity=Severity.ERROR,
    summary="memory_limiter is above the container limit, relative to node RAM, or invalid",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS | WORKLOAD_KINDS,
    collect=collect,
    check_run=check_run,
)
