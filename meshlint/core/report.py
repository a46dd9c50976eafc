"""A run's inputs and results: what is linted, what one file yields, what the
run reports; and the echo of each finding's source line."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from meshlint.core.files import MAX_INPUT_BYTES, Refused, decode, read_file
from meshlint.core.loading import normalize_breaks
from meshlint.core.model import Entry, Finding, Fix, Location, Resource, Severity
from meshlint.core.model.document import text_lines
from meshlint.core.model.facts import Cluster
from meshlint.core.suppression import Directives, Ignore

_NOT_UTF8 = re.compile(r"[\udc80-\udcff]")
_OTHER_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ESCAPE_LIKE = re.compile(r"\\x[0-9a-f]{2}")


def portable_name(name: str) -> str:
    """``name`` as valid Unicode for a JSON report or a baseline.

    A file name that is not UTF-8 reaches Python with lone surrogates (one per
    byte), which JSON can only carry as ``\\udcff`` escapes that strict readers,
    and meshlint's own YAML reader, refuse. Such a name is written with each of
    those bytes as ``\\xff`` and each backslash doubled; so is a name that already
    holds a ``\\xNN`` sequence, and only those: every other name is unchanged, and
    no two names are written alike (a baseline written for one run matches the next).
    """
    if not (_OTHER_SURROGATE.search(name) or _ESCAPE_LIKE.search(name)):
        return name
    doubled = name.replace("\\", "\\\\")
    escaped = _NOT_UTF8.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", doubled)
    # any other lone surrogate cannot come from a file name; keep the text valid
    return _OTHER_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", escaped)


@dataclass(frozen=True, slots=True)
class Input:
    name: str  # as shown in findings
    path: str | None = None  # read from here, or
    data: bytes | None = None  # already read (stdin)
    rel: str = ""  # relative to the config root, for per-file-ignores
    scope: str = "."  # the files cross-object rules may join it with (core.scopes)
    # where its real location must lie (core.files.read_file): a walk's trees,
    # shared by all its files; None for a file named on its own
    within: tuple[str, ...] | None = None
    walked: bool = False  # found by walking a directory, not named by the user
    # a walked file a kustomization applies as a patch: it states only what it
    # changes in its base, so it is read (syntax, duplicate keys) but its
    # objects are not judged, nor do they give facts (core.inputs)
    patch: bool = False
    # a walked file of a kuttl or chainsaw test step: its objects live for one
    # test in a throw-away cluster, so long-running resource risks are not judged
    test_step: bool = False

    @property
    def file(self) -> str:
        """Where to read it from."""
        return self.path or self.name

    def read(self) -> bytes:
        """Its bytes, read within its trees and bounds (raises Refused or OSError)."""
        if self.data is not None:
            return self.data
        return read_file(self.file, MAX_INPUT_BYTES, self.within)


class Linted(NamedTuple):
    """An object that was linted: the file and the resource, nothing more."""

    file: str
    resource: Resource


class Candidate(NamedTuple):
    """A violation placed in its file, not yet judged (severity, suppression)."""

    rule: str
    location: Location
    message: str
    severity: Severity | None  # the rule's own choice, when it has two levels
    fix: Fix | None = None  # resolved against the file: byte edits
    when: Any = None  # a Deferred verdict: judged once the scope's facts are known


@dataclass
class FileReport:
    """What a worker sends back for one file: small, picklable values only."""

    file: str = ""
    scope: str = "."
    candidates: list[Candidate] = field(default_factory=list)
    directives: Directives = field(default_factory=Directives)
    facts: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    entries: list[Entry] = field(default_factory=list)
    # the facts of the config-to-pod joins its rules expect, each once (engine._joins)
    joins: list[Any] = field(default_factory=list)
    cluster: list[Any] = field(default_factory=list)  # Facts and Parts (core.model.facts)
    resources: list[Linted] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    documents: int = 0
    skipped: int = 0
    not_manifest: bool = False  # a walked file that holds no manifest: skipped
    digest: bytes = b""  # of the bytes linted, when the plan asks (see digest())


def digest(data: bytes) -> bytes:
    """A short digest of an input's bytes: what --fix compares to tell that a
    file changed between the lint and the fix."""
    import hashlib  # only runs that fix ask: a plain check does not load OpenSSL

    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    files: int = 0
    documents: int = 0
    skipped: int = 0
    suppressed: int = 0
    unused_ignores: list[Ignore] = field(default_factory=list)
    # Every linted object, in reading order, for per-resource reports (JUnit).
    resources: list[Linted] = field(default_factory=list)
    baselined: int = 0  # findings hidden by --baseline
    templates: int = 0  # Helm chart templates a directory walk left out
    not_manifests: int = 0  # walked files that are not manifests (data, Go templates)
    # joins the rules expected and did not make (--verbose prints them)
    unjoined: list[str] = field(default_factory=list)
    fixed: int = 0  # findings --fix repaired before this report was made
    # what runs, per join scope (``check --show-settings`` prints it)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    digests: dict[str, bytes] = field(default_factory=dict)  # file -> digest, if asked

    def counts(self) -> Counter[str]:
        return Counter(f.rule for f in self.findings)


def with_line(location: Location, lines: Sequence[str]) -> Location:
    if location.source_line or not location.echo or not 0 < location.line <= len(lines):
        return location
    return replace(location, source_line=lines[location.line - 1])


def echo(
    findings: list[Finding],
    inputs: list[Input],
    by_name: Mapping[str, tuple[str, ...] | None],
) -> list[Finding]:
    """Give the findings still without their line (cross-object, M100) its text,
    reading each such file once, from where it was linted: ``inputs`` (stdin,
    paths written another way), or read again by name within the trees it was
    read in (``by_name``: the run's other inputs). A finding's file that is
    neither (a place a Helm message names) is never read."""
    held = {i.name: i for i in inputs}
    out: list[Finding] = []
    lines: list[str] = []
    current = None
    for finding in findings:
        if finding.location.source_line or not finding.location.echo:
            out.append(finding)
            continue
        if finding.location.file != current:
            current = finding.location.file
            item = held.get(current)
            if item is None and current in by_name:
                item = Input(current, within=by_name[current])
            lines = _lines(item) if item is not None else []
        out.append(replace(finding, location=with_line(finding.location, lines)))
    return out


def _lines(item: Input) -> list[str]:
    try:
        data = item.read()
    except (Refused, OSError):
        return []
    try:
        return text_lines(normalize_breaks(decode(data)))
    except UnicodeDecodeError:
        return []  # not text: its only finding (M001) is never echoed
