"""
## What it does
Flags a `GOMEMLIMIT` environment value that the Go runtime cannot parse. Go
accepts only whole bytes with an optional `B`, `KiB`, `MiB`, `GiB` or `TiB`
suffix (`^[0-9]+(([KMGT]i)?B)?$`), or `off`.

Versions: Go 1.19 and later read GOMEMLIMIT. Official images whose tag names
a release built with an older Go never read it and are not judged: Jaeger v1
before 1.38.0, collector distributions before 0.61.0.

## Why is this bad?
The runtime reads `GOMEMLIMIT` before `main` and aborts with
`fatal error: malformed GOMEMLIMIT` on anything else. A Kubernetes-style
`400Mi`, a decimal `512M` or a fraction `1.5GiB` therefore crash-loops the
collector, agent or proxy on its first start.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: otel-collector
spec:
  template:
    spec:
      containers:
        - name: otel-collector
          image: otel/opentelemetry-collector-contrib:0.115.0
          env:
            - {name: GOMEMLIMIT, value: 400Mi}
          resources:
            limits: {memory: 512Mi}
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: otel-collector
spec:
  template:
    spec:
      containers:
        - name: otel-collector
          image: otel/opentelemetry-collector-contrib:0.115.0
          env:
            - {name: GOMEMLIMIT, value: 409MiB}
          resources:
            limits: {memory: 512Mi}
```

## References
- Go runtime documentation, GOMEMLIMIT, https://pkg.go.dev/runtime#hdr-Environment_Variables
- golang/go `src/runtime/string.go` `parseByteCount`
"""

from __future__ import annotations

from collections.abc import Iterator

from meshlint import Context, Document, Fix, Rule, Severity, Violation
from meshlint.domain.components import ignores_gomemlimit
from meshlint.domain.golang import (
    Malformed,
    gomemlimit_of,
    parse_gomemlimit,
    suggestion,
)
from meshlint.domain.k8s import WORKLOAD_KINDS, containers_of, has_variable_reference


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for container in containers_of(doc):
        var = gomemlimit_of(container)
        if var is None or var.value is None or has_variable_reference(var.value):
            continue
        if ignores_gomemlimit(container):
            continue  # built with Go < 1.19: the variable is never read
        try:
            parse_gomemlimit(var.value)
        except Malformed:
            better = suggestion(var.value)
            hint = f" (write {better!r})" if better else ""
            path = (*var.path, "value")
            written = doc.written(path) or var.value  # `value: no` reads as "false"
            yield Violation(
                at=path,
                message=f'GOMEMLIMIT {written!r} of container "{container.name}" is not a Go byte '
                f'count{hint}: the Go runtime aborts at start-up with "malformed GOMEMLIMIT"',
                # the same number of bytes in Go's spelling: what the user meant
                fix=Fix.safe(f"write {better}", doc.set_value(path, better)) if better else None,
            )


RULE = Rule(
    id="K004",
    slug="gomemlimit-invalid",
    severity=Severity.ERROR,
    summary="GOMEMLIMIT is not a Go byte count (e.g. 400Mi): the process aborts at start",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS,
)
