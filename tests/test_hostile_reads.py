"""Issue #29, leaks: every read that can echo bytes goes through the one guarded
reader (meshlint.core.files.read_file): Helm placement never reads outside the
chart, and a path argument that is itself a link out is one error line."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from test_cli_installed import console_script
from test_untrusted import POD, SECRET, checkout, run_installed

__all__ = ["checkout"]  # the fixture, used by name

CHART = "apiVersion: v2\nname: shop\nversion: 0.1.0\n"
TEMPLATE = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}
spec:
  containers:
    - name: c
      image: x
"""


def _stream(source: str) -> str:
    """``helm template`` output whose ``# Source:`` line names ``source``."""
    return (
        f"---\n# Source: {source}\napiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\n"
        "spec: {containers: [{name: c, image: x}]}\n"
    )


@pytest.fixture
def chart(checkout: Path) -> Path:
    """``charts/shop`` in the checkout, and a secret beside the checkout."""
    shop = checkout / "charts" / "shop"
    (shop / "templates").mkdir(parents=True)
    (shop / "Chart.yaml").write_text(CHART)
    (shop / "templates" / "pod.yaml").write_text(TEMPLATE)
    (checkout.parent / "outside").mkdir()
    (checkout.parent / "outside" / "creds.txt").write_text(f"TOKEN={SECRET}\n")
    return shop


def _check_stdin(cwd: Path, stream: str, *args: str) -> str:
    """stdout and stderr of linting ``stream`` as stdin in text and SARIF (which
    must find the stream's K001)."""
    out = ""
    args = ("--isolated", *args)
    for fmt in ("text", "sarif"):
        run = subprocess.run(
            [console_script(), "check", "-", "--chart-dir", "charts/shop", *args, "--format", fmt],
            cwd=cwd,
            input=stream,
            capture_output=True,
            text=True,
            env={**os.environ, "SECRET_TOKEN": SECRET},
            timeout=120,
            check=False,
        )
        assert "Traceback" not in run.stderr
        assert run.returncode == 1, run.stderr
        out += run.stdout + run.stderr
    return out


@pytest.mark.parametrize(
    "source",
    [
        "shop/../../../outside/creds.txt",  # the repro: out of the repository
        "shop/../../outside/creds.txt",
        "shop/templates/../../../../outside/creds.txt",
    ],
)
def test_a_source_line_with_dot_dot_reads_nothing_outside_the_chart(
    chart: Path, source: str
) -> None:
    out = _check_stdin(chart.parent.parent, _stream(source))
    assert SECRET not in out
    assert "K001" in out  # still linted, at the stream's own line


def test_an_absolute_source_line_reads_nothing(chart: Path) -> None:
    creds = chart.parent.parent.parent / "outside" / "creds.txt"
    out = _check_stdin(chart.parent.parent, _stream(f"shop{creds}"))
    out += _check_stdin(chart.parent.parent, _stream(str(creds)))
    assert SECRET not in out


def test_a_template_linked_out_of_the_chart_is_not_read(chart: Path) -> None:
    environ = chart / "templates" / "env.yaml"
    os.symlink("/proc/self/environ", environ)
    os.symlink(chart.parent.parent.parent / "outside" / "creds.txt", chart / "templates" / "c.yaml")
    out = _check_stdin(chart.parent.parent, _stream("shop/templates/env.yaml"), "--no-color")
    out += _check_stdin(chart.parent.parent, _stream("shop/templates/c.yaml"))
    assert SECRET not in out
    assert "GITHUB" not in out and "PATH=" not in out


def test_a_committed_directory_link_in_the_chart_is_not_followed(chart: Path) -> None:
    os.symlink(chart.parent.parent.parent / "outside", chart / "templates" / "sub")
    out = _check_stdin(chart.parent.parent, _stream("shop/templates/sub/creds.txt"))
    assert SECRET not in out


def test_a_helper_linked_out_of_the_chart_is_not_read(chart: Path) -> None:
    """Named templates are read from every file of templates/: a link out is not."""
    (chart.parent.parent.parent / "outside" / "_helpers.tpl").write_text(
        '{{- define "shop.pod" -}}\n' + f"# {SECRET}\n" + "spec: {}\n{{- end -}}\n"
    )
    os.symlink(
        chart.parent.parent.parent / "outside" / "_helpers.tpl",
        chart / "templates" / "_helpers.tpl",
    )
    (chart / "templates" / "pod.yaml").write_text('{{ include "shop.pod" . }}\n')
    out = _check_stdin(chart.parent.parent, _stream("shop/templates/pod.yaml"))
    assert SECRET not in out


def test_placement_inside_the_chart_still_works(chart: Path) -> None:
    out = _check_stdin(chart.parent.parent, _stream("shop/templates/pod.yaml"))
    assert "charts/shop/templates/pod.yaml:6:" in out or "charts/shop/templates/pod.yaml:7:" in out


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    """A directory outside the checkout with a key in it (``~/secrets``)."""
    home = tmp_path / "home" / "secrets"
    home.mkdir(parents=True)
    (home / "key.yaml").write_text(
        f"apiVersion: v1\nkind: Secret\nmetadata: {{name: k}}\nstringData: {{key: {SECRET}}}\n"
        "x: [\n"  # broken: M001 echoes its line
    )
    return home


@pytest.mark.parametrize("arg", ["deploy", "deploy/", "deploy/key.yaml"])
def test_a_path_argument_linked_out_is_one_error_line(
    checkout: Path, secrets: Path, arg: str
) -> None:
    (checkout / "deploy" / "app.yaml").unlink()
    (checkout / "deploy").rmdir()
    os.symlink(secrets, checkout / "deploy")
    for fmt in ("text", "json", "sarif"):
        run = run_installed(checkout, "check", arg, "--isolated", "--format", fmt)
        assert SECRET not in run.stdout + run.stderr
        assert run.returncode == 2
        assert f"{arg}: symbolic link out of the linted tree and its repository" in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1


def test_a_path_reached_through_a_link_out_is_one_error_line(checkout: Path, secrets: Path) -> None:
    (secrets / "app").mkdir()
    (secrets / "app" / "key.yaml").write_text((secrets / "key.yaml").read_text())
    os.symlink(secrets, checkout / "deploy" / "vendor")
    run = run_installed(checkout, "check", "deploy/vendor/app", "--isolated")
    assert SECRET not in run.stdout + run.stderr
    assert run.returncode == 2
    assert "deploy/vendor/app: symbolic link out of" in run.stderr


def test_a_link_to_the_root_as_argument_does_not_walk_the_disk(checkout: Path) -> None:
    os.symlink("/", checkout / "d")
    run = run_installed(checkout, "check", "d/", "--isolated", "--format", "json")
    assert run.returncode == 2
    assert json.loads(run.stdout)["summary"]["files"] == 0
    assert "d/: symbolic link out of the linted tree and its repository" in run.stderr


def test_a_path_argument_linked_inside_the_repository_is_read(checkout: Path) -> None:
    os.symlink("deploy", checkout / "manifests")
    run = run_installed(checkout, "check", "manifests/", "--isolated")
    assert run.returncode == 1
    assert "K001" in run.stdout


def test_follow_links_reads_a_linked_argument(checkout: Path, secrets: Path) -> None:
    (secrets / "key.yaml").write_text(POD)
    os.symlink(secrets, checkout / "vendor")
    run = run_installed(checkout, "check", "vendor/", "--isolated", "--follow-links")
    assert run.returncode == 1
    assert "vendor/key.yaml:6:" in run.stdout


def test_a_chart_dir_linked_out_of_the_repository_is_refused(checkout: Path, secrets: Path) -> None:
    (secrets / "Chart.yaml").write_text(CHART)
    (checkout / "charts").mkdir()
    os.symlink(secrets, checkout / "charts" / "shop")
    run = subprocess.run(
        [console_script(), "check", "-", "--chart-dir", "charts/shop", "--isolated"],
        cwd=checkout,
        input=_stream("shop/key.yaml"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert SECRET not in run.stdout + run.stderr
    assert run.returncode == 2
    assert "charts/shop: symbolic link out of the linted tree and its repository" in run.stderr


@pytest.mark.parametrize("arg", ["charts/shop", "charts/shop/templates/key.yaml"])
def test_a_chart_argument_linked_out_of_the_repository_is_not_rendered(
    checkout: Path, secrets: Path, arg: str
) -> None:
    """Naming a linked chart, or a template in it, renders nothing outside: the
    path is refused as any path argument linked out is."""
    pytest.importorskip("helm_python", reason="the helm extra renders charts")
    (secrets / "Chart.yaml").write_text(CHART)
    (secrets / "templates").mkdir()
    (secrets / "templates" / "key.yaml").write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: k}}\ndata: {{key: {SECRET}}}\n"
    )
    (checkout / "charts").mkdir()
    os.symlink(secrets, checkout / "charts" / "shop")
    run = subprocess.run(
        [console_script(), "check", "--format", "json", "--isolated", arg],
        cwd=checkout, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 2 and json.loads(run.stdout)["summary"]["documents"] == 0
    assert f"{arg}: symbolic link out of the linted tree and its repository" in run.stderr
