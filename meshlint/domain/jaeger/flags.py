"""The command-line flags of the Jaeger v1 binaries, kept as data.

Source: the flag listings that each binary's ``docs`` command generates,
published in ``jaegertracing/documentation`` under ``data/cli/<version>/``
(jaeger-agent, jaeger-collector*, jaeger-query*, jaeger-all-in-one*), read for
versions 1.17, 1.50 and 1.60 and extended with the flags of the 1.9-1.17
manifests (``collector.port``, ``reporter.tchannel.*``, ...). The catalogue is
the *union* over those versions: a flag that any v1 release accepted is known,
so pinning an old or new image never makes a real flag "unknown".

Storage backends register large flag families that change between releases
(``es.*``, ``cassandra.*``, ``kafka.producer.*``, ...); they are listed as open
prefixes and not judged flag by flag.

Type codes: ``b`` bool, ``i`` int, ``u`` uint, ``f`` float, ``d`` duration,
``s`` string (or string list). Only ``b`` flags may stand alone (``--flag``).
"""

from __future__ import annotations

CATALOGUE_VERSIONS = "Jaeger v1.9-v1.60"

# Server-side TLS settings (Jaeger's tlscfg "server" flag set).
_TLS_SERVER = {
    "enabled": "b",
    "cert": "s",
    "key": "s",
    "client-ca": "s",
    "cipher-suites": "s",
    "min-version": "s",
    "max-version": "s",
    "reload-interval": "d",
}
# Client-side TLS settings (agent -> collector).
_TLS_CLIENT = {
    "enabled": "b",
    "ca": "s",
    "cert": "s",
    "key": "s",
    "server-name": "s",
    "skip-host-verify": "b",
}


def _group(prefix: str, members: dict[str, str]) -> dict[str, str]:
    return {f"{prefix}.{name}": kind for name, kind in members.items()}


COMMON: dict[str, str] = {
    "config-file": "s",
    "help": "b",
    "log-level": "s",
    "log-encoding": "s",
    "metrics-backend": "s",
    "metrics-http-route": "s",
    "admin.http.host-port": "s",
    "admin-http-port": "i",
    "health-check-http-port": "i",
    "span-storage.type": "s",
    # the memory plugin's flag (collector, query, all-in-one), listed so that its
    # env spelling MEMORY_MAX_TRACES is read like the flag
    "memory.max-traces": "i",
    **_group("admin.http.tls", _TLS_SERVER),
}

_SERVER_TIMEOUTS = {"idle-timeout": "d", "read-header-timeout": "d", "read-timeout": "d"}
_GRPC_SERVER = {
    "host-port": "s",
    "max-connection-age": "d",
    "max-connection-age-grace": "d",
    "max-message-size": "i",
}

COLLECTOR: dict[str, str] = {
    "collector.queue-size": "i",
    "collector.queue-size-memory": "u",
    "collector.num-workers": "i",
    "collector.tags": "s",
    "collector.enable-span-size-metrics": "b",
    # 1.9-1.2x port flags, replaced by the *-server.host-port flags
    "collector.port": "i",
    "collector.http-port": "i",
    "collector.grpc-port": "i",
    "collector.zipkin.http-port": "i",
    "collector.zipkin.allowed-headers": "s",
    "collector.zipkin.allowed-origins": "s",
    "collector.grpc.tls": "b",
    "collector.grpc.tls.client.ca": "s",
    **_group("collector.grpc-server", _GRPC_SERVER),
    **_group("collector.http-server", {"host-port": "s", **_SERVER_TIMEOUTS}),
    "collector.zipkin.host-port": "s",
    "collector.zipkin.keep-alive": "b",
    "collector.zipkin.cors.allowed-headers": "s",
    "collector.zipkin.cors.allowed-origins": "s",
    "collector.otlp.enabled": "b",
    **_group("collector.otlp.grpc", _GRPC_SERVER),
    **_group("collector.otlp.http", {"host-port": "s", **_SERVER_TIMEOUTS}),
    "collector.otlp.http.cors.allowed-headers": "s",
    "collector.otlp.http.cors.allowed-origins": "s",
    **_group("collector.grpc.tls", _TLS_SERVER),
    **_group("collector.http.tls", _TLS_SERVER),
    **_group("collector.zipkin.tls", _TLS_SERVER),
    **_group("collector.otlp.grpc.tls", _TLS_SERVER),
    **_group("collector.otlp.http.tls", _TLS_SERVER),
    "downsampling.hashsalt": "s",
    "downsampling.ratio": "f",
    "multi-tenancy.enabled": "b",
    "multi-tenancy.header": "s",
    "multi-tenancy.tenants": "s",
}

_PROCESSOR = {
    "server-host-port": "s",
    "server-max-packet-size": "i",
    "server-queue-size": "i",
    "server-socket-buffer-size": "i",
    "workers": "i",
}
AGENT_PROCESSORS = ("jaeger-compact", "jaeger-binary", "zipkin-compact")

AGENT: dict[str, str] = {
    "agent.tags": "s",
    "jaeger.tags": "s",
    "http-server.host-port": "s",
    **{k: v for p in AGENT_PROCESSORS for k, v in _group(f"processor.{p}", _PROCESSOR).items()},
    "reporter.type": "s",
    "reporter.grpc.host-port": "s",
    "reporter.grpc.discovery.min-peers": "i",
    "reporter.grpc.retry.max": "u",
    "reporter.grpc.tls": "b",
    **_group("reporter.grpc.tls", _TLS_CLIENT),
    # 1.9-1.2x TChannel reporter and its deprecated aliases
    "collector.host-port": "s",
    "discovery.conn-check-timeout": "d",
    "discovery.min-peers": "i",
    "reporter.tchannel.host-port": "s",
    "reporter.tchannel.report-timeout": "d",
    "reporter.tchannel.discovery.conn-check-timeout": "d",
    "reporter.tchannel.discovery.min-peers": "i",
}

QUERY: dict[str, str] = {
    "query.additional-headers": "s",
    "query.base-path": "s",
    "query.bearer-token-propagation": "b",
    "query.port": "i",
    "query.host-port": "s",
    "query.grpc-server.host-port": "s",
    "query.http-server.host-port": "s",
    "query.static-files": "s",
    "query.ui-config": "s",
    "query.max-clock-skew-adjustment": "d",
    "query.enable-tracing": "b",
    "query.log-static-assets-access": "b",
    **_group("query.grpc.tls", _TLS_SERVER),
    **_group("query.http.tls", _TLS_SERVER),
    "downsampling.hashsalt": "s",
    "downsampling.ratio": "f",
    "multi-tenancy.enabled": "b",
    "multi-tenancy.header": "s",
    "multi-tenancy.tenants": "s",
}

# Flag families registered by storage plugins and samplers, not judged one by one.
STORAGE_PREFIXES = (
    "es.",
    "es-archive.",
    "cassandra.",
    "cassandra-archive.",
    "kafka.",
    "grpc-storage-plugin.",
    "grpc-storage.",
    "badger.",
    "memory.",
    "prometheus.",
)
SAMPLING_PREFIX = "sampling."

# Env prefixes owned by v1 flag namespaces: an env var with one of these
# prefixes that maps to no flag is silently ignored by viper.
ENV_NAMESPACES = ("COLLECTOR_", "PROCESSOR_", "REPORTER_", "QUERY_")
