"""OpenTelemetry collector and tracer SDK rules."""
