"""libyaml nodes -> plain Python values, and paths -> node positions.

Loading composes with libyaml (PyYAML's C composer) and converts nodes with the
small converter below instead of a constructor: it never builds objects from tags
(``!!python/object`` is just a string or mapping here), keeps the API server's
view of a manifest (last duplicate key wins, merge keys apply, timestamps stay
strings, ``=`` is the string ``=``), and reports duplicate keys on the way.
The node tree is kept beside the values so that ``locate`` can turn a path into
a line and column only when a finding needs one.
"""

from __future__ import annotations

import sys
from collections.abc import Container, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from meshlint.core.model.values import KeyPath, PathPart

# libyaml is bundled with PyYAML's wheels; the pure-Python parser is the fallback.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_WILDCARD = tuple(_IMPLICIT.get(None, ()))
# First character -> the YAML 1.1 implicit resolvers to try, wildcard ones included.
_BY_FIRST = {first: (*rules, *_WILDCARD) for first, rules in _IMPLICIT.items() if first is not None}


# The tag of each short plain scalar seen so far: bounded in entries and length.
_RESOLVED: dict[str, str] = {}
_RESOLVED_ENTRIES = 50_000
_RESOLVED_LENGTH = 64


class Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """The safe loader with the same YAML 1.1 tag resolution, minus its overhead.

    PyYAML's resolver also walks path resolvers (``descend``/``ascend`` on every
    node) that safe loading never registers; skipping them, and going straight
    to the first-character table, halves resolution time, which is a third of
    composing a manifest.
    """

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            if implicit[0]:
                # the same short plain scalars (keys, "true", "1") recur in every
                # document: their tag is looked up, not matched again
                found = _RESOLVED.get(value)
                if found is not None:
                    return found
                found = _STR
                for tag, regexp in _BY_FIRST.get(value[:1], _WILDCARD):
                    if regexp.match(value):
                        found = str(tag)
                        break
                if len(value) <= _RESOLVED_LENGTH and len(_RESOLVED) < _RESOLVED_ENTRIES:
                    _RESOLVED[value] = found
                return found
            return _STR
        return _SEQ if kind is SequenceNode else _MAP


class RedefiningLoader(yaml.composer.Composer, Loader):
    """The same loader, composing in Python so that an anchor may be defined again.

    YAML 1.2 and Kubernetes' parser accept a reused anchor name (an alias refers
    to the latest definition); libyaml's composer rejects it. Only a document
    that reuses an anchor pays for the slower composer.
    """

    def __init__(self, stream: Any) -> None:
        Loader.__init__(self, stream)  # type: ignore[call-arg]  # CParser takes the stream
        self.anchors: dict[Any, Node] = {}

    def compose_node(self, parent: Any, index: Any) -> Any:
        if not self.check_event(yaml.AliasEvent):
            anchor = self.peek_event().anchor
            if anchor is not None:
                self.anchors.pop(anchor, None)  # the new definition wins from here on
        return super().compose_node(parent, index)


def redefines_an_anchor(exc: yaml.YAMLError) -> bool:
    """Whether libyaml stopped at a reused anchor name."""
    return isinstance(exc, yaml.composer.ComposerError) and "duplicate anchor" in str(
        exc.context or ""
    )


_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
# An integer written with more characters than this stays the text it is: no
# product reads one (an int64 has 19 digits), and a larger one breaks what
# Python can do with it (0x and 5,000 hex digits convert, but the result has
# too many digits to print; see meshlint.domain.numbers).
MAX_INT_CHARS = 64
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MERGE = "tag:yaml.org,2002:merge"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_SCALARS = yaml.constructor.SafeConstructor()

MAX_DEPTH = 500  # far beyond any real manifest, well within Python's stack
# meshlint's own wording, whichever layer notices first: the converter below, the
# event pre-check in ``meshlint.core.loading``, or libyaml itself (0.2.6+, in PyYAML 6.0.4's
# wheels, stops at 1,000 levels with "exceeded maximum nesting depth").
TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels is not linted"
_LIBYAML_TOO_DEEP = "maximum nesting depth"
# Converting one level takes two frames; rules walk the result one frame a level.
_FRAMES_NEEDED = 4 * MAX_DEPTH + 1_000


def too_deep_message(problem: str) -> str | None:
    """meshlint's message for libyaml's nesting limit, None for other problems."""
    return TOO_DEEP if _LIBYAML_TOO_DEEP in problem else None


@contextmanager
def stack_headroom() -> Iterator[None]:
    """Room on Python's stack for MAX_DEPTH levels of nesting.

    The default limit of 1,000 frames ends conversion near 490 levels with a
    RecursionError, before the depth check can report the document.
    """
    limit = sys.getrecursionlimit()
    if limit < _FRAMES_NEEDED:
        sys.setrecursionlimit(_FRAMES_NEEDED)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def too_deep(text: str) -> Any:
    """Where nesting passes MAX_DEPTH, from libyaml events (no recursion)."""
    depth = 0
    for event in yaml.parse(text, Loader=Loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                return event.start_mark
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return None


Duplicate = tuple[Node, Node]  # the repeated key's node, and the mapping holding it
Pair = tuple[Node, Node]  # a mapping entry: key node, value node

# Aliases share one converted value, so converting stays linear, but whatever
# walks the values as a tree (a schema validator, json.dumps, flattening Jaeger
# options) meets every alias expanded. So a file's aliases may add at most
# ALIAS_ALLOWANCE nodes plus ALIAS_FACTOR for each node written in the file;
# a document that goes beyond is not linted (M001, or M004 inside an embedded
# config), and every walk stays linear in the size of the text.
ALIAS_ALLOWANCE = 10_000
ALIAS_FACTOR = 10


class AliasBudget:
    """How many more nodes aliases may add to one file's values."""

    __slots__ = ("remaining",)

    def __init__(self) -> None:
        self.remaining = ALIAS_ALLOWANCE


class TooDeep(Exception):
    """A document cannot be linted as a tree; ``mark`` is where.

    Raised for nesting deeper than MAX_DEPTH and for an alias inside its own
    anchor (``&a [*a]``), which Kubernetes' YAML parser rejects too.
    """

    def __init__(self, mark: yaml.Mark, message: str = "") -> None:
        super().__init__(message or TOO_DEEP)
        self.mark = mark


def scalar(node: ScalarNode) -> Any:
    tag = node.tag
    if tag == _STR:
        return node.value
    try:
        if tag == _INT:
            if len(node.value) > MAX_INT_CHARS:
                return node.value  # see MAX_INT_CHARS
            return _SCALARS.construct_yaml_int(node)
        if tag == _FLOAT:
            return _SCALARS.construct_yaml_float(node)
        if tag == _BOOL:
            return _SCALARS.construct_yaml_bool(node)
    except (ValueError, OverflowError, LookupError):
        # a 5,000-digit integer, or an explicit tag its text does not fit
        # (``!!bool x``, ``!!int ""``): the value is the text as written
        return node.value
    if tag == _NULL:
        return None
    return node.value  # timestamps, binary, "=" (value), and any custom tag


class Converter:
    """Converts one document's nodes; collects duplicate keys as it goes.

    Aliases share one value, and what they would add to a walk over the values
    is counted against the file's ``AliasBudget``: TooDeep when it runs out.
    """

    def __init__(self, budget: AliasBudget | None = None) -> None:
        self.duplicates: list[Duplicate] = []
        self._seen: dict[int, Any] = {}  # aliases share one value: no alias bombs
        self._open: set[int] = set()  # collections being converted, to refuse cycles
        self._budget = budget or AliasBudget()
        self.nodes = 0  # nodes written in the document
        self.aliased = 0  # nodes its aliases add to a walk over the values
        self._sizes: dict[int, int] = {}  # nodes below each collection, aliases expanded

    def convert(self, node: Node, depth: int = 0) -> Any:
        if isinstance(node, ScalarNode):
            return scalar(node)
        key = id(node)
        if key in self._seen:
            if key in self._open:
                raise TooDeep(node.start_mark, "an alias refers to the anchor that contains it")
            self._alias(node)
            return self._seen[key]
        if depth > MAX_DEPTH:
            raise TooDeep(node.start_mark)
        self._open.add(key)
        before = self.nodes + self.aliased
        if isinstance(node, SequenceNode):
            value: Any = self._sequence(node, depth)
        else:
            value = self._mapping(node, depth)
        self._open.discard(key)
        self._sizes[key] = self.nodes + self.aliased - before
        return value

    def identity(self, root: Node, keys: Container[str]) -> dict[str, Any] | None:
        """The entries of the mapping ``root`` named in ``keys``, converted, with
        the rest of the document walked, not converted; None where converting it
        whole could find more (then convert it whole, with a new Converter).

        For a document nothing reads past its identity (apiVersion, kind,
        metadata). The walk gives up at whatever the converter reports or
        treats specially: a key that is not a string (a merge key, ``1``,
        ``true``, ``~``, a collection), a repeated key (M002), a collection met
        twice (an alias: the alias budget, a cycle), nesting past MAX_DEPTH.
        What it lets through converts without a finding to a tree of as many
        nodes as it counted, so ``settle`` charges the budget what it would.
        """
        if not isinstance(root, MappingNode):
            return None
        nodes = 0
        seen: set[int] = set()  # the collections walked
        stack: list[tuple[Node, int]] = [(root, 0)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH or id(node) in seen:
                return None
            seen.add(id(node))
            items = node.value
            nodes += len(items)
            depth += 1
            if isinstance(node, MappingNode):
                names = set()
                for knode, vnode in items:
                    if knode.tag != _STR or not isinstance(knode, ScalarNode):
                        return None
                    names.add(knode.value)
                    if not isinstance(vnode, ScalarNode):
                        stack.append((vnode, depth))
                if len(names) != len(items):
                    return None
            else:
                stack.extend((item, depth) for item in items if not isinstance(item, ScalarNode))
        found = {
            knode.value: self.convert(vnode, 1)
            for knode, vnode in root.value
            if knode.value in keys
        }
        self.nodes = nodes
        return found

    def _alias(self, node: Node) -> None:
        self.aliased += self._sizes[id(node)]
        allowed = self._budget.remaining + ALIAS_FACTOR * self.nodes
        if self.aliased > allowed:
            # the mark is the anchor's: composed aliases keep no position of their own
            raise TooDeep(node.start_mark, f"aliases expand beyond {self.nodes + allowed:,} nodes")

    def settle(self) -> None:
        """Charge the converted document's aliases to the file's budget."""
        self._budget.remaining += ALIAS_FACTOR * self.nodes - self.aliased

    def _sequence(self, node: Node, depth: int) -> list[Any]:
        seq: list[Any] = []
        self._seen[id(node)] = seq
        self.nodes += len(node.value)
        convert = self.convert
        depth += 1
        for item in node.value:
            seq.append(scalar(item) if isinstance(item, ScalarNode) else convert(item, depth))
        return seq

    def _mapping(self, node: Node, depth: int) -> dict[Any, Any]:
        mapping: dict[Any, Any] = {}
        self._seen[id(node)] = mapping
        self.nodes += len(node.value)
        merged: list[Node] = []
        convert = self.convert
        depth += 1
        for knode, vnode in node.value:
            if knode.tag == _STR and isinstance(knode, ScalarNode):  # nearly every key
                k: Any = knode.value
            elif knode.tag == _MERGE:
                merged.append(vnode)
                continue
            else:
                k = convert(knode, depth)
                if not isinstance(k, (str, int, float, bool)) and k is not None:
                    k = str(knode.value if isinstance(knode, ScalarNode) else k)
            if k in mapping and not isinstance(k, str) and _other_type(k, mapping):
                k = knode.value  # 1 and true, 0 and false: different keys, equal in Python
            if k in mapping:
                self.duplicates.append((knode, node))
            mapping[k] = scalar(vnode) if isinstance(vnode, ScalarNode) else convert(vnode, depth)
        for source in merged:
            self._merge(mapping, source, depth)
        return mapping

    def _merge(self, mapping: dict[Any, Any], source: Node, depth: int) -> None:
        sources = source.value if isinstance(source, SequenceNode) else [source]
        for item in sources:  # earlier sources win, explicit keys win over all
            value = self.convert(item, depth)
            if isinstance(value, dict):
                for k, v in value.items():
                    mapping.setdefault(k, v)


def _other_type(key: Any, mapping: dict[Any, Any]) -> bool:
    """Whether the key of ``mapping`` equal to ``key`` has another type (bool, int, float)."""
    return next(type(k) for k in mapping if k == key) is not type(key)


def _key_matches(knode: Node, part: PathPart) -> bool:
    if not isinstance(knode, ScalarNode):
        return False
    if knode.tag == _STR or isinstance(part, str):
        return knode.value == part if knode.tag == _STR else str(scalar(knode)) == part
    return bool(scalar(knode) == part)


def _merge_sources(vnode: Node) -> list[Node]:
    return vnode.value if isinstance(vnode, SequenceNode) else [vnode]


_INDEX_FROM = 16  # mappings with more entries are indexed on their first lookup


class Lookup:
    """Finds a mapping's entry by key for ``locate`` and ``node_at``.

    A small mapping is scanned; a large one gets an index on its first lookup,
    so placing one finding per key of a 20,000-key mapping costs 20,000 lookups
    rather than 20,000 scans. One per node tree: it keys its indexes by node
    identity, and the tree's owner keeps the nodes alive.
    """

    __slots__ = ("_indexes",)

    def __init__(self) -> None:
        self._indexes: dict[int, tuple[dict[str, Pair], dict[Any, Pair], list[Node]]] = {}

    def pair(self, node: MappingNode, part: PathPart) -> Pair | None:
        """The entry of ``node`` that ``part`` names: the last duplicate, then merge keys."""
        if len(node.value) < _INDEX_FROM:
            return _find_pair(node, part, self)
        index = self._indexes.get(id(node))
        if index is None:
            index = self._indexes[id(node)] = _index(node)
        by_text, by_value, merged = index
        # as _key_matches: a text part meets str keys by value, other scalars as text
        found = by_text.get(part) if isinstance(part, str) else by_value.get(part)
        if found is not None:
            return found
        for source in merged:
            if isinstance(source, MappingNode) and (pair := self.pair(source, part)):
                return pair
        return None


def _index(node: MappingNode) -> tuple[dict[str, Pair], dict[Any, Pair], list[Node]]:
    by_text: dict[str, Pair] = {}
    by_value: dict[Any, Pair] = {}
    merged: list[Node] = []
    for knode, vnode in node.value:  # later entries overwrite: the last duplicate wins
        if knode.tag == _MERGE:
            merged.extend(_merge_sources(vnode))
        elif isinstance(knode, ScalarNode):
            if knode.tag == _STR:
                by_text[knode.value] = (knode, vnode)
            else:
                value = scalar(knode)
                by_text[str(value)] = (knode, vnode)
                by_value[value] = (knode, vnode)
    return by_text, by_value, merged


def own_pair(node: MappingNode, part: PathPart) -> Pair | None:
    """The entry among ``node``'s own (not a merge key's) that ``part`` names:
    the last duplicate, the one kept."""
    if isinstance(part, str):
        # nearly every key and part is a string: compared here, as
        # ``_key_matches`` compares them, without a call per key
        for knode, vnode in reversed(node.value):
            tag = knode.tag
            if tag == _STR:
                if knode.value == part and isinstance(knode, ScalarNode):
                    return knode, vnode
            elif tag != _MERGE and _key_matches(knode, part):
                return knode, vnode
        return None
    for knode, vnode in reversed(node.value):
        if knode.tag != _MERGE and _key_matches(knode, part):
            return knode, vnode
    return None


def _find_pair(node: MappingNode, part: PathPart, lookup: Lookup | None = None) -> Pair | None:
    found = own_pair(node, part)
    if found is not None:
        return found
    for knode, vnode in node.value:
        if knode.tag == _MERGE:
            for src in _merge_sources(vnode):
                if not isinstance(src, MappingNode):
                    continue
                pair = lookup.pair(src, part) if lookup else _find_pair(src, part)
                if pair:
                    return pair
    return None


def locate(
    root: Node, path: KeyPath, *, key: bool = False, lookup: Lookup | None = None
) -> tuple[yaml.Mark, int]:
    """The mark of the node at ``path`` and how many parts of the path exist.

    A scalar reports its own position, a collection held by a key reports the
    key (block collections start on the next line), a sequence item its first
    token; with ``key`` a mapping entry always reports its key. A path that
    leaves the document stops at the deepest part that exists. Pass the tree's
    ``Lookup`` when many paths are located in one tree.
    """
    node, mark = root, root.start_mark
    for depth, part in enumerate(path):
        if isinstance(node, MappingNode):
            pair = lookup.pair(node, part) if lookup else _find_pair(node, part)
            if pair is None:
                return mark, depth
            knode, node = pair
            scalar_value = isinstance(node, ScalarNode) and not (key and depth == len(path) - 1)
            mark = node.start_mark if scalar_value else knode.start_mark
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            if not -len(node.value) <= part < len(node.value):
                return mark, depth
            node = node.value[part]
            mark = node.start_mark
        else:
            return mark, depth
    return mark, len(path)


def each_node(root: Node) -> Iterator[Node]:
    """Every node of ``root``'s tree once (an alias's node is shared, not walked
    again), without recursion: nesting is bounded by the loader, not the stack."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, MappingNode):
            stack.extend(n for pair in node.value for n in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)


def paths_to(root: Node, targets: Iterable[Node]) -> dict[int, KeyPath]:
    """The path from ``root`` to each of ``targets``, by ``id`` (for duplicate keys).

    One walk for all of them: a file with thousands of duplicate keys would
    otherwise walk its tree once per key.
    """
    wanted = {id(t) for t in targets}
    parents: dict[int, tuple[int, PathPart] | None] = {}
    stack: list[tuple[Node, tuple[int, PathPart] | None]] = [(root, None)]
    found = 0
    while stack and found < len(wanted):
        node, parent = stack.pop()
        key = id(node)
        if key in parents:
            continue
        parents[key] = parent
        found += key in wanted
        if isinstance(node, MappingNode):
            stack.extend(
                (v, (key, scalar(k) if isinstance(k, ScalarNode) else str(k)))
                for k, v in node.value
            )
        elif isinstance(node, SequenceNode):
            stack.extend((v, (key, i)) for i, v in enumerate(node.value))
    paths: dict[int, KeyPath] = {}
    for target in wanted:
        parts: list[PathPart] = []
        step = parents.get(target)
        while step is not None:
            parts.append(step[1])
            step = parents[step[0]]
        paths[target] = tuple(reversed(parts))
    return paths


def node_at(root: Node, path: KeyPath, lookup: Lookup | None = None) -> Node | None:
    """The node at ``path``, or None where the path leaves the document."""
    node = root
    for part in path:
        if isinstance(node, MappingNode):
            pair = lookup.pair(node, part) if lookup else _find_pair(node, part)
            if pair is None:
                return None
            node = pair[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int):
            if not -len(node.value) <= part < len(node.value):
                return None
            node = node.value[part]
        else:
            return None
    return node
