"""Issue #29, --fix data loss: the M100 fix removes comments only, never text
inside a string; no line break makes a deletion run on; every document kind is
checked after a fix; a refused fix is not counted; deep nesting does not abort."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from test_cli_installed import console_script

from meshlint.core import fixing
from meshlint.core.model import Applicability, Edit, Finding, Fix, Location, Severity


def _meshlint(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
        check=False,
    )


def test_the_issue_repro_ignore_text_in_strings_is_no_directive(tmp_path: Path) -> None:
    text = b"motd: |\n  a # meshlint: ignore[K9]\nurl: http://x/#meshlint:ignore[x]\n"
    (tmp_path / "v.yaml").write_bytes(text)
    check = _meshlint(tmp_path, "check", "--isolated", "v.yaml")
    assert "M100" not in check.stdout and check.returncode == 0
    fix = _meshlint(tmp_path, "check", "--isolated", "--fix", "v.yaml")
    assert "Traceback" not in fix.stderr and "Fixed" not in fix.stdout
    assert (tmp_path / "v.yaml").read_bytes() == text


@pytest.mark.parametrize(
    "value",
    [
        '"a # meshlint: ignore[K9]"',
        "'a # meshlint: ignore[K9]'",
        '"multi\n  line # meshlint: ignore[K9]"',
        ">\n    folded # meshlint: ignore[K9]\n    text",
        "|\n    # meshlint: ignore[K9] inside the text\n    x",
    ],
)
def test_directive_text_inside_a_value_is_neither_reported_nor_removed(
    tmp_path: Path, value: str
) -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: motd}\n"
        f"data:\n  motd: {value}\n  after: kept\n"
    ).encode()
    (tmp_path / "c.yaml").write_bytes(text)
    fix = _meshlint(tmp_path, "check", "--isolated", "--fix", "c.yaml")
    assert "M100" not in fix.stdout and "Fixed" not in fix.stdout
    assert (tmp_path / "c.yaml").read_bytes() == text


def test_a_file_that_does_not_parse_gets_no_fix(tmp_path: Path) -> None:
    text = "a: 1  # meshlint: ignore[K9]\nb: [\n"
    (tmp_path / "b.yaml").write_text(text)
    run = _meshlint(tmp_path, "check", "--isolated", "--fix", "b.yaml")
    assert "M001" in run.stdout and "Fixed" not in run.stdout
    assert (tmp_path / "b.yaml").read_text() == text


def test_a_real_comment_after_a_block_scalar_header_is_still_a_directive(tmp_path: Path) -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  m: | # meshlint: ignore[K9]\n    x\n"
    (tmp_path / "c.yaml").write_text(text)
    run = _meshlint(tmp_path, "check", "--isolated", "c.yaml")
    assert "c.yaml:5:8: M100" in run.stdout


@pytest.mark.parametrize("brk", ["\x85", "\u2028", "\u2029"])
def test_odd_line_breaks_never_make_a_deletion_run_on(tmp_path: Path, brk: str) -> None:
    # the issue's case: the directive is text in a block scalar, NEL-broken
    inside = f"motd: |{brk}  a # meshlint: ignore[K9]{brk}url: x\nother: 1\n".encode()
    (tmp_path / "v.yaml").write_bytes(inside)
    fix = _meshlint(tmp_path, "check", "--isolated", "--fix", "v.yaml")
    assert "Traceback" not in fix.stderr
    assert (tmp_path / "v.yaml").read_bytes() == inside
    # a real comment on a line that ends in the odd break: only the comment goes
    head = "apiVersion: v1\nkind: ConfigMap\n"
    real = f"{head}metadata: {{name: a}}  # meshlint: ignore[K9]{brk}data: {{b: '2'}}\n"
    (tmp_path / "r.yaml").write_bytes(real.encode())
    fix = _meshlint(tmp_path, "check", "--isolated", "--fix", "r.yaml")
    after = (tmp_path / "r.yaml").read_bytes().decode()
    assert after == real.replace("  # meshlint: ignore[K9]", "")
    # a directive on a line of its own: that line, up to its own break, goes
    own = f"{head}# meshlint: ignore[K9]{brk}metadata: {{name: a}}\ndata: {{b: '2'}}\n"
    (tmp_path / "o.yaml").write_bytes(own.encode())
    _meshlint(tmp_path, "check", "--isolated", "--fix", "o.yaml")
    assert (tmp_path / "o.yaml").read_bytes().decode() == (
        f"{head}metadata: {{name: a}}\ndata: {{b: '2'}}\n"
    )


def test_a_fix_that_changes_a_document_without_kind_is_refused() -> None:
    """The check after a fix covers documents without apiVersion/kind too."""
    data = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\nvalues: {keep: 1}\n"
    start = data.index(b"keep: 1")
    edit = Edit(start, start + len(b"keep: 1"), "keep: 2")
    fix = Fix(title="a fix that strays", applicability=Applicability.SAFE, edits=(edit,))
    finding = Finding(
        "M100", "unused-ignore", Severity.WARNING, "x", Location("f.yaml", 5, 10), fix
    )
    outcome = fixing.apply("f.yaml", data, [finding])
    assert outcome.data == data and outcome.rejected == [finding]


def test_a_fix_that_is_not_written_is_not_counted(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "real.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y}  # meshlint: ignore[K0]\n"
    )
    os.symlink("real.yaml", tmp_path / "t" / "link.yaml")
    run = _meshlint(tmp_path, "check", "--isolated", "--fix", "t/link.yaml")
    assert "not fixed" in run.stderr
    assert "Fixed" not in run.stdout and run.returncode == 1


def test_deep_nesting_does_not_abort_the_fix_run(tmp_path: Path) -> None:
    for depth in (400, 500):
        deep = "[" * depth + "]" * depth
        text = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}  # meshlint: ignore[K0]\nz: {deep}\n"
        (tmp_path / "d.yaml").write_text(text)
        run = _meshlint(tmp_path, "check", "--isolated", "--fix", "d.yaml")
        assert "Traceback" not in run.stderr and "internal" not in run.stderr
        assert run.returncode == 0 and "Fixed 1" in run.stdout
        assert (tmp_path / "d.yaml").read_text() == text.replace("  # meshlint: ignore[K0]", "")


def test_the_m100_fix_is_not_offered_in_a_document_without_kind(tmp_path: Path) -> None:
    values = "replicas: 2  # meshlint: ignore[K9]\nimage: {tag: '1.4'}\n"
    pod = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}  # meshlint: ignore[K8]\n"
    (tmp_path / "both.yaml").write_text(values + "---\n" + pod)
    check = _meshlint(tmp_path, "check", "--isolated", "both.yaml")
    assert "both.yaml:1:14: M100" in check.stdout and "both.yaml:6:22: M100" in check.stdout
    assert "1 fixable" in check.stdout
    fix = _meshlint(tmp_path, "check", "--isolated", "--fix", "both.yaml")
    assert "Fixed 1" in fix.stdout
    assert (tmp_path / "both.yaml").read_text() == values + "---\n" + pod.replace(
        "  # meshlint: ignore[K8]", ""
    )
