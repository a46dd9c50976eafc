"""Domain knowledge, one package a domain: what Kubernetes, the Go runtime,
Jaeger, Istio and OpenTelemetry do with a setting. Rules ask these packages;
they do not re-derive. Domain code imports ``meshlint.core.model`` and other
domain packages, nothing else of meshlint."""
