"""Tracer SDK span buffers set through the environment (opentelemetry-specification
``specification/configuration/sdk-environment-variables.md``; jaeger-client-go
``reporter.go`` and ``config/config_env.go``).

* OpenTelemetry SDKs: ``OTEL_BSP_MAX_QUEUE_SIZE`` (default 2048 spans) and
  ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE`` (default 512, must not exceed the queue);
* Jaeger clients (deprecated): ``JAEGER_REPORTER_MAX_QUEUE_SIZE`` (default 100).

Each queue holds finished spans in the application's own heap. Besides
containers, the OpenTelemetry operator's ``Instrumentation`` sets SDK env for
the pods it instruments: ``spec.env``, overridden per language by
``spec.<language>.env``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from meshlint.domain.k8s.objects import Container, EnvVar, mapping_at
from meshlint.domain.numbers import integer

BSP_QUEUE = "OTEL_BSP_MAX_QUEUE_SIZE"
BSP_BATCH = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"
JAEGER_QUEUE = "JAEGER_REPORTER_MAX_QUEUE_SIZE"
DEFAULTS = {BSP_QUEUE: 2048, BSP_BATCH: 512, JAEGER_QUEUE: 100}
INSTRUMENTATION = "Instrumentation"
_LANGUAGES = ("java", "nodejs", "python", "dotnet", "go", "apacheHttpd", "nginx")


@dataclass(frozen=True)
class SdkSetting:
    """A tracer SDK env var and the integer it sets."""

    var: EnvVar
    value: int


def sdk_setting(container: Container, name: str) -> SdkSetting | None:
    """The integer a container sets for ``name``; None when unset or not a literal integer."""
    var = container.env_var(name)
    if var is None or var.value is None:
        return None
    text = var.value.strip()
    if not text.isdigit():
        return None  # $(VAR) and typos: the SDK falls back to its default
    try:
        return SdkSetting(var, integer(text))
    except ValueError:  # longer than any int the SDK parses: it falls back too
        return None


def queue_settings(container: Container) -> list[SdkSetting]:
    """The span queue sizes a container's SDK env sets."""
    found = (sdk_setting(container, BSP_QUEUE), sdk_setting(container, JAEGER_QUEUE))
    return [s for s in found if s is not None]


def queue_in_effect(container: Container, inherited: Container | None = None) -> SdkSetting | None:
    """The OTEL_BSP_MAX_QUEUE_SIZE that applies: the container's, else the inherited one."""
    found = sdk_setting(container, BSP_QUEUE)
    if found is None and inherited is not None:
        found = sdk_setting(inherited, BSP_QUEUE)
    return found


def instrumentation_envs(data: Any) -> Iterator[tuple[Container, Container | None]]:
    """An Instrumentation's env lists, each with the common one it overrides."""
    spec = mapping_at(data, ("spec",))
    common = Container(("spec",), spec, "container")
    yield common, None
    for language in _LANGUAGES:
        body = spec.get(language)
        if isinstance(body, dict) and "env" in body:
            yield Container(("spec", language), body, "container"), common
