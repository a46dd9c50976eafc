"""What a run does, resolved once from the rules and the configuration: which
rules run, at which severity, with which parameters and context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from meshlint.core.config import Config, declared_facts, enabled, severity_override
from meshlint.core.model import Context, Fact, Rule, Severity


@dataclass(frozen=True)
class ActiveRule:
    rule: Rule
    severity: Severity  # after config overrides
    fixed_severity: bool  # config set it, so a rule's own choice does not apply
    context: Context

    @cached_property
    def collect_key(self) -> tuple[Any, ...]:
        """Rules of one pack share a collect function: what its result is kept by,
        once per document (worked out once per run, not per document)."""
        ctx = self.context
        return (self.rule.collect, tuple(sorted(ctx.params.items())), ctx.kube_version)


@dataclass(frozen=True)
class Plan:
    """What to run, resolved once from rules and config."""

    rules: tuple[ActiveRule, ...]
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    root: str = "."
    known: frozenset[str] = frozenset()  # ids and slugs of every rule in the catalogue
    report_unused: bool = False  # emit M100 for directives that suppressed nothing
    list_resources: bool = False  # keep every linted object (JUnit's testcases)
    declared: tuple[Fact, ...] = ()  # what the user says runs (--kube-version, cluster:)
    namespace: str | None = None  # where objects without a namespace are applied (--namespace)
    digests: bool = False  # note a digest of each file's bytes as linted (--fix)

    @classmethod
    def build(
        cls, rules: Mapping[str, Rule], config: Config, *, list_resources: bool = False
    ) -> Plan:
        chosen = []
        for rule in rules.values():
            if not enabled(rule, config):
                continue
            override = severity_override(config, rule)
            params = rule.defaults()
            declared = {p.name: p for p in rule.params}
            for key in (rule.id, rule.slug):
                for name, value in config.rules.get(key, {}).items():
                    # validated when the config was read; here frozen like the defaults
                    params[name] = declared[name].validate(value) if name in declared else value
            context = Context(params=params, kube_version=config.kube_version)
            chosen.append(
                ActiveRule(rule, override or rule.severity, override is not None, context)
            )
        known = frozenset(t for r in rules.values() for t in (r.id, r.slug))
        return cls(
            tuple(chosen),
            tuple(config.per_file_ignores.items()),
            config.root,
            known,
            config.report_unused_ignores,
            list_resources,
            declared_facts(config),
            config.namespace,
        )

    def get(self, rule_id: str) -> ActiveRule | None:
        return self._by_id.get(rule_id)

    def for_kind(self, kind: str) -> tuple[ActiveRule, ...]:
        """The rules that apply to objects of ``kind``, in order: asked once per
        document, worked out once per kind (up to a few hundred kinds)."""
        found = self._by_kind.get(kind)
        if found is None:
            found = tuple(a for a in self.rules if a.rule.applies_to(kind))
            if len(self._by_kind) < 512:
                self._by_kind[kind] = found
        return found

    @cached_property
    def _by_kind(self) -> dict[str, tuple[ActiveRule, ...]]:
        return {}

    @cached_property
    def _by_id(self) -> dict[str, ActiveRule]:
        return {a.rule.id: a for a in self.rules}
