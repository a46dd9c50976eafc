"""
## What it does
Reports a `# meshlint: ignore[...]` comment, a `# meshlint: ignore-file[...]`
comment or a `meshlint.io/ignore` annotation that cannot be read (rules outside
brackets, `ignore:`, an unclosed bracket) or names a rule that does not exist:
always. With `--report-unused-ignores` (or `report-unused-ignores: true` in the
config) it also reports those that suppressed no finding in the run, like ruff's
RUF100. A directive naming only rules that did not run is left alone: nothing
can be said about them.

## Why is this bad?
A stale suppression hides the next real finding of that rule on that line or
object, and a misspelt rule id or a directive written without brackets never
suppressed anything in the first place.

## Example
```yaml
apiVersion: v1
kind: Pod
metadata:
  name: api
spec:
  containers:
    - name: api
      image: registry.example.com/api:2.3.0
      # meshlint: ignore[K001] the limit comes from a LimitRange
      resources:
        requests: {memory: 256Mi}
        limits: {memory: 256Mi}
```

## Use instead
```yaml
apiVersion: v1
kind: Pod
metadata:
  name: api
spec:
  containers:
    - name: api
      image: registry.example.com/api:2.3.0
      resources:
        requests: {memory: 256Mi}
        limits: {memory: 256Mi}
```

## References
- ruff, RUF100 unused-noqa, https://docs.astral.sh/ruff/rules/unused-noqa/
"""

from __future__ import annotations

from meshlint.core.model import Rule, Severity

RULE = Rule(
    id="M100",
    slug="unused-ignore",
    severity=Severity.WARNING,
    summary="An ignore comment or annotation suppresses nothing (with --report-unused-ignores)",
    doc=__doc__ or "",
)
