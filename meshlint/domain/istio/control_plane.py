"""One Istio install as the rules see it: an IstioOperator, an OSSM control
plane, or the parts of one rendered install (mesh ConfigMap, istiod, injector
values) from the same file, merged field by field (mesh config first).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

from meshlint.core.model import Location
from meshlint.domain.istio.install import InstallFact
from meshlint.domain.istio.proxy import DEFAULT_SAMPLING, MeshSettings
from meshlint.domain.istio.values import Located

_LABELS = {
    "ConfigMap": "mesh ConfigMap",
    "Deployment": "istiod",
    "Injector": "sidecar injector values",
}
_MESH_SURFACES = ("IstioOperator", "ConfigMap", "ServiceMeshControlPlane")


@dataclass(frozen=True)
class Install:
    """One install: an IstioOperator, an OSSM control plane, or the parts of one
    rendered install (mesh ConfigMap, istiod, injector) from the same file."""

    parts: tuple[InstallFact, ...] = ()

    def _first(self, name: str) -> Any:
        for part in self.parts:
            if getattr(part, name) is not None:
                return getattr(part, name)
        return None

    @property
    def revision(self) -> str:
        return self.parts[0].revision if self.parts else ""

    @cached_property
    def mesh(self) -> MeshSettings:
        """The parts' mesh configs merged field by field, the first part winning."""
        merged = MeshSettings()
        for part in reversed(self.parts):
            if part.mesh is not None:
                merged = part.mesh.over(merged)
        return merged

    @cached_property
    def anchor(self) -> Location | None:
        """The mesh config when there is one (what a user edits), else the part that
        installs istiod, else the first part."""
        for part in self.parts:
            if part.mesh is not None and part.mesh_at is not None:
                return part.mesh_at
        for part in self.parts:
            if part.control_plane:
                return part.mesh_at or part.at
        return (self.parts[0].mesh_at or self.parts[0].at) if self.parts else None

    @cached_property
    def surface(self) -> str:
        return next((p.surface for p in self.parts if p.mesh is not None), self.parts[0].surface)

    @cached_property
    def label(self) -> str:
        """How messages name the install."""
        return _LABELS.get(self.surface, self.surface)

    @cached_property
    def mesh_wide(self) -> bool:
        """Installs istiod and carries mesh config: its defaults reach every proxy."""
        return any(p.control_plane and p.surface in _MESH_SURFACES for p in self.parts)

    @cached_property
    def pilot_sampling(self) -> Located | None:
        return self._first("pilot_sampling")  # type: ignore[no-any-return]

    @cached_property
    def prometheus_off(self) -> Located | None:
        return self._first("prometheus")  # type: ignore[no-any-return]

    @cached_property
    def mixer(self) -> Located | None:
        """Mixer telemetry, not telemetry v2: no istio.stats filter to fall back."""
        return self._first("mixer")  # type: ignore[no-any-return]

    @cached_property
    def ambient(self) -> bool:
        """Ambient mode, as the winning layer that says so sets it."""
        return bool(self._first("ambient"))

    @cached_property
    def native(self) -> Located | None:
        return self._first("native")  # type: ignore[no-any-return]

    @cached_property
    def proxy_limit(self) -> Located | None:
        return self._first("proxy_limit")  # type: ignore[no-any-return]

    @cached_property
    def proxy_prestop(self) -> Located | None:
        return self._first("proxy_prestop")  # type: ignore[no-any-return]

    @cached_property
    def outbound(self) -> Located | None:
        """outboundTrafficPolicy.mode: MeshConfig, else the old Helm global value."""
        return self.mesh.outbound or self._first("values_outbound")

    @cached_property
    def values_datadog(self) -> Located | None:
        return self._first("values_datadog")  # type: ignore[no-any-return]

    @cached_property
    def version(self) -> tuple[int, int] | None:
        return self._first("version")  # type: ignore[no-any-return]

    @cached_property
    def tracing_off(self) -> bool:
        """meshConfig.enableTracing: false switches off the ProxyConfig tracer."""
        return self.mesh.enable_tracing is False

    def source_of(self, setting: Located) -> InstallFact | None:
        """The part that holds ``setting`` (to name where a value comes from)."""
        for part in self.parts:
            if any(getattr(part, f.name) is setting for f in fields(part)):
                return part
        return None

    def sampling(self) -> tuple[float, Located | None]:
        """The mesh default rate before Telemetry: defaultConfig, then istiod."""
        own = self.mesh.proxy.sampling or self.pilot_sampling
        return (own.value, own) if own else (DEFAULT_SAMPLING, None)
