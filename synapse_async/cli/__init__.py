"""The ``synapse`` command (``pip install 'synapse-async[cli]'``): Click commands over the SDK.

Commands: ``demo``, ``login``, ``config show``, ``doctor``, ``emulator``, ``upload``, ``ls``,
``export``, ``jobs tail``. Exit codes: 0 done, 1 a failure (an API error, failed items),
2 bad usage (a bad option or argument, missing credentials), 130 interrupted.
"""

from __future__ import annotations

from synapse_async.cli.app import cli, main

__all__ = ["cli", "main"]
