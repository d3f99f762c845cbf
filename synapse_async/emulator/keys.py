"""Typed keys for the state the emulator keeps on its ``web.Application``."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from .auth import Credentials
from .faults import FaultInjector
from .store import Store

__all__ = ["CREDENTIALS", "FAULTS", "FILES_DIR", "STORE"]

STORE = web.AppKey("store", Store)
"""The record store."""
FILES_DIR = web.AppKey("files_dir", Path)
"""Where uploaded file bytes live (``<data_dir>/files``)."""
FAULTS = web.AppKey("faults", FaultInjector)
"""The fault injector consulted per request."""
CREDENTIALS = web.AppKey("credentials", Credentials)
"""The tokens the emulator accepts."""
