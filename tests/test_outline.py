"""``core.outline`` proves from the text alone that a document composes, repeats
no key and holds no anchor, alias or tag: the loader then composes only its
identity. A wrong proof would hide an M001 or an M002, so the subset is held to
libyaml itself: on a controller-gen CRD, on every document of the corpus, and
on seeded mutations of them (lines dropped, doubled, moved, re-indented,
indicators inserted); whenever ``outline`` accepts a text, libyaml must agree.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from meshlint.core.files import decode
from meshlint.core.loading import _chunks
from meshlint.core.model.nodes import Loader
from meshlint.core.outline import outline

CRD = (Path(__file__).parent / "fixtures" / "outline" / "widgets-crd.yaml").read_text()
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"
_STR = "tag:yaml.org,2002:str"


def libyaml_entries(text: str) -> list[tuple[str, int]] | str:
    """What libyaml says of ``text``: the top-level keys and their lines when it
    is one mapping document with string keys, none repeated, and no anchor,
    alias or explicit tag; otherwise why not."""
    try:
        roots = [r for r in yaml.compose_all(text, Loader=Loader) if r is not None]
        events = list(yaml.parse(text, Loader=Loader))
    except yaml.YAMLError as exc:
        return f"error: {exc}"
    if len(roots) != 1 or not isinstance(roots[0], MappingNode):
        return "not one mapping"
    for event in events:
        if getattr(event, "anchor", None) is not None or isinstance(event, yaml.AliasEvent):
            return "anchor or alias"
        if isinstance(event, yaml.ScalarEvent) and event.tag is not None and event.tag != "!":
            return "tag"
        if isinstance(event, yaml.CollectionStartEvent) and event.tag is not None:
            return "tag"
    nodes = [roots[0]]
    while nodes:
        node = nodes.pop()
        if isinstance(node, MappingNode):
            keys = [k.value for k, _ in node.value]
            if not all(isinstance(k, ScalarNode) and k.tag == _STR for k, _ in node.value):
                return "a key that is not a string"
            if len(set(keys)) != len(keys):
                return "a repeated key"
            nodes.extend(v for _, v in node.value)
        elif isinstance(node, SequenceNode):
            nodes.extend(node.value)
    return [(k.value, k.start_mark.line) for k, _ in roots[0].value]


def assert_agrees(text: str) -> bool:
    """Whether ``outline`` accepted ``text``; where it did, libyaml agrees."""
    found = outline(text)
    if found is None:
        return False
    assert libyaml_entries(text) == found.entries, text
    return True


def test_a_controller_gen_crd_is_outlined() -> None:
    found = outline(CRD)
    assert found is not None
    assert found.entries == [("apiVersion", 4), ("kind", 5), ("metadata", 6), ("spec", 14)]
    assert found.lines == CRD.split("\n")
    assert_agrees(CRD)


SPEC_AT = CRD.index("          spec:\n")


def _in_schema(lines: str) -> str:
    """The fixture CRD with ``lines`` (at 10 columns) added to its schema's properties."""
    return CRD[:SPEC_AT] + lines + CRD[SPEC_AT:]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(_in_schema("          a: &x {}\n          b: *x\n"), id="anchor-alias"),
        pytest.param(_in_schema("          a: !!str 1\n"), id="tag"),
        pytest.param(_in_schema("          a:\n            <<: {}\n"), id="merge-key"),
        pytest.param(_in_schema("          kind:\n            type: string\n"), id="repeated"),
        pytest.param(CRD.replace("  group: shop", "  group: a\n  group: shop"), id="repeated-2"),
        pytest.param(CRD + "spec: {}\n", id="repeated-top-level"),
        pytest.param(_in_schema("          true:\n            type: string\n"), id="bool-key"),
        pytest.param(_in_schema("          1: {}\n"), id="int-key"),
        pytest.param(_in_schema("          ? a\n          : b\n"), id="complex-key"),
        pytest.param(_in_schema("          a: {type: string}\n"), id="flow-mapping"),
        pytest.param(_in_schema("          a:\n\t      type: string\n"), id="tab"),
        pytest.param(CRD.replace("\n", "\r\n"), id="crlf"),
        pytest.param(_in_schema("          a: x\n            # c\n            y\n"), id="comment"),
        pytest.param(
            _in_schema("          a:\n             b: c\n            d: e\n"), id="indent"
        ),
        pytest.param(CRD + "...\n", id="document-end"),
        pytest.param("%YAML 1.1\n" + CRD, id="directive"),
        pytest.param(_in_schema("          a: 'open\n"), id="unclosed-quote"),
        pytest.param(_in_schema('          a: "\\q"\n'), id="bad-escape"),
        pytest.param(_in_schema('          a: "\\ud800"\n'), id="surrogate-escape"),
        pytest.param(_in_schema("          " + "k" * 1100 + ": 1\n"), id="long-key"),
        pytest.param(_in_schema("          a: b: c\n"), id="mapping-in-plain"),
        pytest.param(
            _in_schema("          a: |\n" + " " * 16 + "\n              x\n"), id="blank-wider"
        ),
        pytest.param("- a: 1\n", id="root-sequence"),
        pytest.param("--- |\n  text\n", id="root-scalar"),
        pytest.param("a:\n" + "\n".join(" " * i + "- b:" for i in range(2, 600, 2)), id="deep"),
        pytest.param("kind: X\n\x07\n", id="control-character"),
    ],
)
def test_what_the_subset_leaves_out_is_composed(text: str) -> None:
    assert outline(text) is None


MUTATIONS = [
    ":", "#", "'", '"', "-", "&a", "*a", "!t", "\t", "|", ">", "|2", " ", "  ", "{", "[",
    "]", "}", "\\", "\\u", "? ", "...", "---", "%", "@", "`", ",", ": ", " #", "- ", "''",
]  # fmt: skip


def mutate(rng: random.Random, text: str) -> str:
    """``text`` with one to three lines dropped, doubled, moved, re-indented,
    cut or given an indicator."""
    lines = text.split("\n")
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(lines))
        line, op = lines[i], rng.randrange(7)
        if op == 0 and len(lines) > 1:
            del lines[i]
        elif op == 1:
            lines.insert(i, line)
        elif op == 2:
            lines[i] = " " + line
        elif op == 3:
            lines[i] = line[1:]
        elif op == 4:
            at = rng.randint(0, len(line))
            lines[i] = line[:at] + rng.choice(MUTATIONS) + line[at:]
        elif op == 5:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            lines[i] = line[: rng.randint(0, len(line))]
    return "\n".join(lines)


def test_mutations_of_a_crd_outline_only_where_libyaml_agrees() -> None:
    rng = random.Random(2026)
    accepted = sum(assert_agrees(mutate(rng, CRD)) for _ in range(1500))
    assert 100 < accepted < 1500  # both ways taken: the property is not vacuous


def _corpus_documents() -> list[str]:
    if not CORPUS.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the corpus is missing in CI: {CORPUS}")
        pytest.skip(f"no corpus at {CORPUS}")
    documents = []
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix in (".yaml", ".yml", ".json") and path.is_file():
            try:
                text = decode(path.read_bytes())
            except UnicodeDecodeError:
                continue
            documents.extend(chunk for _, chunk in _chunks(text))
    return documents


@pytest.mark.slow
def test_every_corpus_document_outlines_only_where_libyaml_agrees() -> None:
    documents = _corpus_documents()
    accepted = [d for d in documents if assert_agrees(d)]
    crds = [d for d in documents if "\nkind: CustomResourceDefinition\n" in d]
    outlined = [d for d in crds if outline(d) is not None]
    # what makes a CRD cheap to load: the subset covers what generators write
    assert sum(map(len, outlined)) >= 0.95 * sum(map(len, crds))
    assert len(accepted) > len(documents) / 2


@pytest.mark.slow
def test_mutations_of_corpus_documents_outline_only_where_libyaml_agrees() -> None:
    rng = random.Random(25)
    documents = [d for d in _corpus_documents() if len(d) < 20_000 and outline(d) is not None]
    accepted = sum(assert_agrees(mutate(rng, rng.choice(documents))) for _ in range(20_000))
    assert accepted > 2_000
