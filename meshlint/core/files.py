"""Reading the files a run names besides its inputs: the config and the baseline.

Only regular files are read, and only up to a size: ``/dev/zero`` would be read
until the machine's memory is gone, a FIFO would block for ever, and a config
of 100 MB is no config. The file is opened without blocking and checked on the
open descriptor, so nothing can be swapped in between the check and the read.
"""

from __future__ import annotations

import os
import stat


class Refused(Exception):
    """Why a file was not read, in a few words (the caller names the file)."""


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit // 2**10} KiB"


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of the regular file ``path``; Refused for anything else or over ``limit``.

    Raises OSError when the file cannot be opened or read.
    """
    data = read_head(path, limit + 1, refuse_over=limit)  # it may have grown since fstat
    if len(data) > limit:
        raise Refused(f"larger than {_size(limit)}")
    return data


def read_head(path: str | os.PathLike[str], limit: int, refuse_over: int | None = None) -> bytes:
    """At most the first ``limit`` bytes of the regular file ``path``; Refused for
    anything else (and, with ``refuse_over``, for a file larger than that)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused("not a regular file")
        if refuse_over is not None and info.st_size > refuse_over:
            raise Refused(f"larger than {_size(refuse_over)} ({info.st_size:,} bytes)")
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    finally:
        os.close(fd)
