"""The one way a run reads a file whose bytes it may echo: inputs, Helm chart
templates and values, the config, the baseline.

Only regular files are read, and only up to a size: ``/dev/zero`` would be read
until the machine's memory is gone, a FIFO would block for ever, and a config
of 100 MB is no config. The file is opened without blocking and checked on the
open descriptor, so nothing can be swapped in between the check and the read.

``read_file`` also keeps a read inside the trees it belongs to: a path whose
real location (every symbolic link on the way resolved) lies outside them, or
inside a ``.git`` directory, is refused, and the resolved path is opened
without following a link at its end (see ``meshlint.core.fsguard``).

``decode`` turns the bytes into text (by BOM, else strict UTF-8) and
``read_text`` does both for a file read whole. The module imports nothing of the
engine: Helm's child process (``core.helm_child``) reads values files with it.
"""

from __future__ import annotations

import codecs
import os
import stat
from collections.abc import Sequence
from functools import lru_cache

from meshlint.core.fsguard import areas, contained, real_path

# a manifest larger than this is not linted: one error line instead
MAX_INPUT_BYTES = 64 * 2**20
# A chart's own file (a template, a values file) is read to place findings on its
# lines, at about 30 bytes of memory per byte: one larger than this is not read.
# The largest template in real charts is a few hundred KB (a Grafana dashboard in
# a ConfigMap).
MAX_CHART_FILE_BYTES = 2**20
LEAVES = "symbolic link out of the linted tree and its repository; not read"
# "within" for a run that follows every link (--follow-links): anywhere but .git
ANYWHERE: tuple[str, ...] = (os.path.abspath(os.sep),)


class Refused(Exception):
    """Why a file was not read, in a few words (the caller names the file)."""


def _read_fd(fd: int, limit: int, size: int) -> bytes:
    """At most ``limit`` bytes from ``fd``, to its end. Read in one call of the
    size fstat gave (and one more to see the end): a buffered ``read(limit)``
    sets aside ``limit`` bytes (64 MiB) for every file first."""
    parts, got = [], 0
    while got < limit:
        part = os.read(fd, min(limit - got, max(size + 1 - got, 2**16)))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 2**10} KiB"


@lru_cache(maxsize=256)
def own_areas(directory: str) -> tuple[str, ...]:
    """Where a file named on its own may really be: its directory's tree and repository."""
    return areas(directory)


def read_file(
    path: str | os.PathLike[str],
    limit: int,
    within: Sequence[str] | None = None,
    *,
    head: bool = False,
) -> bytes:
    """The bytes of the regular file ``path`` (with ``head``, at most its first
    ``limit``; else Refused over ``limit``), read only where its real location
    lies inside ``within`` (real directory paths; by default the file's own
    directory tree and that tree's git repository) and outside ``.git``.

    Raises Refused (a link out, not a regular file, too large) or OSError.
    """
    name = os.fspath(path)
    real = real_path(name)
    allowed = own_areas(os.path.dirname(os.path.abspath(name))) if within is None else within
    if not contained(real, allowed):
        raise Refused(LEAVES)
    if head:
        return read_head(real, limit, nofollow=True)
    return read_regular(real, limit, nofollow=True)


def read_regular(path: str | os.PathLike[str], limit: int, *, nofollow: bool = False) -> bytes:
    """The bytes of the regular file ``path``; Refused for anything else or over ``limit``.

    Raises OSError when the file cannot be opened or read.
    """
    data = read_head(path, limit + 1, refuse_over=limit, nofollow=nofollow)
    if len(data) > limit:  # it may have grown since fstat
        raise Refused(f"larger than {_size(limit)}")
    return data


def read_head(
    path: str | os.PathLike[str],
    limit: int,
    refuse_over: int | None = None,
    *,
    nofollow: bool = False,
) -> bytes:
    """At most the first ``limit`` bytes of the regular file ``path``; Refused for
    anything else (and, with ``refuse_over``, for a file larger than that)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if nofollow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if nofollow and os.path.islink(path):  # swapped for a link since it was resolved
            raise Refused(LEAVES) from exc
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file")
        if refuse_over is not None and info.st_size > refuse_over:
            raise Refused(f"larger than {_size(refuse_over)} ({info.st_size:,} bytes)")
        return _read_fd(fd, limit, info.st_size)
    finally:
        os.close(fd)


def read_text(path: str, limit: int) -> str | None:
    """The text of the regular file ``path`` (``decode``), if it is at most
    ``limit`` bytes; None where it cannot be read or is not text."""
    try:
        return decode(read_regular(path, limit))
    except (Refused, OSError, UnicodeDecodeError):
        return None


_BOMS = (  # the BOM, and the codec of what follows it
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(data: bytes) -> str:
    """Decode by BOM (UTF-8/16/32), else strict UTF-8; raises UnicodeDecodeError."""
    bom, codec = encoding_of(data)
    return data[len(bom) :].decode(codec)


def encoding_of(data: bytes) -> tuple[bytes, str]:
    """The byte-order mark ``data`` starts with (or b"") and the codec after it."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return bom, codec
    return b"", "utf-8"
