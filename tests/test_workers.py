"""The default worker count (issue #18, item 7): workers start only when the
input repays them and idle cores can run them. tests/stress.py times the default
against -j 1 on the real corpus, idle and with a core kept busy."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import RULES
from meshlint.core import cpus
from meshlint.core.config import Config
from meshlint.core.plan import Plan
from meshlint.core.report import Input

sys.path.insert(0, str(Path(__file__).parent))
from stress import OK


@pytest.mark.parametrize(
    ("size", "files", "free", "expected"),
    [
        (1_000_000, 100, 2.0, 1),  # too little work to repay a worker
        (40_000_000, 3_000, 2.0, 2),  # idle machine
        (40_000_000, 3_000, 1.9, 2),
        (40_000_000, 3_000, 1.0, 1),  # the other core is busy: one process wins
        (40_000_000, 3_000, 1.5, 1),  # a core shared half the time is not a free core
        (40_000_000, 3_000, 0.3, 1),
        (40_000_000, 3_000, 8.0, 8),
        (9_000_000, 3_000, 8.0, 2),  # 4 MB of input per worker
        (40_000_000, 3, 8.0, 3),  # no more workers than files
    ],
)
def test_workers_follow_the_work_and_the_idle_cores(
    size: int, files: int, free: float, expected: int
) -> None:
    assert cpus.workers(size, files, free) == expected


@pytest.mark.parametrize(
    ("size", "rate", "expected"),
    [
        (3_000_000, 1e-8, 1),  # 0.03 s of linting left: not worth a worker
        (3_000_000, 3e-6, 2),  # 9 s left (a stream of many small objects)
    ],
)
def test_the_measured_rate_decides_over_the_size(size: int, rate: float, expected: int) -> None:
    assert cpus.workers(size, 10, 2.0, rate) == expected


class _Clock:
    wall = 0.0
    cpu = 0.0

    def perf_counter(self) -> float:
        return self.wall

    def process_time(self) -> float:
        return self.cpu


@pytest.mark.parametrize(
    ("idle_ticks", "own_cpu", "free"),
    [
        (100, 0.25, 2.0),  # the other core idle, this process busy: both are ours
        (0, 0.25, 1.0),  # the other core busy: only our own
        (0, 0.05, 0.2),  # both busy with others: a fifth of a core was ours
    ],
)
def test_the_probe_adds_the_idle_cores_to_the_share_this_process_had(
    monkeypatch: pytest.MonkeyPatch, idle_ticks: int, own_cpu: float, free: float
) -> None:
    clock = _Clock()
    ticks = iter([(1_000, 4_000), (1_000 + idle_ticks, 4_200)])  # 200 ticks: 2 CPUs, 1 s
    monkeypatch.setattr(cpus, "time", clock)
    monkeypatch.setattr(cpus, "_cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(cpus.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(cpus, "usable_cores", lambda: 2)
    probe = cpus.Probe()
    clock.wall, clock.cpu = 0.25, own_cpu
    assert probe.free_cores() == pytest.approx(free)


def test_the_probe_counts_the_workers_it_started_as_this_runs_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the other core was busy all along, with this run's own worker: it is free
    clock = _Clock()
    ticks = iter([(1_000, 4_000), (1_000, 4_200)])  # 200 ticks: 2 CPUs, 1 s, none idle
    monkeypatch.setattr(cpus, "time", clock)
    monkeypatch.setattr(cpus, "_cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(cpus.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(cpus, "usable_cores", lambda: 2)
    monkeypatch.setattr(cpus, "_process_seconds", {4242: 0.24}.__getitem__)
    probe = cpus.Probe()
    clock.wall, clock.cpu = 0.25, 0.25
    assert probe.free_cores([4242]) == pytest.approx(1.96)


def test_a_process_cpu_time_is_read_from_proc() -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("no /proc on this system")
    spent = time.process_time()
    while time.process_time() - spent < 0.05:
        pass
    assert cpus._process_seconds(os.getpid()) >= 0.05 - 0.011  # clock ticks of 10 ms
    assert cpus._process_seconds(2**22 + 1) == 0.0  # no such process


def test_without_proc_stat_the_load_average_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpus, "_cpu_ticks", lambda: None)
    monkeypatch.setattr(cpus, "usable_cores", lambda: 4)
    monkeypatch.setattr(cpus.os, "getloadavg", lambda: (2.5, 0.0, 0.0))
    assert cpus.Probe().free_cores() == 1.5
    real = cpus.Probe()
    assert 0 <= real.free_cores() <= 4


def test_the_default_runs_small_inputs_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    import meshlint.core.engine as engine

    def no_pool(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a worker pool was started")

    monkeypatch.setattr(multiprocessing, "get_context", no_pool)
    inputs = [Input(f"p{i}.yaml", data=OK.encode()) for i in range(50)]
    report = engine.lint(inputs, Plan.build(RULES, Config()), jobs=None)
    assert len(report.findings) == 50  # K001 on each (K002 is implied by it)


def _linted_by(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file each process appends (pid, input) to as it lints an input."""
    import meshlint.core.engine as engine

    log = tmp_path / "linted-by.txt"
    lint_and_sweep = engine._lint_and_sweep

    def spy(item: Input, plan: Plan) -> Any:
        with log.open("a") as out:
            out.write(f"{os.getpid()} {item.name}\n")
        return lint_and_sweep(item, plan)

    monkeypatch.setattr(engine, "_lint_and_sweep", spy)
    return log


def test_a_busy_machine_lints_in_process_in_the_order_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past PARALLEL_MIN_BYTES one worker starts at once and the probe decides;
    with no idle core the files are linted here, in the order given (as -j 1
    reads them), past what the worker took while the probe measured."""
    import meshlint.core.engine as engine

    log = _linted_by(tmp_path, monkeypatch)
    elapsed = iter([0.0, 0.0])  # two rounds measuring, then the probe decides
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(cpus, "usable_cores", lambda: 2)
    monkeypatch.setattr(cpus.Probe, "elapsed", lambda self: next(elapsed, 1.0))
    monkeypatch.setattr(cpus.Probe, "free_cores", lambda self, helpers=(): 1.0)
    # sizes out of the input's order: p17 is the largest, p0 and p3 the smallest
    inputs = [Input(f"p{i}.yaml", data=(OK + "#" * (i * 7 % 20)).encode()) for i in range(20)]
    report = engine.lint(inputs, Plan.build(RULES, Config()), jobs=None)
    assert len(report.findings) == 20
    linted = [line.split() for line in log.read_text().splitlines()]
    assert sorted(name for _, name in linted) == sorted(i.name for i in inputs)  # each once
    here = [name for pid, name in linted if pid == str(os.getpid())]
    there = [name for pid, name in linted if pid != str(os.getpid())]
    # while measuring, the worker took a batch from the largest and this process
    # linted the smallest; then this process linted the rest in the input's order
    assert there[:1] == ["p17.yaml"] and here[:2] == ["p0.yaml", "p3.yaml"]
    rest = here[2:]
    assert rest == sorted(rest, key=lambda name: int(name[1:-5])) and len(rest) >= 10


def test_idle_cores_get_more_workers_once_the_probe_has_measured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import meshlint.core.engine as engine

    log = _linted_by(tmp_path, monkeypatch)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(cpus, "usable_cores", lambda: 3)
    monkeypatch.setattr(cpus, "PROBE_SECONDS", 0.0)
    monkeypatch.setattr(cpus.Probe, "free_cores", lambda self, helpers=(): 3.0)
    monkeypatch.setattr(cpus, "workers", lambda *args: 3)  # what the measures would ask for
    inputs = [Input(f"p{i}.yaml", data=(OK + "#" * 50 * i).encode()) for i in range(60)]
    report = engine.lint(inputs, Plan.build(RULES, Config()), jobs=None)
    assert len(report.findings) == 60
    linted = [line.split() for line in log.read_text().splitlines()]
    assert sorted(name for _, name in linted) == sorted(i.name for i in inputs)
    assert len({pid for pid, _ in linted} - {str(os.getpid())}) == 2  # the first and one more
    assert engine._WORKERS == {}


def _forced_pool(monkeypatch: pytest.MonkeyPatch) -> Any:
    import meshlint.core.engine as engine

    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    return engine


def test_an_error_in_a_worker_reaches_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _forced_pool(monkeypatch)
    lint_input = engine.lint_input

    def failing(item: Input, plan: Plan) -> Any:
        if item.name == "big.yaml":  # the largest: a worker's, not this process's
            raise ValueError("boom in a worker")
        return lint_input(item, plan)

    monkeypatch.setattr(engine, "lint_input", failing)
    inputs = [Input("big.yaml", data=(OK + "#" * 500).encode())]
    inputs += [Input(f"p{i}.yaml", data=OK.encode()) for i in range(5)]
    with pytest.raises(ValueError, match="boom in a worker"):
        engine.lint(inputs, Plan.build(RULES, Config()), jobs=2)


def test_a_report_a_worker_cannot_send_ends_the_run_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reports travel pickled; one that does not pickle (a bug) is an error
    the run raises, not a worker thread that dies while the parent waits."""
    engine = _forced_pool(monkeypatch)
    lint_input = engine.lint_input

    def unpicklable(item: Input, plan: Plan) -> Any:
        report = lint_input(item, plan)
        if item.name == "big.yaml":  # the largest: a worker's, not this process's
            report.facts["X001"].append(lambda: None)
        return report

    monkeypatch.setattr(engine, "lint_input", unpicklable)
    inputs = [Input("big.yaml", data=(OK + "#" * 500).encode())]
    inputs += [Input(f"p{i}.yaml", data=OK.encode()) for i in range(5)]

    def hung(signum: int, frame: Any) -> None:
        raise TimeoutError("the run hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        with pytest.raises(RuntimeError, match="a worker could not send its report"):
            engine.lint(inputs, Plan.build(RULES, Config()), jobs=2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_a_worker_that_dies_ends_the_run_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    engine = _forced_pool(monkeypatch)
    lint_input = engine.lint_input
    parent = os.getpid()

    def dying(item: Input, plan: Plan) -> Any:
        if os.getpid() != parent:
            os._exit(9)  # killed (out of memory, a signal)
        return lint_input(item, plan)

    monkeypatch.setattr(engine, "lint_input", dying)
    inputs = [Input(f"p{i}.yaml", data=(OK + "#" * i).encode()) for i in range(6)]
    with pytest.raises(engine.WorkerLost, match="worker process exited with status 9 before"):
        engine.lint(inputs, Plan.build(RULES, Config()), jobs=2)


def test_workers_and_this_process_share_the_inputs(monkeypatch: pytest.MonkeyPatch) -> None:
    """-j 3: two workers take batches from the largest, this process lints the
    smallest; every input is linted once."""
    engine = _forced_pool(monkeypatch)
    inputs = [Input(f"p{i}.yaml", data=(OK + "#" * 50 * i).encode()) for i in range(40)]
    plan = Plan.build(RULES, Config())
    seen: list[tuple[str, int]] = []
    reports = engine._reports
    for part in reports(inputs, plan, 3):
        seen.append((part.file, len(part.candidates)))
    assert sorted(seen) == sorted((i.name, 2) for i in inputs)
    assert engine._WORKERS == {}  # every worker was ended and joined


def test_ctrl_c_held_back_during_the_fork_still_ends_every_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Signals are held while workers fork; one that arrived meanwhile is raised
    when they are let through again: the workers just started must be ended."""
    engine = _forced_pool(monkeypatch)
    real = signal.pthread_sigmask

    def sigmask(how: int, mask: Any) -> Any:
        previous = real(how, mask)
        if how == signal.SIG_SETMASK:  # letting them through: the Ctrl-C that waited
            raise KeyboardInterrupt
        return previous

    monkeypatch.setattr(engine.signal, "pthread_sigmask", sigmask)
    inputs = [Input(f"p{i}.yaml", data=(OK + "#" * i).encode()) for i in range(6)]
    with pytest.raises(KeyboardInterrupt):
        engine.lint(inputs, Plan.build(RULES, Config()), jobs=3)
    assert engine._WORKERS == {}  # both were stopped and joined
