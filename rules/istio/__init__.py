"""Istio rules."""
