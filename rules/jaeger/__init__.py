"""Jaeger rules."""
