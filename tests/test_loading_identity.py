"""Objects nothing reads past their identity (a CRD, a ClusterRole: no rule, fact
or index entry) are loaded with ``Converter.identity``: apiVersion, kind and
metadata converted, the rest only walked; where ``core.outline`` proves from the
text that the rest composes and repeats no key, only the identity is composed.
The loader's findings (M001 syntax, nesting and alias budget, M002),
suppression and --list-resources must be the ones the whole conversion gives:
every case here is linted both ways."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from conftest import lint_text
from meshlint.api import Settings, fix_paths
from meshlint.core import engine, loading
from meshlint.core.loading import IDENTITY, Reader
from meshlint.core.model.nodes import (
    ALIAS_ALLOWANCE,
    ALIAS_FACTOR,
    MAX_DEPTH,
    Converter,
    Loader,
    each_node,
)

sys.path.insert(0, str(Path(__file__).parent))
from stress import laughs


def crd(spec: str, *, name: str = "widgets.example.com", head: str = "") -> str:
    """A CustomResourceDefinition whose version schema ends with ``spec`` (at
    12 columns, under ``properties:``)."""
    return (
        f"{head}apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        f"metadata:\n  name: {name}\n  labels: {{app: widgets}}\n"
        "spec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n"
        "  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n"
        "      schema:\n        openAPIV3Schema:\n          type: object\n"
        "          properties:\n"
        "            size: {type: integer, description: how many}\n" + spec
    )


ROLE = "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: r}\n"
POD = (
    "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\n"
    "spec:\n  containers:\n    - {name: app, image: app:1.0}\n"
)
NESTED = "[" * (MAX_DEPTH + 2) + "]" * (MAX_DEPTH + 2)
# A CRD as controller-gen writes it (block style): core.outline reads it whole.
BLOCK_CRD = (Path(__file__).parent / "fixtures" / "outline" / "widgets-crd.yaml").read_text()
BLOCK_ROLE = (
    "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n"
    "  name: widgets-reader\nrules:\n- apiGroups:\n  - shop.example.com\n"
    "  resources:\n  - widgets\n  verbs:\n  - get\n  - list\n"
)

CASES = {
    "plain": crd("            color: {type: string}\n") + ROLE + "rules: []\n" + POD,
    "duplicate-key": crd("            color: {type: string}\n            color: {type: integer}\n"),
    "duplicate-top-level": crd("") + "spec: {}\n",
    "duplicate-in-metadata": crd("", head="").replace("  name: w", "  name: a\n  name: w"),
    "merge-key": crd(
        "            base: &base {type: string, maxLength: 3}\n"
        "            color: {<<: *base, type: integer}\n"
    ),
    "merge-list": crd(
        "            a: &a {type: string}\n            b: &b {format: x}\n"
        "            color: {<<: [*a, *b]}\n"
    ),
    "alias": crd("            a: &shared {type: string}\n            b: *shared\n"),
    "scalar-alias": crd("            a: {type: &t string}\n            b: {type: *t}\n"),
    "redefined-anchor": crd(
        "            a: {type: &t string}\n            b: {type: &t integer}\n"
        "            c: {type: *t}\n            d: &m {type: string}\n            e: &m {}\n"
    ),
    "alias-bomb": crd("            bomb:\n" + laughs("              ", levels=6, width=6)),
    "alias-cycle": crd("            loop: &loop [*loop]\n"),
    "too-deep": crd(f"            deep: {NESTED}\n") + POD,
    "not-string-keys": crd(
        "            1: {type: string}\n            true: {type: string}\n"
        "            ~: {type: string}\n            '1': {type: string}\n"
        "            2024-01-01: x\n            ? [a, b]\n            : c\n"
    ),
    "bool-and-int-keys": crd("            yes: 1\n            true: 2\n            1: 3\n"),
    "explicit-tags": crd(
        "            t: !!str 12\n            u: !custom {a: 1}\n            v: ! 5\n"
        "            w: !!int x\n            !!str k: 1\n"
    ),
    "broken-then-more": crd("            color: {type: string\n")
    + POD
    + "---\n"
    + crd("            z: {}\n", name="b.example.com"),
    "broken-first": "a: [\n---\n" + crd("            z: {}\n"),
    "ignore-duplicate": crd(
        "            color: {type: string}\n"
        "            # meshlint: ignore[M002] the generator writes it twice\n"
        "            color: {type: string}\n"
    ),
    "ignore-comments": crd(
        "            # meshlint: ignore[K001] nothing to suppress here\n"
        "            color: {type: string}  # meshlint: ignore[nope] unknown rule\n"
        "            text: {description: '# meshlint: ignore[K001] inside a string'}\n"
        "            block:\n              description: |\n"
        "                # meshlint: ignore[M002] a string too\n"
        "            other: {}  # meshlint: ignore[M001]\n"
    ),
    "ignore-file": "# meshlint: ignore-file[M002]\n"
    + crd("            c: 1\n            c: 2\n")
    + "---\n"
    + crd("            d: 1\n", name="b.example.com"),
    "ignore-annotation": crd("").replace(
        "  labels: {app: widgets}\n",
        "  labels: {app: widgets}\n  annotations: {meshlint.io/ignore: M002}\n",
    )
    + "spec: {}\n",
    "annotation-unused": crd("").replace(
        "  labels: {app: widgets}\n",
        "  labels: {app: widgets}\n  annotations: {meshlint.io/ignore: 'K001,M002'}\n",
    ),
    "istio-generated": crd("").replace("{app: widgets}", "{operator.istio.io/component: Base}"),
    "helm-sources": "---\n# Source: chart/templates/crd.yaml\n"
    + crd("            c: 1\n            c: 2\n")
    + "---\n# Source: chart/templates/role.yaml\n"
    + ROLE[4:]
    + "rules: []\nrules: []\n",
    "list-of-crds": "apiVersion: v1\nkind: List\nitems:\n"
    + "".join(
        "  - " + line + "\n" if i == 0 else "    " + line + "\n"
        for i, line in enumerate(crd("            c: 1\n            c: 2\n").splitlines())
    ),
    "outlined": BLOCK_CRD + BLOCK_ROLE + POD,
    "outlined-helm": "---\n# Source: widgets/crds/widgets.yaml\n"
    + BLOCK_CRD[4:]
    + "---\n# Source: widgets/templates/role.yaml\n"
    + BLOCK_ROLE[4:]
    + POD.replace("---\n", "---\n# Source: widgets/templates/pod.yaml\n"),
    "outlined-last-line-unbroken": POD + BLOCK_ROLE + BLOCK_CRD.rstrip("\n"),
    "outlined-first-key-not-identity": "spec:\n  group: x\n" + BLOCK_ROLE[4:],
    "outlined-around-broken": BLOCK_ROLE + "---\na: [\n" + BLOCK_CRD + "---\nb: {\n" + POD,
    "outlined-then-redefined-anchor": BLOCK_CRD
    + BLOCK_ROLE
    + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    + "data: {a: &x '1', b: &x '2', c: *x}\n"
    + BLOCK_CRD.replace("widgets.shop", "gadgets.shop"),
    "outlined-directive-inside": BLOCK_CRD.replace(
        "            type: string\n", "            type: string  # meshlint: ignore[M002]\n", 1
    ),
    "outlined-directive-elsewhere": POD.replace(
        "image: app:1.0}", "image: app:1.0}  # meshlint: ignore[K001]"
    )
    + BLOCK_CRD,
    "outlined-ignore-annotation": BLOCK_CRD.replace(
        "    helm.sh/resource-policy: keep\n", "    meshlint.io/ignore: K001\n"
    ),
    "outlined-metadata-last": BLOCK_ROLE.replace("metadata:\n  name: widgets-reader\n", "")
    + "metadata:\n  name: widgets-reader\n  labels:\n    a: b\n# after\n",
    "outlined-repeated-key": BLOCK_CRD.replace("  scope: Namespaced\n", "  scope: a\n  scope: b\n"),
    "kind-not-string": "apiVersion: v1\nkind: 5\nmetadata: {name: x}\nspec: {a: 1, a: 2}\n",
    "no-identity": "apiVersion: v1\nkind: Widget\nspec: {a: [1, 2]}\n",
}


def _both(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    def report() -> object:
        found = lint_text(text, list_resources=True, report_unused_ignores=True)
        return (
            [(f.rule, f.location, f.message, f.severity) for f in found.findings],
            found.unused_ignores,
            found.suppressed,
            found.resources,
            found.documents,
            found.skipped,
            found.errors,
        )

    fast = report()
    with monkeypatch.context() as m:
        m.setattr(engine, "_identity_only", lambda plan, kind: False)
        slow = report()
    return fast, slow


@pytest.mark.parametrize("case", sorted(CASES))
def test_identity_loading_finds_what_whole_conversion_finds(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _both(CASES[case], monkeypatch)
    assert fast == slow


def test_the_cases_reach_the_loader_findings() -> None:
    """The cases above prove something only where the loader reports."""
    rules = {
        case: {f.rule for f in lint_text(CASES[case], report_unused_ignores=True).findings}
        for case in ("duplicate-key", "alias-bomb", "too-deep", "broken-then-more", "alias-cycle")
    }
    assert "M002" in rules["duplicate-key"]
    assert "M001" in rules["alias-bomb"] | rules["too-deep"] | rules["alias-cycle"]
    assert "M001" in rules["broken-then-more"]


def test_the_alias_budget_counts_an_identity_document_as_whole_conversion_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A CRD's nodes widen the file's alias budget for the documents after it:
    the walk must count exactly what conversion counts. A bomb just inside the
    budget the CRD grants, and just beyond it."""
    leaves = "".join(f"            p{i}: {{type: string}}\n" for i in range(400))
    nodes = _nodes(crd(leaves))
    allowed = ALIAS_ALLOWANCE + ALIAS_FACTOR * nodes
    for extra in (allowed - 50, allowed + 50):
        copies = extra // 10  # each alias to a 10-entry mapping adds 10 nodes
        bomb = (
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n"
            "  ten: &ten {" + ", ".join(f"k{i}: v" for i in range(10)) + "}\n"
        )
        bomb += "  all: [" + ", ".join(["*ten"] * copies) + "]\n"
        fast, slow = _both(crd(leaves) + bomb, monkeypatch)
        assert fast == slow


def _nodes(text: str) -> int:
    converter = Converter()
    converter.convert(yaml.compose(text, Loader=Loader))
    return converter.nodes


@pytest.mark.parametrize("case", sorted(CASES))
def test_identity_is_the_whole_conversion_restricted(case: str) -> None:
    """Where the walk lets a document through, its counts and values are the
    whole conversion's (what ``settle`` charges, what rules would read)."""
    try:
        roots = [r for r in yaml.compose_all(CASES[case], Loader=Loader) if r is not None]
    except yaml.YAMLError:
        return  # broken as a whole: read chunk by chunk, each a case of its own
    for root in roots:
        whole = Converter()
        try:
            data = whole.convert(root)
        except Exception:
            data = None
        part = Converter()
        found = part.identity(root, IDENTITY)
        if found is None:
            continue
        assert data is not None and not whole.duplicates and whole.aliased == 0
        assert (part.nodes, part.aliased, part.duplicates) == (whole.nodes, 0, [])
        assert found == {k: v for k, v in data.items() if k in IDENTITY}


@pytest.mark.parametrize(
    ("case", "taken"),
    [
        ("plain", True),
        ("scalar-alias", True),
        ("explicit-tags", True),  # `!!str k` is the key "k" to the converter too
        ("ignore-comments", True),
        ("annotation-unused", True),
        ("duplicate-key", False),
        ("merge-key", False),
        ("alias", False),
        ("alias-cycle", False),
        ("too-deep", False),
        ("not-string-keys", False),
    ],
)
def test_the_walk_gives_up_where_conversion_does_more(case: str, taken: bool) -> None:
    root = next(r for r in yaml.compose_all(CASES[case], Loader=Loader) if r is not None)
    assert (Converter().identity(root, IDENTITY) is not None) is taken


OUTLINED = {  # the cases above, and how many of their objects are outlined
    "outlined": 2,
    "outlined-helm": 2,
    "outlined-last-line-unbroken": 2,
    "outlined-first-key-not-identity": 0,  # its first line is not an identity entry's
    "outlined-around-broken": 2,
    "outlined-then-redefined-anchor": 3,
    "outlined-directive-inside": 0,
    "outlined-directive-elsewhere": 1,
    "outlined-ignore-annotation": 1,
    "outlined-repeated-key": 0,
    "outlined-metadata-last": 1,
}


@pytest.mark.parametrize("case", sorted(OUTLINED))
def test_outlined_objects_are_the_objects_composing_gives(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each object, its values, nodes and first and last marks, its Helm
    source and number, and every load problem, with and without outlining."""

    def read() -> tuple[list[object], int]:
        reader = Reader("m.yaml", CASES[case])
        reader.identity_only = lambda kind: kind in {"CustomResourceDefinition", "ClusterRole"}
        found = [
            (d.kind, d.data, d.number, d.source, d.base_path, _marks(d.node))
            if not isinstance(d, tuple)
            else d
            for d in reader
        ]
        return found, len(reader._outlined)

    outlined, taken = read()
    with monkeypatch.context() as m:
        m.setattr(loading, "outline", lambda text: None)
        composed, none = read()
    assert (outlined, taken, none) == (composed, OUTLINED[case], 0)


def _marks(root: yaml.Node) -> list[tuple[int, int, int, int]]:
    """The marks of an object's root and of every node of its identity entries."""
    nodes = [root]
    for key, value in root.value:
        if key.value in IDENTITY:
            nodes += [*each_node(key), *each_node(value)]
    return [
        (n.start_mark.line, n.start_mark.column, n.end_mark.line, n.end_mark.column) for n in nodes
    ]


def test_only_unread_kinds_take_identity_loading() -> None:
    """A Pod is read by rules and a Deployment's template carries annotations:
    they are converted whole; a CRD and a ClusterRole hold their identity only."""
    reader = Reader("m.yaml", CASES["plain"])
    reader.identity_only = lambda kind: kind in {"CustomResourceDefinition", "ClusterRole"}
    docs = [d for d in reader if not isinstance(d, tuple)]
    assert [(d.kind, sorted(d.data)) for d in docs] == [
        ("CustomResourceDefinition", ["apiVersion", "kind", "metadata"]),
        ("ClusterRole", ["apiVersion", "kind", "metadata"]),
        ("Pod", ["apiVersion", "kind", "metadata", "spec"]),
    ]


def test_fix_reads_back_a_file_whose_crds_are_outlined(tmp_path: Path) -> None:
    """--fix re-reads what it wrote and checks every object: the outlined CRDs
    around a fixed collector config read back as they were, and the fix lands."""
    config = (
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: collector\n  namespace: shop\n"
        "data:\n  config.yaml: |\n    receivers:\n      otlp:\n        protocols:\n"
        "          grpc: {}\n    processors:\n      memory_limiter:\n        limit_mib: 400\n"
        "    exporters:\n      debug: {}\n    service:\n      pipelines:\n        traces:\n"
        "          receivers: [otlp]\n          processors: [memory_limiter]\n"
        "          exporters: [debug]\n"
    )
    text = BLOCK_CRD + config + BLOCK_CRD.replace("widgets.shop", "gadgets.shop")
    target = tmp_path / "bundle.yaml"
    target.write_text(text)
    reader = Reader(str(target), text)
    reader.identity_only = lambda kind: kind == "CustomResourceDefinition"
    list(reader)
    assert len(reader._outlined) == 2
    done = fix_paths([str(target)], Settings(isolated=True))
    assert done.fixed["O002"] == 1
    assert target.read_text() == text.replace(
        "        limit_mib: 400\n", "        limit_mib: 400\n        check_interval: 1s\n"
    )
