"""Which components each official collector distribution is built with, and
which distribution an image runs.

The lists are the module names of opentelemetry-collector-releases v0.159.0
``distributions/<name>/manifest.yaml`` (otelcol, otelcol-otlp, otelcol-k8s,
otelcol-contrib), without their ``receiver``/``exporter``/... suffix. A
component's configured type is its module name in most cases, written with or
without underscores since the snake_case renames (``k8s_attributes`` for
``k8sattributesprocessor``, ``memory_limiter``, ``health_check``); the types
that differ otherwise are listed in ``_TYPE_STEMS`` (each from the component's
``metadata.yaml``: ``exporter/otlpexporter`` has type ``otlp_grpc``,
deprecated type ``otlp``, in opentelemetry-collector v0.159.0).

An image is one of these distributions when it is published by the releases
repository: ``otel/opentelemetry-collector[-contrib|-k8s|-otlp]`` on Docker Hub,
``ghcr.io/open-telemetry/opentelemetry-collector-releases/...``. Any other image
(a vendor build, a custom ocb build) is of unknown make-up and is not judged;
nor is a tag older than ``JUDGED_SINCE``, whose lists may differ (components
removed since).
"""

from __future__ import annotations

import functools

from meshlint.domain.components import repository
from meshlint.domain.versions import image_version

VERSION = (0, 159, 0)
JUDGED_SINCE = (0, 140)  # older tags may hold components the lists have dropped

DISTRIBUTIONS: dict[str, dict[str, frozenset[str]]] = {
    "otelcol": {
        "receivers": frozenset(
            {
                "hostmetrics",
                "jaeger",
                "kafka",
                "nop",
                "otlp",
                "prometheus",
                "zipkin",
            }
        ),
        "processors": frozenset(
            {
                "attributes",
                "batch",
                "filter",
                "memorylimiter",
                "probabilisticsampler",
                "resource",
                "span",
            }
        ),
        "exporters": frozenset(
            {
                "debug",
                "file",
                "kafka",
                "nop",
                "otlp",
                "otlphttp",
                "prometheus",
                "prometheusremotewrite",
                "zipkin",
            }
        ),
        "extensions": frozenset(
            {
                "healthcheck",
                "pprof",
                "zpages",
            }
        ),
        "connectors": frozenset(
            {
                "forward",
            }
        ),
    },
    "otelcol-otlp": {
        "receivers": frozenset(
            {
                "otlp",
            }
        ),
        "processors": frozenset(),
        "exporters": frozenset(
            {
                "otlp",
                "otlphttp",
            }
        ),
        "extensions": frozenset(),
        "connectors": frozenset(),
    },
    "otelcol-k8s": {
        "receivers": frozenset(
            {
                "filelog",
                "fluentforward",
                "hostmetrics",
                "httpcheck",
                "jaeger",
                "journald",
                "k8scluster",
                "k8sevents",
                "k8sobjects",
                "kubeletstats",
                "otelarrow",
                "otlp",
                "prometheus",
                "receivercreator",
                "zipkin",
            }
        ),
        "processors": frozenset(
            {
                "attributes",
                "batch",
                "cumulativetodelta",
                "deltatocumulative",
                "deltatorate",
                "drain",
                "filter",
                "groupbyattrs",
                "groupbytrace",
                "interval",
                "k8sattributes",
                "logdedup",
                "memorylimiter",
                "metricsgeneration",
                "metricstransform",
                "probabilisticsampler",
                "redaction",
                "remotetap",
                "resource",
                "resourcedetection",
                "tailsampling",
                "transform",
            }
        ),
        "exporters": frozenset(
            {
                "debug",
                "file",
                "loadbalancing",
                "nop",
                "otelarrow",
                "otlp",
                "otlphttp",
            }
        ),
        "extensions": frozenset(
            {
                "ack",
                "basicauth",
                "bearertokenauth",
                "cgroupruntime",
                "filestorage",
                "headerssetter",
                "healthcheck",
                "hostobserver",
                "httpforwarder",
                "k8sleaderelector",
                "k8sobserver",
                "oauth2clientauth",
                "oidcauth",
                "opamp",
                "pprof",
                "zpages",
            }
        ),
        "connectors": frozenset(
            {
                "count",
                "exceptions",
                "failover",
                "forward",
                "otlpjson",
                "roundrobin",
                "routing",
                "servicegraph",
                "spanmetrics",
            }
        ),
    },
    "otelcol-contrib": {
        "receivers": frozenset(
            {
                "activedirectoryds",
                "aerospike",
                "apache",
                "apachespark",
                "awscloudwatch",
                "awscontainerinsight",
                "awsecscontainermetrics",
                "awsfirehose",
                "awslambda",
                "awss3",
                "awsxray",
                "azureblob",
                "azureeventhub",
                "azuremonitor",
                "carbon",
                "chrony",
                "ciscoos",
                "cloudflare",
                "cloudfoundry",
                "collectd",
                "couchdb",
                "datadog",
                "dockerstats",
                "elasticsearch",
                "envoyals",
                "expvar",
                "faro",
                "filelog",
                "filestats",
                "flinkmetrics",
                "fluentforward",
                "github",
                "gitlab",
                "googlecloudmonitoring",
                "googlecloudpubsub",
                "googlecloudspanner",
                "haproxy",
                "hostmetrics",
                "httpcheck",
                "icmpcheck",
                "iis",
                "influxdb",
                "jaeger",
                "journald",
                "k8scluster",
                "k8sevents",
                "k8sobjects",
                "kafka",
                "kafkametrics",
                "kubeletstats",
                "libhoney",
                "loki",
                "macosunifiedlogging",
                "memcached",
                "mongodb",
                "mongodbatlas",
                "mysql",
                "namedpipe",
                "netflow",
                "nginx",
                "nop",
                "nsxt",
                "ntp",
                "obi",
                "oracledb",
                "otelarrow",
                "otlp",
                "otlpjsonfile",
                "podman",
                "postgresql",
                "pprof",
                "prometheus",
                "prometheusremotewrite",
                "pulsar",
                "purefa",
                "purefb",
                "rabbitmq",
                "receivercreator",
                "redis",
                "riak",
                "saphana",
                "simpleprometheus",
                "skywalking",
                "snmp",
                "snowflake",
                "solace",
                "splunkenterprise",
                "splunkhec",
                "sqlquery",
                "sqlserver",
                "sshcheck",
                "statsd",
                "stef",
                "syslog",
                "systemd",
                "tcpcheck",
                "tcplog",
                "tlscheck",
                "udplog",
                "vcenter",
                "wavefront",
                "webhookevent",
                "windowseventlog",
                "windowsperfcounters",
                "windowsservice",
                "yanggrpc",
                "zipkin",
                "zookeeper",
            }
        ),
        "processors": frozenset(
            {
                "attributes",
                "batch",
                "cardinalityguardian",
                "coralogix",
                "cumulativetodelta",
                "deltatocumulative",
                "deltatorate",
                "drain",
                "filter",
                "genainormalizer",
                "geoip",
                "groupbyattrs",
                "groupbytrace",
                "interval",
                "isolationforest",
                "k8sattributes",
                "logdedup",
                "memorylimiter",
                "metricsgeneration",
                "metricstarttime",
                "metricstransform",
                "probabilisticsampler",
                "redaction",
                "remotetap",
                "resource",
                "resourcedetection",
                "schema",
                "span",
                "sumologic",
                "tailsampling",
                "transform",
                "unroll",
            }
        ),
        "exporters": frozenset(
            {
                "alibabacloudlogservice",
                "awscloudwatchlogs",
                "awsemf",
                "awskinesis",
                "awss3",
                "awsxray",
                "azureblob",
                "azuredataexplorer",
                "azuremonitor",
                "bmchelix",
                "cassandra",
                "clickhouse",
                "coralogix",
                "datadog",
                "dataset",
                "debug",
                "doris",
                "elasticsearch",
                "faro",
                "file",
                "googlecloud",
                "googlecloudpubsub",
                "googlecloudstorage",
                "googlemanagedprometheus",
                "honeycombmarker",
                "influxdb",
                "kafka",
                "loadbalancing",
                "logicmonitor",
                "logzio",
                "mezmo",
                "nop",
                "opensearch",
                "otelarrow",
                "otlp",
                "otlphttp",
                "prometheus",
                "prometheusremotewrite",
                "pulsar",
                "rabbitmq",
                "sentry",
                "signalfx",
                "splunkhec",
                "stef",
                "sumologic",
                "syslog",
                "tencentcloudlogservice",
                "tinybird",
                "zipkin",
            }
        ),
        "extensions": frozenset(
            {
                "ack",
                "asapauth",
                "awscloudwatchmetricstreamsencoding",
                "awsiamdbauth",
                "awslogsencoding",
                "awsproxy",
                "azureauth",
                "azureencoding",
                "basicauth",
                "bearertokenauth",
                "cgroupruntime",
                "datadog",
                "dbstorage",
                "dockerobserver",
                "ecsobserver",
                "filestorage",
                "googleclientauth",
                "googlecloudlogentryencoding",
                "headerssetter",
                "healthcheck",
                "hostobserver",
                "httpforwarder",
                "jaegerencoding",
                "jaegerremotesampling",
                "jsonlogencoding",
                "k8sleaderelector",
                "k8sobserver",
                "oauth2clientauth",
                "oidcauth",
                "opamp",
                "otlpencoding",
                "pebbletailstorage",
                "pprof",
                "redisstorage",
                "sigv4auth",
                "skywalkingencoding",
                "sumologic",
                "textencoding",
                "zipkinencoding",
                "zpages",
            }
        ),
        "connectors": frozenset(
            {
                "count",
                "datadog",
                "exceptions",
                "failover",
                "forward",
                "grafanacloud",
                "otlpjson",
                "roundrobin",
                "routing",
                "servicegraph",
                "signaltometrics",
                "spanmetrics",
                "sum",
            }
        ),
    },
}

# Image name -> distribution (opentelemetry-collector-releases .goreleaser.yaml).
_IMAGES = {
    "opentelemetry-collector": "otelcol",
    "opentelemetry-collector-otlp": "otelcol-otlp",
    "opentelemetry-collector-k8s": "otelcol-k8s",
    "opentelemetry-collector-contrib": "otelcol-contrib",
}
_OWNERS = ("otel", "opentelemetry-collector-releases")

# Section -> configured type (underscores dropped) -> module stem, where the two
# differ beyond underscores.
_TYPE_STEMS = {
    "exporters": {"otlpgrpc": "otlp"},
    "receivers": {
        "prometheussimple": "simpleprometheus",
        "awscontainerinsightreceiver": "awscontainerinsight",
        "podmanstats": "podman",
    },
    "extensions": {"asapclient": "asapauth"},
}


def distribution_of(image: str) -> str | None:
    """The official distribution ``image`` runs, when its tag is recent enough
    to judge (or names no version: ``latest``, a digest); None otherwise."""
    owner, _, name = repository(image).rpartition("/")
    found = _IMAGES.get(name) if owner in _OWNERS else None
    version = image_version(image)
    if found is None or (version is not None and version[:2] < JUDGED_SINCE):
        return None
    return found


def has_component(distribution: str, section: str, component_type: str) -> bool:
    """Whether ``distribution`` is built with a ``section`` component of this type."""
    stems = DISTRIBUTIONS[distribution].get(section, frozenset())
    key = component_type.replace("_", "").lower()
    return key in stems or _TYPE_STEMS.get(section, {}).get(key) in stems


@functools.lru_cache(maxsize=1024)  # pure; a run's configs name the same few types
def in_every_distribution(section: str, component_type: str) -> bool:
    """Whether every distribution ``distribution_of`` can name is built with this
    component (``otlp``, ``batch``, ``memory_limiter``, ``debug``): whatever
    official image runs a config, the component is there."""
    return all(has_component(d, section, component_type) for d in set(_IMAGES.values()))
