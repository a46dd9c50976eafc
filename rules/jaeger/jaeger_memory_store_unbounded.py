"""
## What it does
Sizes Jaeger's in-memory trace store and flags one that can outgrow its
container:

- Jaeger v1 with `memory` storage (all-in-one, where it is the default, a
  collector with `SPAN_STORAGE_TYPE=memory`, or a jaeger-operator `Jaeger` CR
  whose storage type is empty or `memory`) without `--memory.max-traces`
  (`MEMORY_MAX_TRACES`, `spec.storage.options.memory.max-traces`): 0, the
  default, keeps every trace. An unbounded store always fires;
- a store with a bound, v1 or a Jaeger v2 `memory` backend of the
  `jaeger_storage` extension, whose `max_traces` x `spans-per-trace` x the heap
  size of a decoded span exceeds the memory limit (else `GOMEMLIMIT`). Jaeger v2
  keeps 1,000,000 traces when `max_traces` is left out, and a v2 container
  started without `--config` runs the built-in all-in-one config: 100,000
  traces;
- a v1 store with a bound but no memory limit to compare it with: the bound
  is only as good as the memory behind it (`MEMORY_MAX_TRACES=50000` is ~2.4
  GiB at the default sizing).

A `Jaeger` CR with no `spec` at all (jaeger-operator's `examples/simplest.yaml`
in its v1.x tags) is the same all-in-one memory store as `spec: {}`.

## Why is this bad?
The memory store is meant for trying Jaeger out, but it is what the all-in-one
image and the operator's default `Jaeger` CR run. It keeps every span it
receives until `max-traces` evicts the oldest trace, so with no bound the heap
grows with traffic until the pod is OOM-killed and every trace is lost at once
(jaeger-operator#562, which added the limit to its examples "to prevent an out
of memory issue"; jaegertracing/jaeger#1796, #4197; kyma-project/kyma#7691).
A bound that does not fit the container ends the same way, later.

## Example
```yaml
apiVersion: jaegertracing.io/v1
kind: Jaeger
metadata:
  name: simplest
  namespace: observability
spec:
  strategy: allInOne
  allInOne:
    resources:
      limits: {memory: 1Gi}
```

## Use instead
```yaml
apiVersion: jaegertracing.io/v1
kind: Jaeger
metadata:
  name: simplest
  namespace: observability
spec:
  strategy: allInOne
  storage:
    type: memory
    options:
      memory:
        max-traces: 10000
  allInOne:
    resources:
      limits: {memory: 1Gi}
```

## Parameters
- `spans-per-trace` (default 10): spans in an average trace. A judgement, kept
  low so that only stores that overflow with modest traces are reported.
- `span-size-bytes` (default 1024) and `span-overhead-bytes` (default 4096):
  a stored span's heap size is their sum (shared with J001, O003 and O006).

## References
- jaegertracing/jaeger v1.76.0 `internal/storage/v1/memory/options.go` (v1:
  `--memory.max-traces`, default 0 = "unbounded"; `plugin/storage/memory` before
  v1.66), `cmd/all-in-one/main.go` (sets `SPAN_STORAGE_TYPE=memory`)
- jaegertracing/jaeger v2.20.0 `cmd/internal/storageconfig/config.go` (v2:
  `MaxTraces: 1_000_000` by default), `internal/storage/v2/memory/memory.go`
  (`max_traces <= 0` refused), `cmd/jaeger/internal/all-in-one.yaml` (100000)
- jaegertracing/jaeger-operator `examples/simplest.yaml` (a `Jaeger` with no
  storage and no resources)
- jaegertracing/jaeger-operator#562, jaegertracing/jaeger#1796, #4197,
  kyma-project/kyma#7691, datahub-project/datahub#17171
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Location, Rule, Severity, Violation
from meshlint.domain.jaeger import memory_stores, v1_stores
from meshlint.domain.k8s import WORKLOAD_KINDS, human_bytes
from meshlint.domain.otel import (
    HOST_KINDS,
    Budget,
    ConfigView,
    collect_linked,
    linked_items,
    own_budget,
    views,
)
from meshlint.domain.spans import (
    SPAN_OVERHEAD,
    SPAN_SIZE,
    SPANS_PER_TRACE,
    trace_cost,
    traces_text,
)


@dataclass(frozen=True, slots=True)
class Store:
    """A bounded v2 memory store's worst case, anchored where max_traces is (or goes)."""

    name: str
    size: int | None  # None: max_traces is a ${env:X} reference, resolved per pod
    arithmetic: str
    at: Location
    reference: str | None = None  # the ${env:X} max_traces is written as
    per_trace: int = 0  # heap bytes of one trace


def _v1(doc: Document, ctx: Context) -> Iterator[Violation]:
    spans, per_span = trace_cost(ctx.params)
    for store in v1_stores(doc):
        limit = store.limit.value() if store.limit is not None else None
        if store.max_traces == 0:
            at = store.setting.path if store.setting is not None else store.anchor
            bound = f"the memory limit {store.limit}" if store.limit else "no memory limit"
            yield Violation(
                at=at,
                message=f"{store.label} keeps spans in memory with no trace limit "
                f"(--memory.max-traces unset or 0) and has {bound}: the store grows with "
                "traffic, and with enough of it the container is OOM-killed",
            )
        elif store.max_traces and store.setting is not None and limit is None:
            size = store.max_traces * spans * per_span
            yield Violation(
                at=store.setting.path,
                message=f"{store.label} memory store can hold ~{human_bytes(size)} "
                f"({traces_text(store.max_traces, spans, per_span)}) and the container has "
                "no memory limit to size it against: set one that holds the store",
            )
        elif store.max_traces and store.setting is not None and limit is not None:
            size = store.max_traces * spans * per_span
            if size > limit:
                yield Violation(
                    at=store.setting.path,
                    message=f"{store.label} memory store can hold ~{human_bytes(size)} "
                    f"({traces_text(store.max_traces, spans, per_span)}), more than its "
                    f"memory limit {store.limit}",
                )


def _stores(view: ConfigView, ctx: Context) -> Iterator[Store]:
    spans, per_span = trace_cost(ctx.params)
    for store in memory_stores(view.data):
        if store.max_traces is None and store.raw is not None:
            name = f'Jaeger v2 memory store "{store.backend}"{view.origin}'
            at = view.locate((*store.path, "max_traces"))
            yield Store(name, None, "", at, store.raw, spans * per_span)
            continue
        if not store.max_traces or store.max_traces <= 0:
            continue  # templated, or refused by Jaeger at start
        path = (*store.path, "max_traces") if store.written else store.path
        text = traces_text(store.max_traces, spans, per_span)
        if not store.written:
            text += ", the default"
        name = f'Jaeger v2 memory store "{store.backend}"{view.origin}'
        yield Store(name, store.max_traces * spans * per_span, text, view.locate(path))


def _resolved(store: Store, budget: Budget | None, ctx: Context) -> Store | None:
    """A store whose max_traces is ``${env:X}``, with X from the container's env."""
    if store.reference is None:
        return store
    value = budget.expand(store.reference) if budget is not None else None
    digits = value.strip() if value is not None else ""
    # ASCII digits only (str.isdigit takes "²", which int() refuses)
    traces = int(digits) if digits.isascii() and digits.isdigit() and len(digits) <= 18 else 0
    if traces <= 0:
        return None  # not set literally in the pod: not known
    spans, per_span = trace_cost(ctx.params)
    text = f"{traces_text(traces, spans, per_span)}, max_traces {store.reference} = {traces}"
    return Store(store.name, traces * store.per_trace, text, store.at)


def _judge(store: Store, budget: Budget | None) -> Violation | None:
    if store.size is None:
        return None
    found = budget.cap() if budget is not None else None
    if found is None or store.size <= found[0]:
        return None
    return Violation(
        at=store.at,
        message=f"{store.name} can hold ~{human_bytes(store.size)} ({store.arithmetic}), more "
        f"than the {found[1]}",
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    yield from _v1(doc, ctx)
    for view in views(doc):
        budget = own_budget(view)
        if budget is not None:  # a ConfigMap's pods are found across files (check_run)
            for found in _stores(view, ctx):
                store = _resolved(found, budget, ctx)
                verdict = _judge(store, budget) if store is not None else None
                if verdict is not None:
                    yield verdict


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    yield from collect_linked(doc, lambda view: _stores(view, ctx))


def check_run(ctx: Context) -> Iterator[Violation]:
    for found, budget in linked_items(ctx.facts):
        store = _resolved(found, budget, ctx)
        verdict = _judge(store, budget) if store is not None else None
        if verdict is not None:
            yield verdict


RULE = Rule(
    id="J006",
    slug="jaeger-memory-store-unbounded",
    severity=Severity.WARNING,
    summary="Jaeger's in-memory trace store is unbounded or can outgrow its container",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS | WORKLOAD_KINDS | {"Jaeger"},
    collect=collect,
    check_run=check_run,
    params=(SPANS_PER_TRACE, SPAN_SIZE, SPAN_OVERHEAD),
)
