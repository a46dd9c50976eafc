"""Where a run may read through symbolic links, and how it writes its reports.

A pull request can commit symbolic links. Followed blindly, a link named
``deploy/env.yaml`` pointing at ``/proc/self/environ`` would print a CI job's
secrets in a finding, and a report written to a committed link would
overwrite whatever it points at. So:

* a file or configuration reached through a link is read only when the link's
  target stays inside the tree it was found from (a root given on the command
  line, the configuration's directory) or inside the git repository holding
  that tree, and never inside a ``.git`` directory (``actions/checkout`` keeps
  the job's token in ``.git/config``);
* reports are written to a temporary file beside the target and renamed over
  it: a link at the target is replaced, never followed, and an input of the
  same run is never overwritten.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable

GIT = ".git"


class WriteRefused(Exception):
    """A report or baseline that must not be written where it was asked for."""


def repository(directory: str) -> str | None:
    """The real path of the nearest directory at or above ``directory`` holding ``.git``."""
    current = os.path.realpath(directory)
    while True:
        if os.path.lexists(os.path.join(current, GIT)):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def areas(directory: str) -> tuple[str, ...]:
    """Where links found under ``directory`` may point: its tree and its repository."""
    own = os.path.realpath(directory)
    repo = repository(own)
    return (own,) if repo is None or repo == own else (own, repo)


def _inside(path: str, area: str) -> str | None:
    """``path`` relative to ``area`` when it lies inside it, else None."""
    try:
        rel = os.path.relpath(path, area)
    except ValueError:  # another drive on Windows
        return None
    if rel == os.curdir:
        return ""
    if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
        return None
    return rel


def contained(real: str, allowed: Iterable[str]) -> bool:
    """``real`` (a resolved path) lies inside one of ``allowed`` and outside ``.git``."""
    for area in allowed:
        rel = _inside(real, area)
        if rel is not None:
            return GIT not in rel.split(os.sep)
    return False


def link_leaves(path: str, allowed: Iterable[str]) -> bool:
    """``path`` is a symbolic link whose target lies outside ``allowed`` (or in ``.git``)."""
    return os.path.islink(path) and not contained(os.path.realpath(path), allowed)


def file_link_leaves(path: str) -> bool:
    """A file named on its own (a config, a file argument) that is a link leaving
    its directory's tree and repository."""
    return link_leaves(path, areas(os.path.dirname(os.path.abspath(path))))


def reached_out(path: str) -> bool:
    """``path`` lies, as written, inside the working directory's tree or repository,
    but a symbolic link on the way takes it out of them (``deploy/app`` with
    ``deploy -> ~/secrets``)."""
    cwd = os.getcwd()
    allowed = areas(cwd)
    # as written, from the real working directory, against where it really is
    written = os.path.normpath(os.path.join(os.path.realpath(cwd), os.path.relpath(path, cwd)))
    return contained(written, allowed) and not contained(os.path.realpath(path), allowed)


def argument_leaves(path: str) -> bool:
    """A path named on the command line that is a symbolic link out of its
    directory's tree and repository (``deploy -> ~/secrets``, ``d -> /``; a
    trailing slash names the link too), or that a link takes out of the working
    directory's tree and repository."""
    bare = path.rstrip(os.sep) or path
    if link_leaves(bare, areas(os.path.dirname(os.path.abspath(bare)))):
        return True
    return reached_out(os.path.abspath(bare))


def check_writable(target: str, inputs: Iterable[str]) -> None:
    """Refuse a report path that is an input of this run, or whose directory is
    reached through a link that leaves the working directory's tree and repository.

    ``inputs`` are the paths the run reads. A link at ``target`` itself is fine:
    it is replaced, not followed (see ``write_atomically``).
    """
    absolute = os.path.abspath(target)
    parent = os.path.dirname(absolute)
    if reached_out(parent):
        raise WriteRefused(f"{target}: its directory is a symbolic link out of the repository")
    try:
        found = os.lstat(absolute)
    except OSError:
        return  # nothing there yet: nothing to overwrite
    names = {os.path.abspath(name) for name in inputs}
    if absolute in names:
        raise WriteRefused(f"{target}: is an input of this run; not overwritten")
    if stat.S_ISLNK(found.st_mode):
        return
    for name in names:
        try:
            if os.path.samestat(found, os.stat(name)):
                raise WriteRefused(f"{target}: is an input of this run; not overwritten")
        except OSError:
            continue


def write_atomically(target: str, text: str) -> None:
    """Write ``text`` (UTF-8) to a temporary file beside ``target``, then rename it
    over ``target``: readers see the old report or the new one, and a symbolic
    link at ``target`` is replaced rather than written through."""
    directory = os.path.dirname(os.path.abspath(target))
    handle, temporary = tempfile.mkstemp(prefix=".meshlint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
