"""Istio configs embedded in other objects, checked against their schemas:
``proxy.istio.io/config`` (ProxyConfig YAML in a pod annotation), the ``istio``
mesh ConfigMap's ``data.mesh`` (MeshConfig YAML in a string) and IstioOperator
``spec.meshConfig`` (an object).

Istio reads all three leniently (``protomarshal.ApplyYAML`` -> ``ApplyJSON``
retries with ``AllowUnknownFields``: ``pkg/config/mesh/mesh.go``
``ApplyMeshConfig``/``ApplyProxyConfig``, ``pkg/kube/inject/validate.go``,
``operator/pkg/apis/validation``): an unknown field is dropped, so the setting
it was meant to make silently has no effect (a warning), while YAML that does
not parse or a value of the wrong type makes Istio reject the whole config (an
error).
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from yaml.nodes import MappingNode

from meshlint.core.model import (
    MAX_FINDINGS_PER_RULE,
    Cluster,
    Document,
    KeyPath,
    Location,
    ParseError,
    Severity,
    Violation,
)
from meshlint.core.model.nodes import node_at
from meshlint.domain.istio.workload import PROXY_CONFIG
from meshlint.domain.k8s.objects import WORKLOAD_KINDS, get_in, mapping_at, pod_template_metadata

PROXY_SCHEMA = "istio-proxyconfig.schema.json"
MESH_SCHEMA = "istio-meshconfig.schema.json"

# MeshConfig fields of older Istio versions, by the release that dropped them (the
# first istio/api tag where mesh/v1alpha1/config.proto has them only as ``reserved``).
# Istio parses them as unknown fields: ignored.
_REMOVED_MESH: dict[str, str] = {
    **dict.fromkeys(
        (
            # Mixer and its policy/telemetry settings
            "mixer_check_server",
            "mixer_report_server",
            "mixer_address",
            "disable_policy_checks",
            "disable_mixer_http_reports",
            "policy_check_fail_open",
            "enable_client_side_policy_check",
            "sidecar_to_telemetry_session_affinity",
            "disable_report_batch",
            "report_batch_max_entries",
            "report_batch_max_time",
            # node-agent SDS, replaced by istio-agent
            "sds_uds_path",
            "sds_refresh_delay",
            "enable_sds_token_mount",
            "sds_use_k8s_sa_jwt",
        ),
        "1.8",
    ),
    "auth_policy": "1.9",
    "rds_refresh_delay": "1.9",
    "thrift_config": "1.17",
}


# ProxyConfig fields (``defaultConfig``, ``proxy.istio.io/config``) by the release
# that dropped them (``reserved`` in mesh/v1alpha1/proxy.proto from that istio/api tag)
_REMOVED_PROXY: dict[str, str] = {
    "connect_timeout": "1.6",
    "parent_shutdown_duration": "1.17",
}


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)


def removed_mesh_field(key: object) -> str | None:
    """The Istio release that removed MeshConfig field ``key`` (either spelling)."""
    return _REMOVED_MESH.get(_snake(key)) if isinstance(key, str) else None


def removed_proxy_field(key: object) -> str | None:
    """The Istio release that removed ProxyConfig field ``key`` (either spelling)."""
    return _REMOVED_PROXY.get(_snake(key)) if isinstance(key, str) else None


@dataclass(frozen=True, slots=True)
class Removed:
    """M004's verdict on a removed field, resolved by the version of the install
    that reads it (``Cluster.istio_version``): reported where that version no
    longer reads the field, naming the version; silent where it still does.
    With the version unknown, the field is reported as every supported Istio
    ignores it (every release in the tables left support long ago)."""

    key: str
    what: str
    since: str  # "1.8"

    def resolve(self, cluster: Cluster, file: str, message: str) -> str | None:
        removed = tuple(int(p) for p in self.since.split("."))
        fact = cluster.istio_version(file)
        head = f'field "{self.key}" in {self.what} was removed in Istio {self.since}'
        if fact is None:
            return (
                f"{head}: every supported Istio ignores it, so it has no effect (no Istio "
                f"version in the linted files; declare one with cluster: {{istio-version: ...}})"
            )
        version = fact.value
        if version < removed:
            return None  # the install's own release still reads it
        shown = ".".join(str(v) for v in version)
        return (
            f"{head}: the install's Istio {shown} (at {fact.source}) ignores it, so it has "
            "no effect"
        )


@functools.cache
def validator(name: str) -> Any:
    """The compiled schema, once per process (never at import, never per document)."""
    import jsonschema  # start-up is a budget: only runs that meet an Istio config pay

    text = resources.files("meshlint.schemas").joinpath(name).read_text(encoding="utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def _describe(error: Any, what: str) -> Iterator[tuple[KeyPath, str]]:
    path: KeyPath = tuple(error.absolute_path)
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
                f'unknown field "{key}" in {what} at {where}{hint}: Istio ignores it, so it '
                f"has no effect",
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


def key_anchor(doc: Document, path: KeyPath) -> Location:
    """Where the key of ``path`` is written (an unknown field is its key, not its value)."""
    location = doc.locate(path)
    if not path or not isinstance(node_at(doc.node, path[:-1], doc.lookup), MappingNode):
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
    data: Any, schema: str, what: str, doc: Document, base: KeyPath = (), operator: bool = False
) -> Iterator[Violation]:
    """Schema violations of ``data`` (found at ``base`` in ``doc``) as anchored Violations."""
    errors = sorted(
        validator(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))
    )
    removed: dict[KeyPath, str] = {}
    if schema == MESH_SCHEMA and isinstance(data, dict):
        removed = {(k,): v for k in data if (v := removed_mesh_field(k))}
        for inner in ("defaultConfig", "default_config"):
            proxy = data.get(inner)
            if isinstance(proxy, dict):
                removed.update({(inner, k): v for k in proxy if (v := removed_proxy_field(k))})
    elif schema == PROXY_SCHEMA and isinstance(data, dict):
        removed = {(k,): v for k in data if (v := removed_proxy_field(k))}
    for key, version in removed.items():
        name = ".".join(str(k) for k in key)
        yield Violation(
            at=key_anchor(doc, (*base, *key)),
            message=f'field "{name}" in {what} was removed in Istio {version}',
            severity=Severity.WARNING,
            when=Removed(name, what, version),
        )
    for error in errors:
        if operator and _converted(error):
            continue
        for path, message in _describe(error, what):
            full = (*base, *path)
            if tuple(path) in removed:
                continue  # said above, with the version
            if message.startswith("unknown"):  # dropped, not fatal: see the module doc
                yield Violation(
                    at=key_anchor(doc, full), message=message, severity=Severity.WARNING
                )
            else:
                yield Violation(at=doc.locate(full), message=message)


def _embedded(doc: Document, path: KeyPath, schema: str, what: str) -> Iterator[Violation]:
    inner = doc.embedded(path)
    if isinstance(inner, ParseError):
        line, column = _within(doc, path, inner.at.line, inner.at.column)
        at = replace(inner.at, line=line, column=column)
        yield Violation(at=at, message=f"{what} does not parse: {inner.message}")
    elif isinstance(inner, Document):
        yield from validate(inner.data, schema, what, inner)
    else:
        value = get_in(doc.data, path)
        if isinstance(value, str) and value.strip():
            yield Violation(at=path, message=f"{what} is not a YAML mapping")
        elif value is not None and not isinstance(value, str):
            # annotations and ConfigMap data are strings: the API server refuses the rest
            yield Violation(at=path, message=f"{what} must be a string holding YAML, not {value!r}")


def _within(doc: Document, path: KeyPath, line: int, column: int) -> tuple[int, int]:
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


def embedded_config_violations(doc: Document) -> Iterator[Violation]:
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
                yield Violation(at=base, message="IstioOperator meshConfig is not a mapping")
            elif isinstance(cfg, dict):
                yield from validate(cfg, MESH_SCHEMA, "IstioOperator meshConfig", doc, base, True)
