"""``check --show-settings`` and ``--show-files``: what a run would read and
with which settings, without linting (ruff has both)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from meshlint.core.config import Config
from meshlint.core.globs import relative
from meshlint.core.inputs import SKIPPED_DIRS, Discovery
from meshlint.core.loading import parse_bytes
from meshlint.core.model import Rule
from meshlint.core.plan import Plan
from meshlint.output.escape import line_start, visible

__all__ = ["files_listing", "settings_listing"]


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
    ]
    wide = max(len(key) for key, _ in rows)
    # values quote the config file, which a pull request may carry
    return "".join(f"{key + ':':<{wide + 1}} {visible(value)}\n" for key, value in rows)


def _mapping(values: Mapping[str, tuple[str, ...]]) -> str:
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in values.items()) or "(none)"


def files_listing(found: Discovery) -> str:
    """Each file a run would lint, and below it each document it would skip for
    having no apiVersion/kind; then the Helm chart templates a walk leaves out."""
    lines: list[str] = []
    for item in found.inputs:
        lines.append(line_start(relative(item.name, ".")))
        data = item.data
        if data is None:
            try:
                with open(item.file, "rb") as handle:
                    data = handle.read()
            except OSError as exc:
                lines.append(f"  cannot read: {visible(str(exc.strerror or exc))}")
                continue
        for line in parse_bytes(item.name, data).skipped_at:
            lines.append(f"  line {line}: document skipped: no apiVersion/kind")
    for template in found.templates:
        lines.append(f"{line_start(relative(template, '.'))}  (skipped: Helm chart template)")
    for error in found.errors:
        lines.append(f"error: {visible(error)}")
    return "".join(line + "\n" for line in lines)
