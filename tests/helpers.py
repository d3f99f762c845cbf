"""Helpers shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

from synapse_async import AsyncClient, ClientConfig, RetryPolicy
from synapse_async.emulator import Emulator


def make_client(emu: Emulator, **settings: Any) -> AsyncClient:
    """A client for ``emu`` with strict decoding and fast retries (tests stay quick)."""
    settings.setdefault("retry", RetryPolicy(max_retries=6, initial_delay=0.01, max_delay=0.1))
    config = ClientConfig.resolve(
        emu.url, access_token=emu.access_token, strict_decoding=True, **settings
    )
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
        task = cast(
            "asyncio.Task[Any]",
            previous(loop, coro, **kw)
            if previous is not None
            else asyncio.Task(coro, loop=loop, **kw),
        )
        if asyncio.current_task() is owner:
            created.append(task)
        return task

    loop.set_task_factory(factory)
    try:
        yield created
    finally:
        loop.set_task_factory(previous)


Spawn = tuple["asyncio.Task[Any] | None", "asyncio.Task[Any]"]
"""One recorded task creation: ``(creator, task)``; the creator is None for a task started
from a callback (``run_coroutine_threadsafe`` starts each facade call that way)."""


@contextlib.contextmanager
def tasks_created_on(
    loop: asyncio.AbstractEventLoop, on_create: Callable[[Spawn], None] | None = None
) -> Iterator[list[Spawn]]:
    """Every asyncio task created on ``loop`` inside the block, with the task that created it.

    For a loop running on another thread (the sync facade's): the task factory is installed
    and removed on that loop's own thread. ``on_create`` is called (on the loop thread) for
    each creation as it happens.
    """
    created: list[Spawn] = []

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kw: Any) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, **kw)
        spawn: Spawn = (asyncio.current_task(loop), task)
        created.append(spawn)
        if on_create is not None:
            on_create(spawn)
        return task

    def on_loop(fn: Callable[[], None]) -> None:
        done = threading.Event()

        def run() -> None:
            try:
                fn()
            finally:
                done.set()

        loop.call_soon_threadsafe(run)
        assert done.wait(30), "the loop did not run the callback"

    on_loop(lambda: loop.set_task_factory(factory))
    try:
        yield created
    finally:
        on_loop(lambda: loop.set_task_factory(None))
