"""Issue #19: an untrusted pull request cannot leak, execute, forge or abort.

Each test plays an attacker's move at a small size (a fork's pull request
linted by a CI job with secrets in its environment, or a pre-commit hook on
a checkout) against the installed console script, and asserts the safe
behaviour.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_cli_installed import console_script

from conftest import FIXTURES, ROOT

# dozens of whole console-script processes per test; CI runs them (pytest -m slow)
pytestmark = pytest.mark.slow

SECRET = "ghp_s3cr3tT0kenFromTheCIEnvironment"
POD = """\
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: shop}
spec:
  containers:
    - name: app
      image: shop/app:1.4.2
"""  # K001 on line 6


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A pull request's checkout: a git repository with a deploy/ directory."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / ".git" / "config").write_text(
        f'[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic {SECRET}\n'
    )
    (repo / "deploy").mkdir()
    (repo / "deploy" / "app.yaml").write_text(POD)
    return repo


def run_installed(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The installed console script in ``cwd``, outside GitHub Actions. Output is
    decoded with surrogateescape: a byte that is not UTF-8 survives, for tests to find."""
    environ = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "NO_COLOR")}
    environ.update(env)
    return subprocess.run(
        [console_script(), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        env=environ,
        timeout=120,
        check=False,
    )


def lint(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_installed(cwd, "check", "--isolated", *args, SECRET_TOKEN=SECRET, **env)


# -- 1. secrets do not leak through symbolic links ----------------------------------


def test_file_links_that_leave_the_repository_are_not_read(checkout: Path, tmp_path: Path) -> None:
    outside = tmp_path / "secret.yaml"
    outside.write_text(f"token: {SECRET}\n")
    deploy = checkout / "deploy"
    os.symlink("/proc/self/environ", deploy / "env.yaml")
    os.symlink(outside, deploy / "outside.yaml")
    os.symlink("../.git/config", deploy / "git.yaml")  # inside the repository, but .git
    (checkout / "base").mkdir()
    (checkout / "base" / "shared.yaml").write_text(POD.replace("name: app,", "name: shared,"))
    os.symlink("../base/shared.yaml", deploy / "shared.yaml")  # stays in the repository

    for format_ in ("text", "sarif", "json", "junit", "github"):
        done = lint(checkout, "deploy", "--format", format_)
        assert done.returncode == 2, done.stderr
        assert SECRET not in done.stdout + done.stderr, format_
        for name in ("env.yaml", "outside.yaml", "git.yaml"):
            assert f"deploy/{name}: symbolic link out of the linted tree" in done.stderr
        assert "deploy/shared.yaml" in done.stdout and "deploy/app.yaml" in done.stdout

    named = lint(checkout, "deploy/env.yaml")  # a file argument is held to the same rule
    assert named.returncode == 2 and SECRET not in named.stdout + named.stderr
    assert "deploy/env.yaml: symbolic link out of the linted tree" in named.stderr


def test_a_file_that_is_not_text_is_reported_without_its_bytes(checkout: Path) -> None:
    # what /proc/self/environ holds: NUL-separated assignments, one "line"
    (checkout / "deploy" / "environ.yaml").write_bytes(
        f"HOME=/home/runner\0SECRET_TOKEN={SECRET}\0PATH=/usr/bin\0".encode()
    )
    (checkout / "deploy" / "latin1.yaml").write_bytes(f"token: {SECRET}\xe9\n".encode("latin-1"))
    # named: a walk skips a file with no manifest in it, a file named is judged
    files = ("deploy/environ.yaml", "deploy/latin1.yaml", "deploy/app.yaml")
    for format_ in ("text", "sarif", "json", "junit", "github"):
        done = lint(checkout, *files, "--format", format_)
        assert done.returncode == 1, done.stderr
        assert "M001" in done.stdout and SECRET not in done.stdout, format_
        walked = lint(checkout, "deploy", "--format", format_)
        assert SECRET not in walked.stdout + walked.stderr, format_
    sarif = json.loads(lint(checkout, *files, "--format", "sarif").stdout)
    regions = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["locations"][0][
            "physicalLocation"
        ]["region"]
        for r in sarif["runs"][0]["results"]
    }
    assert "snippet" not in regions["deploy/environ.yaml"]
    assert "snippet" not in regions["deploy/latin1.yaml"]
    assert "snippet" in regions["deploy/app.yaml"]  # valid text is still quoted


def test_config_through_a_link_out_of_the_repository_is_not_read(
    checkout: Path, tmp_path: Path
) -> None:
    (tmp_path / "token").write_text(SECRET + "\n")
    os.symlink(tmp_path / "token", checkout / ".meshlint.yaml")
    done = run_installed(checkout, "check", "deploy")
    assert done.returncode == 2 and SECRET not in done.stdout + done.stderr
    assert ".meshlint.yaml:1:1: a symbolic link out of its directory and repository" in done.stderr

    os.unlink(checkout / ".meshlint.yaml")
    os.symlink(tmp_path / "token", checkout / "pyproject.toml")
    done = run_installed(checkout, "check", "deploy", "--config", "pyproject.toml")
    assert done.returncode == 2 and SECRET not in done.stdout + done.stderr


def test_config_errors_quote_at_most_what_is_needed(checkout: Path) -> None:
    config = checkout / ".meshlint.yaml"
    for text in (
        f"{SECRET}\n",  # a whole one-line file is not a config
        f"fail-on: {SECRET}\n",
        f"ignore: [{SECRET}]\n",
        f"rules:\n  K005: {{limit-percent: {SECRET}}}\n",
        f"select: [ALL]\n{SECRET}: 1\n",
        f"kube-version: {SECRET}\n",
    ):
        config.write_text(text)
        done = run_installed(checkout, "check", "deploy")
        assert done.returncode == 2, text
        assert done.stderr.startswith(f"meshlint: error: {config}:"), done.stderr
        assert SECRET not in done.stderr, done.stderr


# -- 2. file names never become options ----------------------------------------------


def test_file_names_after_double_dash_are_paths(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"name": "shop"}\n')
    (tmp_path / "--exclude=*.yaml").write_text(POD)
    (tmp_path / "--output=package.json").write_text(POD)
    done = run_installed(
        tmp_path, "check", "--isolated", "--", "--exclude=*.yaml", "--output=package.json"
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.count("K001") == 2  # both files linted, neither obeyed
    assert (tmp_path / "package.json").read_text() == '{"name": "shop"}\n'


def test_every_hook_entry_ends_with_double_dash() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hooks and all(hook["entry"].split()[-1] == "--" for hook in hooks)


# -- 3. reports are written atomically, never through a link, never over an input ----


def test_reports_replace_a_link_instead_of_writing_through_it(checkout: Path) -> None:
    victim = checkout / ".git" / "config"
    before = victim.read_text()
    os.symlink(".git/config", checkout / "meshlint.sarif")
    os.symlink(".git/config", checkout / "baseline.json")
    done = lint(checkout, "deploy", "--format", "sarif", "--output", "meshlint.sarif")
    assert done.returncode == 1, done.stderr
    assert victim.read_text() == before
    report = checkout / "meshlint.sarif"
    assert not report.is_symlink() and json.loads(report.read_text())["version"] == "2.1.0"
    # a baseline is a file of the tree (issue #29): a link there stays a link, refused
    done = lint(checkout, "deploy", "--write-baseline", "baseline.json")
    assert done.returncode == 2
    assert done.stderr == "meshlint: error: baseline.json: is a symbolic link\n"
    assert (checkout / "baseline.json").is_symlink() and victim.read_text() == before
    assert [p.name for p in checkout.iterdir() if p.name.startswith(".meshlint-")] == []


def test_a_report_never_overwrites_an_input(checkout: Path) -> None:
    app = checkout / "deploy" / "app.yaml"
    for option in ("-o", "--write-baseline"):
        done = lint(checkout, "deploy", option, "deploy/app.yaml")
        assert done.returncode == 2 and "deploy/app.yaml: is an input of this run" in done.stderr
        assert app.read_text() == POD
    os.symlink("app.yaml", checkout / "deploy" / "alias.yml")  # the same file by another name
    done = lint(checkout, "deploy/alias.yml", "--output", "deploy/app.yaml")
    assert done.returncode == 2 and "is an input of this run" in done.stderr
    assert app.read_text() == POD


def test_a_report_is_not_written_through_a_directory_link_out_of_the_repository(
    checkout: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, checkout / "reports")
    done = lint(checkout, "deploy", "--format", "json", "--output", "reports/meshlint.json")
    assert done.returncode == 2 and "reports/meshlint.json: its directory is a symbolic link" in (
        done.stderr
    )
    assert list(elsewhere.iterdir()) == []


# -- 4. no code from the working tree ------------------------------------------------


def _planted(cwd: Path) -> Path:
    """A committed module and a *.dist-info that declares it as meshlint plugins."""
    marker = cwd / "pwned"
    (cwd / "evil.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "import meshlint\n"
        "@meshlint.hookimpl\n"
        "def meshlint_rules():\n"
        "    return []\n"
    )
    info = cwd / "evil-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[meshlint]\nbuiltin = evil\nextra = evil\n")
    return marker


@pytest.mark.parametrize("no_plugins", [True, False])
def test_python_m_loads_no_entry_point_from_the_working_directory(
    checkout: Path, no_plugins: bool
) -> None:
    marker = _planted(checkout)
    done = subprocess.run(
        [sys.executable, "-m", "meshlint", "check", "--isolated", "deploy"]
        + (["--no-plugins"] if no_plugins else []),
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert not marker.exists()
    assert done.returncode == 1 and "deploy/app.yaml:6:7: K001" in done.stdout, done.stderr


@pytest.mark.parametrize("module", ["this", "antigravity", "evil", "json.tool"])
def test_config_plugins_must_be_meshlint_plugins(checkout: Path, module: str) -> None:
    marker = _planted(checkout)
    (checkout / ".meshlint.yaml").write_text(f"plugins: [{module}]\n")
    done = run_installed(checkout, "check", "deploy", "--format", "json", BROWSER="false")
    refused = "failed to import" if module == "evil" else "is not a meshlint plugin"
    assert done.returncode == 2 and f"plugin module {module!r} {refused}" in done.stderr
    assert not marker.exists()
    # the built-in rules still run; `this` would have printed the Zen of Python here
    report = json.loads(done.stdout)
    assert [f["rule"] for f in report["findings"]] == ["K001"]


def test_an_installed_config_plugin_still_loads(checkout: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_rules.py").write_text((ROOT / "tests" / "example_plugin.py").read_text())
    (checkout / ".meshlint.yaml").write_text("plugins: [acme_rules]\n")
    (checkout / "deploy" / "latest.yaml").write_text(POD.replace("app:1.4.2", "app:latest"))
    done = run_installed(checkout, "check", "deploy", PYTHONPATH=str(site))
    assert done.returncode == 1 and "ACM001" in done.stdout, done.stderr


def test_the_pull_request_recipe_passes_no_plugins() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recipe = readme[readme.index("### GitHub Actions") : readme.index("### GitLab CI")]
    runs = [line for line in recipe.splitlines() if "run: meshlint check" in line]
    actions = [line for line in recipe.splitlines() if line.strip().startswith("args:")]
    assert runs and all("--no-plugins" in line for line in runs)
    assert actions and all("--no-plugins" in line for line in actions)


# -- 5. output that input cannot forge -----------------------------------------------

FORGED = "c\n::error file=f,line=1::X\x1b[31m"


def test_names_and_values_cannot_forge_lines_or_escapes(tmp_path: Path) -> None:
    name = json.dumps(FORGED)  # a double-quoted YAML scalar holding the newline and ESC
    (tmp_path / "forge.yaml").write_text(POD.replace("- name: app", f"- name: {name}"))
    (tmp_path / "::error file=x,line=1::forged.yaml").write_text(POD)
    for format_ in ("text", "github", "junit", "json", "sarif"):
        done = run_installed(tmp_path, "check", "--isolated", ".", "--format", format_)
        assert done.returncode == 1, done.stderr
        assert "\x1b" not in done.stdout + done.stderr, format_
        forged = [
            line
            for line in done.stdout.splitlines()
            if line.startswith(("::error file=f", "::error file=x,line=1::", "##["))
        ]
        assert forged == [], format_
    text = run_installed(tmp_path, "check", "--isolated", ".").stdout
    assert 'Container "c\\n::error file=f,line=1::X\\e[31m" has no memory limit' in text
    assert "./::error file=x,line=1::forged.yaml:6:7: K001" in text


def test_blanks_a_runner_strips_and_logging_commands_mid_line_are_defused(
    tmp_path: Path,
) -> None:
    """The runner strips every Unicode blank before a command (.NET TrimStart: a
    no-break space too), and reads ``##[error]`` or ``##vso[`` anywhere in a line."""
    (tmp_path / "\u00a0::error title=forged::x.yaml").write_text(POD)
    (tmp_path / "mid.yaml").write_text(POD.replace("- name: app", '- name: "c ##[error]Forged"'))
    text = run_installed(tmp_path, "check", "--isolated", ".").stdout
    assert "\u00a0./::error title=forged::x.yaml:6:7: K001" in text
    assert "##[" not in text and 'Container "c ##\\x5berror]Forged"' in text


@pytest.mark.parametrize("format_", ["text", "json", "sarif", "junit", "github"])
def test_a_file_name_that_is_not_utf8_keeps_the_report(tmp_path: Path, format_: str) -> None:
    if sys.platform == "darwin":
        pytest.skip("macOS file systems refuse names that are not UTF-8")
    (tmp_path / os.fsdecode(b"bad\xff.yaml")).write_text(POD)
    out = run_installed(tmp_path, "check", "--isolated", ".", "--format", format_)
    assert out.returncode == 1, out.stderr
    out.stdout.encode("utf-8")  # no lone surrogate: every byte printed was UTF-8
    done = run_installed(
        tmp_path, "check", "--isolated", ".", "--format", format_, "--output", "report"
    )
    assert done.returncode == 1, done.stderr
    written = (tmp_path / "report").read_bytes().decode("utf-8")
    if format_ == "junit":
        ET.fromstring(out.stdout.encode("utf-8"))
        ET.fromstring(written.encode("utf-8"))
        assert 'classname="bad\\xff.yaml"' in written
    elif format_ == "sarif":
        uris = [
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in json.loads(written)["runs"][0]["results"]
        ]
        assert uris == ["bad%FF.yaml"]
    elif format_ in ("text", "github"):
        assert "bad\\xff.yaml" in written


# -- 7. the process ends well --------------------------------------------------------


def _spawn(cwd: Path, *args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [console_script(), *args],
        cwd=cwd,
        stderr=subprocess.PIPE,
        **kwargs,  # type: ignore[call-overload]
    )


def test_a_closed_pipe_ends_quietly_with_the_runs_exit_code(checkout: Path) -> None:
    for args, code in ((["rules"], 0), (["check", "--isolated", "deploy"], 1)):
        read, write = os.pipe()
        os.close(read)  # the reader is gone before the first byte: `| head -0`, `| true`
        process = _spawn(checkout, *args, stdout=write)
        os.close(write)
        _, err = process.communicate(timeout=120)
        assert process.returncode == code and err == b"", err


def test_stdout_that_cannot_be_written_is_an_error_not_a_crash(checkout: Path) -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        process = _spawn(checkout, "check", "--isolated", "deploy", stdout=full)
        _, err = process.communicate(timeout=120)
    assert process.returncode == 2
    assert (
        err.decode()
        == "meshlint: error: cannot write the report to stdout: No space left on device\n"
    )
    for args in (["rules"], ["check", "--isolated", "deploy"]):
        closed = _spawn(checkout, *args, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(1))
        _, err = closed.communicate(timeout=120)
        assert closed.returncode == 2
        assert err.decode() == "meshlint: error: cannot write the report: stdout is closed\n"


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGTERM to meshlint", "Ctrl-C to the process group"])
def test_signals_stop_the_workers_cleanly(tmp_path: Path, how: str) -> None:
    drain = (FIXTURES / "sidecar-drain-missing" / "bad.yaml").read_text()
    for number in range(60):  # past the size at which workers start
        (tmp_path / f"f{number}.yaml").write_text((drain + "\n---\n") * 10)
    process = _spawn(
        tmp_path, "check", "--isolated", ".", "-j", "2", "-q",
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    while not (workers := _children(process.pid)) and process.poll() is None:
        time.sleep(0.01)
    if process.poll() is not None:
        pytest.skip("the run ended before its workers could be seen")
    if how.startswith("SIGTERM"):
        os.kill(process.pid, signal.SIGTERM)
    else:
        os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=120)
    if process.returncode in (0, 1):
        pytest.skip("the run ended before the signal arrived")
    if how.startswith("SIGTERM"):
        assert (process.returncode, err.decode()) == (143, "meshlint: terminated\n")
    else:
        assert (process.returncode, err.decode()) == (130, "meshlint: interrupted\n")
    # every worker is gone (the pool ends them), none left writing into a closed pipe
    deadline = time.monotonic() + 60
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(_alive(w) for w in workers)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGTERM to meshlint", "Ctrl-C to the process group", "SIGKILL"])
def test_signals_end_helms_child_at_once(tmp_path: Path, how: str) -> None:
    """A template that never ends renders in a child that only its time limit
    (60 s) ended: a stopped run waited for it, and a killed one left it running."""
    pytest.importorskip("helm_python", reason="the helm extra renders charts")
    (tmp_path / ".git").mkdir()
    (tmp_path / "loop" / "templates").mkdir(parents=True)
    (tmp_path / "loop" / "Chart.yaml").write_text("apiVersion: v2\nname: loop\nversion: 1.0.0\n")
    (tmp_path / "loop" / "templates" / "cm.yaml").write_text(
        'a: "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}"\n'
    )
    process = _spawn(
        tmp_path, "check", "--isolated", ".", stdout=subprocess.DEVNULL, start_new_session=True
    )
    while not (children := _threads_children(process.pid)) and process.poll() is None:
        time.sleep(0.01)
    time.sleep(1)  # the child renders
    if how.startswith("SIGTERM"):
        os.kill(process.pid, signal.SIGTERM)
    elif how.startswith("Ctrl-C"):
        os.killpg(process.pid, signal.SIGINT)
    else:
        os.kill(process.pid, signal.SIGKILL)
    _, err = process.communicate(timeout=20)  # the time limit is 60 s
    expected = {"SIGTERM": (143, "terminated"), "Ctrl-C": (130, "interrupted"), "SIGKILL": (-9, "")}
    code, said = expected[how.split()[0]]
    assert process.returncode == code and said in err.decode()
    deadline = time.monotonic() + 10
    while any(_alive(c) for c in children) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(_alive(c) for c in children)


def _threads_children(pid: int) -> list[int]:
    """The children every thread of ``pid`` started (Helm's child is the render
    thread's, not the main thread's)."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    return [child for task in tasks for child in _children_of_task(pid, int(task))]


def _children_of_task(pid: int, task: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{task}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    """Running, not a zombie (an exited child that nobody waited for)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# -- 6. one bad value aborts nothing -------------------------------------------------


def _nested(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [495, 998, 1500])
def test_deep_nesting_in_configs_and_baselines_is_one_error(checkout: Path, levels: int) -> None:
    config = checkout / ".meshlint.yaml"
    config.write_text(f"rules: {{K005: {{limit-percent: {_nested(levels)}}}}}\n")
    done = run_installed(checkout, "check", "deploy")
    assert done.returncode == 2 and "internal error" not in done.stderr
    assert done.stderr.startswith(f"meshlint: error: {config}:1:")
    config.unlink()

    pyproject = checkout / "pyproject.toml"
    pyproject.write_text(f"[tool.meshlint]\nrules = {{K005 = {{x = {_nested(levels)}}}}}\n")
    done = run_installed(checkout, "check", "deploy")
    assert done.returncode == 2 and "internal error" not in done.stderr
    assert done.stderr.startswith(f"meshlint: error: {pyproject}:")
    pyproject.unlink()

    baseline = checkout / "baseline.json"
    baseline.write_text(f'{{"version": 1, "x": {_nested(levels)}, "findings": []}}')
    done = lint(checkout, "deploy", "--baseline", "baseline.json")
    assert "internal error" not in done.stderr
    # within the parser's reach the baseline is read and applied; beyond it, one error
    beyond = "meshlint: error: baseline.json: not a meshlint baseline: nested too deeply\n"
    assert (done.returncode, done.stderr) in ((1, ""), (2, beyond))


@pytest.mark.parametrize("levels", [495, 998, 1500])
def test_deep_nesting_in_embedded_configs_is_m004(tmp_path: Path, levels: int) -> None:
    annotation = json.dumps("tracing: " + _nested(levels))
    (tmp_path / "pod.yaml").write_text(
        POD.replace("metadata: {name: app, namespace: shop}",
                    f"metadata: {{name: app, namespace: shop, annotations: "
                    f"{{proxy.istio.io/config: {annotation}}}}}")
    )  # fmt: skip
    relay = (
        "receivers: {otlp: {}}\nexporters: {debug: {}}\n"
        "service: {pipelines: {traces: {receivers: [otlp], exporters: [debug]}}}\n"
        f"extensions: {{x: {_nested(levels)}}}\n"
    )
    config_map = {"apiVersion": "v1", "kind": "ConfigMap",
                  "metadata": {"name": "otel", "namespace": "o"}, "data": {"relay": relay}}  # fmt: skip
    (tmp_path / "cm.yaml").write_text(json.dumps(config_map))
    done = run_installed(tmp_path, "check", "--isolated", ".")
    assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr
    assert "pod.yaml:6:7: K001" in done.stdout  # the rest of the object is still linted


def test_a_1000_level_directory_tree_is_walked(tmp_path: Path) -> None:
    top = deep = tmp_path / "tree"
    top.mkdir()
    levels = [top]
    try:
        for _ in range(1000):  # one mkdir a level: os.makedirs itself recurses
            deep = deep / "d"
            deep.mkdir()
            levels.append(deep)
        (deep / "app.yaml").write_text(POD)
        done = run_installed(tmp_path, "check", "--isolated", "tree", "-q")
        assert done.returncode == 1 and "internal error" not in done.stderr
        assert done.stdout.count(":6:7: K001") == 1
    finally:  # pytest's clean-up (shutil.rmtree) recurses too: leave no such tree behind
        (deep / "app.yaml").unlink(missing_ok=True)
        for level in reversed(levels):
            level.rmdir()


def test_explicit_tags_that_do_not_fit_read_as_text(checkout: Path) -> None:
    (checkout / "deploy" / "tags.yaml").write_text(
        "apiVersion: !!int ''\nkind: Pod\n---\n"
        + POD.replace("name: app,", "name: !!bool x,").replace(
            "image: shop/app:1.4.2", "image: !!float ''"
        )
    )
    done = lint(checkout, "deploy", "-q")
    assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr
    assert "deploy/tags.yaml:9:7: K001" in done.stdout
    (checkout / ".meshlint.yaml").write_text("fail-on: !!bool x\nignore: [!!int '']\n")
    config = run_installed(checkout, "check", "deploy")
    assert config.returncode == 2 and "internal error" not in config.stderr
    assert "fail-on: 'x' is not one of" in config.stderr


def test_control_characters_and_odd_types_in_configs_are_errors(checkout: Path) -> None:
    (checkout / ".meshlint.yaml").write_bytes(b"ignore: [K001]\x07\n")
    done = run_installed(checkout, "check", "deploy")
    assert done.returncode == 2
    assert (
        done.stderr == f"meshlint: error: {checkout / '.meshlint.yaml'}:1:15: invalid YAML: "
        "unacceptable character #x0007: control characters are not allowed\n"
    )
    (checkout / ".meshlint.yaml").unlink()
    (checkout / "pyproject.toml").write_text("tool = 5\n# [tool.meshlint] is not a table here\n")
    done = run_installed(checkout, "check", "deploy", "-q")
    assert done.returncode == 1 and done.stderr == ""  # no meshlint table: the defaults


WRONG_TYPES = [
    (
        "Telemetry overrides: [1]",
        """\
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  metrics:
    - overrides: [1]
""",
    ),
    (
        "Telemetry match mode: []",
        """\
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  metrics:
    - overrides:
        - match: {mode: []}
          tagOverrides: {destination_service: {operation: REMOVE}}
""",
    ),
    (
        "Service ports: 5",
        """\
apiVersion: v1
kind: Service
metadata: {name: jaeger-agent, namespace: tracing}
spec:
  selector: {app: jaeger-agent}
  ports: 5
""",
    ),
]


@pytest.mark.parametrize(("case", "manifest"), WRONG_TYPES, ids=[c for c, _ in WRONG_TYPES])
def test_wrong_types_inside_rules_read_as_absent(tmp_path: Path, case: str, manifest: str) -> None:
    (tmp_path / "odd.yaml").write_text(manifest)
    (tmp_path / "app.yaml").write_text(POD)
    done = run_installed(tmp_path, "check", "--isolated", ".", "-q")
    assert done.returncode == 1 and done.stderr == "", done.stderr
    assert "app.yaml:6:7: K001" in done.stdout


# -- 8. lines are counted as YAML counts them ----------------------------------------


def test_lone_cr_files_behave_like_their_lf_twins(tmp_path: Path) -> None:
    ignored = POD.replace("- name: app", "- name: app  # meshlint: ignore[K001]")
    broken = "apiVersion: v1\nkind: Pod\nspec: [\n---\n" + POD
    for name, text in (("ignored", ignored), ("broken", broken)):
        (tmp_path / f"{name}-lf.yaml").write_bytes(text.encode())
        (tmp_path / f"{name}-cr.yaml").write_bytes(text.replace("\n", "\r").encode())
        (tmp_path / f"{name}-crlf.yaml").write_bytes(text.replace("\n", "\r\n").encode())
    for name in ("ignored", "broken"):
        results = []
        for ending in ("lf", "cr", "crlf"):
            done = run_installed(tmp_path, "check", "--isolated", f"{name}-{ending}.yaml", "-q")
            results.append((done.returncode, done.stdout.replace(f"-{ending}.yaml", ".yaml")))
        assert results[0] == results[1] == results[2], results
    assert results[0][0] == 1 and "broken.yaml:4:1: M001" in results[0][1]
    assert "broken.yaml:10:7: K001" in results[0][1]  # the document after the broken one


# -- 9. smaller ----------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to drop")
def test_a_directory_without_search_permission_is_not_a_broken_link() -> None:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("setpriv is not installed")
    nobody = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run(
        [*nobody, console_script(), "--version"], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:  # e.g. CI's venv lives in a private temporary directory
        pytest.skip(f"the console script does not start as nobody: {probe.stderr.strip()}")
    # nobody must reach the tree: not under pytest's own (private) temporary directory
    with tempfile.TemporaryDirectory() as public:
        os.chmod(public, 0o755)
        tree = Path(public) / "tree"
        (tree / "locked").mkdir(parents=True)
        (tree / "locked" / "app.yaml").write_text(POD)
        (tree / "locked").chmod(0o644)  # readable, not searchable
        done = subprocess.run(
            [*nobody, console_script(), "check", "--isolated", str(tree)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        (tree / "locked").chmod(0o755)
    assert done.returncode == 2
    assert (
        done.stderr == f"meshlint: error: {tree}/locked/app.yaml: cannot read: Permission denied\n"
    )


def test_keys_1_and_true_are_not_duplicates(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags}\n"
        "data: {1: one, true: yes, 0: zero, false: no}\n"
    )
    done = run_installed(tmp_path, "check", "--isolated", "cm.yaml")
    assert done.returncode == 0 and "M002" not in done.stdout, done.stdout
    (tmp_path / "dup.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags}\ndata: {1: one, 1: uno}\n"
    )
    assert (
        "dup.yaml:4:16: M002" in run_installed(tmp_path, "check", "--isolated", "dup.yaml").stdout
    )


def test_a_baseline_version_must_be_the_integer_1(checkout: Path) -> None:
    (checkout / "baseline.json").write_text('{"version": true, "findings": []}')
    done = lint(checkout, "deploy", "--baseline", "baseline.json")
    assert done.returncode == 2 and "not a meshlint baseline of version 1" in done.stderr


def test_gomemlimit_is_quoted_as_written(tmp_path: Path) -> None:
    (tmp_path / "go.yaml").write_text(
        POD + "      env: [{name: GOMEMLIMIT, value: no}]\n"
        "      resources: {limits: {memory: 512Mi}}\n"
    )
    done = run_installed(tmp_path, "check", "--isolated", "go.yaml", "--select", "K004", "-q")
    assert done.returncode == 1
    assert "GOMEMLIMIT 'no' of container \"app\" is not a Go byte count" in done.stdout
