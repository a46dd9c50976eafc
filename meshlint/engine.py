"""The one loop: inputs -> documents -> rules -> findings.

Each file is linted on its own (in a worker process when there are many) and
yields a ``FileReport``: positioned, suppression-checked findings plus the
small facts that cross-object rules and the run-wide index need. The parent
joins the reports, runs the cross-object checks, and sorts.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from meshlint import cpus
from meshlint.config import matches
from meshlint.globs import matches_any, relative
from meshlint.index import INDEXED_KINDS, Entry, Index, entry_for
from meshlint.model import (
    MAX_FINDINGS_PER_RULE,
    Finding,
    Ignore,
    Location,
    Severity,
    Violation,
    json_path,
)
from meshlint.plan import ActiveRule, Plan
from meshlint.report import FileReport, Input, Linted, Report, echo, with_line
from meshlint.source import Document, Problem, SourceFile, read_bytes
from meshlint.suppress import unused_reports

# Below this many bytes a worker pool costs more than it saves.
PARALLEL_MIN_BYTES = 2_000_000


class _Flood:
    """The findings of one rule in one document: the first MAX_FINDINGS_PER_RULE
    are reported, the others only counted (suppressions still apply)."""

    __slots__ = ("first", "more", "shown")

    def __init__(self) -> None:
        self.shown = 0
        self.more = 0
        self.first: tuple[ActiveRule, Location] | None = None  # the first one left out

    @property
    def full(self) -> bool:
        return self.shown >= MAX_FINDINGS_PER_RULE


class _Collector:
    """Turns violations into findings for one file, applying suppression."""

    def __init__(
        self, plan: Plan, report: FileReport, rel: str, file: SourceFile | None = None
    ) -> None:
        self.plan = plan
        self.report = report
        self.file = file
        self.file_ignored = [
            set(tokens) for pattern, tokens in plan.per_file_ignores if matches_any(rel, [pattern])
        ]

    def ignored(self, active: ActiveRule, ignores: tuple[Ignore, ...]) -> bool:
        """Whether per-file-ignores or one of ``ignores`` suppresses the rule here
        (a directive that does is used, and the finding counted as suppressed)."""
        rule = active.rule
        if any(matches(t, rule) for tokens in self.file_ignored for t in tokens):
            return True
        for ignore in ignores:
            if ignore.covers(rule.id, rule.slug):
                self.report.used.add(ignore)
                self.report.suppressed += 1
                return True
        return False

    def add(
        self,
        active: ActiveRule,
        location: Location,
        message: str,
        severity: Severity | None,
        flood: _Flood | None = None,
    ) -> None:
        rule = active.rule
        if self.ignored(active, location.ignores):
            return
        if flood is not None:
            if flood.full:
                flood.more += 1
                flood.first = flood.first or (active, location)
                return
            flood.shown += 1
        level = active.severity if active.fixed_severity or severity is None else severity
        self.report.findings.append(Finding.make(location, rule, level, message))

    def close(self, flood: _Flood) -> None:
        """The one finding that counts what ``flood`` left out, if it left anything out."""
        if flood.first is None:
            return
        active, location = flood.first
        rule = active.rule
        message = (
            f"{flood.more:,} more {rule.slug} findings in this document from here on are not "
            f"shown: at most {MAX_FINDINGS_PER_RULE} per rule and document"
        )
        self.report.findings.append(Finding.make(location, rule, active.severity, message))


def _problem_location(problem: Problem, doc: Document | None, file: SourceFile) -> Location:
    ignores = file.suppressions.at(problem.line)
    if doc is not None:
        ignores += (doc.host or doc).annotation_ignores()
    base = (doc.host or doc).base_path if doc is not None else ()
    return Location(
        file=file.name,
        line=problem.line,
        column=problem.column,
        path=json_path((*base, *problem.path)),
        resource=doc.resource if doc is not None else None,
        source=(doc.host or doc).source if doc is not None else None,
        ignores=ignores,
    )


def report_problem(collector: _Collector, problem: Problem, flood: _Flood | None = None) -> None:
    """Loader and embedded-config problems (M001, M002, M004) become findings."""
    active = collector.plan.get(problem.rule)
    file = problem.document.file if problem.document else collector.file
    if active is not None and file is not None:
        location = _problem_location(problem, problem.document, file)
        collector.add(active, location, problem.message, None, flood)


def lint_input(item: Input, plan: Plan) -> FileReport:
    report = FileReport()
    if item.data is None:
        try:
            with open(item.file, "rb") as handle:
                data = handle.read()
        except OSError as exc:
            report.errors.append(f"{item.name}: cannot read: {exc.strerror or exc}")
            return report
    else:
        data = item.data
    reader = read_bytes(item.name, data)
    del data
    rel = item.rel or (relative(item.name, plan.root) if plan.per_file_ignores else item.name)
    collector = _Collector(plan, report, rel, reader.file)
    report.ignores.extend(reader.file.suppressions.all())
    # loader problems (M001, M002) by rule and document; -1: a part that is no object
    floods: dict[tuple[str, int], _Flood] = defaultdict(_Flood)
    # each document is linted as it is read, and dropped before the next one
    for found in reader:
        if isinstance(found, Problem):
            index = found.document.index if found.document else -1
            report_problem(collector, found, floods[found.rule, index])
            continue
        report.ignores.extend(found.annotation_ignores())
        if plan.list_resources:
            report.resources.append(Linted(found.file.name, found.resource))
        if found.kind in INDEXED_KINDS:
            report.entries.append(entry_for(found))
        _lint_document(found, plan, collector)
        found.release()
    for flood in floods.values():
        collector.close(flood)
    report.documents = reader.documents
    report.skipped = reader.skipped
    # the file's text is at hand: its own findings get their line now (facts and
    # index entries travel without one; cross-object findings get it in _echo)
    report.findings = [with_line(f, reader.file.lines) for f in report.findings]
    return report


def _lint_document(doc: Document, plan: Plan, collector: _Collector) -> None:
    kind = doc.kind
    # Rules of one pack share a collect function (every Istio rule asks the same
    # mesh facts): gather them once per document and parameters.
    collected: dict[tuple[Any, ...], list[Any]] = {}
    for active in plan.rules:
        rule = active.rule
        if not rule.applies_to(kind):
            continue
        try:
            if rule.check is not None:
                flood = _Flood()
                for violation in rule.check(doc, active.context):
                    _add_violation(collector, active, doc, violation, flood)
                collector.close(flood)
            if rule.collect is not None:
                ctx = active.context
                key = (rule.collect, tuple(sorted(ctx.params.items())), ctx.kube_version)
                if key not in collected:
                    collected[key] = list(rule.collect(doc, ctx))
                collector.report.facts[rule.id].extend(collected[key])
        except Exception as exc:  # a rule bug must not end the run or hide other findings
            line, column = doc.position(())
            collector.report.errors.append(
                f"{doc.file.name}:{line}:{column}: internal error in rule {rule.id} "
                f"({rule.slug}) on {doc.resource}: {type(exc).__name__}: {exc}"
            )


def _add_violation(
    collector: _Collector, active: ActiveRule, doc: Document, v: Violation, flood: _Flood
) -> None:
    if isinstance(v, Problem):
        report_problem(collector, v, flood)
        return
    if flood.first is not None and v.anchor is None:
        # past the cap a finding is only counted: its line is enough for suppression
        if not collector.ignored(active, doc.ignores_at(v.path)):
            flood.more += 1
        return
    location = v.anchor or (doc.locate(v.path) if flood.full else doc.anchor(v.path))
    collector.add(active, location, v.message, v.severity, flood)


# Worker processes inherit the plan through fork; this is set only inside them.
_WORKER_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan
    gc.disable()  # see _gc_paused


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


def _work(item: Input) -> FileReport:
    assert _WORKER_PLAN is not None
    return _lint_and_sweep(item, _WORKER_PLAN)


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


def _reports(inputs: list[Input], plan: Plan, jobs: int | None) -> Iterator[FileReport]:
    """Each input's report, in this process or in ``jobs`` workers (None: see ``cpus``)."""
    sizes = {id(item): _size(item) for item in inputs}
    size = sum(sizes.values())
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if jobs == 1 or len(inputs) < 2 or size < PARALLEL_MIN_BYTES or not forkable:
        for item in inputs:
            yield _lint_and_sweep(item, plan)
        return
    # Largest first, so that no worker is left alone with a big file at the end.
    ordered = sorted(inputs, key=lambda item: -sizes[id(item)])
    if jobs is None:
        # lint the smallest files here first while measuring what the other cores
        # do, then decide whether workers would help with the rest
        probe = cpus.Probe()
        while len(ordered) > 1 and probe.elapsed() < cpus.PROBE_SECONDS:
            item = ordered.pop()
            size -= sizes[id(item)]
            yield _lint_and_sweep(item, plan)
        jobs = cpus.workers(size, len(ordered), probe.free_cores())
        if jobs == 1:
            for item in ordered:
                yield _lint_and_sweep(item, plan)
            return
    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_init_worker, initargs=(plan,)) as pool:
        yield from pool.imap_unordered(_work, ordered, chunksize=2)


Progress = Callable[[int, int], None]  # (files done, files in all)


def lint(
    inputs: Iterable[Input], plan: Plan, jobs: int | None = 1, progress: Progress | None = None
) -> Report:
    """Lint ``inputs`` with ``jobs`` processes (None: as many as the work and the idle
    cores repay, see ``meshlint.cpus``)."""
    items = inputs if isinstance(inputs, list) else list(inputs)
    del inputs
    report = Report(files=len(items))
    # after the loop only these are needed: the inputs that cannot be re-read by
    # name (stdin, paths written another way), and the input order for JUnit
    special = [i for i in items if i.data is not None or i.path is not None]
    order = {i.name: n for n, i in enumerate(items)} if plan.list_resources else {}
    facts: dict[str, list[Any]] = defaultdict(list)
    entries: list[Entry] = []
    ignores: list[Ignore] = []
    used: set[Ignore] = set()
    with _gc_paused():
        for done, part in enumerate(_reports(items, plan, jobs), 1):
            if progress is not None:
                progress(done, report.files)
            report.findings.extend(part.findings)
            report.errors.extend(part.errors)
            report.documents += part.documents
            report.skipped += part.skipped
            report.suppressed += part.suppressed
            entries.extend(part.entries)
            report.resources.extend(part.resources)
            ignores.extend(part.ignores)
            used |= part.used
            for rule_id, items_ in part.facts.items():
                facts[rule_id].extend(items_)
    del items  # a large tree's inputs are memory the end of the run can reuse
    _check_run(plan, Index(entries), facts, report, used)
    report.unused_ignores = [i for i in dict.fromkeys(ignores) if i not in used]
    report.findings.extend(_unused_findings(plan, report.unused_ignores))
    report.findings = echo(sorted(dict.fromkeys(report.findings)), special)
    # workers finish in any order; reports list objects in the order files were given
    report.resources.sort(key=lambda linted: order.get(linted.file, len(order)))

    return report


def _unused_findings(plan: Plan, unused: list[Ignore]) -> Iterator[Finding]:
    """M100 findings, when asked for (``--report-unused-ignores``)."""
    active = plan.get("M100")
    if not plan.report_unused or active is None:
        return
    ran = {t for a in plan.rules if a.rule.id != "M100" for t in (a.rule.id, a.rule.slug)}
    for ignore, message in unused_reports(unused, ran, plan.known):
        location = Location(ignore.file, ignore.line, ignore.column, source_line=ignore.text)
        yield Finding.make(location, active.rule, active.severity, message)


def _check_run(
    plan: Plan, index: Index, facts: Mapping[str, list[Any]], report: Report, used: set[Ignore]
) -> None:
    """Cross-object rules, once every file has been read."""
    part = FileReport()
    collector = _Collector(plan, part, "")
    for active in plan.rules:
        rule = active.rule
        if rule.check_run is None:
            continue
        context = replace(active.context, index=index, facts=tuple(facts.get(rule.id, ())))
        try:
            for violation in rule.check_run(context):
                if violation.anchor is None:
                    raise ValueError("a cross-object violation needs an anchor")
                collector.file_ignored = [
                    set(tokens)
                    for pattern, tokens in plan.per_file_ignores
                    if matches_any(relative(violation.anchor.file, plan.root), [pattern])
                ]
                collector.add(active, violation.anchor, violation.message, violation.severity)
        except Exception as exc:
            report.errors.append(
                f"internal error in rule {rule.id} ({rule.slug}): {type(exc).__name__}: {exc}"
            )
    report.findings.extend(part.findings)
    report.suppressed += part.suppressed
    used |= part.used
