"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any, cast

from synapse_async import AsyncClient, ClientConfig, RetryPolicy
from synapse_async.emulator import Emulator


def make_client(emu: Emulator, **settings: Any) -> AsyncClient:
    """A client for ``emu`` with strict decoding and fast retries (tests stay quick)."""
    settings.setdefault("retry", RetryPolicy(max_retries=6, initial_delay=0.01, max_delay=0.1))
    config = ClientConfig.resolve(emu.url, access_token=emu.access_token, strict_decoding=True,
                                  **settings)
    return AsyncClient(config=config)


@contextlib.contextmanager
def tasks_created() -> Iterator[list[asyncio.Task[Any]]]:
    """The asyncio tasks the current task creates inside the block, in creation order.

    Only those started from the calling task (the listing runs in it) are kept: the emulator
    shares the loop, and the tasks serving its connections are not the client's.
    """
    loop = asyncio.get_running_loop()
    owner = asyncio.current_task()
    previous = loop.get_task_factory()
    created: list[asyncio.Task[Any]] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kw: Any) -> asyncio.Task[Any]:
        task = cast("asyncio.Task[Any]", previous(loop, coro, **kw) if previous is not None
                    else asyncio.Task(coro, loop=loop, **kw))
        if asyncio.current_task() is owner:
            created.append(task)
        return task

    loop.set_task_factory(factory)
    try:
        yield created
    finally:
        loop.set_task_factory(previous)
