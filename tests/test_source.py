"""Loading: documents, positions, Helm attribution, embedded configs, broken input."""

from __future__ import annotations

import codecs

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FUZZ_EXAMPLES, lint_text
from meshlint.core.loading import parse_bytes, parse_text
from meshlint.core.model import Document, ParseError, SourceFile

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  template:
    spec:
      containers:
        - name: api
          image: registry.example.com/api:2.3.0
          env:
            - {name: GOMEMLIMIT, value: 400Mi}
          resources:
            limits:
              memory: 512Mi
"""


def test_positions_point_at_values_keys_and_items() -> None:
    (doc,) = parse_text("d.yaml", DEPLOY).documents
    base = ("spec", "template", "spec", "containers", 0)
    assert doc.position((*base, "resources", "limits", "memory")) == (16, 23)  # scalar value
    assert doc.position((*base, "resources")) == (14, 11)  # a block mapping: its key
    assert doc.position(base) == (10, 11)  # a sequence item: its first token
    assert doc.position((*base, "env", 0, "value")) == (13, 41)  # flow mapping value
    assert doc.position((*base, "resources", "requests", "memory")) == (14, 11)  # missing: parent


def test_anchor_carries_json_path_and_resource() -> None:
    (doc,) = parse_text("d.yaml", DEPLOY).documents
    loc = doc.locate(("spec", "template", "spec", "containers", 0, "env", 0, "value"))
    assert loc.path == "$.spec.template.spec.containers[0].env[0].value"
    assert loc.resource is not None and str(loc.resource) == "Deployment/shop/api"
    assert (loc.line, loc.column) == (13, 41)


def test_findings_get_their_line_echoed_at_the_end_of_the_run() -> None:
    """Anchors travel without text; the engine reads each finding's line once."""
    from conftest import lint_text

    (finding,) = lint_text(DEPLOY, select=["K004"]).findings
    assert finding.location.source_line.strip() == "- {name: GOMEMLIMIT, value: 400Mi}"


def test_multi_document_positions_are_absolute_and_helm_sources_attributed() -> None:
    stream = (
        "---\n# Source: shop/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\n"
        "metadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: plain}\n"
        "---\n# Source: shop/templates/c.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: c}\n"
    )
    docs = parse_text("-", stream).documents
    assert [d.resource.name for d in docs] == ["a", "plain", "c"]
    assert [d.source for d in docs] == ["shop/templates/a.yaml", None, "shop/templates/c.yaml"]
    assert docs[2].position(("metadata", "name")) == (14, 18)


def test_kind_list_items_are_documents_with_item_paths() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: one}\n"
        "  - not-an-object\n"
        "  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: two}\n"
    )
    docs = parse_text("l.yaml", text).documents
    assert [d.resource.name for d in docs] == ["one", "two"]
    assert docs[1].locate(("metadata", "name")).path == "$.items[2].metadata.name"
    assert docs[1].position(("metadata", "name")) == (10, 22)


def test_json_with_tabs_bom_and_crlf() -> None:
    text = '{\r\n\t"apiVersion": "v1",\r\n\t"kind": "ConfigMap",\r\n\t"metadata": {"name": "j"}\r\n}\r\n'
    parsed = parse_bytes("c.json", codecs.BOM_UTF8 + text.encode())
    (doc,) = parsed.documents
    assert not parsed.problems
    assert doc.position(("metadata", "name")) == (4, 23)
    utf16 = parse_bytes(
        "u.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n".encode("utf-16")
    )
    assert [d.kind for d in utf16.documents] == ["Namespace"]


def test_yaml_traps_load_as_the_api_server_reads_them() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: traps}\n"
        "data:\n  op: =\n  200: ok\n  when: 2024-01-01\n  on: yes\n"
        "spec:\n  <<: {a: 1, b: 2}\n  b: 3\n"
    )
    (doc,) = parse_text("t.yaml", text).documents
    assert doc.data["data"] == {"op": "=", 200: "ok", "when": "2024-01-01", True: True}
    assert doc.data["spec"] == {"a": 1, "b": 3}
    assert doc.position(("data", 200)) == (6, 8)


def test_python_tags_construct_nothing() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: evil}\n"
        "data:\n  x: !!python/object/apply:os.system ['touch /tmp/meshlint-pwned']\n"
        "  y: !!python/name:os.system\n"
    )
    (doc,) = parse_text("e.yaml", text).documents
    assert doc.data["data"] == {"x": ["touch /tmp/meshlint-pwned"], "y": ""}


def test_a_broken_document_is_m001_and_the_others_still_load() -> None:
    text = "apiVersion: v1\nkind: A\n---\napiVersion: v1\nkind: [B\n---\napiVersion: v1\nkind: C\n"
    parsed = parse_text("b.yaml", text)
    assert [d.kind for d in parsed.documents] == ["A", "C"]
    (problem,) = parsed.problems
    assert (problem.rule, problem.at.line) == ("M001", 6)


def test_duplicate_keys_are_m002_at_the_repeated_key() -> None:
    parsed = parse_text(
        "d.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n"
    )
    (problem,) = parsed.problems
    assert (problem.rule, problem.at.line, problem.at.column, problem.at.path) == (
        "M002",
        5,
        3,
        "$.metadata.name",
    )
    assert parsed.documents[0].resource.name == "b"  # the last one wins, as in Kubernetes


def test_invalid_utf8_is_m001_at_the_byte() -> None:
    parsed = parse_bytes("bin.yaml", b"apiVersion: v1\nkind: \xff\xfeX\n")
    (problem,) = parsed.problems
    assert (problem.rule, problem.at.line, problem.at.column) == ("M001", 2, 7)
    assert "0xff" in problem.message


def test_documents_without_api_version_or_kind_are_skipped_and_counted() -> None:
    parsed = parse_text("v.yaml", "replicaCount: 2\n---\n- a\n---\nplain\n---\n---\n")
    assert parsed.documents == [] and parsed.skipped == 3 and not parsed.problems


def test_embedded_literal_block_maps_positions_into_the_host() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: otel}\ndata:\n  relay: |\n"
        "    receivers:\n      otlp: {}\n    processors:\n      batch:\n"
        "        send_batch_max_size: 0\n"
    )
    (doc,) = parse_text("c.yaml", text).documents
    inner = doc.embedded(("data", "relay"))
    assert isinstance(inner, Document)
    loc = inner.locate(("processors", "batch", "send_batch_max_size"))  # type: ignore[union-attr]
    assert (loc.line, loc.column) == (10, 30)
    assert loc.path == "$.data.relay.processors.batch.send_batch_max_size"
    broken = parse_text("c.yaml", text.replace("otlp: {}", "otlp: {")).documents[0]
    problem = broken.embedded(("data", "relay"))
    assert isinstance(problem, ParseError)


def test_hostile_nesting_and_alias_bombs_finish_as_findings() -> None:
    deep = "apiVersion: v1\nkind: ConfigMap\ndata: " + "[" * 100_000 + "]" * 100_000 + "\n"
    parsed = parse_text("deep.yaml", deep)
    assert [p.rule for p in parsed.problems] == ["M001"] and "nesting" in parsed.problems[0].message
    bomb = "a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']\n"
    for i in range(1, 10):
        bomb += f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]\n"
    parsed = parse_text(
        "bomb.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n" + bomb
    )
    # shared values load in linear time, but a walk over them would not end: M001
    assert parsed.documents == []
    assert [p.rule for p in parsed.problems] == ["M001"]
    assert parsed.problems[0].message.startswith("aliases expand beyond")


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    parsed = parse_bytes("fuzz.yaml", data)
    for problem in parsed.problems:
        assert problem.at.line >= 1 and problem.at.column >= 1


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.text(alphabet="ab:-[]{}&*!#'\"\n |>0123456789.", max_size=200))
def test_yamlish_text_never_raises(text: str) -> None:
    parsed = parse_text("fuzz.yaml", "apiVersion: v1\nkind: ConfigMap\n" + text)
    for doc in parsed.documents:
        doc.position(("data", "x", 0))


@settings(max_examples=2 * FUZZ_EXAMPLES, deadline=None)
@given(st.text(alphabet="yYnNoOtTfF~.+-_:0123456789xeE<=abc ", max_size=12))
def test_fast_resolver_agrees_with_pyyaml(text: str) -> None:
    """meshlint's loader resolves every plain scalar to the tag PyYAML's would."""
    import yaml

    from meshlint.core.model.nodes import Loader

    source = f"v: {text}\n"
    try:
        expected = yaml.compose(source, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return
    actual = yaml.compose(source, Loader=Loader)
    assert actual.value[0][1].tag == expected.value[0][1].tag


def test_an_alias_inside_its_own_anchor_is_m001() -> None:
    parsed = parse_text("r.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: &a\n  self: *a\n")
    (problem,) = parsed.problems
    assert problem.rule == "M001" and "refers to the anchor that contains it" in problem.message


def test_a_control_character_inside_an_embedded_config_is_m004() -> None:
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n"
        '    proxy.istio.io/config: "\\x1f"\nspec:\n  containers: [{name: a, image: b}]\n'
    )
    (doc,) = parse_text("p.yaml", text).documents
    problem = doc.embedded(("metadata", "annotations", "proxy.istio.io/config"))
    assert isinstance(problem, ParseError)
    assert "unacceptable character #x001f" in problem.message


def test_memo_computes_once_per_document_and_key_until_forgotten() -> None:
    first, second = parse_text(
        "a.yaml", "kind: A\napiVersion: v1\n---\nkind: B\napiVersion: v1\n"
    ).documents
    calls: list[str] = []

    def kind_of(doc: Document) -> str:
        calls.append(doc.kind)
        return doc.kind

    assert first.memo("kind", lambda: kind_of(first)) == "A"
    assert first.memo("kind", lambda: kind_of(first)) == "A"
    assert second.memo("kind", lambda: kind_of(second)) == "B"
    assert calls == ["A", "B"]
    first.forget_memo()
    assert first.memo("kind", lambda: kind_of(first)) == "A"
    assert calls == ["A", "B", "A"]


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "'1'", "1", "true", "'true'", "~", "1.5"]), max_size=40),
    st.lists(st.sampled_from(["a", "b", "c", "1", "true", "null", "1.5"]), max_size=3),
    st.sampled_from(["a", "b", "c", "1", "true", 1, True, None, 1.5, "1.5", "None"]),
)
def test_indexed_lookups_find_what_a_scan_finds(
    keys: list[str], merged: list[str], part: object
) -> None:
    """Large mappings are indexed (Lookup); small ones scanned: both find the same entry."""
    from meshlint.core.model.nodes import Lookup, locate

    base = "base: &m {" + ", ".join(f"{k}: merged{i}" for i, k in enumerate(merged)) + "}\n"
    body = "".join(f"{k}: v{i}\n" for i, k in enumerate(keys * 3))  # duplicates, > 16 keys
    root = yaml.compose(f"{base}x:\n  <<: *m\n" + body.replace("\n", "\n  ").join(["  ", ""]))
    path = ("x", part)
    assert locate(root, path, lookup=Lookup()) == locate(root, path)  # type: ignore[arg-type]


def test_duplicate_keys_in_many_mappings_are_each_placed() -> None:
    items = "".join(f"  - {{name: n{i}, value: a, value: b}}\n" for i in range(300))
    parsed = parse_text("d.yaml", "apiVersion: v1\nkind: X\nlist:\n" + items)
    paths = [p.at.path for p in parsed.problems]
    assert paths == [f"$.list[{i}].value" for i in range(300)]
    assert [p.at.line for p in parsed.problems] == list(range(4, 304))


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(
    st.text(alphabet="a\u00e9\u4e2d\U0001f600\n\r: -", max_size=120),
    st.sampled_from([("", "utf-8"), ("\ufeff", "utf-8"), ("\ufeff", "utf-16-le")]),
    st.data(),
)
def test_byte_offsets_count_the_bytes_before_the_index(
    text: str, encoding: tuple[str, str], data: st.DataObject
) -> None:
    """Each index's byte offset (a fix's, an ignore comment's) is the length of
    the encoded text before it, worked out from its line alone."""
    from meshlint.core.model import SourceFile

    bom_char, codec = encoding
    bom = bom_char.encode(codec)
    file = SourceFile("f.yaml", text, bom=bom, codec=codec)
    for index in data.draw(st.lists(st.integers(0, len(text)), max_size=8)):
        assert file.byte_offset(index) == len(bom) + len(text[:index].encode(codec))


@pytest.mark.parametrize(
    ("text", "odd"),
    [
        ("a: 1\nb: 2\n", False),
        ("a: 1\r\nb: 2\r\n", False),
        ("a: é\n", False),
        ("a: 1\rb: 2\n", True),
        ("a: 1\r\nb: 2\r", True),
        ("a: 1\x85b: 2\n", True),
        ("a: 1\u2028b: 2\n", True),
        ("a: 1\u2029b: 2\n", True),
    ],
)
def test_odd_line_breaks_are_found_wherever_they_are(text: str, odd: bool) -> None:
    """A fix keeps LF and CR LF byte-exact, nothing else: the quick scan for the
    characters that could break a line otherwise agrees with the full expression."""
    from meshlint.core.model.document import _ODD_BREAKS

    assert SourceFile("a.yaml", text).odd_breaks is odd
    assert bool(_ODD_BREAKS.search(text)) is odd


def test_a_separator_with_a_comment_glued_on_ends_the_document() -> None:
    """``---# note`` (cert-manager's chart renders it) ends a document for
    kubectl's reader and Helm's splitter, where libyaml reads a scalar: the
    objects on either side are two, with the file's own lines and positions."""
    text = (
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\n\n"
        "---# Permission to approve requests\n"
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n"
    )
    parsed = parse_text("rbac.yaml", text)
    assert parsed.problems == []
    assert [(d.data["metadata"]["name"], d.position(("kind",))) for d in parsed.documents] == [
        ("a", (2, 7)),
        ("b", (7, 7)),
    ]
    assert parsed.file.text == text


def test_objects_written_without_a_separator_are_one_duplicate_key_each() -> None:
    """Three ConfigMaps pasted one after another with no "---": one M002 at each
    place a new object starts, naming what it repeats; a key the first object
    itself repeats is still its own finding."""
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
        "immutable: true\nimmutable: false\ndata: {x: '1'}\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {x: '2'}\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    )
    found = [
        (f.rule, f.location.line, f.message.split(":")[0])
        for f in lint_text(text).findings
        if f.rule == "M002"
    ]
    assert found == [
        ("M002", 5, "duplicate key 'immutable'"),
        ("M002", 7, "duplicate keys 'apiVersion', 'kind', 'metadata', 'data'"),
        ("M002", 11, "duplicate keys 'apiVersion', 'kind', 'metadata'"),
    ]
