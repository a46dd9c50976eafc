"""
## What it does
Finds Jaeger agents reached through a Service instead of on the local node:

- a Service that exposes the agent's UDP ports (6831 jaeger.thrift compact,
  6832 binary, 5775 zipkin compact) in front of agent pods (a Jaeger agent
  container, or a DaemonSet listening on those UDP ports) without
  `internalTrafficPolicy: Local`. When the selected pods are not in the linted
  files, a Service named or labelled as an agent counts;
- an application whose `JAEGER_AGENT_HOST` (or `OTEL_EXPORTER_JAEGER_AGENT_HOST`)
  names a Service (one in the linted files, or any `*.svc` name) instead of
  the node's address from `status.hostIP`.

A Service that fronts a single central process (an all-in-one Deployment, an
OpenTelemetry collector Deployment) is not reported: node-local routing would
break it.

## Why is this bad?
Jaeger clients send spans over UDP, fire-and-forget, and assume the agent is on
the same host. A ClusterIP Service spreads the datagrams over agents on other
nodes: they cross the network where UDP is dropped silently under load, and
the point of a per-node agent is lost. The jaeger-operator maintainers refused
to add an agent Service for this reason; the v3 Helm chart's default
(DaemonSet plus ClusterIP Service, no hostPort) is the risky pattern.

## Example
```yaml
apiVersion: v1
kind: Service
metadata:
  name: jaeger-agent
spec:
  selector: {app.kubernetes.io/component: agent}
  ports:
    - {name: jaeger-compact, port: 6831, protocol: UDP}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - name: shop
          image: example/shop:1.0
          env:
            - {name: JAEGER_AGENT_HOST, value: jaeger-agent.observability.svc}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: jaeger-agent
spec:
  template:
    metadata:
      labels: {app.kubernetes.io/component: agent}
    spec:
      containers:
        - name: jaeger-agent
          image: jaegertracing/jaeger-agent:1.57.0
          ports:
            - {containerPort: 6831, hostPort: 6831, protocol: UDP}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  template:
    spec:
      containers:
        - name: shop
          image: example/shop:1.0
          env:
            - name: JAEGER_AGENT_HOST
              valueFrom: {fieldRef: {fieldPath: status.hostIP}}
```
Or keep the Service and set `internalTrafficPolicy: Local` (Kubernetes 1.26+),
which keeps traffic on the node (and drops it where no agent runs).

## References
- Jaeger docs, "Installing the Agent as DaemonSet" (`status.hostIP` + hostPort)
- jaegertracing/jaeger-kubernetes#74, jaegertracing/jaeger-operator#192
- KEP-2086, Service internal traffic policy
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from meshlint import Context, Document, Location, Resource, Rule, Severity, Violation
from meshlint.domain.jaeger import AgentHost, agent_host_of, agent_pods, udp_agent_ports
from meshlint.domain.k8s import (
    WORKLOAD_KINDS,
    get_in,
    pod_labels,
    same_namespace,
    selects,
    str_at,
    string_map,
)


@dataclass(frozen=True, slots=True)
class ServiceFact:
    resource: Resource
    anchor: Location  # internalTrafficPolicy, or the spec that should hold it
    selector: tuple[tuple[str, str], ...]
    ports: tuple[int, ...]  # agent UDP ports it exposes
    local: bool
    headless: bool
    agent_named: bool


@dataclass(frozen=True, slots=True)
class AgentPodsFact:
    resource: Resource
    labels: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class HostFact:
    resource: Resource
    anchor: Location
    host: AgentHost


def _service(doc: Document) -> ServiceFact | None:
    ports = udp_agent_ports(doc.data)
    if not ports:
        return None
    policy = str_at(doc.data, ("spec", "internalTrafficPolicy"))
    where = ("spec", "internalTrafficPolicy") if policy is not None else ("spec",)
    labels = string_map(get_in(doc.data, ("metadata", "labels")))
    name = doc.resource.name or ""
    return ServiceFact(
        doc.resource,
        doc.locate(where),
        tuple(sorted(string_map(get_in(doc.data, ("spec", "selector"))).items())),
        ports,
        policy == "Local",
        get_in(doc.data, ("spec", "clusterIP")) == "None",
        "agent" in name or labels.get("app.kubernetes.io/component") == "agent",
    )


def collect(doc: Document, ctx: Context) -> Iterator[object]:
    if doc.kind == "Service":
        fact = _service(doc)
        if fact is not None:
            yield fact
        return
    if doc.kind not in WORKLOAD_KINDS:
        return
    if agent_pods(doc):
        yield AgentPodsFact(doc.resource, tuple(sorted(pod_labels(doc.data, doc.kind).items())))
    for host, path in agent_host_of(doc):
        yield HostFact(doc.resource, doc.locate(path), host)


def _selects(service: ServiceFact, pods: AgentPodsFact) -> bool:
    return same_namespace(service.resource.namespace, pods.resource.namespace) and selects(
        dict(service.selector), dict(pods.labels)
    )


Pairs = dict[tuple[str | None, str, str], list[AgentPodsFact]]


def _by_label(agents: list[AgentPodsFact]) -> Pairs:
    """Agent pods by namespace and each of their labels: a Service's candidates are
    the pods holding its selector's first pair (thousands of Services and agent
    DaemonSets join in linear time, not each with each)."""
    found: Pairs = {}
    for agent in agents:
        for key, value in agent.labels:
            found.setdefault((agent.resource.namespace, key, value), []).append(agent)
    return found


def _fronts_agents(service: ServiceFact, agents: Pairs, ctx: Context) -> str | None:
    """What agent pods the Service selects, or None when it fronts something else."""
    first = service.selector[:1]
    candidates = agents.get((service.resource.namespace, *first[0]), []) if first else []
    selected = next((a for a in candidates if _selects(service, a)), None)
    if selected is not None:
        return f"agent pods of {selected.resource}"
    if ctx.index is not None and service.agent_named and service.selector:
        entries = ctx.index.find(
            "Service", namespace=service.resource.namespace, name=service.resource.name
        )
        if entries and not ctx.index.selected_by(entries[0]):
            return "agent pods outside the linted files"
    return None


def _service_violation(service: ServiceFact, fronted: str) -> Violation:
    ports = "/".join(map(str, service.ports))
    if service.headless:
        fix = "a headless Service hands clients every agent pod; use status.hostIP instead"
    else:
        fix = "set internalTrafficPolicy: Local or use status.hostIP with a hostPort agent"
    return Violation(
        at=service.anchor,
        message=f"{service.resource} exposes agent UDP port {ports} of {fronted} without "
        f"internalTrafficPolicy: Local: spans cross nodes over UDP and are dropped "
        f"silently; {fix}",
    )


def check_run(ctx: Context) -> Iterator[Violation]:
    services = [f for f in ctx.facts if isinstance(f, ServiceFact)]
    agents = _by_label([f for f in ctx.facts if isinstance(f, AgentPodsFact)])
    by_name: dict[str, list[ServiceFact]] = {}
    for service in services:
        by_name.setdefault(service.resource.name or "", []).append(service)
    for service in services:
        if service.local:
            continue
        fronted = _fronts_agents(service, agents, ctx)
        if fronted is not None:
            yield _service_violation(service, fronted)
    for fact in ctx.facts:
        if not isinstance(fact, HostFact):
            continue
        host = fact.host
        namespace = host.namespace or fact.resource.namespace
        named = [
            s for s in by_name.get(host.name, ()) if same_namespace(namespace, s.resource.namespace)
        ]
        if (
            ctx.index is not None
            and not named
            and not host.service_dns
            and not ctx.index.find("Service", namespace=namespace, name=host.name)
        ):
            continue  # an external name or a Service we cannot see
        if any(s.local for s in named):
            continue
        yield Violation(
            at=fact.anchor,
            message=f"{host.variable} {host.value!r} of {fact.resource} names a Service: UDP spans "
            "go to an agent on any node and are dropped silently under load; take the "
            "node's address from valueFrom.fieldRef.fieldPath: status.hostIP",
        )


RULE = Rule(
    id="J003",
    slug="jaeger-agent-behind-service",
    severity=Severity.WARNING,
    summary="Jaeger agents reached through a Service instead of on the local node",
    doc=__doc__ or "",
    collect=collect,
    check_run=check_run,
    kinds=WORKLOAD_KINDS | {"Service"},
)
