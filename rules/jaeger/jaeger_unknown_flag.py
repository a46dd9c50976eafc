"""
## What it does
Checks the flags and env vars given to Jaeger v1 collectors, agents, query
services and all-in-one containers against a catalogue of the flags those
binaries really have (every v1 release from 1.9 to 1.60, kept as data in
`meshlint/domain/jaeger/flags.py`). It reports:

- a `--flag` the component does not have, such as
  `--collector.dyn-queue-size-memory` (a name from the dynamic-queue proposal
  that never shipped) or a query option `base-path` that the operator renders
  as `--base-path`;
- an env var in a Jaeger flag namespace (`COLLECTOR_*`, `PROCESSOR_*`,
  `REPORTER_*`, `QUERY_*`) that maps to no flag of the component;
- a value-taking flag rendered with no value: the jaegertracing `jaeger` Helm
  chart v3 renders a falsy `cmdlineParams` value (`0`, `false`, `""`) as a bare
  `--collector.queue-size-memory`, and `--flag=` with nothing after it.

Container args, env, and the `Jaeger` CR's `spec.collector.options`,
`spec.agent.options`, `spec.query.options` and `spec.allInOne.options`
(flattened with `.`) are read. Storage flag families (`es.*`, `cassandra.*`,
`kafka.*`, ...) are not judged flag by flag.

## Why is this bad?
A v1 binary refuses to start on an unknown flag, so the pod crash-loops. An
env var that names no flag is worse: viper silently ignores it, and the queue
or port it was meant to set keeps its default. A bare value-taking flag either
stops the binary ("flag needs an argument") or swallows the next argument as
its value.

## Example
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-collector
spec:
  template:
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.57.0
          args: ["--collector.dyn-queue-size-memory=80"]
```

## Use instead
```yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: jaeger-collector
spec:
  template:
    spec:
      containers:
        - name: collector
          image: jaegertracing/jaeger-collector:1.57.0
          args: ["--collector.queue-size-memory=80"]
```

## References
- jaegertracing/jaeger#1985 (the merged flag is `collector.queue-size-memory`)
- `jaegertracing/documentation:data/cli/<version>/` (generated flag listings)
- `jaegertracing/helm-charts:charts/jaeger/templates/_helpers.tpl@jaeger-3.4.1`
  (`extra.cmdArgs` renders a falsy value as a bare flag)
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from meshlint import MAX_FINDINGS_PER_RULE, Context, Document, Rule, Severity, Violation
from meshlint.domain.jaeger import (
    CATALOGUE_VERSIONS,
    FlagValue,
    Process,
    container_process,
    cr_processes,
    env_flags,
    flag_type,
    known_flags,
    owns_env,
)
from meshlint.domain.k8s import WORKLOAD_KINDS, Container, containers

_TYPES = {
    "i": "an integer",
    "u": "an unsigned integer",
    "f": "a number",
    "d": "a duration",
    "s": "a value",
}


class _Hints:
    """ "Did you mean" for the unknown names of one document that the report shows.

    A difflib search costs about a third of a millisecond and a document may name
    a million unknown flags; the engine shows MAX_FINDINGS_PER_RULE of them.
    """

    def __init__(self) -> None:
        self.left = MAX_FINDINGS_PER_RULE

    def __call__(self, wrong: str, names: list[str]) -> str:
        if self.left <= 0:
            return ""
        self.left -= 1
        close = difflib.get_close_matches(wrong, names, n=1, cutoff=0.75)
        if not close:
            return ""
        return f" (did you mean {'--' if wrong.islower() else ''}{close[0]}?)"


def _flag_verdict(process: Process, setting: FlagValue, hints: _Hints) -> Violation | None:
    kind = flag_type(process.component, setting.flag)
    if kind is None:
        hint = hints(setting.flag, list(known_flags(process.component)))
        return Violation(
            at=setting.path,
            message=f"{setting.written!r}: {process.label} has no flag --{setting.flag}{hint} "
            f"(catalogue: {CATALOGUE_VERSIONS}); the binary exits with 'unknown flag'",
        )
    if kind in ("?", "b"):
        return None  # an open family's type is unknown; a bool may stand alone
    if setting.bare:
        return Violation(
            at=setting.path,
            message=f"{setting.written!r} of {process.label} has no value: --{setting.flag} takes "
            f"{_TYPES[kind]}, so the binary stops or swallows the next argument (a Helm "
            "chart renders a falsy value like 0 as a bare flag)",
        )
    if setting.empty and kind != "s":
        return Violation(
            at=setting.path,
            message=f"{setting.written!r} of {process.label} has an empty value: --{setting.flag} "
            f"takes {_TYPES[kind]}, and the binary refuses to start",
        )
    return None


def _env_verdicts(process: Process, container: Container, hints: _Hints) -> Iterator[Violation]:
    """Env vars in a Jaeger flag namespace that name no flag: viper ignores them."""
    by_env = env_flags(process.component)
    for var in container.env():
        if not owns_env(var.name) or var.name in by_env:
            continue
        yield Violation(
            at=(*var.path, "name"),
            message=f"env {var.name} of {process.label} maps to no flag of the component"
            f"{hints(var.name, list(by_env))}: Jaeger ignores it silently "
            "and the setting keeps its default",
        )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    hints = _Hints()
    if doc.kind == "Jaeger":
        for process in cr_processes(doc.data):
            for setting in process.settings:
                verdict = _flag_verdict(process, setting, hints)
                if verdict is not None:
                    yield verdict
        return
    for container in containers(doc.data, doc.kind):
        found = container_process(container)
        if found is None:
            continue
        for setting in found.settings:
            verdict = _flag_verdict(found, setting, hints) if setting.source == "arg" else None
            if verdict is not None:
                yield verdict
        yield from _env_verdicts(found, container, hints)


RULE = Rule(
    id="J004",
    slug="jaeger-unknown-flag",
    severity=Severity.ERROR,
    summary="A Jaeger v1 flag or env the component does not have, or a flag with no value",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | {"Jaeger"},
)
