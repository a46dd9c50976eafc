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

import gc
import multiprocessing
import os
import signal
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from meshlint.core import cpus, scopes
from meshlint.core.files import Refused
from meshlint.core.helm import is_chart_template
from meshlint.core.indexing import INDEXED_KINDS, entry_for
from meshlint.core.loading import (
    NOT_MANIFEST_RULES,
    LoadProblem,
    Reader,
    decode,
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
from meshlint.core.model.nodes import stack_headroom
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
from meshlint.domain.facts import document_facts
from meshlint.domain.otel import Applied, Hosted, Mount, unjoined

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
    file = reader.file
    file.test_step = item.test_step
    report.scope = scopes.refined(item.scope, item.name, reader.helm_rendered)
    report.directives = Directives.scan(file.text, item.name, file.byte_offset)
    if report.directives:
        reader.on_root = report.directives.drop_strings
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
    problems = without_template_errors(file, problems)
    if item.walked and not reader.documents and not_a_manifest(reader, problems):
        # NDJSON, data, a Go template outside templates/: a walk skips and counts
        # it; named on the command line it still gets its error
        problems = [p for p in problems if p.rule not in NOT_MANIFEST_RULES]
        report.not_manifest = True
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
    # the file's text is at hand: its own findings get their line now (facts and
    # index entries travel without one; cross-object findings get it at the end)
    if report.candidates:
        lines = file.lines
        report.candidates = [
            c._replace(location=with_line(c.location, lines)) for c in report.candidates
        ]
    return report


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


# Worker processes inherit the plan through fork; this is set only inside them.
_WORKER_PLAN: Plan | None = None


def _init_worker(plan: Plan) -> None:
    global _WORKER_PLAN
    _WORKER_PLAN = plan
    gc.disable()  # see _gc_paused
    # Ctrl-C reaches the whole process group: the parent alone stops the run (it
    # terminates the pool), so workers print no "Process ForkPoolWorker-N"
    # traceback; SIGTERM (from the pool, or a CI runner) ends a worker at once.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)  # blocked across the fork


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
        if jobs == 1:  # the rest in the order given, as -j 1 reads them
            left = {id(item) for item in ordered}
            for item in inputs:
                if id(item) in left:
                    yield _lint_and_sweep(item, plan)
            return
    context = multiprocessing.get_context("fork")
    with raising_on_sigterm():
        # a signal that lands while workers are forked would hit a child before
        # it ignores Ctrl-C: hold both until every worker is set up and the pool
        # is ready to be terminated
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        try:
            pool = context.Pool(jobs, initializer=_init_worker, initargs=(plan,))
        except BaseException:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            raise
        with pool:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            yield from pool.imap_unordered(_work, ordered, chunksize=2)


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
    # name (stdin, paths written another way), and the input order for JUnit
    special = [i for i in items if i.data is not None or i.path is not None]
    order = {i.name: n for n, i in enumerate(items)} if plan.list_resources else {}
    # cross-object rules join only inside a scope (core.scopes): facts and index
    # entries are kept by the scope of the file they came from
    facts: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    entries: dict[str, list[Entry]] = defaultdict(list)
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
                on_file(sorted(post.without_implied(post.findings[start:])))
            report.errors.extend(part.errors)
            if part.digest:
                report.digests[part.file] = part.digest
            report.documents += part.documents
            report.skipped += part.skipped
            report.not_manifests += part.not_manifest
            entries[part.scope].extend(part.entries)
            report.resources.extend(part.resources)
            for rule_id, items_ in part.facts.items():
                facts[part.scope][rule_id].extend(items_)
            cluster[part.scope].extend(part.cluster)
        del items  # a large tree's inputs are memory the end of the run can reuse
        for candidate in candidates:
            post.judge(candidate)
        for scope in sorted(facts.keys() | entries.keys() | cluster.keys() | deferred.keys()):
            runs = _cluster(plan, cluster.pop(scope, ()))
            report.clusters[scope] = runs
            for candidate in deferred.pop(scope, ()):
                _resolve(candidate, runs, post, report)
            found = _with_namespace(facts.pop(scope, {}), plan.namespace)
            report.unjoined.extend(_unjoined(found))
            _check_run(plan, Index(entries.pop(scope, ())), found, report, post, runs)
        post.findings = silenced(post.findings, report.clusters)
    report.findings, report.unused_ignores = post.finish(special)
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


def _unjoined(facts: Mapping[str, list[Any]]) -> list[str]:
    """The config-to-pod joins of one scope that its rules expected and did not
    make; facts several rules share are counted once (each fact hashed once: a
    stream of collector configs brings a dozen facts per ConfigMap)."""
    shared: dict[Any, None] = {}
    for items in facts.values():
        for fact in items:
            try:
                shared.setdefault(fact)
            except TypeError:  # unhashable: not a fact of a join
                continue
    return list(dict.fromkeys(unjoined(shared)))


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
