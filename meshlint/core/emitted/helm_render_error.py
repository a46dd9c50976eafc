"""
## What it does
Reports a Helm chart, linted as a directory (`meshlint check charts/shop`), that
Helm cannot render with one of its values scenarios: Helm's own message, at the
template file and line Helm names (the chart's `Chart.yaml` when it names
none), with the scenario that broke it. The chart's other scenarios and every
other chart are still linted.

A chart whose `Chart.yaml` declares dependencies that are not under its
`charts/` is not rendered and not reported here: the chart is not at fault
(repositories leave fetching them to `helm dependency build`), so the run prints
one error line saying to run that first.

## Why is this bad?
A chart that does not render with the values a team ships cannot be
installed with them: `helm install` stops with the same message. Nothing of
what that scenario would deploy can be checked either, so the failure is a
finding rather than a silent skip.

## Example
```text
# charts/shop/templates/configmap.yaml, rendered with ci/prod-values.yaml,
# which leaves out `otel.endpoint`:
data:
  endpoint: {{ required "otel.endpoint is required" .Values.otel.endpoint }}
```

## Use instead
```text
# ci/prod-values.yaml sets what the template requires:
otel:
  endpoint: otel-collector.observability:4317
```

## References
- Helm, "helm template", https://helm.sh/docs/helm/helm_template/
- Helm, chart-testing `ci/*-values.yaml`, https://github.com/helm/chart-testing
"""

from __future__ import annotations

from meshlint.core.model import Rule, Severity

RULE = Rule(
    id="M006",
    slug="helm-render-error",
    severity=Severity.ERROR,
    summary="A Helm chart linted as a directory fails to render with one of its values scenarios",
    doc=__doc__ or "",
)
