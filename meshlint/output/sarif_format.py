"""SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

Paths are relative with ``uriBaseId: %SRCROOT%`` (code scanning rejects
absolute ones and resolves the rest against the checkout), levels are
``error``/``warning``/``note``, and ``partialFingerprints`` come from
``Finding.identity()`` so an alert survives edits that only move lines.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from meshlint.core.charts import fix_file
from meshlint.core.model import Finding, Rule, Severity
from meshlint.core.report import Report
from meshlint.core.version import __version__
from meshlint.output import (
    Options,
    plain_text,
    rule_description,
    rule_doc,
    rule_url,
)
from meshlint.output.terminal import PIPE_WIDTH

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/meshlint/meshlint"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "meshlintIdentity/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    doc = rule_doc(rule)
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule_description(rule)},
        "help": {"text": plain_text(doc), "markdown": doc},
    }
    if url := rule_url(rule):
        descriptor["helpUri"] = url
    descriptor["defaultConfiguration"] = {"level": LEVELS[rule.severity]}
    descriptor["properties"] = {"tags": [rule.slug], "precision": "high"}
    return descriptor


def fingerprint(finding: Finding, occurrence: int) -> str:
    """Stable across line moves; ``occurrence`` tells identical identities apart."""
    text = "\0".join(finding.identity())
    # a file name that is not UTF-8 holds lone surrogates: hash its original bytes
    data = text.encode("utf-8", "surrogateescape")
    return f"{hashlib.sha256(data).hexdigest()}:{occurrence}"


def _uri(path: str) -> str:
    # Percent-encoded, ":" included: "a:b.yaml" would otherwise read as a scheme;
    # a byte that is not UTF-8 is encoded as itself ("bad%FF.yaml").
    return quote(path, safe="/", errors="surrogateescape")


def _root(options: Options) -> str:
    return os.path.abspath(options.sarif_root or os.curdir)


def _artifact(name: str, root: str) -> dict[str, Any]:
    """Relative to the root under ``%SRCROOT%``; a file outside it by its absolute
    ``file:`` URI (a ``../..`` path would resolve outside any checkout)."""
    if name == "-":
        return {"uri": "-", "uriBaseId": SRCROOT}
    absolute = os.path.abspath(name)
    try:
        rel = os.path.relpath(absolute, root)
    except ValueError:  # another drive on Windows
        rel = os.pardir
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return {"uri": Path(absolute).as_uri()}
    return {"uri": _uri(rel.replace(os.sep, "/")), "uriBaseId": SRCROOT}


def result(
    finding: Finding, rule_index: int | None, occurrence: int, root: str = ""
) -> dict[str, Any]:
    root = root or os.path.abspath(os.curdir)
    loc = finding.location
    region: dict[str, Any] = {"startLine": loc.line, "startColumn": loc.column}
    # a snippet is the whole line: none for a minified manifest's line of megabytes,
    # which each of its findings would repeat
    if loc.source_line and len(loc.source_line) <= PIPE_WIDTH:
        region["snippet"] = {"text": loc.source_line}
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": _artifact(loc.file, root), "region": region}
    }
    properties: dict[str, Any] = {"slug": finding.slug, "path": loc.path}
    if loc.resource is not None:
        resource = loc.resource
        location["logicalLocations"] = [
            {"name": resource.name or "", "fullyQualifiedName": str(resource), "kind": "object"}
        ]
        properties["resource"] = {
            "apiVersion": resource.api_version,
            "kind": resource.kind,
            "namespace": resource.namespace,
            "name": resource.name,
        }
    out: dict[str, Any] = {"ruleId": finding.rule}
    if rule_index is not None:
        out["ruleIndex"] = rule_index
    out.update(
        {
            "level": LEVELS[finding.severity],
            "message": {"text": finding.message},
            "locations": [location],
            "partialFingerprints": {FINGERPRINT: fingerprint(finding, occurrence)},
        }
    )
    if loc.scenarios:
        properties["helmValuesScenarios"] = list(loc.scenarios)
    if loc.values is not None:
        # the values file key the template line inserts: where a fix of the value goes
        key = loc.values
        out["relatedLocations"] = [
            {
                "id": 1,
                "physicalLocation": {
                    "artifactLocation": _artifact(key.file, root),
                    "region": {"startLine": key.line, "startColumn": key.column},
                },
                "message": {"text": f"the value is set here ({key.path.removeprefix('$.')})"},
            }
        ]
    if loc.rendered is not None and loc.scenarios:
        # a chart meshlint rendered itself: the stream is no file in the repository
        properties["helmSource"] = loc.source
        properties["rendered"] = {"stream": loc.rendered.file, "line": loc.rendered.line}
    elif loc.rendered is not None:
        # moved to the chart's template (core.helm): the rendered line is related
        properties["helmSource"] = loc.source
        rendered = loc.rendered
        out["relatedLocations"] = [
            {
                "id": 1,
                "physicalLocation": {
                    "artifactLocation": _artifact(rendered.file, root),
                    "region": {"startLine": rendered.line, "startColumn": rendered.column},
                },
                "message": {
                    "text": f"rendered from this template at {rendered.file}:{rendered.line}"
                },
            }
        ]
    elif loc.source:
        # The Helm template has no line of its own here (the region is in the
        # rendered stream), so it is a related location without a region.
        properties["helmSource"] = loc.source
        out["relatedLocations"] = [
            {
                "id": 1,
                "physicalLocation": {"artifactLocation": {"uri": _uri(loc.source)}},
                "message": {"text": f"rendered from the Helm template {loc.source}"},
            }
        ]
    if finding.fix is not None:
        fix = finding.fix
        replacements = [
            {
                "deletedRegion": {"byteOffset": e.start, "byteLength": e.end - e.start},
                "insertedContent": {"text": e.content},
            }
            for e in fix.edits
        ]
        out["fixes"] = [
            {
                "description": {"text": f"{fix.title} ({fix.applicability})"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(fix_file(finding), root),
                        "replacements": replacements,
                    }
                ],
            }
        ]
        properties["fixApplicability"] = str(fix.applicability)
    out["properties"] = properties
    return out


def document(report: Report, options: Options) -> dict[str, Any]:
    rules = list(options.rules.values())
    index = {rule.id: i for i, rule in enumerate(rules)}
    seen: Counter[tuple[str, str, str, str]] = Counter()
    root = _root(options)
    results = []
    for finding in report.findings:
        identity = finding.identity()
        seen[identity] += 1
        results.append(result(finding, index.get(finding.rule), seen[identity], root))
    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    if report.errors:
        invocation["toolExecutionNotifications"] = [
            {"level": "error", "message": {"text": error}} for error in report.errors
        ]
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "meshlint",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rule_descriptor(rule) for rule in rules],
                    }
                },
                "invocations": [invocation],
                "originalUriBaseIds": {SRCROOT: {"uri": Path(root).as_uri().rstrip("/") + "/"}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(report: Report, options: Options) -> str:
    return json.dumps(document(report, options), indent=2) + "\n"
