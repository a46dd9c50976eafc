"""
## What it does
Reports an Istio install whose release has left upstream support: one finding
per install, on the line that sets its version (an IstioOperator `tag`, the
istiod/pilot image, a `helm.sh/chart: istiod-1.x` label, a gateway's `proxyv2`
image), naming the release and the day its support ended.

Facts it uses (docs/facts.md): the Istio versions meshlint reads per scope
(`meshlint check --show-settings` lists them). An install whose version is not
in the files is not judged (unknown is not end of life); a version declared in
the config (`cluster: {istio-version: ...}`) describes the cluster, not an
install in the files, and is not reported. OpenShift Service Mesh control
planes follow Red Hat's life cycle and are not judged.

Under an install long out of support (its release left support a year or
more before the newest end of support meshlint knows: Istio 1.25 and older
today), findings of other rules on the objects that install generates are not
reported one by one: its control plane, addons such as Grafana, Prometheus,
Kiali, Jaeger, Zipkin, Mixer and Citadel, its own EnvoyFilters and mesh
ConfigMap, recognised by the labels istioctl and the Istio charts put on them
(`release: istio`, `operator.istio.io/component`, an Istio chart label) in the
install's directory and namespace. Upgrading replaces them all. Objects the
user wrote (no such label) and workloads are still judged, and so is every
object of an install that left support recently: its settings outlive the
upgrade.

## Why is this bad?
An Istio release out of support gets no security fixes and no fixes for
critical bugs (istio.io: a minor release is supported until six weeks after
the N+2 minor release). Vendored release manifests (`istio-1.5.yaml`) keep
Mixer, Citadel and the demo addons of their time, whose problems are fixed
only by upgrading. Info by default: the upgrade is planned work.

## Example
```yaml
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: control-plane
  namespace: istio-system
spec:
  profile: default
  tag: 1.5.10
```

## Use instead
```yaml
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata:
  name: control-plane
  namespace: istio-system
spec:
  profile: default
  tag: 1.30.1
```

## References
- Istio supported releases and support policy,
  https://istio.io/latest/docs/releases/supported-releases/ (istio/istio.io
  `data/compatibility/supportStatus.yml`, `content/en/news/support/`)
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Rule, Severity, Violation
from meshlint.domain.istio import (
    SUPPORT_SOURCE,
    end_of_support,
    istio_installs,
    long_out_of_support,
)


def check_run(ctx: Context) -> Iterator[Violation]:
    if ctx.cluster is None:
        return
    for install in istio_installs(ctx.cluster):
        fact = install.fact
        day = end_of_support(fact.value)
        if day is None or fact.at is None:
            continue
        version = ".".join(str(v) for v in fact.value)
        revision = f" (revision {fact.name})" if fact.name else ""
        yield Violation(
            at=fact.at,
            message=f"Istio {version}{revision}, set by its {fact.detail}, left upstream "
            f"support on {day.isoformat()} ({SUPPORT_SOURCE}): upgrade the install to a "
            "supported release"
            + (
                "; findings inside the objects it generated are left to this one"
                if long_out_of_support(fact.value)
                else ""
            ),
        )


RULE = Rule(
    id="I009",
    slug="istio-end-of-life",
    severity=Severity.INFO,
    summary="An Istio install whose release has left upstream support",
    doc=__doc__ or "",
    check_run=check_run,
    kinds=frozenset(),
)
