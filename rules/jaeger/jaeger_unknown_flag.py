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
from collections import Counter
from collections.abc import Iterator

from meshlint import MAX_FINDINGS_PER_RULE, Context, Document, Fix, Rule, Severity, Violation
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
    reads_as,
)
from meshlint.domain.k8s import WORKLOAD_KINDS, Container, EnvVar, containers_of

_TYPES = {
    "i": "an integer",
    "u": "an unsigned integer",
    "f": "a number",
    "d": "a duration",
    "s": "a value",
}


class _Suggestions:
    """ "Did you mean" and renames for the unknown names of one document that the
    report shows: the engine shows MAX_FINDINGS_PER_RULE of a document's findings,
    and the file's search budget (``Document.may_search``) bounds a file of many
    documents that each name a hundred unknown flags."""

    def __init__(self, doc: Document) -> None:
        self.left = MAX_FINDINGS_PER_RULE
        self.doc = doc

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0 and self.doc.may_search()

    def find(self, wrong: str, names: list[str]) -> tuple[str, str | None]:
        """The hint for ``wrong`` (`` (did you mean --x?)`` or "") and the one name it
        is a misspelling of, if any; both empty when the budget is spent."""
        if not self.take():
            return "", None
        close = difflib.get_close_matches(wrong, names, n=1, cutoff=0.75)
        if not close:
            return "", None
        hint = f" (did you mean {'--' if wrong.islower() else ''}{close[0]}?)"
        return hint, _meant(wrong, close[0], names)


def _edits(a: str, b: str, bound: int) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment), or
    ``bound + 1`` as soon as it is sure to exceed ``bound``: only the cells within
    ``bound`` of the diagonal are computed, and a row above the bound ends it."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    over = bound + 1
    before: list[int] = []
    row = [j if j <= bound else over for j in range(len(b) + 1)]
    for i, x in enumerate(a, 1):
        earlier, before = before, row
        row = [i if i <= bound else over] + [over] * len(b)
        for j in range(max(1, i - bound), min(len(b), i + bound) + 1):
            y = b[j - 1]
            cost = min(before[j] + 1, row[j - 1] + 1, before[j - 1] + (x != y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                cost = min(cost, earlier[j - 2] + 1)
            row[j] = min(cost, over)
        if min(row) > bound:
            return over
    return row[-1]


def _meant(wrong: str, hint: str, names: list[str]) -> str | None:
    """The one real name ``wrong`` is a misspelling of: the ``hint``, when no other
    name is as close as a few edits (one per five characters, at least two). A
    name from another family (``base-path`` for ``query.base-path``) is a hint,
    never a rename."""
    bound = max(2, len(wrong) // 5)
    if _edits(wrong, hint, bound) > bound:
        return None
    letters = Counter(wrong)
    for name in names:
        if name == hint or abs(len(name) - len(wrong)) > bound:
            continue
        # each edit adds or removes at most one letter: a cheap lower bound first
        other = Counter(name)
        if max(sum((letters - other).values()), sum((other - letters).values())) > bound:
            continue
        if _edits(wrong, name, bound) <= bound:
            return None
    return hint


def _renamed(doc: Document, process: Process, setting: FlagValue, flag: str) -> Fix | None:
    """``setting`` under the real ``flag``, where the rename is exact: the flag part of
    a ``--flag=value`` arg, or an operator option's key. Not where the process
    sets ``flag`` already (one would silently override the other), nor where the
    value would not read as ``flag``'s type (the binary would still refuse it).
    Unsafe: the setting then takes effect (J001 judges the queue it may size)."""
    kind = flag_type(process.component, flag)
    if kind is None or any(s.flag == flag for s in process.settings):
        return None
    if setting.value is not None and not reads_as(kind, setting.value):
        return None
    title = f"rename --{setting.flag} to --{flag}"
    if setting.source == "arg":
        head = f"--{setting.flag}="
        if not setting.written.startswith(head):
            return None  # "--flag value" or a bare flag: what follows may change meaning
        written = f"--{flag}={setting.written[len(head) :]}"
        return Fix.unsafe(title, doc.set_value(setting.path, written))
    if setting.source == "option":
        key_path = setting.path if isinstance(setting.path[-1], str) else setting.path[:-1]
        key = str(key_path[-1])
        prefix = setting.flag[: len(setting.flag) - len(key)]
        if not setting.flag.endswith(key) or not flag.startswith(prefix) or flag == prefix:
            return None  # the name differs in a parent key that other options share
        return Fix.unsafe(title, doc.rename_key(key_path, flag[len(prefix) :]))
    return None


def _flag_verdict(
    doc: Document, process: Process, setting: FlagValue, suggest: _Suggestions
) -> Violation | None:
    kind = flag_type(process.component, setting.flag)
    if kind is None:
        hint, meant = suggest.find(setting.flag, list(known_flags(process.component)))
        return Violation(
            at=setting.path,
            message=f"{setting.written!r}: {process.label} has no flag --{setting.flag}"
            f"{hint} (catalogue: {CATALOGUE_VERSIONS}); "
            "the binary exits with 'unknown flag'",
            fix=_renamed(doc, process, setting, meant) if meant else None,
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


def _env_renamed(doc: Document, process: Process, var: EnvVar, name: str) -> Fix | None:
    """The env var under the ``name`` of a real flag (``_renamed``'s conditions)."""
    flag = env_flags(process.component)[name]
    kind = flag_type(process.component, flag)
    if kind is None or any(s.flag == flag for s in process.settings):
        return None
    if var.value is not None and not reads_as(kind, var.value):
        return None
    return Fix.unsafe(f"rename {var.name} to {name}", doc.set_value((*var.path, "name"), name))


def _env_verdicts(
    doc: Document, process: Process, container: Container, suggest: _Suggestions
) -> Iterator[Violation]:
    """Env vars in a Jaeger flag namespace that name no flag: viper ignores them."""
    by_env = env_flags(process.component)
    names = list(by_env)
    for var in container.env():
        if not owns_env(var.name) or var.name in by_env:
            continue
        hint, meant = suggest.find(var.name, names)
        yield Violation(
            at=(*var.path, "name"),
            message=f"env {var.name} of {process.label} maps to no flag of the component"
            f"{hint}: Jaeger ignores it silently "
            "and the setting keeps its default",
            fix=_env_renamed(doc, process, var, meant) if meant else None,
        )


def check(doc: Document, ctx: Context) -> Iterator[Violation]:
    suggest = _Suggestions(doc)
    if doc.kind == "Jaeger":
        for process in cr_processes(doc.data):
            for setting in process.settings:
                verdict = _flag_verdict(doc, process, setting, suggest)
                if verdict is not None:
                    yield verdict
        return
    for container in containers_of(doc):
        found = container_process(container)
        if found is None:
            continue
        for setting in found.settings:
            verdict = (
                _flag_verdict(doc, found, setting, suggest) if setting.source == "arg" else None
            )
            if verdict is not None:
                yield verdict
        yield from _env_verdicts(doc, found, container, suggest)


RULE = Rule(
    id="J004",
    slug="jaeger-unknown-flag",
    severity=Severity.ERROR,
    summary="A Jaeger v1 flag or env the component does not have, or a flag with no value",
    doc=__doc__ or "",
    check=check,
    kinds=WORKLOAD_KINDS | {"Jaeger"},
)
