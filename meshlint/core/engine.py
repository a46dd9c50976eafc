"""The one loop: inputs -> documents -> rules -> findings.

Each file is linted on its own (in a worker process when there are many) and
yields a ``FileReport``: candidates placed in the file, its suppression
directives, and the small facts that cross-object rules and the run-wide index
need, and what its documents say about what runs (``domain.facts``). The
parent builds each scope's ``Cluster`` of facts, resolves the verdicts that
waited for it, runs the cross-object checks, and sends every candidate, of
either kind, through the one ``PostPass``; findings inside an end-of-life
install's generated objects are left to I009 (``core.silencing``).
"""

from __future__ import annotations

import functools
import gc
import importlib
import os
import queue
import signal
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast, overload

from meshlint.core import cpus, scopes
from meshlint.core.files import Refused, decode
from meshlint.core.helm import is_chart_template
from meshlint.core.indexing import INDEXED_KINDS, entry_for
from meshlint.core.loading import (
    NOT_MANIFEST_RULES,
    LoadProblem,
    Reader,
    not_a_manifest,
    read_bytes,
    template_source,
    without_template_errors,
)
from meshlint.core.model import (
    MAX_FINDINGS_PER_RULE,
    Cluster,
    Document,
    Entry,
    Fact,
    Finding,
    Index,
    Location,
    Part,
    Violation,
)
from meshlint.core.model.document import MAX_SEARCHES_PER_FILE, SourceFile, text_lines
from meshlint.core.model.nodes import stack_headroom
from meshlint.core.pieces import SPLIT_BYTES, Piece, PieceReport, split
from meshlint.core.plan import ActiveRule, Plan
from meshlint.core.postpass import PostPass
from meshlint.core.report import (
    Candidate,
    FileReport,
    Input,
    Linted,
    Report,
    digest,
    with_line,
)
from meshlint.core.signals import raising_on_sigterm
from meshlint.core.silencing import silenced
from meshlint.core.suppression import Directives
from meshlint.domain.facts import KINDS as FACT_KINDS
from meshlint.domain.facts import document_facts
from meshlint.domain.k8s import pod_template_metadata
from meshlint.domain.otel import Applied, Hosted, Mount, unjoined

if TYPE_CHECKING:  # imported where workers start: a run too small for them never pays for it
    from multiprocessing.connection import Connection

# Below this many bytes a worker pool costs more than it saves.
PARALLEL_MIN_BYTES = 2_000_000


class _Flood:
    """The candidates of one rule in one document: the first MAX_FINDINGS_PER_RULE
    are sent on, the others only counted (not placed, before suppression)."""

    __slots__ = ("first", "more", "sent")

    def __init__(self) -> None:
        self.sent = 0
        self.more = 0
        self.first: Candidate | None = None  # the first one left out

    def take(self, candidate: Candidate) -> bool:
        """Whether a candidate goes on; past the cap it is counted instead (the
        first one left out is kept for the summary)."""
        if self.sent < MAX_FINDINGS_PER_RULE:
            self.sent += 1
            return True
        self.more += 1
        if self.first is None:
            self.first = candidate
        return False

    def summary(self, slug: str) -> Candidate | None:
        """The one candidate that counts what was left out, if anything was."""
        if self.first is None:
            return None
        message = (
            f"{self.more:,} more {slug} findings in this document from here on are not "
            f"shown: at most {MAX_FINDINGS_PER_RULE} per rule and document"
        )
        return self.first._replace(message=message, severity=None, fix=None)


def lint_input(item: Input, plan: Plan) -> FileReport:
    """Lint one file: its candidates, directives, facts and index entries."""
    report = FileReport(item.name, item.scope)
    try:
        data = item.read()
    except Refused as exc:
        report.errors.append(f"{item.name}: {exc}")
        return report
    except OSError as exc:
        report.errors.append(f"{item.name}: cannot read: {exc.strerror or exc}")
        return report
    if plan.digests:
        report.digest = digest(data)
    template = is_chart_template(item.file)
    reader = template_file(item.name, data) if template else read_bytes(item.name, data)
    del data
    problems = _read(item, reader, plan, report)
    _finish(item, reader, report, problems, plan)
    # the file's text is at hand: its own findings get their line now (facts and
    # index entries travel without one; cross-object findings get it at the end)
    if report.candidates:
        report.candidates = _with_lines(report.candidates, reader.file.lines)
    return report


def _read(item: Input, reader: Reader, plan: Plan, report: FileReport) -> list[LoadProblem]:
    """Lint each document ``reader`` yields into ``report``; the load problems met."""
    file = reader.file
    file.test_step = item.test_step
    report.scope = scopes.refined(item.scope, item.name, reader.helm_rendered)
    if file.mentions_meshlint:
        report.directives = Directives.scan(file.text, item.name, file.byte_offset)
    if report.directives:
        reader.on_root = report.directives.drop_strings
    reader.identity_only = _every_kind if item.patch else functools.partial(_identity_only, plan)
    problems: list[LoadProblem] = []
    # each document is linted as it is read, and dropped before the next one
    for found in reader:
        if isinstance(found, LoadProblem):
            problems.append(found)
            continue
        if item.patch:
            continue  # a kustomize patch: what it leaves out is its base's, not missing
        report.directives.add_annotations(found)
        if plan.list_resources:
            report.resources.append(Linted(found.file.name, found.resource))
        if found.kind in INDEXED_KINDS:
            report.entries.append(entry_for(found))
        _lint_document(found, plan, report)
    report.documents, report.skipped = reader.documents, reader.skipped
    report.joins = _joins(report.facts)
    return problems


def _finish(
    item: Input, reader: Reader, report: FileReport, problems: list[LoadProblem], plan: Plan
) -> None:
    """The file's load problems as candidates, once every document was read."""
    problems = without_template_errors(reader.file, problems)
    if item.walked and not report.documents and not_a_manifest(reader, problems):
        # NDJSON, data, a Go template outside templates/: a walk skips and counts
        # it; named on the command line it still gets its error
        problems = [p for p in problems if p.rule not in NOT_MANIFEST_RULES]
        report.not_manifest = True
        report.skipped = 0  # skipped as a file: what it held are no documents to count
    # loader problems (M001, M002) by rule and document (-1: not inside an object)
    floods: dict[tuple[str, int], _Flood] = defaultdict(_Flood)
    for problem in problems:
        candidate = Candidate(problem.rule, problem.at, problem.message, None)
        if floods[problem.rule, problem.at.document].take(candidate):
            report.candidates.append(candidate)
    for (rule, _), flood in floods.items():
        active = plan.get(rule)
        if active is not None and (summary := flood.summary(active.rule.slug)):
            report.candidates.append(summary)


def _with_lines(candidates: list[Candidate], lines: Sequence[str]) -> list[Candidate]:
    return [c._replace(location=with_line(c.location, lines)) for c in candidates]


def _lint_piece(piece: Piece, plan: Plan) -> PieceReport:
    """Lint a window of a file's documents (``core.pieces``)."""
    item = piece.item
    reader = piece.reader.window(piece.begin, piece.end, piece.line, piece.documents, piece.after)
    file = reader.file
    file.searches = piece.searches
    report = FileReport(item.name, item.scope)
    problems = _read(item, reader, plan, report)
    report.documents -= piece.documents
    lines = _Window(file, text_lines(file.text[piece.begin : piece.end]), piece.line, piece.total)
    report.candidates = _with_lines(report.candidates, lines)
    report.directives = report.directives.written_on(range(piece.line + 1, lines.end + 1))
    return PieceReport(
        report,
        [p._replace(at=with_line(p.at, lines)) for p in problems],
        report.documents,
        reader.first_root,
        reader.last_line,
        reader.last_source(),
        piece.searches - file.searches,
    )


class _Window(Sequence[str]):
    """A piece's lines, numbered as the file's (the file's own are split only
    for a finding outside the piece)."""

    def __init__(self, file: SourceFile, lines: list[str], first: int, total: int) -> None:
        self.file, self.lines, self.first = file, lines, first
        self.end = first + len(lines)  # one past the last line, 0-based
        self.total = total  # the file's, as many as text_lines gives (see Piece)

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, int) and self.first <= index < self.end:
            return self.lines[index - self.first]
        return self.file.lines[index]


def _joined(
    item: Input, whole: Whole, parts: list[tuple[Piece, PieceReport]], plan: Plan
) -> FileReport:
    """One report from the parts of a file split in pieces, as linting it whole
    gives: a part whose assumptions were wrong where it mattered is linted
    again, here, with the true ones (see ``core.pieces``)."""
    reader, _, data = whole
    documents, after, searches = 0, 0, MAX_SEARCHES_PER_FILE
    for n, (piece, part) in enumerate(parts):
        if not part.holds(piece, documents, after, searches):
            truth = replace(piece, documents=documents, after=after, searches=searches)
            part = _lint_piece(truth, plan)
            gc.collect(0)  # its documents' cycles, before anything is frozen (see _run)
            parts[n] = (truth, part)
        documents += part.documents
        searches -= part.searches
        if part.first_root is not None:
            after = part.last_line
    report = FileReport(item.name, parts[0][1].report.scope, documents=documents)
    report.directives = Directives.joined(part.report.directives for _, part in parts)
    for _, part in parts:
        got = part.report
        report.candidates += got.candidates
        for rule_id, found in got.facts.items():
            report.facts[rule_id] += found
        report.entries += got.entries
        report.joins += got.joins
        report.cluster += got.cluster
        report.resources += got.resources
        report.errors += got.errors
        report.skipped += got.skipped
    if plan.digests:
        report.digest = digest(data)
    _finish(item, reader, report, [p for _, part in parts for p in part.problems], plan)
    return report


def _identity_only(plan: Plan, kind: str) -> bool:
    """Whether ``lint_input`` reads no more of an object of ``kind`` than its
    identity (``loading.IDENTITY``: resource, labels, ignore annotations): no
    rule checks or collects it (the loader's own rules, M001 M002, apply to every
    kind and read no Document), and it gives no index entry and no fact."""
    return not (
        any(a.rule.check or a.rule.collect for a in plan.for_kind(kind))
        or kind in INDEXED_KINDS
        or kind in FACT_KINDS
        or pod_template_metadata(kind) is not None  # its template's ignore annotations
    )


def _every_kind(kind: str) -> bool:
    return True


def template_file(name: str, data: bytes) -> Reader:
    """A chart template named on the command line: one M005, nothing parsed."""
    try:
        text = decode(data)
    except UnicodeDecodeError:
        text = ""
    reader = Reader(name, text)
    reader.broken = template_source(reader.file, "a file under a Helm chart's templates/ directory")
    return reader


def _lint_document(doc: Document, plan: Plan, report: FileReport) -> None:
    try:
        report.cluster.extend(document_facts(doc))
    except Exception as exc:  # a bug here must not end the run or hide findings
        line, column = doc.position(())
        report.errors.append(
            f"{doc.file.name}:{line}:{column}: internal error reading facts from "
            f"{doc.resource}: {type(exc).__name__}: {exc}"
        )
    for active in plan.for_kind(doc.kind):
        rule = active.rule
        try:
            if rule.check is not None:
                flood = None  # made at the first violation: most rules find none
                for violation in rule.check(doc, active.context):
                    if flood is None:
                        flood = _Flood()
                    elif flood.first is not None:  # past the cap: counted, not placed
                        flood.more += 1
                        continue
                    placed = _place(active, doc, violation)
                    if flood.take(placed):
                        report.candidates.append(placed)
                if flood is not None and (summary := flood.summary(rule.slug)):
                    report.candidates.append(summary)
            if rule.collect is not None:
                report.facts[rule.id].extend(_collected(doc, active))
        except Exception as exc:  # a rule bug must not end the run or hide other findings
            line, column = doc.position(())
            report.errors.append(
                f"{doc.file.name}:{line}:{column}: internal error in rule {rule.id} "
                f"({rule.slug}) on {doc.resource}: {type(exc).__name__}: {exc}"
            )
    doc.forget_memo()


def _collected(doc: Document, active: ActiveRule) -> list[Any]:
    """Rules of one pack share a collect function (every Istio rule asks the same
    mesh facts): it runs once per document and parameters."""
    collect, ctx = active.rule.collect, active.context
    assert collect is not None
    return doc.memo(active.collect_key, lambda: list(collect(doc, ctx)))


def _place(active: ActiveRule, doc: Document | None, violation: Violation) -> Candidate:
    """A violation in its file: the path it names is located in ``doc``."""
    at = violation.at
    if not isinstance(at, Location):
        if doc is None:
            raise ValueError("a cross-object violation needs a Location (Document.locate)")
        at = doc.locate(at)
    return Candidate(
        active.rule.id, at, violation.message, violation.severity, violation.fix, violation.when
    )


_STOPPING = {signal.SIGINT, signal.SIGTERM}


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Linting builds and drops large acyclic trees, one file at a time.

    The cyclic collector finds nothing in them (the converter refuses cyclic
    aliases) yet costs a third of the run; reference counting frees every
    file's documents as soon as the next file starts.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lint_and_sweep(item: Input, plan: Plan) -> FileReport:
    """Lint one file, then free what its documents left in reference cycles.

    A document and the embedded configs it caches point at each other, so with
    the cyclic collector paused a file's nodes would outlive it. Everything the
    file allocated is still in the youngest generation: collecting just that
    generation is proportional to what survived the file, not to the run.
    """
    report = lint_input(item, plan)
    gc.collect(0)
    return report


def _size(item: Input) -> int:
    if item.data is not None:
        return len(item.data)
    try:
        return os.path.getsize(item.file)
    except OSError:
        return 0  # reported when it is read


# Reports of an earlier run by input name, with what each was made from: the
# bytes given (stdin, a fixed text, an editor's buffer), else the (mtime, size)
# of the file on disk. ``lint`` reuses one for an input that is the same again:
# ``--fix`` re-reads only the files a round changed, the language server only
# the files edited since its last lint.
Kept = MutableMapping[str, tuple[object, FileReport]]


def _made_from(item: Input) -> object:
    """What a report of ``item`` depends on, or None where it cannot be told."""
    if item.data is not None:
        return item.data
    try:
        st = os.stat(item.file)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


def _reports(
    inputs: list[Input], plan: Plan, jobs: int | None, kept: Kept | None = None
) -> Iterator[FileReport]:
    """Each input's report: from ``kept`` where the input is what that report was
    made from, else linted (and added to ``kept``)."""
    if kept is None:
        yield from _linted(inputs, plan, jobs)
        return
    todo = []
    made: dict[str, object] = {}
    for item in inputs:
        key = _made_from(item)
        found = kept.get(item.name)
        if key is not None and found is not None and found[0] == key:
            yield found[1]
        else:
            made[item.name] = key
            todo.append(item)
    for part in _linted(todo, plan, jobs):
        if (key := made.get(part.file)) is not None:
            kept[part.file] = (key, part)
        yield part


def _linted(inputs: list[Input], plan: Plan, jobs: int | None) -> Iterator[FileReport]:
    """Each input's report, in this process or in ``jobs`` workers (None: see ``cpus``)."""
    size = sum(map(_size, inputs))
    if jobs == 1 or size < PARALLEL_MIN_BYTES or not _forkable():
        for item in inputs:
            yield _lint_and_sweep(item, plan)
        return
    # the probe measures the other cores from here: splitting a large input
    # keeps this process busy as linting would
    probe = cpus.Probe()
    tasks, wholes = _tasks(inputs)
    if len(tasks) < 2:
        yield _lint_and_sweep(inputs[0], plan)
        return
    yield from _assembled(_run_tasks(tasks, plan, jobs, probe), wholes, plan)


def _forkable() -> bool:
    import multiprocessing  # only a run large enough for workers imports it (start-up)

    return "fork" in multiprocessing.get_all_start_methods()


Task = Input | Piece
# A file split in pieces: its reader (its text), its pieces in file order, its bytes.
Whole = tuple[Reader, list[Piece], bytes]


def _tasks(inputs: list[Input]) -> tuple[list[Task], dict[int, Whole]]:
    """The inputs, a large one as pieces a worker each (``core.pieces``)."""
    tasks: list[Task] = []
    wholes: dict[int, Whole] = {}
    for item in inputs:
        size = _size(item)
        pieces: list[Piece] = []
        if size >= SPLIT_BYTES and not is_chart_template(item.file):
            try:
                data = item.read()
            except (Refused, OSError):
                data = b""  # reported when it is linted
            reader = read_bytes(item.name, data)
            pieces = split(item, size, reader, cpus.usable_cores())
        if pieces:
            wholes[id(item)] = (reader, pieces, data)
            tasks += pieces
        else:
            tasks.append(item)
    return tasks, wholes


def _task_size(task: Task) -> int:
    return task.end - task.begin if isinstance(task, Piece) else _size(task)


def _run(task: Task, plan: Plan) -> FileReport | PieceReport:
    if isinstance(task, Input):
        return _lint_and_sweep(task, plan)
    part = _lint_piece(task, plan)
    gc.collect(0)  # see _lint_and_sweep
    return part


def _run_tasks(
    tasks: list[Task], plan: Plan, jobs: int | None, probe: cpus.Probe | None = None
) -> Iterator[tuple[Task, FileReport | PieceReport]]:
    """Each task with what linting it gave, in this process or in workers
    (``probe``: measuring since the tasks were made)."""
    if jobs is None and cpus.usable_cores() < 2:
        for task in tasks:
            yield task, _run(task, plan)
        return
    # Largest first, so that no worker is left alone with a big file at the end.
    ordered = sorted(tasks, key=lambda task: -_task_size(task))
    sizes = [_task_size(task) for task in ordered]
    if jobs is None:
        # One worker starts at once, and the cores are measured while it and
        # this process lint: the probe then decides whether it goes on, and
        # whether more join it (see _Batches.decide). Measuring before starting
        # it left the other core idle for the probe's 0.15 s, a tenth of the
        # corpus's parallel run.
        order = {id(task): n for n, task in enumerate(tasks)}
        yield from _shared(ordered, sizes, plan, 2, probe or cpus.Probe(), order)
        return
    yield from _shared(ordered, sizes, plan, jobs)


def _assembled(
    done: Iterator[tuple[Task, FileReport | PieceReport]], wholes: dict[int, Whole], plan: Plan
) -> Iterator[FileReport]:
    """Each input's report: a split file's once all its pieces are back."""
    parts: dict[int, dict[int, PieceReport]] = defaultdict(dict)  # by input, by piece
    for task, result in done:
        if isinstance(result, FileReport):
            yield result
            continue
        assert isinstance(task, Piece)
        key = id(task.item)
        parts[key][id(task)] = result
        whole = wholes[key]
        if len(parts[key]) == len(whole[1]):
            got = parts.pop(key)
            yield _joined(task.item, whole, [(p, got[id(p)]) for p in whole[1]], plan)


def _shared(
    tasks: list[Task],
    sizes: list[int],
    plan: Plan,
    jobs: int,
    probe: cpus.Probe | None = None,
    order: dict[int, int] | None = None,
) -> Iterator[tuple[Task, FileReport | PieceReport]]:
    """What ``tasks`` (largest first) give, linted by this process and
    ``jobs - 1`` forked workers; with ``probe``, as many as it finds the idle
    cores for once it has measured (``order``: each task's place in the input,
    the order this process lints the rest in if it goes on alone).

    The workers take batches from the front, this process one task at a time
    from the back (the smallest), between collecting what the workers send, so
    that neither waits for the other at the end. Forked, a worker holds the plan
    and the inputs already: a batch is a range of indices, and only reports
    travel back, pickled. No helper threads: ``multiprocessing.Pool``'s three
    (its worker handler wakes for every result) cost the parent about a second
    of CPU on the corpus.
    """
    # the workers' reports are frozen while this process lints (_Batches.collect),
    # unless what runs meshlint froze objects of its own: those stay as they are
    freezing = gc.get_freeze_count() == 0
    with raising_on_sigterm():  # the run unwinds and ends its workers
        workers: list[Connection] = []
        try:
            _start_workers(jobs - 1, tasks, plan, workers)
            batches = _Batches(tasks, sizes, jobs, probe, order, freezing)
            yield from batches.collect(workers, plan)
        finally:
            _stop_workers(workers)
            if freezing:
                gc.unfreeze()  # collectable again, as before the run


class _Batches:
    """``tasks`` (largest first) handed out: to workers in batches from the
    front, to this process one at a time from the back."""

    def __init__(
        self,
        tasks: list[Task],
        sizes: list[int],
        jobs: int,
        probe: cpus.Probe | None = None,
        order: dict[int, int] | None = None,
        freezing: bool = False,
    ) -> None:
        self.tasks, self.sizes = tasks, sizes
        self.freezing = freezing
        self.batch_bytes = max(1, sum(sizes) // (32 * jobs))
        self.front, self.back = 0, len(tasks)  # tasks[front:back] are left
        self.probe, self.order = probe, order or {}
        self.probed = 0  # bytes this process linted while the probe measured
        self.alone: list[int] = []  # what this process lints once workers would not pay

    def next(self) -> range | None:
        """The next batch for a worker: the tasks at the front, about
        ``batch_bytes`` of them (a larger one alone); a quarter of that while
        the probe has not decided whether the worker should lint at all."""
        start, taken = self.front, 0
        limit = self.batch_bytes // 4 if self.probe else self.batch_bytes
        while self.front < self.back and (taken < limit or self.front == start):
            taken += self.sizes[self.front]
            self.front += 1
        return range(start, self.front) if self.front > start else None

    def own(self) -> int | None:
        """The index of this process's next task, if any is left."""
        if self.alone:
            return self.alone.pop()
        if self.front < self.back:
            self.back -= 1
            return self.back
        return None

    def decide(self, workers: list[Connection], plan: Plan) -> None:
        """Once the probe has measured: stop handing work to the workers where
        the cores they run on were busy with something else (this process lints
        the rest, in the order given, as -j 1 reads it), or start more where
        the idle cores and the work left repay them."""
        probe, self.probe = self.probe, None
        assert probe is not None
        ours = [_WORKERS[conn].pid for conn in workers]
        jobs = cpus.workers(
            sum(self.sizes[self.front : self.back]),
            self.back - self.front,
            probe.free_cores(ours),
            probe.rate(self.probed),
        )
        if jobs <= 1:
            place = {i: self.order.get(id(self.tasks[i]), i) for i in range(self.front, self.back)}
            self.alone = sorted(place, key=place.__getitem__, reverse=True)  # popped from the end
            self.back = self.front
        elif jobs > len(workers) + 1:
            _start_workers(jobs - 1 - len(workers), self.tasks, plan, workers)

    def fill(self, conn: Connection, busy: dict[Connection, list[range]]) -> None:
        """Keep worker ``conn`` ahead: two batches in flight, so that it never
        waits between them; one while the probe has not decided whether it
        should lint at all."""
        queued = busy.setdefault(conn, [])
        while len(queued) < (1 if self.probe else 2) and (todo := self.next()) is not None:
            conn.send(todo)
            queued.append(todo)
        if not queued:
            del busy[conn]

    def collect(
        self, workers: list[Connection], plan: Plan
    ) -> Iterator[tuple[Task, FileReport | PieceReport]]:
        from multiprocessing.connection import wait

        busy: dict[Connection, list[range]] = {}  # batches in flight, by worker
        while True:
            if self.probe is not None and self.probe.elapsed() >= cpus.PROBE_SECONDS:
                self.decide(workers, plan)
            for conn in workers:
                self.fill(conn, busy)
            if not (busy or self.front < self.back or self.alone):
                return
            left = self.front < self.back or bool(self.alone)
            for ready in wait(list(busy), timeout=0 if left else None) if busy else ():
                conn = cast("Connection", ready)
                try:
                    done = conn.recv()
                except (EOFError, OSError):  # killed: out of memory, a signal
                    raise WorkerLost(_WORKERS[conn]) from None
                batch = busy[conn].pop(0)
                self.fill(conn, busy)
                if isinstance(done, BaseException):
                    raise done
                yield from zip((self.tasks[i] for i in batch), done, strict=True)
            if (index := self.own()) is not None:
                task = self.tasks[index]
                if self.probe is not None:
                    self.probed += self.sizes[index]
                # what this process holds now (the workers' reports received
                # since its last task, above all) is the run's to keep: frozen,
                # the sweep after this task walks only what the task made (on a
                # 200,000-document stream it walked 1.3 s of reports)
                if self.freezing:
                    gc.freeze()
                yield task, _run(task, plan)


class WorkerLost(Exception):
    """A worker process ended before its work was done: the machine's, not a
    bug of meshlint's (the kernel's out-of-memory killer, a signal)."""

    def __init__(self, worker: Any) -> None:
        worker.join(timeout=1)
        code = worker.exitcode
        how = (
            f"was killed by signal {-code}"
            if isinstance(code, int) and code < 0
            else f"exited with status {code}"
        )
        super().__init__(
            f"a worker process {how} before its work was done (out of memory? "
            "-j 1 lints in one process)"
        )


def _start_workers(count: int, tasks: list[Task], plan: Plan, conns: list[Connection]) -> None:
    """``count`` more forked workers, each serving batches of ``tasks`` over a
    pipe, added to ``conns`` as each starts: whoever holds ``conns`` ends them,
    even when a signal held back during the forks is raised on the way out."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    for module in _IMPORTED_LATE:
        with suppress(ImportError):
            importlib.import_module(module)
    # a signal that lands while a worker is forked would hit it before it
    # ignores Ctrl-C: hold both until every worker is set up
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        for _ in range(count):
            here, there = context.Pipe()
            worker = context.Process(target=_serve, args=(there, tasks, plan), daemon=True)
            worker.start()
            there.close()
            _WORKERS[here] = worker
            conns.append(here)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


# What rules import only when they first need it (start-up is a budget): a run
# large enough for workers meets them, so they are imported once, before the
# fork, not again by every worker.
_IMPORTED_LATE = ("jsonschema", "ruamel.yaml")

# The process behind each worker's pipe.
_WORKERS: dict[Connection, Any] = {}


def _stop_workers(conns: list[Connection]) -> None:
    """End the workers: those still linting (an error, Ctrl-C) by SIGTERM."""
    for conn in conns:
        worker = _WORKERS.pop(conn)
        with suppress(OSError):
            conn.send(None)
        conn.close()
        worker.join(timeout=0.5)
        if worker.exitcode is None:
            worker.terminate()
            worker.join()


def _serve(conn: Connection, tasks: list[Task], plan: Plan) -> None:
    """A worker: lint each batch of ``tasks`` it is sent, send the reports back.

    A thread sends them: the parent reads them between its own inputs, and a
    report larger than the pipe holds (a piece's) would otherwise keep the
    worker waiting, not linting, until the parent is done with one of its own.
    """
    gc.disable()  # see _gc_paused
    # Ctrl-C reaches the whole process group: the parent alone stops the run (it
    # ends the workers), so workers print no traceback; SIGTERM (from the
    # parent, or a CI runner) ends a worker at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)  # blocked across the fork
    outbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    sender = threading.Thread(target=_send_all, args=(conn, outbox), daemon=True)
    sender.start()
    while True:
        try:
            todo = conn.recv()
        except EOFError:  # the parent is gone
            return
        if todo is None:
            break
        try:
            done: Any = [_run(tasks[i], plan) for i in todo]
        except Exception as exc:  # re-raised in the parent, as a pool would
            done = exc
        outbox.put(done)
    outbox.put(None)
    sender.join()


def _send_all(conn: Connection, outbox: queue.SimpleQueue[Any]) -> None:
    while (done := outbox.get()) is not None:
        try:
            conn.send(done)  # pickled whole before a byte is written
        except OSError:  # the parent is gone
            return
        except Exception as exc:  # a report that does not pickle: a bug, raised in the parent
            # (this thread ending would leave the parent waiting for ever)
            failed = RuntimeError(
                f"a worker could not send its report: {type(exc).__name__}: {exc}"
            )
            try:
                conn.send(failed)
            except OSError:
                return


Progress = Callable[[int, int], None]  # (files done, files in all)


def lint(
    inputs: Iterable[Input],
    plan: Plan,
    jobs: int | None = 1,
    progress: Progress | None = None,
    on_file: Callable[[list[Finding]], None] | None = None,
    candidates: Iterable[Candidate] = (),
    kept: Kept | None = None,
) -> Report:
    """Lint ``inputs`` with ``jobs`` processes (None: as many as the work and the
    idle cores repay, see ``meshlint.core.cpus``). ``on_file`` is handed each
    file's own findings as soon as the file is done (cross-object findings,
    verdicts that wait for the scope's facts and M100 come only in the report).
    ``candidates`` found outside any input (a chart that Helm cannot render,
    M006) are judged like the others. With ``kept`` (filled by an earlier run with
    the same plan: ``--fix`` linting its result again, the language server after
    an edit), only the inputs that changed since are read and linted again;
    cross-object rules and suppression still judge the whole run."""
    items = inputs if isinstance(inputs, list) else list(inputs)
    del inputs
    report = Report(files=len(items))
    # after the loop only these are needed: the inputs that cannot be re-read by
    # name (stdin, paths written another way), the trees each other one may be
    # read again in (only those are echoed), and the input order for JUnit
    special = [i for i in items if i.data is not None or i.path is not None]
    by_name = {i.name: i.within for i in items if i.data is None and i.path is None}
    order = {i.name: n for n, i in enumerate(items)} if plan.list_resources else {}
    # cross-object rules join only inside a scope (core.scopes): facts and index
    # entries are kept by the scope of the file they came from
    facts: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    entries: dict[str, list[Entry]] = defaultdict(list)
    joins: dict[str, list[Any]] = defaultdict(list)  # see _joins
    # what runs, per scope, and the verdicts that wait for it (core.model.facts)
    cluster: dict[str, list[Any]] = defaultdict(list)
    deferred: dict[str, list[Candidate]] = defaultdict(list)
    post = PostPass(plan)
    with _gc_paused(), stack_headroom():
        for done, part in enumerate(_reports(items, plan, jobs, kept), 1):
            if progress is not None:
                progress(done, report.files)
            post.add_directives(part.file, part.directives)
            start = len(post.findings)
            for candidate in part.candidates:
                if candidate.when is not None:
                    deferred[part.scope].append(candidate)
                else:
                    post.judge(candidate)
            if on_file is not None and len(post.findings) > start:
                on_file(sorted(post.without_implied(post.findings[start:]), key=Finding.order))
            report.errors.extend(part.errors)
            if part.digest:
                report.digests[part.file] = part.digest
            report.documents += part.documents
            report.skipped += part.skipped
            report.not_manifests += part.not_manifest
            entries[part.scope].extend(part.entries)
            joins[part.scope].extend(part.joins)
            report.resources.extend(part.resources)
            for rule_id, items_ in part.facts.items():
                facts[part.scope][rule_id].extend(items_)
            cluster[part.scope].extend(part.cluster)
        del items  # a large tree's inputs are memory the end of the run can reuse
        for candidate in candidates:
            post.judge(candidate)
        scoped = facts.keys() | entries.keys() | joins.keys() | cluster.keys() | deferred.keys()
        for scope in sorted(scoped):
            runs = _cluster(plan, cluster.pop(scope, ()))
            report.clusters[scope] = runs
            for candidate in deferred.pop(scope, ()):
                _resolve(candidate, runs, post, report)
            found = _with_namespace(facts.pop(scope, {}), plan.namespace)
            applied = [Applied(plan.namespace)] if plan.namespace is not None else []
            report.unjoined.extend(dict.fromkeys(unjoined([*joins.pop(scope, ()), *applied])))
            _check_run(plan, Index(entries.pop(scope, ())), found, report, post, runs)
        post.findings = silenced(post.findings, report.clusters)
        report.findings, report.unused_ignores = post.finish(special, by_name)
    report.suppressed = post.suppressed
    # workers finish in any order; reports list objects in the order files were given
    report.resources.sort(key=lambda linted: order.get(linted.file, len(order)))
    return report


def _cluster(plan: Plan, found: Iterable[Any]) -> Cluster:
    """A scope's facts: what the user declared, then what its files say."""
    facts = [f for f in found if isinstance(f, Fact)]
    parts = [p for p in found if isinstance(p, Part)]
    return Cluster((*plan.declared, *facts), parts)


def _resolve(candidate: Candidate, cluster: Cluster, post: PostPass, report: Report) -> None:
    """A verdict that waited for the scope's facts: reported with the message its
    facts give, or dropped."""
    try:
        message = candidate.when.resolve(cluster, candidate.location.file, candidate.message)
    except Exception as exc:
        report.errors.append(
            f"{candidate.location.file}:{candidate.location.line}: internal error in rule "
            f"{candidate.rule} resolving a verdict: {type(exc).__name__}: {exc}"
        )
        return
    if message is not None:
        post.judge(candidate._replace(message=message, when=None))


def _with_namespace(facts: dict[str, list[Any]], namespace: str | None) -> dict[str, list[Any]]:
    """``--namespace`` as a fact of each rule that joins configs to pods."""
    if namespace is not None:
        for items in facts.values():
            if any(isinstance(f, (Mount, Hosted)) for f in items):
                items.append(Applied(namespace))
    return facts


def _joins(facts: Mapping[str, list[Any]]) -> list[Any]:
    """The facts of one file that ``link.unjoined`` reads: where its collector
    configs are and which ConfigMaps its pods mount, each once.

    Worked out where the file was linted (a worker, mostly): a stream of
    collector configs brings a dozen facts per ConfigMap, one per rule and
    finding-to-be, and going through all of them in the run's process was a
    second of a 200,000-document run's serial end. A config counts once per
    ConfigMap key however many rules hold facts about it.
    """
    hosted: dict[tuple[Any, ...], Hosted] = {}
    mounts: dict[int, Mount] = {}  # the same object, shared by the rules, once
    for items in facts.values():
        for fact in items:
            if isinstance(fact, Hosted):
                hosted.setdefault(
                    (fact.file, fact.namespace, fact.config_map, fact.key, fact.stream), fact
                )
            elif isinstance(fact, Mount):
                mounts.setdefault(id(fact), fact)
    return [*hosted.values(), *mounts.values()]


def _check_run(
    plan: Plan,
    index: Index,
    facts: Mapping[str, list[Any]],
    report: Report,
    post: PostPass,
    cluster: Cluster | None = None,
) -> None:
    """Cross-object rules, once every file has been read."""
    for active in plan.rules:
        rule = active.rule
        if rule.check_run is None:
            continue
        context = replace(
            active.context, index=index, facts=tuple(facts.get(rule.id, ())), cluster=cluster
        )
        try:
            for violation in rule.check_run(context):
                post.judge(_place(active, None, violation))
        except Exception as exc:
            report.errors.append(
                f"internal error in rule {rule.id} ({rule.slug}): {type(exc).__name__}: {exc}"
            )
