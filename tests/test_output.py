"""Every report format against its schema or parser: SARIF (the official 2.1.0
schema), JUnit (xml.etree), GitHub workflow commands, JSON (our schema)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import COLLECTOR, ROOT, RULES, lint_text, require_shared
from meshlint.core.model import Finding, Location, Resource, Severity
from meshlint.core.report import Report
from meshlint.output import Options, renderer
from meshlint.output.github_format import escape_data, escape_property

SARIF_SCHEMA = ROOT.parent / "shared" / "reference" / "sarif-schema-2.1.0.json"

# A collector whose GOMEMLIMIT Go cannot parse (K004) and whose memory request
# is below its limit (K003), next to a Service without findings.
MANIFEST = (
    COLLECTOR
    + """\
---
apiVersion: v1
kind: Service
metadata:
  name: otel-collector
  namespace: observability
spec:
  selector: {app: otel-collector}
  ports: [{name: otlp-grpc, port: 4317}]
"""
)

HELM_STREAM = "---\n# Source: collector/templates/deployment.yaml\n" + MANIFEST


def make(location: Location, rule_id: str, message: str) -> Finding:
    rule = RULES[rule_id]
    return Finding.make(location, rule, rule.severity, message)


def render(name: str, report: Report) -> str:
    return renderer(name)(report, Options(rules=RULES))


def sarif(report: Report) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render("sarif", report))
    return data


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    require_shared(SARIF_SCHEMA, "the SARIF 2.1.0 schema")
    schema: dict[str, Any] = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    return schema


def test_sarif_validates_against_the_official_schema(sarif_schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(
        sarif_schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    for text, name in ((MANIFEST, "deploy/collector.yaml"), (HELM_STREAM, "-")):
        report = lint_text(text, name=name)
        report.errors.append("deploy/missing.yaml: no such file or directory")
        assert report.findings
        errors = sorted(validator.iter_errors(sarif(report)), key=str)
        assert errors == [], errors[0].message if errors else ""
    validator.validate(sarif(Report()))


def test_sarif_driver_describes_every_rule() -> None:
    driver = sarif(lint_text(MANIFEST))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "meshlint" and driver["version"]
    assert driver["informationUri"].startswith("https://")
    assert [r["id"] for r in driver["rules"]] == list(RULES)
    for descriptor in driver["rules"]:
        rule = RULES[descriptor["id"]]
        assert descriptor["name"] == rule.slug
        assert descriptor["shortDescription"]["text"] == rule.summary
        assert descriptor["fullDescription"]["text"]
        assert "## Why is this bad?" in descriptor["help"]["markdown"]
        assert descriptor["help"]["text"]
        level = {"error": "error", "warning": "warning", "info": "note"}[str(rule.severity)]
        assert descriptor["defaultConfiguration"]["level"] == level
    k004 = next(r for r in driver["rules"] if r["id"] == "K004")
    assert "Go runtime cannot parse" in k004["fullDescription"]["text"]


def test_sarif_results_are_what_github_code_scanning_accepts() -> None:
    report = lint_text(MANIFEST, name="deploy/collector.yaml")
    run = sarif(report)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [(r["ruleId"], r["level"]) for r in run["results"]] == [
        ("K004", "error"),
        ("K003", "note"),
    ]
    for result, finding in zip(run["results"], report.findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"] == finding.message
        (location,) = result["locations"]
        physical = location["physicalLocation"]
        assert physical["artifactLocation"] == {
            "uri": "deploy/collector.yaml",
            "uriBaseId": "%SRCROOT%",
        }
        assert physical["region"]["startLine"] == finding.location.line
        assert physical["region"]["startColumn"] == finding.location.column
        assert location["logicalLocations"][0]["fullyQualifiedName"] == (
            "Deployment/observability/otel-collector"
        )
        assert result["properties"]["path"] == finding.location.path
        assert result["partialFingerprints"]
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert run["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 13


def test_sarif_paths_are_never_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    report = lint_text(MANIFEST, name=str(tmp_path / "deploy" / "collector.yaml"))
    for result in sarif(report)["runs"][0]["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "deploy/collector.yaml"


def test_sarif_uris_are_percent_encoded() -> None:
    report = lint_text(HELM_STREAM, name="my deploy/a:b#1.yaml")
    result = sarif(report)["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "my%20deploy/a%3Ab%231.yaml"


def test_sarif_fingerprints_survive_lines_added_above() -> None:
    before = sarif(lint_text(MANIFEST))["runs"][0]["results"]
    moved = "# rendered by our pipeline\n# do not edit\n" + MANIFEST
    after = sarif(lint_text(moved))["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [
        r["locations"][0]["physicalLocation"]["region"]["startLine"] + 2 for r in before
    ]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]


def test_sarif_carries_the_helm_template() -> None:
    result = sarif(lint_text(HELM_STREAM, name="-"))["runs"][0]["results"][0]
    assert result["properties"]["helmSource"] == "collector/templates/deployment.yaml"
    related = result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]
    assert related["uri"] == "collector/templates/deployment.yaml"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 15


def test_sarif_reports_run_errors_as_notifications() -> None:
    report = lint_text(MANIFEST)
    report.errors.append("gone.yaml: cannot read: Permission denied")
    (invocation,) = sarif(report)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["message"]["text"].startswith("gone.yaml")


def junit(report: Report) -> ET.Element:
    text = render("junit", report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(text.encode("utf-8"))


def test_junit_has_a_testcase_per_resource_and_a_failure_per_failing_one() -> None:
    report = lint_text(MANIFEST, name="deploy/collector.yaml", list_resources=True)
    root = junit(report)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "deploy/collector.yaml"
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name")) for c in cases] == [
        ("deploy/collector.yaml", "Deployment/observability/otel-collector"),
        ("deploy/collector.yaml", "KubeletConfiguration/<unnamed>"),
        ("deploy/collector.yaml", "Service/observability/otel-collector"),
    ]
    deployment, kubelet, service = cases
    assert kubelet.findall("failure") == []
    (failure,) = deployment.findall("failure")
    assert failure.get("message") == (
        "2 findings: K004 gomemlimit-invalid, K003 memoryqos-throttling-risk"
    )
    text = failure.text or ""
    assert "deploy/collector.yaml:13:41: K004 [error] gomemlimit-invalid" in text
    assert "deploy/collector.yaml:15:32: K003 [info] memoryqos-throttling-risk" in text
    assert "$.spec.template.spec.containers[0].env[0].value" in text
    assert service.findall("failure") == []
    for element in (root, suite):
        assert element.get("tests") == "3" and element.get("failures") == "1"
        assert element.get("errors") == "0"


def test_junit_follows_the_gate_findings_below_it_pass() -> None:
    info_only = MANIFEST.replace("value: 400Mi}", "value: 400MiB}")  # K003 (info) is left
    report = lint_text(info_only, name="deploy/collector.yaml", list_resources=True)
    assert [f.rule for f in report.findings] == ["K003"]
    root = ET.fromstring(renderer("junit")(report, Options(rules=RULES)).encode())
    deployment = root.findall(".//testcase")[0]
    assert deployment.findall("failure") == [] and root.get("failures") == "0"
    assert "K003 [info] memoryqos-throttling-risk" in (deployment.findtext("system-out") or "")
    strict = renderer("junit")(report, Options(rules=RULES, fail_on=Severity.INFO))
    assert ET.fromstring(strict.encode()).get("failures") == "1"


def test_junit_keeps_findings_outside_objects_and_run_errors() -> None:
    broken = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\n"
    report = lint_text(broken, name="broken.yaml", list_resources=True)
    report.errors.append("gone.yaml: cannot read: Permission denied")
    root = junit(report)
    names = [(c.get("classname"), c.get("name")) for c in root.iter("testcase")]
    assert ("broken.yaml", "(file)") in names
    assert root.find(".//testcase[@name='(file)']/failure") is not None
    (error,) = root.iter("error")
    assert error.get("message") == "gone.yaml: cannot read: Permission denied"
    assert root.get("errors") == "1"


def test_junit_escapes_markup_and_control_characters() -> None:
    location = Location("a&b.yaml", 3, 5, "$.data", Resource("v1", "ConfigMap", None, "<x>"))
    finding = make(location, "K004", 'bad "<v>"\x07 & ]]>')
    report = Report(findings=[finding], resources=[location])
    case = junit(report).find(".//testcase")
    assert case is not None and case.get("name") == "ConfigMap/<x>"
    failure = case.find("failure")
    assert failure is not None and failure.get("message") == 'bad "<v>"\\x07 & ]]>'


GITHUB_LINE = re.compile(r"^::(?P<level>error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)$")


def test_github_annotations_name_file_line_column_and_rule() -> None:
    report = lint_text(MANIFEST, name="deploy/collector.yaml")
    lines = render("github", report).splitlines()
    assert len(lines) == 2
    parsed = [GITHUB_LINE.match(line) for line in lines]
    assert all(parsed)
    error, notice = (m for m in parsed if m)
    assert error["level"] == "error" and notice["level"] == "notice"
    assert (
        error["props"] == "file=deploy/collector.yaml,line=13,col=41,title=K004 gomemlimit-invalid"
    )
    assert error["message"] == report.findings[0].message
    warning = make(Location("a.yaml", 1, 1), "K001", "m")
    assert render("github", Report(findings=[warning])).startswith("::warning file=a.yaml,")


def test_github_escapes_per_the_workflow_command_rules() -> None:
    assert escape_data("90% of\r\nlimit") == "90%25 of%0D%0Alimit"
    assert escape_property("a,b: 5%\n") == "a%2Cb%3A 5%25%0A"
    odd = make(Location("x,y:z.yaml", 2, 3), "K004", "50%\nx")
    (line,) = render("github", Report(findings=[odd])).splitlines()
    assert line == (
        "::error file=x%2Cy%3Az.yaml,line=2,col=3,title=K004 gomemlimit-invalid::50%25%0Ax"
    )


def test_github_names_the_helm_template() -> None:
    line = render("github", lint_text(HELM_STREAM, name="-")).splitlines()[0]
    assert line.endswith("(Helm template collector/templates/deployment.yaml)")


def test_json_validates_against_the_findings_schema() -> None:
    schema = json.loads(
        resources.files("meshlint.schemas").joinpath("findings.schema.json").read_text("utf-8")
    )
    report = lint_text(HELM_STREAM, name="-")
    report.baselined = 3
    data = json.loads(render("json", report))
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["summary"]["baselined"] == 3


def test_every_format_renders_an_empty_report() -> None:
    for name in ("text", "json", "sarif", "junit", "github"):
        assert isinstance(render(name, Report()), str)
