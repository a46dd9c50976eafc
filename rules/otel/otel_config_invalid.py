"""
## What it does
Reports a collector config that the collector refuses at start-up, as
`otelcol validate` does:

- no pipeline at all under `service.pipelines`, or a pipeline whose name is not
  a signal (`traces`, `metrics`, `logs`, `profiles`, optionally `/name`);
- a pipeline without receivers or without exporters;
- a pipeline, or `service.extensions`, naming a component that is not defined
  (a receiver or exporter may be a connector), or a processor twice;
- a connector whose id is also a receiver's or an exporter's (ambiguous);
- a connector used as an exporter in a pipeline but as a receiver in none, or
  the other way round;
- a component type the collector's distribution is not built with, where the
  image says which official distribution runs: `otel/opentelemetry-collector`
  (core), `-k8s`, `-otlp` or `-contrib` (also under
  `ghcr.io/open-telemetry/opentelemetry-collector-releases/`), with a tag of
  0.140 or later or none. The lists are those of the releases repository at
  v0.159.0 (`meshlint/domain/otel/distributions.py`). Vendor and custom builds,
  an `OpenTelemetryCollector` without `spec.image` (the operator's default
  image is set at install time) and a config no pod mounts are not judged for
  types.

Configs built into an image (Jaeger v2's all-in-one) are not judged, and a
`memory_ballast` extension is left to O005.

## Why is this bad?
The collector validates its whole config before it starts anything: one of
these mistakes and the pod crash-loops with `invalid configuration` or
`unknown type`, and no telemetry flows at all. A vendor chart's example ships
a `logs` pipeline with no receivers; the core image is often run with a
contrib-only component such as `k8s_attributes` or `tail_sampling`.

## Example
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: gateway
  namespace: observability
spec:
  image: otel/opentelemetry-collector:0.159.0
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      k8s_attributes: {}
    exporters:
      otlp_grpc:
        endpoint: tempo-distributor:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [k8s_attributes]
          exporters: [otlp_grpc]
        logs:
          exporters: [otlp_grpc]
```

## Use instead
```yaml
apiVersion: opentelemetry.io/v1beta1
kind: OpenTelemetryCollector
metadata:
  name: gateway
  namespace: observability
spec:
  image: otel/opentelemetry-collector-k8s:0.159.0
  config:
    receivers:
      otlp:
        protocols: {grpc: {}}
    processors:
      k8s_attributes: {}
    exporters:
      otlp_grpc:
        endpoint: tempo-distributor:4317
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [k8s_attributes]
          exporters: [otlp_grpc]
        logs:
          receivers: [otlp]
          exporters: [otlp_grpc]
```

## References
- opentelemetry-collector v0.159.0 `otelcol/config.go` (`Config.Validate`:
  ambiguous connector ids, `service::extensions` and pipeline references),
  `service/pipelines/config.go` (at least one pipeline, one receiver and one
  exporter per pipeline, no processor twice), `service/internal/graph/graph.go`
  (a connector "used as exporter in ... pipeline but not used in any supported
  receiver pipeline"), `otelcol/command_validate.go`
- opentelemetry-collector-releases v0.159.0 `distributions/*/manifest.yaml`
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Location, Rule, Severity, Violation, pickled_as_fields
from meshlint.domain.k8s import WORKLOAD_KINDS, get_in, list_at, mapping_at
from meshlint.domain.otel import (
    COLLECTOR_CR,
    DISTRIBUTION_VERSION,
    HOST_KINDS,
    MEMORY_BALLAST,
    ConfigView,
    collect_linked,
    component_type,
    distribution_of,
    has_component,
    in_every_distribution,
    linked_items,
    views,
)

_SIGNALS = ("traces", "metrics", "logs", "profiles")
_SECTIONS = ("receivers", "processors", "exporters", "extensions", "connectors")
_REFUSES = "the collector refuses to start"


def _pipelines(view: ConfigView) -> Iterator[Violation]:
    defined = {section: {str(k) for k in view.section(section)} for section in _SECTIONS}
    connectors = defined["connectors"]
    pipes = mapping_at(view.data, ("service", "pipelines"))
    if not pipes:
        yield view.violation(
            ("service", "pipelines"), f"service.pipelines holds no pipeline: {_REFUSES}"
        )
    for name, body in pipes.items():
        path = ("service", "pipelines", name)
        if str(name).split("/", 1)[0] not in _SIGNALS:
            yield view.violation(
                path,
                f'pipeline "{name}" is not named after a signal (traces, metrics, logs, '
                f"profiles, then optionally /name): {_REFUSES}",
            )
            continue
        for role in ("receivers", "exporters"):
            if not list_at(body, (role,)):
                yield view.violation(
                    path if get_in(body, (role,)) is None else (*path, role),
                    f'pipeline "{name}" has no {role}: {_REFUSES} (must have at least one '
                    f"{role[:-1]})",
                )
        for role in ("receivers", "processors", "exporters"):
            seen: set[str] = set()
            for i, ref in enumerate(list_at(body, (role,))):
                ref = str(ref)
                usable = defined[role] | (connectors if role != "processors" else set())
                if ref not in usable:
                    yield view.violation(
                        (*path, role, i),
                        f'pipeline "{name}" references {role[:-1]} "{ref}", which is not '
                        f"defined under {role}"
                        + (" or connectors" if role != "processors" else "")
                        + f": {_REFUSES}",
                    )
                elif role == "processors" and ref in seen:
                    yield view.violation(
                        (*path, role, i),
                        f'pipeline "{name}" references processor "{ref}" twice: {_REFUSES}',
                    )
                seen.add(ref)
    for i, ref in enumerate(list_at(view.data, ("service", "extensions"))):
        if str(ref) not in defined["extensions"]:
            yield view.violation(
                ("service", "extensions", i),
                f'service.extensions names "{ref}", which is not defined under extensions: '
                f"{_REFUSES}",
            )


def _connectors(view: ConfigView) -> Iterator[Violation]:
    connectors = [str(c) for c in view.section("connectors")]
    for cid in connectors:
        for role in ("receivers", "exporters"):
            if cid in {str(k) for k in view.section(role)}:
                yield view.violation(
                    ("connectors", cid),
                    f'connector "{cid}" has the id of a{"n" if role == "exporters" else ""} '
                    f"{role[:-1]} too: the id is ambiguous and {_REFUSES}; rename one",
                )
    uses: dict[str, dict[str, list[tuple[str, int]]]] = {
        c: {"receivers": [], "exporters": []} for c in connectors
    }
    for name, body in mapping_at(view.data, ("service", "pipelines")).items():
        for role in ("receivers", "exporters"):
            for i, ref in enumerate(list_at(body, (role,))):
                if str(ref) in uses:
                    uses[str(ref)][role].append((str(name), i))
    for cid, used in uses.items():
        for role, other in (("exporters", "receivers"), ("receivers", "exporters")):
            if used[role] and not used[other]:
                name, i = used[role][0]
                yield view.violation(
                    ("service", "pipelines", name, role, i),
                    f'connector "{cid}" is used as {role[:-1]} in pipeline "{name}" but as '
                    f"{other[:-1]} in no pipeline: {_REFUSES}; a connector joins the "
                    f"pipeline it exports from to one it receives into",
                )


@pickled_as_fields
@dataclass(frozen=True, slots=True)
class Component:
    """A component a config defines: judged against the image that runs it."""

    section: str
    id: str
    type: str
    at: Location


def _components(view: ConfigView) -> Iterator[Component]:
    if view.builtin:
        return
    for section in _SECTIONS:
        for cid in view.section(section):
            kind = component_type(cid)
            # a component every distribution has is never judged (``_judge``
            # finds it whatever the image): no fact, no location for it
            if kind and kind != MEMORY_BALLAST and not in_every_distribution(section, kind):
                yield Component(section, str(cid), kind, view.locate((section, cid)))


def _judge(component: Component, image: str) -> Violation | None:
    distribution = distribution_of(image) if image else None
    if distribution is None or has_component(distribution, component.section, component.type):
        return None
    version = ".".join(str(n) for n in DISTRIBUTION_VERSION)
    return Violation(
        at=component.at,
        message=f'{component.section[:-1]} "{component.id}": image {image!r} runs the '
        f"{distribution} distribution, which has no {component.type!r} "
        f"{component.section[:-1]} (its v{version} manifest): {_REFUSES} with "
        '"unknown type"; run an image that includes it (otelcol-contrib, otelcol-k8s) '
        "or a build with it",
    )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for view in views(doc):
        if view.builtin:
            continue  # an image's own config: its makers ran it
        yield from _pipelines(view)
        yield from _connectors(view)
        if doc.kind == COLLECTOR_CR:
            image = get_in(doc.data, ("spec", "image"))
            for component in _components(view):
                verdict = _judge(component, image if isinstance(image, str) else "")
                if verdict is not None:
                    yield verdict


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    """A ConfigMap's components, and the pods (with their images) that mount it."""
    yield from collect_linked(doc, _components)


def check_run(ctx: Context) -> Iterator[Violation]:
    reported: set[object] = set()
    for component, budget in linked_items(ctx.facts):
        if budget is None:
            continue
        verdict = _judge(component, budget.image)
        if verdict is not None and (component.at, verdict.message) not in reported:
            reported.add((component.at, verdict.message))  # several pods, one image
            yield verdict


RULE = Rule(
    id="O011",
    slug="otel-config-invalid",
    severity=Severity.ERROR,
    summary="A collector config the collector refuses at start-up (pipelines, references, "
    "connectors, component types)",
    doc=__doc__ or "",
    check=check,
    kinds=HOST_KINDS | WORKLOAD_KINDS,
    collect=collect,
    check_run=check_run,
)
