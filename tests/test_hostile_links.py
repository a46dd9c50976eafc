"""Directory symlinks that leave the directories given are not followed (issue
#18, item 6), unless --follow-links asks for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import run_meshlint
from meshlint.core.fsguard import contained, real_path

sys.path.insert(0, str(Path(__file__).parent))
from stress import OK


def _files(run: subprocess.CompletedProcess[str]) -> list[str]:
    """The files with findings (every file here has one)."""
    return sorted({line.split(":")[0] for line in run.stdout.splitlines() if ": K001 " in line})


def test_a_directory_link_to_the_root_of_the_machine_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "ok.yaml").write_text(OK)
    os.symlink("/", tmp_path / "tree" / "root")
    run = run_meshlint("check", "tree", "--isolated", "-q", cwd=tmp_path)
    assert _files(run) == ["tree/ok.yaml"]


def test_directory_links_are_followed_inside_the_roots_or_when_asked(tmp_path: Path) -> None:
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    (tree / "ok.yaml").write_text(OK)
    (outside / "other.yaml").write_text(OK)
    os.symlink(outside, tree / "out")

    def files(*args: str) -> list[str]:
        return _files(run_meshlint("check", *args, "--isolated", "-q", cwd=tmp_path))

    assert files("tree") == ["tree/ok.yaml"]
    # a link into another root given on the command line stays inside the roots
    assert files("tree", "outside") == ["outside/other.yaml", "tree/ok.yaml", "tree/out/other.yaml"]
    assert files("tree", "--follow-links") == ["tree/ok.yaml", "tree/out/other.yaml"]
    # a root that is itself a link out of its tree is not read unless asked (issue #29)
    assert files("tree/out") == []
    assert files("tree/out", "--follow-links") == ["tree/out/other.yaml"]


def test_real_paths_resolve_every_link_on_the_way_as_realpath_does(tmp_path: Path) -> None:
    """The kernel's answer (an O_PATH descriptor named by /proc) and the
    fallback's agree: links in the middle, relative links, ``..`` after a link."""
    (tmp_path / "repo" / "deploy").mkdir(parents=True)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "env.yaml").write_text(OK)
    (tmp_path / "repo" / "deploy" / "app.yaml").write_text(OK)
    os.symlink("../../secrets", tmp_path / "repo" / "deploy" / "out")
    os.symlink("deploy", tmp_path / "repo" / "current")
    os.symlink("missing.yaml", tmp_path / "repo" / "dangling.yaml")
    os.symlink("loop.yaml", tmp_path / "repo" / "loop.yaml")
    os.mkfifo(tmp_path / "repo" / "pipe.yaml")  # named, never opened: no wait
    os.symlink("/dev/stdin", tmp_path / "repo" / "stdin.yaml")
    for name in (
        "deploy/app.yaml",
        "deploy/out/env.yaml",
        "current/out/env.yaml",
        "current/out/../deploy/app.yaml",
        "current/../current/app.yaml",
        "dangling.yaml",
        "loop.yaml",
        "pipe.yaml",
        "stdin.yaml",
        "nothing/here.yaml",
    ):
        path = str(tmp_path / "repo" / name)
        assert real_path(path) == os.path.realpath(path), name
    assert real_path(str(tmp_path / "repo/current/out/env.yaml")) == str(
        (tmp_path / "secrets" / "env.yaml").resolve()
    )


def test_containment_is_by_whole_path_components() -> None:
    assert contained("/work/repo/deploy/app.yaml", ["/work/repo"])
    assert contained("/work/repo", ["/work/repo"])
    assert not contained("/work/repository/app.yaml", ["/work/repo"])
    assert not contained("/work/repo/.git/config", ["/work/repo"])
    assert not contained("/work/repo/deploy/.git/config", ["/work/repo"])
    assert contained("/work/repo/.github/app.yaml", ["/work/repo"])
    assert contained("/etc/passwd", ["/"])  # --follow-links: anywhere but .git
    assert not contained("/etc/passwd", ["/work/repo", "/work/other"])
