"""Kubernetes rules: memory requests, limits and the Go runtime."""
