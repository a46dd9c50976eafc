"""SIGTERM as an exception: a CI runner cancelling a job signals the whole process
group, and the run unwinds as it does on Ctrl-C. Light on purpose: the command
line installs it before anything else is imported."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Terminated", "raising_on_sigterm"]


class Terminated(BaseException):
    """SIGTERM in the parent: unwinds like Ctrl-C, so the pool's workers are ended."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated


@contextmanager
def raising_on_sigterm() -> Iterator[None]:
    """SIGTERM (a CI runner cancelling the job, to the whole process group) raises
    ``Terminated`` in this process while the block runs: the run unwinds, removes
    what it was writing and says why it stopped, in-process (``-j 1``) as with
    workers, whose pool would otherwise be left writing results into a closed
    pipe. The previous handler is back afterwards (a library caller's own)."""
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
