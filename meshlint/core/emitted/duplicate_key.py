"""
## What it does
Reports a mapping that repeats a key, at the repeated key.

## Why is this bad?
Kubernetes (sigs.k8s.io/yaml) keeps the last value silently. A second `env:` or
`resources:` block pasted below the first replaces it: the memory limit you
reviewed is not the one that is applied.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: registry.example.com/app:1.4.2
      resources:
        limits: {memory: 512Mi}
      resources:
        requests: {memory: 256Mi}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: app
      image: registry.example.com/app:1.4.2
      resources:
        requests: {memory: 512Mi}
        limits: {memory: 512Mi}
```

## References
- YAML 1.2 §3.2.1.1: mapping keys are unique, https://yaml.org/spec/1.2.2/
"""

from __future__ import annotations

from meshlint.core.model import Rule, Severity

RULE = Rule(
    id="M002",
    slug="duplicate-key",
    severity=Severity.ERROR,
    summary="A mapping repeats a key; Kubernetes keeps the last one silently",
    doc=__doc__ or "",
)
