"""
## What it does
Reports a Helm chart template given to meshlint as a manifest: a file under a
chart's `templates/` directory (a `Chart.yaml` in the directory above it), or a
file holding `{{ }}` actions that does not parse as YAML. It is reported once,
at the first action, instead of as YAML syntax errors. Directory walks skip
chart templates without a finding (`--statistics` and the summary count them).

## Why is this bad?
A template is Go text that becomes YAML only when Helm renders it with values:
its keys and values are not yet what the cluster receives, so linting it
reports what does not exist and misses what does. The rendered output is what
to lint: `helm template RELEASE ./chart | meshlint check - --chart-dir ./chart`
puts each finding back on the template line that writes the key.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "shop.fullname" . }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
```

## Use instead
```yaml
# helm template shop ./charts/shop | meshlint check - --chart-dir ./charts/shop
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
spec:
  replicas: 2
```

## References
- Helm, "helm template", https://helm.sh/docs/helm/helm_template/
- Helm, chart template guide, https://helm.sh/docs/chart_template_guide/
"""

from __future__ import annotations

from meshlint.core.model import Rule, Severity

RULE = Rule(
    id="M005",
    slug="helm-template-source",
    severity=Severity.ERROR,
    summary="A Helm chart template was given as a manifest; lint `helm template` output",
    doc=__doc__ or "",
)
