"""Machine output, described by ``schemas/findings.schema.json``."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from meshlint.core.charts import fix_file
from meshlint.core.model import Finding
from meshlint.core.report import Report, portable_name
from meshlint.output import Options, fixable

VERSION = 1


def finding(f: Finding) -> dict[str, Any]:
    loc = f.location
    resource = loc.resource
    out: dict[str, Any] = {
        "rule": f.rule,
        "slug": f.slug,
        "severity": str(f.severity),
        "message": f.message,
        "file": portable_name(loc.file),
        "line": loc.line,
        "column": loc.column,
        "path": loc.path,
        "resource": {
            "apiVersion": resource.api_version if resource else None,
            "kind": resource.kind if resource else None,
            "namespace": resource.namespace if resource else None,
            "name": resource.name if resource else None,
        },
    }
    if loc.source:
        out["source"] = portable_name(loc.source)
    if loc.rendered is not None:
        rendered = loc.rendered
        out["rendered"] = {
            "file": portable_name(rendered.file),
            "line": rendered.line,
            "column": rendered.column,
        }
    if loc.scenarios:
        out["scenarios"] = list(loc.scenarios)
    if loc.values is not None:
        key = loc.values
        out["values"] = {
            "file": portable_name(key.file),
            "line": key.line,
            "column": key.column,
            "key": key.path,
        }
    if f.fix is not None:
        out["fix"] = {
            "title": f.fix.title,
            "applicability": str(f.fix.applicability),
            # byte offsets in the file; content replaces [start, end)
            "edits": [{"start": e.start, "end": e.end, "content": e.content} for e in f.fix.edits],
        }
        if (edited := fix_file(f)) != loc.file:
            out["fix"]["file"] = edited  # a chart's values file (core.charts)
    return out


def document(report: Report, options: Options) -> dict[str, Any]:
    levels = Counter(str(f.severity) for f in report.findings)
    rules = report.counts()
    return {
        "version": VERSION,
        "findings": [] if options.statistics else [finding(f) for f in report.findings],
        # read errors and rule failures: the run's exit code is 2 when there are any
        "errors": [portable_name(error) for error in report.errors],
        "summary": {
            "files": report.files,
            "documents": report.documents,
            "skipped": report.skipped,
            "helm_templates": report.templates,
            "not_manifests": report.not_manifests,
            "suppressed": report.suppressed,
            "baselined": report.baselined,
            "findings": len(report.findings),
            "fixable": sum(fixable(f, options) for f in report.findings),
            "fixed": report.fixed,
            "by_severity": {s: levels[s] for s in ("error", "warning", "info")},
            "by_rule": dict(sorted(rules.items())),
        },
    }


def render(report: Report, options: Options) -> str:
    return json.dumps(document(report, options), indent=2) + "\n"
