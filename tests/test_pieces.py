"""A large input linted in pieces by the workers (core.pieces) gives the report
that linting it whole gives: the same findings, lines, Helm attribution,
suppressions, duplicate keys and syntax errors, also where a piece's guesses
about the text before it were wrong (a List, a Source comment above "---")."""

from __future__ import annotations

import pickle
import sys
from dataclasses import FrozenInstanceError, dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conftest import RULES
from meshlint.core import engine, pieces
from meshlint.core.config import Config
from meshlint.core.loading import read_bytes
from meshlint.core.model.values import pickled_as_fields
from meshlint.core.plan import Plan
from meshlint.core.report import Input, Report

sys.path.insert(0, str(Path(__file__).parent))
from stress import FIXABLE

BROKEN = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: broken-{i}\ndata: {{a: 1}}\n"
DUPLICATE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup-{i}\n  namespace: shop\n"
    "data:\n  a: '1'\n  a: '2'\n"
)
LIST = (
    "apiVersion: v1\nkind: List\nitems:\n"
    "- apiVersion: v1\n  kind: Namespace\n  metadata: {{name: ns-{i}}}\n"
    "- apiVersion: v1\n  kind: Namespace\n  metadata: {{name: other-{i}}}\n- 5\n"
)
COLLECTOR = (  # a collector config file of its own: an object without kind
    "receivers:\n  otlp:\n    protocols: {{grpc: {{}}}}\nexporters:\n  debug: {{}}\n"
    "service:\n  pipelines:\n    traces: {{receivers: [otlp], exporters: [debug]}}\n"
)
IGNORED = (  # an own-line directive above the object's first line covers it
    "# meshlint: ignore[O002] checked by hand\n" + FIXABLE[1].replace("collector-{i}", "quiet-{i}")
)
POD = "apiVersion: v1\nkind: Pod\nmetadata: {{name: p-{i}}}\nspec:\n  containers: [{{name: a, image: x}}]\n"
IN_A_STRING = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: text-{i}}}\n"
    "data:\n  motd: |\n    # meshlint: ignore[K001] only text\n"
)
OUTLINED = (  # composed as its identity alone (core.outline)
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
    "  name: reader-{i}\n  labels:\n    app: shop\nrules:\n- apiGroups:\n  - ''\n"
    "  resources:\n  - pods\n  verbs: [get, list]\n"
)


def stream(count: int, source_above: bool = False) -> str:
    """A Helm-rendered stream of many kinds of documents, some broken."""
    kinds = [*FIXABLE, BROKEN, DUPLICATE, LIST, COLLECTOR, IGNORED, IN_A_STRING, POD, OUTLINED]
    out = []
    for i in range(count):
        source = f"# Source: chart/templates/t{i % 7}.yaml\n"
        body = kinds[i % len(kinds)].format(i=i)
        if source_above and i % 5 == 0:
            out.append(source + "---\n" + body)  # names this document only if ...
        else:
            out.append("---\n" + source + body)
    return "# meshlint: ignore-file[O001]\n" + "".join(out)


def both(monkeypatch: pytest.MonkeyPatch, text: str, **plan: Any) -> tuple[Report, Report]:
    """The report of ``text`` linted whole (-j 1) and in small pieces (-j 2)."""
    item = Input("stream.yaml", data=text.encode())
    whole = engine.lint([item], Plan.build(RULES, Config(), **plan), jobs=1)
    monkeypatch.setattr(engine, "SPLIT_BYTES", 4_000)
    monkeypatch.setattr(pieces, "PIECE_BYTES", 2_000)
    monkeypatch.setattr(pieces, "PIECES_PER_CORE", 20)
    monkeypatch.setattr(engine, "PARALLEL_MIN_BYTES", 0)
    assert len(pieces.split(item, len(text), read_bytes(item.name, item.data or b""), 2)) > 5
    split = engine.lint([item], Plan.build(RULES, Config(), **plan), jobs=2)
    return whole, split


def _same(whole: Report, split: Report) -> None:
    # every field (Finding's own equality is its sort key)
    assert [(f.rule, f.message, f.severity, f.location, f.fix) for f in split.findings] == [
        (f.rule, f.message, f.severity, f.location, f.fix) for f in whole.findings
    ]
    assert split.unused_ignores == whole.unused_ignores
    assert (split.documents, split.skipped, split.suppressed, split.errors) == (
        whole.documents,
        whole.skipped,
        whole.suppressed,
        whole.errors,
    )


@pytest.mark.parametrize("source_above", [False, True])
def test_a_stream_in_pieces_reports_what_it_reports_whole(
    monkeypatch: pytest.MonkeyPatch, source_above: bool
) -> None:
    whole, split = both(monkeypatch, stream(120, source_above))
    _same(whole, split)
    rules = {f.rule for f in whole.findings}
    assert {"M001", "M002", "K001", "O002"} <= rules
    assert whole.suppressed > 0 and any(f.location.source for f in whole.findings)


def test_listed_resources_keep_the_file_order(monkeypatch: pytest.MonkeyPatch) -> None:
    whole, split = both(monkeypatch, stream(60), list_resources=True)
    assert split.resources == whole.resources


def test_a_wrong_guess_is_linted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lists hold more objects than their "kind:" lines, a Source comment above
    "---" may name the next document: such pieces are linted again with the
    true values."""
    verdicts: list[bool] = []
    holds = pieces.PieceReport.holds

    def checked(self: pieces.PieceReport, *args: Any) -> bool:
        verdicts.append(holds(self, *args))
        return verdicts[-1]

    monkeypatch.setattr(pieces.PieceReport, "holds", checked)
    _same(*both(monkeypatch, stream(80, source_above=True)))
    assert False in verdicts and True in verdicts


def test_an_alias_keeps_the_input_whole() -> None:
    text = "---\na: &x [1]\n---\nb: *x\n" * 5_000
    reader = read_bytes("s.yaml", text.encode())
    assert pieces.split(Input("s.yaml"), 4_000_000, reader, 2) == []
    plain = "---\nschedule: '*/5 * * * *'\nurl: http://x/?a=1&b=2\n" * 50_000
    reader = read_bytes("s.yaml", plain.encode())
    assert len(pieces.split(Input("s.yaml"), 4_000_000, reader, 2)) == 16


def test_pieces_start_at_document_starts() -> None:
    text = "---\n" + "a: |\n  --- not a start\n  x\n" * 100 + "---\nb: 1\n" * 50_000
    reader = read_bytes("s.yaml", text.encode())
    found = pieces.split(Input("s.yaml"), 4_000_000, reader, 2)
    assert found and all(text[p.begin :].startswith("---\n") for p in found)
    assert [p.line for p in found] == [text.count("\n", 0, p.begin) for p in found]
    assert found[-1].end == len(text)


def test_a_piece_report_crosses_to_the_parent_unchanged(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers send reports pickled; the value objects that fill them
    (``pickled_as_fields``) come back equal, a keyword-only Fix among them."""
    text = stream(40)
    item = Input("stream.yaml", data=text.encode())
    reader = read_bytes(item.name, item.data or b"")
    monkeypatch.setattr(pieces, "PIECE_BYTES", 2_000)
    piece = pieces.split(item, len(text), reader, 2)[0]
    sent = engine._lint_piece(piece, Plan.build(RULES, Config()))
    back = pickle.loads(pickle.dumps(sent, protocol=pickle.HIGHEST_PROTOCOL))
    assert any(c.fix is not None for c in sent.report.candidates)
    assert back.report.candidates == sent.report.candidates
    assert [c.fix for c in back.report.candidates] == [c.fix for c in sent.report.candidates]
    assert back.report.facts == sent.report.facts and back.problems == sent.problems


def test_only_a_dataclass_built_from_its_fields_pickles_as_them() -> None:
    @dataclass(frozen=True)
    class Derived:
        a: int
        b: int = field(init=False, default=0)

    @dataclass
    class Mutable:
        a: int

    for cls in (Derived, Mutable):
        with pytest.raises(TypeError):
            pickled_as_fields(cls)


def test_a_slotted_value_is_rebuilt_field_for_field_whatever_its_names() -> None:
    # rebuilt through its slots, not __init__ (values.pickled_as_fields): fields
    # named like what such a builder could use still land in their own places
    @pickled_as_fields
    @dataclass(frozen=True, slots=True)
    class Tricky:
        a1: int
        a0: str
        obj: tuple[int, ...]
        cls: str = "c"

    original = Tricky(1, "zero", (2, 3))
    build, args = original.__reduce__()
    back = build(*args)
    assert back == original and type(back) is Tricky
    assert (back.a1, back.a0, back.obj, back.cls) == (1, "zero", (2, 3), "c")
    with pytest.raises(FrozenInstanceError):
        back.a1 = 5  # type: ignore[misc]
