"""Facts about a mesh-wide Istio install, from each surface that carries one.

An install is written as an IstioOperator (``spec.meshConfig`` and
``spec.values``), as Helm/istioctl output (the ``istio`` mesh ConfigMap, the
istiod Deployment, the ``istio-sidecar-injector`` ConfigMap's values), or as a
Red Hat OSSM ``ServiceMeshControlPlane``. Each surface becomes one
``InstallFact``; ``meshlint.domain.istio.mesh`` merges the parts of one rendered install.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.core.model import Document, KeyPath, Location, Slot
from meshlint.domain.istio.proxy import MeshSettings, mesh_settings
from meshlint.domain.istio.values import (
    Located,
    falsy,
    float_value,
    prestop_seconds,
    truthy,
    version_of,
)
from meshlint.domain.k8s.objects import containers_of, get_in, mapping_at, str_at, string_map

# Profiles that install no istiod (and so no mesh-wide proxy defaults).
_NO_CONTROL_PLANE = frozenset({"empty", "remote", "external"})


@dataclass(frozen=True, slots=True)
class InstallFact:
    surface: str  # IstioOperator | ConfigMap | Deployment | Injector | ServiceMeshControlPlane
    file: str
    namespace: str | None
    revision: str
    at: Location
    mesh: MeshSettings | None = None  # None: this surface carries no MeshConfig
    mesh_at: Location | None = None
    pilot_sampling: Located | None = None  # PILOT_TRACE_SAMPLING in any of its spellings
    # installs istiod; for an IstioOperator, says so (see ``declares_control_plane``)
    control_plane: bool = True
    prometheus: Located | None = None  # value False where Prometheus metrics are switched off
    native: Located | None = None  # ENABLE_NATIVE_SIDECARS: True, False, None for "auto"
    proxy_limit: Located | None = None  # global.proxy.resources memory limit; "" = none
    proxy_prestop: Located | None = None  # global.proxy.lifecycle preStop, seconds
    version: tuple[int, int] | None = None
    values_outbound: Located | None = (
        None  # global.outboundTrafficPolicy.mode (Istio <= 1.5 values)
    )
    values_datadog: Located | None = None  # global.proxy.tracer: datadog (Istio <= 1.7 values)
    # Mixer telemetry instead of telemetry v2: no istio.stats filter at all (where it says so)
    mixer: Located | None = None
    # profile ambient / PILOT_ENABLE_AMBIENT: proxies outside pods; None where this
    # layer does not say (a patch inherits its base's profile)
    ambient: bool | None = None
    profile: str | None = None  # the profile an IstioOperator layer names itself
    name: str | None = None  # metadata.name: an IstioOperator's patches share it
    order: int = 0  # where an IstioOperator layer applies among its install's layers


def _env(items: Any, name: str) -> tuple[int, Any] | None:
    found = None
    for i, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict) and item.get("name") == name and "value" in item:
            found = (i, item["value"])
    return found


def native_mode(value: Any) -> bool | None:
    """istiod's ``ENABLE_NATIVE_SIDECARS``: ``auto`` (None) since 1.27, where any
    other value than true/false/auto disables; a bool before (pilot/pkg/features)."""
    if isinstance(value, str) and value.strip() == "auto":
        return None
    return truthy(value)


def _sampling(value: Any, at: Location, slot: Slot | None = None) -> Located | None:
    rate = float_value(value)
    if rate is None:
        return None
    if not 0 <= rate <= 100:
        return Located(1.0, at)  # istiod resets out-of-range to 1.0
    return Located(rate, at, slot)


def _values_facts(doc: Document, values: Any, base: KeyPath, final: bool = False) -> dict[str, Any]:
    """Settings in Helm values: an IstioOperator's overrides, or (``final``) the
    merged values a rendered injector ConfigMap carries, where absence means unset."""
    out: dict[str, Any] = {}
    anchor = doc.locate

    def sampling(value: Any, path: KeyPath) -> Located | None:
        # the merged values of a rendered injector are a JSON string: no place to edit
        return _sampling(value, anchor(path), None if final else doc.slot(path))

    key: KeyPath
    for key in (("pilot", "traceSampling"), ("traceSampling",)):
        if get_in(values, key) is not None:
            out["pilot_sampling"] = sampling(get_in(values, key), (*base, *key))
            break
    env = mapping_at(values, ("pilot", "env"))
    if "PILOT_TRACE_SAMPLING" in env:
        path = (*base, "pilot", "env", "PILOT_TRACE_SAMPLING")
        out["pilot_sampling"] = sampling(env["PILOT_TRACE_SAMPLING"], path)
    if "ENABLE_NATIVE_SIDECARS" in env:
        at = anchor((*base, "pilot", "env", "ENABLE_NATIVE_SIDECARS"))
        out["native"] = Located(native_mode(env["ENABLE_NATIVE_SIDECARS"]), at)
    switches: tuple[KeyPath, ...] = (
        ("telemetry", "enabled"),
        ("telemetry", "v2", "enabled"),
        ("telemetry", "v2", "prometheus", "enabled"),
    )
    for key in switches:
        if falsy(get_in(values, key)):
            out["prometheus"] = Located(False, anchor((*base, *key)))
    if falsy(get_in(values, ("telemetry", "v2", "enabled"))):
        # telemetry v2 off: Mixer (1.4-1.7) or nothing; no istio.stats filter
        out["mixer"] = Located(True, anchor((*base, "telemetry", "v2", "enabled")))
    if str_at(values, ("profile",)) == "ambient" or truthy(
        get_in(values, ("pilot", "env", "PILOT_ENABLE_AMBIENT"))
    ):
        out["ambient"] = True
    proxy = mapping_at(values, ("global", "proxy"))
    if "resources" in proxy:
        limit = get_in(proxy, ("resources", "limits", "memory"))
        at = anchor((*base, "global", "proxy", "resources"))
        if limit is not None:
            out["proxy_limit"] = Located(str(limit), at)
        elif final or _nulls(proxy["resources"]):
            out["proxy_limit"] = Located("", at)
    wait = prestop_seconds(proxy.get("lifecycle"), unknown=0.0)
    if wait:
        out["proxy_prestop"] = Located(
            wait, anchor((*base, "global", "proxy", "lifecycle", "preStop"))
        )
    mode = get_in(values, ("global", "outboundTrafficPolicy", "mode"))
    if isinstance(mode, str):
        out["values_outbound"] = Located(
            mode, anchor((*base, "global", "outboundTrafficPolicy", "mode"))
        )
    if proxy.get("tracer") == "datadog":
        out["values_datadog"] = Located("datadog", anchor((*base, "global", "proxy", "tracer")))
    tag = get_in(values, ("global", "tag"))
    if version_of(tag):
        out["version"] = version_of(tag)
        if out["version"] < TELEMETRY_V2:
            out["mixer"] = Located(True, anchor((*base, "global", "tag")))
    return out


# Telemetry v2 (the istio.stats filter) is on by default since Istio 1.5; Mixer before
TELEMETRY_V2 = (1, 5)


def _nulls(resources: Any) -> bool:
    """Helm deep-merges values: only an explicit null removes the default limit."""
    if resources is None:
        return True
    if isinstance(resources, dict) and "limits" in resources:
        limits = resources["limits"]
        return limits is None or (isinstance(limits, dict) and limits.get("memory", 0) is None)
    return False


def declares_control_plane(spec: dict[Any, Any]) -> bool:
    """An IstioOperator that installs istiod.

    ``istioctl install -f file.yaml`` layers the file over its profile, and a
    file that names none gets the ``default`` profile, which runs istiod with
    Prometheus telemetry on: so every IstioOperator is an install unless
    ``components.pilot.enabled: false`` or its profile runs no control plane
    (empty, remote, external). Several IstioOperators of one file and
    revision form one install (``Mesh`` groups them), reported once.
    """
    profile = str_at(spec, ("profile",)) or str_at(spec, ("values", "profile")) or "default"
    if profile == "remote" or get_in(spec, ("values", "istiodRemote", "enabled")) is True:
        # the remote profile's pilot component is istiod-remote: the injector, no istiod
        # and no mesh ConfigMap (manifests/helm-profiles/remote.yaml)
        return False
    pilot = get_in(spec, ("components", "pilot", "enabled"))
    if pilot is not None:
        return pilot is True
    return profile not in _NO_CONTROL_PLANE


def istio_operator(doc: Document) -> Iterator[InstallFact]:
    spec = mapping_at(doc.data, ("spec",))
    profile = str_at(spec, ("profile",)) or str_at(spec, ("values", "profile")) or "default"
    mesh_base: KeyPath = ("spec", "meshConfig")
    cfg = spec.get("meshConfig")
    if not isinstance(cfg, dict) and isinstance(get_in(spec, ("values", "meshConfig")), dict):
        mesh_base, cfg = ("spec", "values", "meshConfig"), get_in(spec, ("values", "meshConfig"))
    control = declares_control_plane(spec)
    mesh = mesh_settings(cfg, doc.locate, mesh_base, doc.slot)
    facts = _values_facts(doc, spec.get("values"), ("spec", "values"))
    env = get_in(spec, ("components", "pilot", "k8s", "env"))
    found = _env(env, "PILOT_TRACE_SAMPLING")
    if found:
        path: KeyPath = ("spec", "components", "pilot", "k8s", "env", found[0], "value")
        facts["pilot_sampling"] = _sampling(found[1], doc.locate(path), doc.slot(path))
    found = _env(env, "ENABLE_NATIVE_SIDECARS")
    if found:
        path = ("spec", "components", "pilot", "k8s", "env", found[0], "value")
        facts["native"] = Located(native_mode(found[1]), doc.locate(path))
    if "pilot_sampling" not in facts and profile == "demo":  # profile-demo.yaml: traceSampling 100
        where = ("spec", "profile") if "profile" in spec else ("spec", "values", "profile")
        facts["pilot_sampling"] = Located(100.0, doc.locate(where))
    if mesh.default_metrics is not None and "prometheus" not in mesh.default_metrics:
        facts["prometheus"] = Located(False, doc.locate((*mesh_base, "defaultProviders")))
    if version_of(spec.get("tag")):
        facts["version"] = version_of(spec.get("tag"))
        if facts["version"] < TELEMETRY_V2:
            facts["mixer"] = Located(True, doc.locate(("spec", "tag")))
    if str_at(spec, ("profile",)) or str_at(spec, ("values", "profile")):
        facts["profile"] = profile
        facts["ambient"] = profile == "ambient"  # the layer that names a profile decides
    facts["name"] = doc.resource.name
    yield InstallFact(
        "IstioOperator",
        doc.file.name,
        doc.resource.namespace,
        str_at(spec, ("revision",)) or "",
        doc.locate(("spec",)) if spec else doc.locate(()),
        mesh if isinstance(cfg, dict) else None,  # an overlay without one keeps the others'
        doc.locate(mesh_base) if isinstance(cfg, dict) else doc.locate(("spec",)),
        control_plane=control,
        **facts,
    )


def _revision(doc: Document, prefix: str) -> str:
    labels = string_map(get_in(doc.data, ("metadata", "labels")))
    if labels.get("istio.io/rev") and labels["istio.io/rev"] != "default":
        return labels["istio.io/rev"]
    name = doc.resource.name or ""
    return name[len(prefix) + 1 :] if name.startswith(prefix + "-") else ""


def config_map(doc: Document) -> Iterator[InstallFact]:
    name = doc.resource.name or ""
    data = mapping_at(doc.data, ("data",))
    if (name == "istio" or name.startswith("istio-")) and isinstance(data.get("mesh"), str):
        if name.startswith("istio-sidecar-injector"):
            return
        mesh_doc = doc.embedded(("data", "mesh"))
        if not isinstance(mesh_doc, Document):
            return
        mesh = mesh_settings(mesh_doc.data, mesh_doc.locate, slot=mesh_doc.slot)
        prom = None
        if mesh.default_metrics is not None and "prometheus" not in mesh.default_metrics:
            prom = Located(False, mesh_doc.locate(("defaultProviders",)))
        yield InstallFact(
            "ConfigMap",
            doc.file.name,
            doc.resource.namespace,
            _revision(doc, "istio"),
            doc.locate(("data", "mesh")),
            mesh,
            doc.locate(("data", "mesh")),
            prometheus=prom,
        )
    elif name.startswith("istio-sidecar-injector") and isinstance(data.get("values"), str):
        try:  # rendered as JSON on one line by istioctl and Helm
            values = json.loads(data["values"])
        except ValueError:
            return
        facts = _values_facts(doc, values, (), final=True)
        at = doc.locate(("data", "values"))
        facts = {k: Located(v.value, at) if isinstance(v, Located) else v for k, v in facts.items()}
        facts.pop("pilot_sampling", None)  # the injector does not sample; istiod does
        facts.pop("prometheus", None)
        yield InstallFact(
            "Injector",
            doc.file.name,
            doc.resource.namespace,
            _revision(doc, "istio-sidecar-injector"),
            at,
            control_plane=False,
            **facts,
        )


def istiod(doc: Document) -> Iterator[InstallFact]:
    for container in containers_of(doc, init=False):
        if container.name != "discovery" or "pilot" not in container.image:
            continue
        facts: dict[str, Any] = {}
        sampling = container.env_var("PILOT_TRACE_SAMPLING")
        if sampling and sampling.value is not None:
            path = (*sampling.path, "value")
            facts["pilot_sampling"] = _sampling(sampling.value, doc.locate(path), doc.slot(path))
        ambient = container.env_var("PILOT_ENABLE_AMBIENT")
        if ambient and truthy(ambient.value):
            facts["ambient"] = True
        version = version_of(container.image)
        if version is not None and version < TELEMETRY_V2:  # istio-pilot of a Mixer install
            facts["mixer"] = Located(True, doc.locate(("metadata", "name")))
        native = container.env_var("ENABLE_NATIVE_SIDECARS")
        if native and native.value is not None:
            at = doc.locate((*native.path, "value"))
            facts["native"] = Located(native_mode(native.value), at)
        yield InstallFact(
            "Deployment",
            doc.file.name,
            doc.resource.namespace,
            _revision(doc, "istiod"),
            doc.locate(("metadata", "name")),
            control_plane=True,
            version=version_of(container.image),
            **facts,
        )
        return


def smcp(doc: Document) -> Iterator[InstallFact]:
    """OSSM 2.x (``maistra.io/v2``): ``spec.tracing.sampling`` counts in 0.01%
    (10000 = 100%). OSSM 1.x (``maistra.io/v1``): ``spec.istio`` is Istio's Helm
    values (``pilot.traceSampling`` in percent, ``global.proxy``, ...)."""
    if doc.api_version == "maistra.io/v1":
        values = _values_facts(doc, get_in(doc.data, ("spec", "istio")), ("spec", "istio"))
        if not truthy(get_in(doc.data, ("spec", "istio", "telemetry", "v2", "enabled"))):
            # OSSM 1.x runs Mixer telemetry unless telemetry v2 is switched on
            values["mixer"] = Located(True, doc.locate(("metadata", "name")))
        yield InstallFact(
            "ServiceMeshControlPlane",
            doc.file.name,
            doc.resource.namespace,
            "",
            doc.locate(("metadata", "name")),
            version=version_of(str_at(doc.data, ("spec", "version"))),
            **{k: v for k, v in values.items() if v is not None},
        )
        return
    facts: dict[str, Any] = {}
    raw = get_in(doc.data, ("spec", "tracing", "sampling"))
    rate = float_value(raw)
    if rate is not None and str_at(doc.data, ("spec", "tracing", "type")) != "None":
        at: KeyPath = ("spec", "tracing", "sampling")
        facts["pilot_sampling"] = Located(rate / 100, doc.locate(at), doc.slot(at))
    outbound: KeyPath = ("spec", "proxy", "networking", "trafficControl", "outbound", "policy")
    if isinstance(get_in(doc.data, outbound), str):
        facts["values_outbound"] = Located(get_in(doc.data, outbound), doc.locate(outbound))
    if str_at(doc.data, ("spec", "telemetry", "type")) == "None":
        facts["prometheus"] = Located(False, doc.locate(("spec", "telemetry", "type")))
    if str_at(doc.data, ("spec", "telemetry", "type")) == "Mixer":
        facts["mixer"] = Located(True, doc.locate(("spec", "telemetry", "type")))
    elif (version_of(str_at(doc.data, ("spec", "version"))) or TELEMETRY_V2) < TELEMETRY_V2:
        facts["mixer"] = Located(True, doc.locate(("spec", "version")))  # OSSM v1.x
    memory = get_in(
        doc.data, ("spec", "proxy", "runtime", "container", "resources", "limits", "memory")
    )
    if memory is not None:
        path = ("spec", "proxy", "runtime", "container", "resources")
        facts["proxy_limit"] = Located(str(memory), doc.locate(path))
    yield InstallFact(
        "ServiceMeshControlPlane",
        doc.file.name,
        doc.resource.namespace,
        "",
        doc.locate(("metadata", "name")),
        version=version_of(str_at(doc.data, ("spec", "version"))),
        **facts,
    )


def install_facts(doc: Document) -> Iterator[InstallFact]:
    kind = doc.kind
    if kind == "IstioOperator":
        yield from istio_operator(doc)
    elif kind == "ConfigMap":
        yield from config_map(doc)
    elif kind == "Deployment":
        yield from istiod(doc)
    elif kind == "ServiceMeshControlPlane":
        yield from smcp(doc)
