"""``check --show-settings`` and ``--show-files``: what a run would read and
with which settings, without linting (ruff has both)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshlint.core.charts import HOW_TO_RENDER, find_renderer
from meshlint.core.config import Config
from meshlint.core.files import Refused
from meshlint.core.globs import relative
from meshlint.core.inputs import SKIPPED_DIRS, Discovery
from meshlint.core.loading import parse_bytes
from meshlint.core.model import Cluster, Fact, Rule
from meshlint.core.plan import Plan
from meshlint.output.escape import line_start, visible

__all__ = ["facts_listing", "files_listing", "settings_listing"]


def settings_listing(config: Config, rules: Mapping[str, Rule], settings: Any) -> str:
    plan = Plan.build(rules, config)
    fail_on = str(config.fail_on) if config.fail_on is not None else "never"
    if config.path:
        source = config.path
    elif settings.isolated:
        source = "none (--isolated)"
    else:
        source = "none found (defaults)"
    rows = [
        ("config file", source),
        ("root", config.root),
        ("rules enabled", " ".join(a.rule.id for a in plan.rules)),
        ("fail-on", fail_on),
        ("kube-version", "{}.{}".format(*config.kube_version)),
        ("exclude", ", ".join(config.exclude) or "(none)"),
        ("force-exclude", str(settings.force_exclude).lower()),
        ("respect-gitignore", str(settings.respect_gitignore).lower()),
        ("skipped directories", ", ".join(sorted(SKIPPED_DIRS)) + ", hidden directories"),
        ("per-file-ignores", _mapping(config.per_file_ignores)),
        ("scopes", _mapping(config.scopes)),
        ("severity", ", ".join(f"{k}: {v}" for k, v in config.severity.items()) or "(none)"),
        ("plugins", ", ".join(config.plugins) or "(none)"),
        ("chart dirs", ", ".join(settings.chart_dirs) or "(none)"),
        ("helm", _renderer(settings)),
        ("charts", _charts(config.charts)),
        (
            "namespace",
            config.namespace
            or "(unset: a Helm stream's objects without one take the namespace its "
            "objects write; -v lists the joins not made)",
        ),
    ]
    wide = max(len(key) for key, _ in rows)
    # values quote the config file, which a pull request may carry
    return "".join(f"{key + ':':<{wide + 1}} {visible(value)}\n" for key, value in rows)


def _renderer(settings: Any) -> str:
    """What renders chart directories, and its version."""
    if not getattr(settings, "render_charts", True):
        return "not used (--no-render)"
    renderer = find_renderer()
    if renderer is None:
        return "none: " + HOW_TO_RENDER
    describe = getattr(renderer, "describe", None)
    return f"{renderer.name} {describe() if describe else renderer.version}"


def _charts(charts: Mapping[str, Mapping[str, Any]]) -> str:
    return "; ".join(f"{k}: {dict(v)}" for k, v in charts.items()) or "(none)"


def _mapping(values: Mapping[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in values.items()) or "(none)"


def files_listing(found: Discovery) -> str:
    """Each file a run would lint, and below it each document it would skip for
    having no apiVersion/kind; then the Helm chart templates a walk leaves out."""
    lines: list[str] = []
    for item in found.inputs:
        lines.append(line_start(relative(item.name, ".")))
        try:
            data = item.read()
        except Refused as exc:
            lines.append(f"  not read: {visible(str(exc))}")
            continue
        except OSError as exc:
            lines.append(f"  cannot read: {visible(str(exc.strerror or exc))}")
            continue
        for line in parse_bytes(item.name, data).skipped_at:
            lines.append(f"  line {line}: document skipped: no apiVersion/kind")
    for chart in found.charts:
        lines.append(f"{relative(chart, '.')}/  (Helm chart: rendered in each values scenario)")
    for template in found.templates:
        lines.append(f"{line_start(relative(template, '.'))}  (skipped: Helm chart template)")
    for error in found.errors:
        lines.append(f"error: {visible(error)}")
    return "".join(line + "\n" for line in lines)


_TOPICS = {
    "kube-version": "Kubernetes",
    "feature-gate": "feature gate",
    "kubelet": "kubelet",
    "istio": "Istio install",
    "component": "component",
}


def facts_listing(clusters: Mapping[str, Cluster]) -> str:
    """What runs, per join scope, each fact with where it was seen (docs/facts.md);
    a scope whose files state nothing shows only what the user declared."""
    lines = ["facts (per scope; declared facts apply to every scope):"]
    declared: list[Fact] = []
    for cluster in clusters.values():
        declared = [f for f in cluster.facts if f.declared]
        break
    for fact in declared:
        lines.append(f"  {_fact(fact)}")
    for scope, cluster in sorted(clusters.items()):
        found = [f for f in cluster.facts if not f.declared]
        if not found:
            continue
        lines.append(f"  scope {relative(scope, '.') if scope != '-' else 'stdin'}:")
        for fact in found:
            lines.append(f"    {_fact(fact)}")
    return "".join(visible(line) + "\n" for line in lines)


def _fact(fact: Fact) -> str:
    value = fact.value
    if isinstance(value, tuple):
        shown = ".".join(str(v) for v in value)
    elif isinstance(value, bool):
        shown = "on" if value else "off"
    else:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
    topic = _TOPICS.get(fact.topic, fact.topic)
    name = f" {fact.name}" if fact.name else ""
    if fact.topic == "istio":
        name = f" (revision {fact.name})" if fact.name else ""
        ns = f" in {fact.namespace}" if fact.namespace else ""
        name += ns
    how = f", {fact.detail}" if fact.detail else ""
    return f"{topic}{name}: {shown}  ({fact.source}{how})"
