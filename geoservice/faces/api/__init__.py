"""HTTP API (FastAPI): layers, nearest, isochrones, coverage, facility registry, pages."""

from .app import create_app

__all__ = ["create_app"]
