"""What every command shares: the options of the group, the consoles, running a coroutine."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import attrs
import click
from rich.console import Console
from rich.markup import escape

from synapse_async import AsyncClient

__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "State",
    "err_console",
    "fail",
    "out_console",
    "run",
    "state_of",
]

T = TypeVar("T")

EXIT_OK = 0
"""Everything done."""
EXIT_FAILED = 1
"""A failure: an API or transport error, failed items, a problem found by ``doctor``."""
EXIT_USAGE = 2
"""Bad usage: a bad option or argument, missing or unusable settings."""
EXIT_INTERRUPTED = 130
"""Stopped by Ctrl-C."""

out_console = Console(soft_wrap=True)
"""Results (tables) go to stdout."""
err_console = Console(stderr=True)
"""Progress, messages and errors go to stderr."""


@attrs.define
class State:
    """The group's options, passed to every command as ``ctx.obj``."""

    host: str | None = None
    debug: bool = False

    def client(self, **settings: Any) -> AsyncClient:
        """A client from ``--host``, the environment and the config file."""
        return AsyncClient(self.host, **settings)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion in a fresh event loop (Ctrl-C cancels it cleanly)."""
    return asyncio.run(coro)


def fail(message: str, code: int = EXIT_FAILED) -> None:
    """Print ``error: message`` to stderr and exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.exit(code)


def state_of(ctx: click.Context) -> State:
    """The group's ``State`` (a default one when a command is invoked on its own)."""
    obj = ctx.find_object(State)
    return obj if obj is not None else State()
