"""``--report-unused-ignores``: suppression directives that suppressed nothing.

Like ruff's RUF100, each becomes a finding of its own (``M100 unused-ignore``,
a warning), so it shows in every format, can be baselined, and fails the run
under the default ``--fail-on warning``. A directive is reported when it names
an unknown rule, when it is a blanket directive, or when at least one rule it
names ran; a directive naming only rules that were not selected is left alone,
since nothing can be said about rules that did not run.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from meshlint.engine import Plan
from meshlint.model import Finding, Ignore, Location, Rule, Severity

RULE = Rule(
    id="M100",
    slug="unused-ignore",
    severity=Severity.WARNING,
    summary="A meshlint ignore comment or annotation suppresses nothing",
    doc="""
## What it does
Reported with `--report-unused-ignores`: a `# meshlint: ignore[...]` comment, a
`# meshlint: ignore-file[...]` comment or a `meshlint.io/ignore` annotation that
suppressed no finding in this run, or that names a rule that does not exist.

## Why is this bad?
A stale suppression hides the next real finding of that rule on that line or
object, and a misspelt rule id never suppressed anything.

## Example
```yaml
# meshlint: ignore[K001] the limit was added since
```

## Use instead
Delete the directive, or correct the rule id or slug it names.
""",
)

_WHERE = {
    "comment": "`# meshlint: ignore{rules}`",
    "file": "`# meshlint: ignore-file{rules}`",
    "annotation": 'annotation `meshlint.io/ignore: "{plain}"`',
}


def _known(token: str, rules: Mapping[str, Rule]) -> bool:
    return any(token in (r.id, r.slug) for r in rules.values())


def _active(token: str, plan: Plan) -> bool:
    return any(token in (a.rule.id, a.rule.slug) for a in plan.rules)


def _message(ignore: Ignore, rules: Mapping[str, Rule]) -> str:
    tokens = sorted(ignore.tokens)
    plain = ",".join(tokens)
    where = _WHERE.get(ignore.origin, _WHERE["comment"]).format(
        rules=f"[{plain}]" if tokens else "", plain=plain
    )
    unknown = [t for t in tokens if not _known(t, rules)]
    if unknown:
        names = ", ".join(repr(t) for t in unknown)
        return f"{where} names unknown rule {names}; `meshlint rules` lists them"
    return f"{where} suppresses nothing: no finding of {plain or 'any rule'} here"


def findings(unused: Iterable[Ignore], plan: Plan, rules: Mapping[str, Rule]) -> Iterator[Finding]:
    """One ``M100`` finding per directive worth reporting."""
    for ignore in unused:
        tokens = ignore.tokens
        reportable = (
            not tokens
            or any(not _known(t, rules) for t in tokens)
            or any(_active(t, plan) for t in tokens)
        )
        if not reportable:
            continue
        message = _message(ignore, rules)
        location = Location(file=ignore.file, line=ignore.line, column=ignore.column)
        yield Finding.make(location, RULE, RULE.severity, message)
