"""
## What it does
Flags Envoy stats inclusions that keep a whole family of per-cluster,
per-listener or per-connection-manager stats (or everything), where Istio
otherwise keeps its trimmed default set:

- `proxyStatsMatcher.inclusionRegexps` such as `.*` or `cluster\\..*`,
  `inclusionPrefixes` such as `cluster.`, `cluster.outbound`, `listener.` or
  `http.`, in IstioOperator `meshConfig.defaultConfig`, the `istio` mesh
  ConfigMap's `defaultConfig`, or a pod's `proxy.istio.io/config`;
- the same patterns in the deprecated `sidecar.istio.io/statsInclusionPrefixes`,
  `statsInclusionRegexps` and `statsInclusionSuffixes` annotations, which
  pilot-agent still honours (they replace the ProxyConfig lists).

Narrow inclusions (one cluster, one stat name across clusters) are not reported.

## Why is this bad?
Envoy keeps about a hundred stats per upstream cluster, and a sidecar has a
cluster for every service port in the mesh. Istio trims them for exactly this
reason ("to reduce memory and CPU overhead", istio/api `proxy.proto`;
istio#11322, #23166): including a whole family multiplies every proxy's memory
and every scrape by the size of the mesh.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews
  namespace: bookinfo
spec:
  selector:
    matchLabels: {app: reviews}
  template:
    metadata:
      labels: {app: reviews}
      annotations:
        proxy.istio.io/config: |
          proxyStatsMatcher:
            inclusionRegexps:
              - ".*"
    spec:
      containers:
        - name: reviews
          image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3
          resources:
            limits: {memory: 256Mi}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: reviews
  namespace: bookinfo
spec:
  selector:
    matchLabels: {app: reviews}
  template:
    metadata:
      labels: {app: reviews}
      annotations:
        proxy.istio.io/config: |
          proxyStatsMatcher:
            inclusionRegexps:
              - ".*outlier_detection.*"
            inclusionPrefixes:
              - "cluster.outbound|9080||ratings.bookinfo.svc.cluster.local"
    spec:
      containers:
        - name: reviews
          image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3
          resources:
            limits: {memory: 256Mi}
```

## References
- istio/api `mesh/v1alpha1/proxy.proto` (`ProxyStatsMatcher`)
- istio 1.21.6 and 1.27.0 `pkg/bootstrap/config.go` (`getStatsOptions`:
  annotations replace the ProxyConfig lists; both add to the required set)
- istio/istio#11322, #23166 (stats trimmed for proxy memory)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.istio import inclusions, kept_text, wide
from meshlint.domain.k8s import WORKLOAD_KINDS


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for host, path, kind, pattern, surface in inclusions(doc):
        families = wide(kind, pattern)
        if not families:
            continue
        yield Violation(
            at=host.locate(path),
            message=f"{surface} includes {kind} {pattern!r}, which keeps "
            f"{kept_text(kind, pattern, families)}: proxy memory and scrapes grow with the mesh instead of "
            "Istio's trimmed default",
        )


RULE = Rule(
    id="I008",
    slug="istio-proxy-stats-too-wide",
    severity=Severity.WARNING,
    summary="Envoy stats inclusion keeps whole stat families instead of Istio's trimmed default",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | {"IstioOperator", "ConfigMap"},
)
