"""
## What it does
Reports a mapping that repeats a key, at the repeated key. Where a document
repeats its own `apiVersion` (or `kind`), an object was written after another
with no `---` line between them: that is one finding at the place, naming every
key repeated from there on, not one per key.

## Why is this bad?
What happens depends on the client. `kubectl apply -f`, `kubectl create -f`
and `kubectl apply --server-side` decode the YAML on the client
(sigs.k8s.io/yaml) and keep the last value: the request carries no duplicate,
so even the default `--validate=strict` (server-side field validation) has
nothing to see (kubernetes/kubernetes#125885 with kubectl 1.27, #99286, #89303).
Helm renders and sends the same way. kustomize (`kubectl apply -k`, yaml.v3)
refuses the file ("mapping key already defined"); only a raw JSON request with a
repeated field meets the API server's strict field validation (Kubernetes 1.25
on). So a second `env:` or `resources:` block pasted below the first usually
replaces it silently: the memory limit you reviewed is not the one applied. An
OpenTelemetry collector config refuses to load (its confmap decodes with yaml.v3).

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
- kubernetes/kubernetes#125885 (kubectl 1.27 sends only the last of two
  `containers:` keys, with `fieldValidation=Strict`), #99286, #89303; Kubernetes
  docs "Field validation" (server-side, 1.25 on: duplicate fields of a JSON body)
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
