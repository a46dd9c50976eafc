"""
## What it does
Reports a document that does not parse as YAML (or JSON), or a file that is not
valid UTF-8/UTF-16/UTF-32 text, at the line and column where the parser stopped.
The other documents of the same file are still linted.

## Why is this bad?
`kubectl apply` rejects the whole file, and `helm template | kubectl apply -f -`
stops at the broken document: everything after it is never applied. A linter
that skips such a file silently reports a clean run over a manifest that cannot
be deployed.

## Example
```yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  key: "unterminated
```

## Use instead
```yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  key: "terminated"
```

## References
- YAML 1.1 specification, https://yaml.org/spec/1.1/
"""

from __future__ import annotations

from meshlint.core.model import Rule, Severity

RULE = Rule(
    id="M001",
    slug="yaml-syntax-error",
    severity=Severity.ERROR,
    summary="A document does not parse as YAML/JSON or the file is not valid text",
    doc=__doc__ or "",
)
