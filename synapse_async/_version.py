"""The package version (single source for pyproject and the User-Agent)."""

__version__ = "0.1.0"
