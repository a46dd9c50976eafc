"""A small third-party plugin, as a user would write one: one rule, one hook, and
its fixtures. It imports only meshlint's public API."""

from __future__ import annotations

from collections.abc import Iterator

import meshlint
from meshlint import Context, Document, Rule, Severity, Violation
from meshlint.domain.k8s import WORKLOAD_KINDS, containers


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    for container in containers(doc.data, doc.kind):
        if container.image.endswith(":latest"):
            yield Violation(
                at=(*container.path, "image"), message=f'Image "{container.image}" is mutable'
            )


RULE = Rule(
    id="ACM001",
    slug="acme-mutable-image",
    severity=Severity.WARNING,
    summary="An image uses the latest tag",
    doc=(
        "## What it does\nFlags `:latest` images.\n\n"
        "## Why is this bad?\nA rollback to `:latest` pulls whatever was pushed last.\n"
    ),
    check=check,
    kinds=WORKLOAD_KINDS,
)


@meshlint.hookimpl
def meshlint_rules() -> list[Rule]:
    return [RULE]


BAD = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop, namespace: acme}
spec:
  template:
    spec:
      containers:
        - name: web
          image: registry.acme.example/shop:latest  # [acme-mutable-image]
        - name: sidecar
          image: registry.acme.example/proxy:2.1.0
"""

GOOD = BAD.replace("shop:latest  # [acme-mutable-image]", "shop:4.2.0")
