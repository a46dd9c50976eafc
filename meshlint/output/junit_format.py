"""JUnit XML: a testsuite per file, a testcase per linted resource.

``classname`` is the file and ``name`` is ``Kind/namespace/name``, so GitLab's
and Jenkins' test reports list every object that was checked. A resource with
findings gets one ``<failure>`` holding all of them: most JUnit readers
(Jenkins, GitLab and many others) show only the first ``<failure>`` of a
testcase, so several would hide findings. The testcases follow the gate: an
object whose findings are all below ``--fail-on`` passes, its findings listed in
``<system-out>``, so a pipeline that exits 0 shows no failed test. Findings
outside any object (a YAML syntax error, an unused file-wide ignore) go to a
``(file)`` testcase, and run errors (an unreadable path) to ``<error>`` testcases.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable

from meshlint.core.model import Finding, Resource, Severity
from meshlint.core.report import Report
from meshlint.output import Options, relative_path

FILE_CASE = "(file)"
# XML 1.0 forbids most control characters even as references; messages quote
# user values, which can hold them.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

Key = tuple[str, Resource | None]


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _case_name(resource: Resource | None) -> str:
    return str(resource) if resource is not None else FILE_CASE


def _finding_line(f: Finding) -> str:
    loc = f.location
    line = (
        f"{relative_path(loc.file)}:{loc.line}:{loc.column}: {f.rule} [{f.severity}] "
        f"{f.slug}  {f.message}"
    )
    details = [f"    at {loc.path}"]
    if loc.source:
        details.append(f"    from {loc.source}")
    return "\n".join([line, *details])


def _cases(report: Report) -> dict[str, dict[Key, list[Finding]]]:
    """file -> (file, resource) -> findings, in the order objects were read."""
    by_file: dict[str, dict[Key, list[Finding]]] = defaultdict(dict)
    for anchor in report.resources:
        by_file[anchor.file].setdefault((anchor.file, anchor.resource), [])
    for finding in report.findings:
        loc = finding.location
        file = loc.rendered.file if loc.rendered is not None else loc.file  # the object's file
        by_file[file].setdefault((file, loc.resource), []).append(finding)
    return by_file


def _failure(case: ET.Element, findings: Iterable[Finding]) -> None:
    found = list(findings)
    rules = ", ".join(dict.fromkeys(f"{f.rule} {f.slug}" for f in found))
    first = found[0]
    message = first.message if len(found) == 1 else f"{len(found)} findings: {rules}"
    failure = ET.SubElement(case, "failure", {"message": _clean(message), "type": _clean(rules)})
    failure.text = _clean("\n".join(_finding_line(f) for f in found))


def _counts(tests: int, failures: int, errors: int) -> dict[str, str]:
    # A lint has no durations; "0" keeps readers that require the attribute happy.
    return {
        "tests": str(tests),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": "0",
    }


def _case(suite: ET.Element, classname: str, name: str) -> ET.Element:
    attributes = {"classname": classname, "name": _clean(name), "time": "0"}
    if classname != "meshlint":
        attributes["file"] = classname  # GitLab links the test to this file
    return ET.SubElement(suite, "testcase", attributes)


def _passing(case: ET.Element, findings: Iterable[Finding]) -> None:
    out = ET.SubElement(case, "system-out")
    out.text = _clean("\n".join(_finding_line(f) for f in findings))


def document(report: Report, fail_on: Severity | None = Severity.WARNING) -> ET.Element:
    root = ET.Element("testsuites", {"name": "meshlint"})
    total = failed = 0
    for file, cases in _cases(report).items():
        name = _clean(relative_path(file))
        suite = ET.SubElement(root, "testsuite", {"name": name})
        suite_failed = 0
        for (_, resource), findings in cases.items():
            case = _case(suite, name, _case_name(resource))
            failing = fail_on is not None and any(f.severity >= fail_on for f in findings)
            if failing:
                suite_failed += 1
                _failure(case, findings)
            elif findings:
                _passing(case, findings)
        suite.attrib.update(_counts(len(cases), suite_failed, 0))
        total += len(cases)
        failed += suite_failed
    if report.errors:
        suite = ET.SubElement(root, "testsuite", {"name": "meshlint"})
        for number, error in enumerate(report.errors, 1):
            case = _case(suite, "meshlint", f"error {number}")
            attributes = {"message": _clean(error), "type": "error"}
            ET.SubElement(case, "error", attributes).text = _clean(error)
        suite.attrib.update(_counts(len(report.errors), 0, len(report.errors)))
    counts = _counts(total + len(report.errors), failed, len(report.errors))
    del counts["skipped"]
    root.attrib.update(counts)
    return root


def render(report: Report, options: Options) -> str:
    root = document(report, options.fail_on)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
