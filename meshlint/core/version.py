"""meshlint's version, read by the build (pyproject.toml) without importing anything."""

__version__ = "0.1.0"
