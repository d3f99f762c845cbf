"""The SDK's loggers and the ``SYNAPSE_LOG`` switch.

Logger names (all children of ``synapse_async``; the library adds no handler of its own):

- ``synapse_async.http``: one DEBUG line per HTTP request (method, URL with its query string,
  status, time), INFO lines for retries.
- ``synapse_async.transfer``: chunked uploads and downloads (parts resent, resumes).
- ``synapse_async.bulk``: bulk uploads.
- ``synapse_async.emulator``: the local emulator.
- ``synapse_async.cli``: the ``synapse`` command.

``SYNAPSE_LOG=debug`` (or ``info``) in the environment attaches one readable stderr handler
to ``synapse_async`` at import time. Credentials are never logged: they travel in headers,
which are not logged, and a URL's query values that look like secrets (``token``,
``signature``, ``key``, ...) or equal a configured credential are shown as ``***``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Collection, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = ["ENV_LOG", "LOGGER_NAMES", "loggable_url", "setup_from_env", "setup_logging"]

ENV_LOG = "SYNAPSE_LOG"
"""The environment variable that turns on the SDK's log handler (``debug`` or ``info``)."""

LOGGER_NAMES = (
    "synapse_async",
    "synapse_async.http",
    "synapse_async.transfer",
    "synapse_async.bulk",
    "synapse_async.emulator",
    "synapse_async.cli",
)
"""The documented logger names."""

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING}
_FORMAT = "%(asctime)s.%(msecs)03d %(levelname)-5s %(name)s: %(message)s"
_DATEFMT = "%H:%M:%S"
_SECRET_NAME = re.compile(
    r"token|secret|password|passwd|signature|sig$|key|credential|auth|session", re.IGNORECASE
)


class _SDKHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The stderr handler ``SYNAPSE_LOG`` installs (marked so it is installed once)."""


def setup_logging(level: int) -> logging.Handler:
    """Attach one readable stderr handler to ``synapse_async`` at ``level`` (idempotent)."""
    root = logging.getLogger("synapse_async")
    handler = next((h for h in root.handlers if isinstance(h, _SDKHandler)), None)
    if handler is None:
        handler = _SDKHandler()
        handler.setFormatter(logging.Formatter(_FORMAT, _DATEFMT))
        root.addHandler(handler)
    handler.setLevel(level)
    root.setLevel(level)
    return handler


def setup_from_env(env: Mapping[str, str] | None = None) -> logging.Handler | None:
    """Install the handler when ``SYNAPSE_LOG`` is ``debug``, ``info`` or ``warning``."""
    value = (os.environ if env is None else env).get(ENV_LOG, "").strip().lower()
    level = _LEVELS.get(value)
    return None if level is None else setup_logging(level)


def loggable_url(url: str, secrets: Collection[str] = ()) -> str:
    """``url`` with its query string, secret-looking values and ``secrets`` as ``***``."""
    parts = urlsplit(url)
    query = [
        (k, "***" if _SECRET_NAME.search(k) else v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    ]
    shown = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, safe="*"), ""))
    for secret in secrets:
        if secret:
            shown = shown.replace(quote(secret, safe=""), "***").replace(secret, "***")
            shown = shown.replace(quote(secret), "***")
    return shown
