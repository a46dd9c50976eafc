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
* every file a run writes (a report, a baseline, a fixed manifest) is written
  by ``write_file``: to a temporary file beside the target, renamed over it,
  with the target's mode and owner; a link at a report's target is replaced,
  never followed, and an input of the same run is never overwritten; a file of
  the tree (a fixed manifest, a baseline) is not written through a link, nor
  when it has other hard links, nor when it changed since it was read.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import tempfile
from collections.abc import Iterable, Iterator

GIT = ".git"


class WriteRefused(Exception):
    """A file that must not be written where it was asked for: ``str()`` names
    the file, ``reason`` says why without it."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target}: {reason}")
        self.reason = reason


# Linux names the file an O_PATH descriptor refers to (which opens nothing: no
# device wakes) under /proc/self/fd; an open, a readlink and two stats cost a
# tenth of os.path.realpath, which reads every component of the path on its own.
_O_PATH = getattr(os, "O_PATH", 0)


def real_path(path: str) -> str:
    """``path`` with every symbolic link on the way resolved, as the kernel
    resolves it when it can say, else as ``os.path.realpath`` does (a path that
    does not exist, a system without /proc)."""
    if _O_PATH:
        try:
            fd = os.open(path, _O_PATH | os.O_CLOEXEC)
        except OSError:
            return os.path.realpath(path)
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
            opened = os.fstat(fd)
        except OSError:
            real = ""
        finally:
            os.close(fd)
        # the kernel's name must lead to the file it opened, as this process
        # sees the tree: not "pipe:[...]", not " (deleted)", and not a path that
        # a mount over part of it now leads elsewhere (the name is of what the
        # mount hides)
        if real.startswith(os.sep) and not real.endswith(" (deleted)"):
            try:
                named = os.stat(real, follow_symlinks=False)
            except OSError:
                pass
            else:
                if (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino):
                    return real
    return os.path.realpath(path)


def repository(directory: str) -> str | None:
    """The real path of the nearest directory at or above ``directory`` holding ``.git``."""
    current = real_path(directory)
    while True:
        if os.path.lexists(os.path.join(current, GIT)):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def areas(directory: str) -> tuple[str, ...]:
    """Where links found under ``directory`` may point: its tree and its repository."""
    own = real_path(directory)
    repo = repository(own)
    return (own,) if repo is None or repo == own else (own, repo)


def _inside(path: str, area: str) -> str | None:
    """``path`` relative to ``area`` when it lies inside it, else None (both
    absolute: compared as strings, once normalised)."""
    path, area = os.path.normpath(path), os.path.normpath(area)
    if path == area:
        return ""
    prefix = area if area.endswith(os.sep) else area + os.sep
    return path[len(prefix) :] if path.startswith(prefix) else None


def contained(real: str, allowed: Iterable[str]) -> bool:
    """``real`` (a resolved path) lies inside one of ``allowed`` and outside ``.git``."""
    for area in allowed:
        rel = _inside(real, area)
        if rel is not None:
            return GIT not in rel.split(os.sep)
    return False


def link_leaves(path: str, allowed: Iterable[str]) -> bool:
    """``path`` is a symbolic link whose target lies outside ``allowed`` (or in ``.git``)."""
    return os.path.islink(path) and not contained(real_path(path), allowed)


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
        raise WriteRefused(target, "its directory is a symbolic link out of the repository")
    try:
        found = os.lstat(absolute)
    except OSError:
        return  # nothing there yet: nothing to overwrite
    names = {os.path.abspath(name) for name in inputs}
    if absolute in names:
        raise WriteRefused(target, "is an input of this run; not overwritten")
    if stat.S_ISLNK(found.st_mode):
        return
    for name in names:
        try:
            if os.path.samestat(found, os.stat(name)):
                raise WriteRefused(target, "is an input of this run; not overwritten")
        except OSError:
            continue


def write_atomically(target: str, text: str) -> None:
    """A report (UTF-8 ``text``), written by ``write_file``: a symbolic link at
    ``target`` is replaced rather than written through."""
    write_file(target, text.encode("utf-8"))


def write_file(
    target: str, data: bytes, *, expected: bytes | None = None, owned: bool = False
) -> None:
    """The one write of a file: ``data`` goes to a temporary file beside
    ``target`` that is renamed over it, so readers see the old file or the new
    one. The new file keeps the old one's mode and owner (refused when the
    owner cannot be kept) and is refused where it has other hard links (the
    rename would part them). With ``expected``, the bytes on disk are compared
    with it just before the rename: a file changed since it was read is left
    alone. ``owned``: a file of the linted tree (a fixed manifest, a baseline),
    refused when it is a symbolic link, reached through one, or read-only;
    otherwise (a report) a link at ``target`` is replaced. SIGINT and SIGTERM
    wait until the temporary file is renamed or removed.

    Raises WriteRefused, or OSError when the file system fails.
    """
    absolute = os.path.abspath(target)
    directory = os.path.dirname(absolute)
    try:
        found: os.stat_result | None = os.lstat(absolute)
    except FileNotFoundError:
        found = None
    if found is not None and stat.S_ISLNK(found.st_mode):
        if owned:
            raise WriteRefused(target, "is a symbolic link")
        found = None  # a report: the link is replaced, never written through
    if owned and os.path.realpath(directory) != directory:
        raise WriteRefused(target, "is reached through a symbolic link; not written")
    mode, owner = 0o666 & ~_umask(), None
    if found is not None:
        if not stat.S_ISREG(found.st_mode):
            raise WriteRefused(target, "is not a regular file; not replaced")
        if found.st_nlink > 1:
            raise WriteRefused(
                target, f"has {found.st_nlink} hard links; replacing it would part them"
            )
        mode, owner = stat.S_IMODE(found.st_mode), (found.st_uid, found.st_gid)
        if owned and not mode & 0o222:
            raise WriteRefused(target, "is read-only")
    with _signals_held():
        handle, temporary = tempfile.mkstemp(prefix=".meshlint-", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                _same_owner(out.fileno(), owner, target)
            os.chmod(temporary, mode)
            if expected is not None and _on_disk(absolute, len(expected)) != expected:
                raise WriteRefused(target, "changed since it was read")
            os.replace(temporary, absolute)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _same_owner(fd: int, owner: tuple[int, int] | None, target: str) -> None:
    """Give the new file the old one's owner and group, or refuse."""
    if owner is None or not hasattr(os, "fchown"):
        return
    info = os.fstat(fd)
    if (info.st_uid, info.st_gid) == owner:
        return
    try:
        os.fchown(fd, owner[0], owner[1])
    except PermissionError as exc:
        raise WriteRefused(
            target, f"belongs to user {owner[0]}, group {owner[1]}; replacing it would not"
        ) from exc


def _on_disk(path: str, size: int) -> bytes | None:
    """The first ``size + 1`` bytes of the regular file at ``path`` (None: none there)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(size + 1)
    finally:
        os.close(fd)


_HELD = frozenset({signal.SIGINT, signal.SIGTERM})


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait (blocked, then delivered) until the block ends."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
