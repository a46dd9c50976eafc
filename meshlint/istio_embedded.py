"""Istio configs embedded in other objects, checked against their schemas:
``proxy.istio.io/config`` (ProxyConfig YAML in a pod annotation), the ``istio``
mesh ConfigMap's ``data.mesh`` (MeshConfig YAML in a string) and IstioOperator
``spec.meshConfig`` (an object). Istio parses these strictly, so a misspelt
field stops istiod or the proxy from taking the config; silently ignoring it
would hide exactly the settings the Istio rules depend on.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator
from dataclasses import replace
from importlib import resources
from typing import Any

from yaml.nodes import MappingNode

from meshlint.istio_workload import PROXY_CONFIG
from meshlint.k8s import WORKLOAD_KINDS, get_in, mapping_at, pod_template_metadata
from meshlint.model import MAX_FINDINGS_PER_RULE, Location, Path, Violation
from meshlint.source import Document, Problem
from meshlint.yamlnodes import node_at

PROXY_SCHEMA = "istio-proxyconfig.schema.json"
MESH_SCHEMA = "istio-meshconfig.schema.json"


@functools.cache
def validator(name: str) -> Any:
    """The compiled schema, once per process (never at import, never per document)."""
    import jsonschema  # start-up is a budget: only runs that meet an Istio config pay

    text = resources.files("meshlint.schemas").joinpath(name).read_text(encoding="utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def _describe(error: Any, what: str) -> Iterator[tuple[Path, str]]:
    path: Path = tuple(error.absolute_path)
    where = ".".join(str(p) for p in path) or "top level"
    if error.validator == "additionalProperties":
        known = sorted(error.schema.get("properties", {}))
        unknown = [key for key in error.instance if key not in error.schema.get("properties", {})]
        for n, key in enumerate(unknown):
            # a "did you mean" costs a millisecond: only for keys the report shows
            close = (
                difflib.get_close_matches(str(key), known, n=1) if n < MAX_FINDINGS_PER_RULE else []
            )
            hint = f' (did you mean "{close[0]}"?)' if close else ""
            yield (
                (*path, key),
                f'unknown field "{key}" in {what} at {where}{hint}: Istio rejects the whole config',
            )
        return
    if error.validator in ("type", "anyOf", "pattern", "enum"):
        described = error.validator != "type" and error.schema.get("description")
        expected = described or _expected(error)
        shown = json.dumps(error.instance, default=str)
        yield path, f"{what} field {where} = {shown} is invalid: expected {expected}"
        return
    yield path, f"{what} at {where}: {error.message}"


def _expected(error: Any) -> str:
    schema = error.schema
    if "enum" in schema:
        return "one of " + ", ".join(map(str, schema["enum"]))
    if "type" in schema:
        kind = {"object": "a mapping", "array": "a list", "integer": "an integer"}
        return kind.get(schema["type"], f"a {schema['type']}")
    return "a value of the documented type"


def key_anchor(doc: Document, path: Path) -> Location:
    """Where the key of ``path`` is written (an unknown field is its key, not its value)."""
    location = doc.anchor(path)
    parent = node_at(doc.node, path[:-1], doc.lookup)
    if not isinstance(parent, MappingNode) or not path:
        return location
    line, column = doc.position(path, key=True)
    return replace(location, line=line, column=column)


def _converted(error: Any) -> bool:
    """istioctl turns scalar proxyMetadata values of an IstioOperator into strings."""
    path = tuple(error.absolute_path)
    return (
        len(path) >= 2
        and path[-2] in ("proxyMetadata", "proxy_metadata")
        and isinstance(error.instance, (bool, int, float))
    )


def validate(
    data: Any, schema: str, what: str, doc: Document, base: Path = (), operator: bool = False
) -> Iterator[Violation]:
    """Schema violations of ``data`` (found at ``base`` in ``doc``) as anchored Violations."""
    errors = sorted(
        validator(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
    )
    for error in errors:
        if operator and _converted(error):
            continue
        for path, message in _describe(error, what):
            full = (*base, *path)
            at = key_anchor(doc, full) if message.startswith("unknown") else doc.anchor(full)
            yield Violation(full, message, anchor=at)


def _embedded(doc: Document, path: Path, schema: str, what: str) -> Iterator[Violation | Problem]:
    inner = doc.embedded(path)
    if isinstance(inner, Problem):
        line, column = _within(doc, path, inner.line, inner.column)
        yield Problem(
            inner.rule, f"{what} does not parse: {inner.message}", line, column, path, doc
        )
    elif isinstance(inner, Document):
        yield from validate(inner.data, schema, what, inner)
    else:
        value = get_in(doc.data, path)
        if isinstance(value, str) and value.strip():
            yield Violation(path, f"{what} is not a YAML mapping")
        elif value is not None and not isinstance(value, str):
            # annotations and ConfigMap data are strings: the API server refuses the rest
            yield Violation(path, f"{what} must be a string holding YAML, not {value!r}")


def _within(doc: Document, path: Path, line: int, column: int) -> tuple[int, int]:
    """An error found at the end of the string (an unclosed bracket) is shown on the
    string's last line, not on the host line that follows it."""
    node = node_at(doc.node, path, doc.lookup)
    if node is None or line <= node.end_mark.line:
        return line, column
    last = node.end_mark.line  # 1-based number of the line before the end mark
    while last > node.start_mark.line + 1 and not doc.file.line(last).strip():
        last -= 1
    text = doc.file.line(last)
    return last, len(text) - len(text.lstrip()) + 1


def check(doc: Document) -> Iterator[Violation | Problem]:
    """Every Istio embedded config of ``doc`` (M004)."""
    kind = doc.kind
    if kind in WORKLOAD_KINDS:
        meta = pod_template_metadata(kind) or ("metadata",)
        if PROXY_CONFIG in mapping_at(doc.data, (*meta, "annotations")):
            path = (*meta, "annotations", PROXY_CONFIG)
            yield from _embedded(doc, path, PROXY_SCHEMA, "proxy.istio.io/config ProxyConfig")
    elif kind == "ConfigMap":
        name = doc.resource.name or ""
        data = mapping_at(doc.data, ("data",))
        if (name == "istio" or name.startswith("istio-")) and isinstance(data.get("mesh"), str):
            yield from _embedded(doc, ("data", "mesh"), MESH_SCHEMA, "mesh ConfigMap MeshConfig")
    elif kind == "IstioOperator":
        for base in (("spec", "meshConfig"), ("spec", "values", "meshConfig")):
            cfg = get_in(doc.data, base)
            if cfg is not None and not isinstance(cfg, dict):
                yield Violation(base, "IstioOperator meshConfig is not a mapping")
            elif isinstance(cfg, dict):
                yield from validate(cfg, MESH_SCHEMA, "IstioOperator meshConfig", doc, base, True)
