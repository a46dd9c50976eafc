"""Core rules: input that does not load as the API server would read it."""
