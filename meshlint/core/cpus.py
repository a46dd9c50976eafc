"""How many worker processes a run should keep: from the work left and the
cores that are idle now, measured while the run and its first worker lint.

On a machine whose cores are busy with something else, workers only compete
for the same core with each other and with the parent that collects their
reports: the run is then slower than linting in one process. So a run large
enough to repay a worker starts one at once, and keeps it (or starts more) only
where the probe finds that the cores it runs on were idle but for this run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable

# Linting for this long measures what the other cores do: 15 ticks of
# /proc/stat a core, enough to tell an idle core (0.75, FREE_CORE) from a busy
# one; on a busy machine the first worker shares a core this long.
PROBE_SECONDS = 0.15
# A worker pays for its start and for sending its reports back past about this
# much linting, or this much input where the time it takes is not known.
SECONDS_PER_WORKER = 0.35
BYTES_PER_WORKER = 4_000_000
# Idle capacity, in cores, that counts as one more core for a worker: a core
# busy a quarter of the time is shared, and sharing it loses.
FREE_CORE = 0.75


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _cpu_ticks() -> tuple[int, int] | None:
    """(idle, total) clock ticks of every CPU since boot, from /proc/stat (Linux)."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            fields = stat.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    ticks = [int(f) for f in fields[1:9]]  # user nice system idle iowait irq softirq steal
    return ticks[3] + ticks[4], sum(ticks)


class Probe:
    """Measures, from its creation to ``free_cores``, the idle cores of the machine
    plus the share of a core this process used: the cores a run could have."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self._cpu = time.process_time()
        self._ticks = _cpu_ticks()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def rate(self, linted: int) -> float | None:
        """Seconds of CPU per byte while ``linted`` bytes were linted since the start."""
        return (time.process_time() - self._cpu) / linted if linted > 0 else None

    def free_cores(self, helpers: Iterable[int] = ()) -> float:
        """The idle cores plus the share of a core this process and ``helpers``
        (the process ids of workers it started since the probe began) used."""
        cores = usable_cores()
        wall = self.elapsed()
        ticks = _cpu_ticks()
        if self._ticks is None or ticks is None or wall <= 0 or ticks[1] <= self._ticks[1]:
            return _from_load_average(cores)
        idle = (ticks[0] - self._ticks[0]) / (ticks[1] - self._ticks[1]) * (os.cpu_count() or 1)
        used = time.process_time() - self._cpu + sum(map(_process_seconds, helpers))
        return min(float(cores), idle + used / wall)


def _process_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has used since it started (0 where unknown)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            # after the command name, in parentheses: state is field 3, utime 14, stime 15
            fields = stat.read().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _from_load_average(cores: int) -> float:
    """Without /proc/stat: the cores the 1-minute load average leaves."""
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return float(cores)
    return max(1.0, cores - load)


def workers(
    remaining_bytes: int, remaining_files: int, free: float, rate: float | None = None
) -> int:
    """Processes for ``remaining_bytes`` in ``remaining_files`` files (or pieces)
    with ``free`` cores (see ``Probe``), linted at ``rate`` seconds a byte where
    the probe measured it (a stream of many small objects costs 30 times the
    corpus's average byte); 1 means lint in this process."""
    if rate is None:
        by_work = remaining_bytes // BYTES_PER_WORKER
    else:
        by_work = int(remaining_bytes * rate / SECONDS_PER_WORKER)
    by_cores = int(free + 1 - FREE_CORE)
    return max(1, min(by_work, by_cores, remaining_files))
