"""Property-based fuzzing of whole manifests through every rule.

The normal suite runs a modest number of examples. Nightly, raise it:

    MESHLINT_FUZZ_EXAMPLES=20000 pytest tests/test_fuzz.py -q

Every generated manifest must lint without an internal error, and every
finding must carry a position inside the text.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FUZZ_EXAMPLES, lint_text

# fuzzing whole manifests through every rule; CI runs it (pytest -m slow)
pytestmark = pytest.mark.slow

EXAMPLES = max(FUZZ_EXAMPLES // 2, 1)  # whole manifests through every rule cost more

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["400Mi", "512m", "1Gi", "1K", "-5Gi", "1e308", "off", "=", "", "$(X)"]),
    st.text(max_size=12),
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _maybe(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A well-typed value most of the time, anything at all otherwise."""
    return st.one_of(value, value, value, anything)


quantity = _maybe(st.sampled_from(["128Mi", "1Gi", "512m", "1K", "0.5", "2", "100M", "-1"]))
env_entry = _maybe(
    st.fixed_dictionaries(
        {
            "name": _maybe(st.sampled_from(["GOMEMLIMIT", "OTEL_BSP_MAX_QUEUE_SIZE", "X"])),
            "value": _maybe(st.sampled_from(["400Mi", "409MiB", "2048", "off"])),
        }
    )
)
container = _maybe(
    st.fixed_dictionaries(
        {
            "name": _maybe(st.sampled_from(["app", "istio-proxy", "jaeger-agent"])),
            "image": _maybe(
                st.sampled_from(
                    [
                        "jaegertracing/jaeger-collector:1.57.0",
                        "otel/opentelemetry-collector:0.115.0",
                        "docker.io/istio/proxyv2:1.22.0",
                        "jaegertracing/all-in-one:1.57",
                        "nginx",
                    ]
                )
            ),
            "args": _maybe(
                st.lists(
                    st.sampled_from(
                        [
                            "--collector.queue-size=5000",
                            "--collector.queue-size-memory",
                            "--x",
                            "80",
                        ]
                    ),
                    max_size=3,
                )
            ),
            "env": _maybe(st.lists(env_entry, max_size=3)),
            "resources": _maybe(
                st.fixed_dictionaries(
                    {
                        "requests": _maybe(
                            st.fixed_dictionaries({"memory": quantity, "cpu": quantity})
                        ),
                        "limits": _maybe(st.fixed_dictionaries({"memory": quantity})),
                    }
                )
            ),
        }
    )
)
workload = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["apps/v1", "v1"]),
        "kind": st.sampled_from(["Deployment", "DaemonSet", "Pod", "StatefulSet", "CronJob"]),
        "metadata": _maybe(
            st.fixed_dictionaries(
                {
                    "name": _maybe(st.just("w")),
                    "annotations": _maybe(
                        st.dictionaries(
                            st.sampled_from(
                                [
                                    "sidecar.istio.io/proxyMemory",
                                    "sidecar.istio.io/proxyMemoryLimit",
                                    "proxy.istio.io/config",
                                    "meshlint.io/ignore",
                                ]
                            ),
                            _maybe(
                                st.sampled_from(["128Mi", "1Gi", "K001", "tracing: {sampling: 50}"])
                            ),
                        )
                    ),
                }
            )
        ),
        "spec": _maybe(
            st.fixed_dictionaries(
                {
                    "template": _maybe(
                        st.fixed_dictionaries(
                            {
                                "spec": _maybe(
                                    st.fixed_dictionaries(
                                        {
                                            "containers": _maybe(st.lists(container, max_size=3)),
                                            "initContainers": _maybe(
                                                st.lists(container, max_size=2)
                                            ),
                                        }
                                    )
                                ),
                            }
                        )
                    ),
                    "containers": _maybe(st.lists(container, max_size=2)),
                }
            )
        ),
    }
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(workload)
def test_generated_manifests_lint_without_internal_errors(manifest: dict[str, Any]) -> None:
    text = yaml.safe_dump(manifest, default_flow_style=False, sort_keys=False)
    report = lint_text(text)
    assert report.errors == []
    lines = text.count("\n") + 1
    for finding in report.findings:
        assert 1 <= finding.location.line <= lines
