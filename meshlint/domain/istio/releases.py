"""Istio releases: when each minor release left support, which Istio an OSSM
control plane runs, and which objects an install generates.

End-of-support dates: istio.io ``data/compatibility/supportStatus.y(a)ml``
(1.6-1.20) and the support announcements ``content/en/news/support/
announcing-1.N-eol*/index.md`` (1.4, 1.5, 1.20-1.29). Policy: a minor release is
supported until six weeks after the N+2 minor release. Releases after the table
count as supported (unknown is not end of life).
"""

from __future__ import annotations

import datetime
import posixpath
from dataclasses import dataclass

from meshlint.core.model import Cluster, Document, Fact
from meshlint.domain.k8s.objects import get_in, string_map

# minor release -> last day of support
END_OF_SUPPORT: dict[tuple[int, int], datetime.date] = {
    (1, 4): datetime.date(2020, 6, 5),
    (1, 5): datetime.date(2020, 8, 24),
    (1, 6): datetime.date(2020, 11, 23),
    (1, 7): datetime.date(2021, 2, 25),
    (1, 8): datetime.date(2021, 5, 12),
    (1, 9): datetime.date(2021, 10, 8),
    (1, 10): datetime.date(2022, 1, 7),
    (1, 11): datetime.date(2022, 3, 25),
    (1, 12): datetime.date(2022, 7, 12),
    (1, 13): datetime.date(2022, 10, 12),
    (1, 14): datetime.date(2022, 12, 27),
    (1, 15): datetime.date(2023, 4, 4),
    (1, 16): datetime.date(2023, 7, 25),
    (1, 17): datetime.date(2023, 10, 27),
    (1, 18): datetime.date(2024, 1, 4),
    (1, 19): datetime.date(2024, 4, 24),
    (1, 20): datetime.date(2024, 6, 25),
    (1, 21): datetime.date(2024, 9, 27),
    (1, 22): datetime.date(2025, 1, 21),
    (1, 23): datetime.date(2025, 4, 16),
    (1, 24): datetime.date(2025, 6, 19),
    (1, 25): datetime.date(2025, 9, 22),
    (1, 26): datetime.date(2025, 12, 19),
    (1, 27): datetime.date(2026, 3, 30),
    (1, 28): datetime.date(2026, 6, 28),
    (1, 29): datetime.date(2026, 10, 12),
}
SOURCE = "istio.io supported releases"
_OLDEST = min(END_OF_SUPPORT)


def end_of_support(
    version: tuple[int, int], today: datetime.date | None = None
) -> datetime.date | None:
    """The day ``version`` left support, if it has (releases before 1.4 left
    support no later than 1.4 did); None while supported or unknown."""
    today = today or datetime.date.today()
    if version < _OLDEST:
        return END_OF_SUPPORT[_OLDEST]
    day = END_OF_SUPPORT.get(version)
    return day if day is not None and day < today else None


def left_support(version: tuple[int, int] | None, today: datetime.date | None = None) -> bool:
    return version is not None and end_of_support(version, today) is not None


# An install whose release left support a year or more before the newest end of
# support in the table is a snapshot nobody keeps current (a vendored
# istio-1.5.yaml): findings inside its generated objects are left to I009. Keyed
# to the table, not to today, so a verdict changes only when the table does.
STALE_BEFORE = max(END_OF_SUPPORT.values()) - datetime.timedelta(days=365)


def long_out_of_support(version: tuple[int, int] | None) -> bool:
    """Left support a year or more before the newest end of support meshlint
    knows (Istio 1.25 and older with the table above)."""
    if version is None:
        return False
    day = END_OF_SUPPORT[_OLDEST] if version < _OLDEST else END_OF_SUPPORT.get(version)
    return day is not None and day <= STALE_BEFORE


# Red Hat OpenShift Service Mesh release -> the Istio it is built on (OSSM release
# notes). OSSM has its own support life cycle: I009 does not judge it.
OSSM_ISTIO: dict[tuple[int, int], tuple[int, int]] = {
    (1, 0): (1, 1),
    (1, 1): (1, 4),
    (2, 0): (1, 6),
    (2, 1): (1, 9),
    (2, 2): (1, 12),
    (2, 3): (1, 14),
    (2, 4): (1, 16),
    (2, 5): (1, 18),
    (2, 6): (1, 20),
}

# what an install generates besides istiod: its addons and Mixer-era components
_COMPONENT_APPS = frozenset(
    {
        "istiod",
        "pilot",
        "mixer",
        "policy",
        "telemetry",
        "citadel",
        "galley",
        "sidecar-injector",
        "sidecarInjectorWebhook",
        "security",
        "nodeagent",
        "istio-ingressgateway",
        "istio-egressgateway",
        "istio-eastwestgateway",
        "grafana",
        "prometheus",
        "kiali",
        "jaeger",
        "zipkin",
        "tracing",
        "istio-tracing",
        "istiocoredns",
        "istio-cni-node",
    }
)
_LABEL_KEYS = ("operator.istio.io/component", "install.operator.istio.io/owning-resource")


def generated(doc: Document) -> bool:
    """Whether ``doc`` looks like part of an Istio install's own output, which an
    upgrade replaces: labelled by istioctl or the Istio charts (``release: istio``,
    ``operator.istio.io/component``, an Istio chart label, ``app: mixer|citadel|
    grafana|...`` with an ``istio`` label; that covers the install's EnvoyFilters
    and mesh ConfigMap too). An object the user wrote carries no such label
    (whatever image it runs): what it says outlives an upgrade, so it is still
    judged."""
    labels = string_map(get_in(doc.data, ("metadata", "labels")))
    if not labels:
        return False  # what follows asks only for labels (most objects carry none)
    if any(k in labels for k in _LABEL_KEYS):
        return True
    chart = labels.get("chart", labels.get("helm.sh/chart", ""))
    istio_chart = labels.get("release") == "istio" or chart.startswith(
        ("istio", "gateways", "mixer", "grafana", "kiali", "tracing", "prometheus", "security")
    )
    return istio_chart or (labels.get("app") in _COMPONENT_APPS and "istio" in labels)


@dataclass(frozen=True)
class IstioInstall:
    """One install of a scope, as its version facts show it: the facts of one
    file, or of one directory when every version fact below it agrees (a
    ``helm template --output-dir`` split), per namespace and revision."""

    facts: tuple[Fact, ...]
    unit: str  # the file, or the directory
    directory: bool

    @property
    def fact(self) -> Fact:
        """The fact that stands for the install (the IstioOperator, then istiod)."""
        return min(self.facts, key=lambda f: (_rank(f.detail), f.file, f.at.line if f.at else 0))

    def holds(self, file: str, namespace: str | None) -> bool:
        """A document of ``file`` in ``namespace`` is part of this install's output."""
        path = file.replace("\\", "/")
        inside = (
            path == self.unit
            if not self.directory
            else (not self.unit or path.startswith(self.unit + "/"))
        )
        ns = self.fact.namespace
        return inside and (ns is None or namespace in (None, ns))


_RANK = ("IstioOperator", "pilot", "istiod", "gateway")


def _rank(detail: str) -> int:
    return next((n for n, p in enumerate(_RANK) if detail.startswith(p)), len(_RANK))


def installs(cluster: Cluster) -> list[IstioInstall]:
    """The Istio installs the scope's files show (declared versions and OSSM
    control planes are not installs of the files: left out)."""
    facts = [
        f
        for f in cluster.istio_installs()
        if not f.declared and f.at is not None and not f.detail.startswith("OSSM")
    ]
    groups: dict[tuple[str, bool, str | None, str], list[Fact]] = {}
    for fact in facts:
        file = fact.file.replace("\\", "/")
        top = posixpath.dirname(file)
        below = [f for f in facts if not top or f.file.replace("\\", "/").startswith(top + "/")]
        agree = len({f.value for f in below}) == 1
        key = (
            (top, True, fact.namespace, fact.name)
            if agree
            else (file, False, fact.namespace, fact.name)
        )
        groups.setdefault(key, []).append(fact)
    return [
        IstioInstall(tuple(g), unit, directory) for (unit, directory, _, _), g in groups.items()
    ]
