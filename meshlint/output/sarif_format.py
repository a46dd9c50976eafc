"""SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

Paths are relative with ``uriBaseId: %SRCROOT%`` (code scanning rejects
absolute ones and resolves the rest against the checkout), levels are
``error``/``warning``/``note``, and ``partialFingerprints`` come from
``Finding.identity()`` so an alert survives edits that only move lines.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any
from urllib.parse import quote

from meshlint.core.model import Finding, Rule, Severity
from meshlint.core.report import Report
from meshlint.core.version import __version__
from meshlint.output import ECHO_WIDTH, Options, relative_path, rule_description, rule_doc

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/meshlint/meshlint"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "meshlintIdentity/v1"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    doc = rule_doc(rule)
    return {
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": rule_description(rule)},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"tags": [rule.slug], "precision": "high"},
    }


def fingerprint(finding: Finding, occurrence: int) -> str:
    """Stable across line moves; ``occurrence`` tells identical identities apart."""
    text = "\0".join(finding.identity())
    return f"{hashlib.sha256(text.encode()).hexdigest()}:{occurrence}"


def _uri(path: str) -> str:
    # Percent-encoded, ":" included: "a:b.yaml" would otherwise read as a scheme.
    return quote(path, safe="/")


def _artifact(name: str) -> dict[str, Any]:
    return {"uri": _uri(relative_path(name)), "uriBaseId": SRCROOT}


def result(finding: Finding, rule_index: int | None, occurrence: int) -> dict[str, Any]:
    loc = finding.location
    region: dict[str, Any] = {"startLine": loc.line, "startColumn": loc.column}
    if loc.source_line and len(loc.source_line) <= ECHO_WIDTH:  # a snippet is the whole line
        region["snippet"] = {"text": loc.source_line}
    location: dict[str, Any] = {
        "physicalLocation": {"artifactLocation": _artifact(loc.file), "region": region}
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
    if loc.source:
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
    out["properties"] = properties
    return out


def document(report: Report, options: Options) -> dict[str, Any]:
    rules = list(options.rules.values())
    index = {rule.id: i for i, rule in enumerate(rules)}
    seen: Counter[tuple[str, str, str, str]] = Counter()
    results = []
    for finding in report.findings:
        identity = finding.identity()
        seen[identity] += 1
        results.append(result(finding, index.get(finding.rule), seen[identity]))
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
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def render(report: Report, options: Options) -> str:
    return json.dumps(document(report, options), indent=2) + "\n"
