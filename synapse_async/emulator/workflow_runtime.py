"""The managed-workflow runtime of one emulator app.

Settings, the simulator, the webhook dispatcher, and the background jobs (S3 imports).
``build_app(workflow_settings=WorkflowSettings(...))`` stores the settings on the app; the workflow
routes' ``setup`` calls :func:`install`, which builds the :class:`Workflow` and ties it to the
app's startup and cleanup, so it starts and stops with the server (no task outlives it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from .keys import FILES_DIR
from .simulator import AnnotationSimulator
from .store import Store
from .webhook_delivery import DeliverySettings, WebhookDispatcher

__all__ = [
    "DEFAULT_SPEED",
    "WORKFLOW",
    "WORKFLOW_SETTINGS",
    "Workflow",
    "WorkflowSettings",
    "install",
]

log = logging.getLogger("synapse_async.emulator.workflow")

DEFAULT_SPEED = 10.0
"""Tasks per second the simulator annotates in each active project, by default."""


def _optional_path(value: str | Path | None) -> Path | None:
    return None if value is None else Path(value)


@attrs.frozen
class WorkflowSettings:
    """Settings of the managed workflow.

    Attributes:
        annotation_speed: tasks per second per active project (0: nothing gets annotated
            until ``emu.workflow.simulator.complete(...)`` is called).
        tick: seconds between simulator steps.
        s3_root: the directory standing in for S3 (bucket = subdirectory); None:
            ``<data_dir>/s3``.
        delivery: webhook retry settings.
    """

    annotation_speed: float = DEFAULT_SPEED
    tick: float = 0.05
    s3_root: Path | None = attrs.field(default=None, converter=_optional_path)
    delivery: DeliverySettings = attrs.field(factory=DeliverySettings)


class Workflow:
    """The running parts: ``simulator``, ``dispatcher``, ``s3_root`` and background jobs."""

    def __init__(self, store: Store, settings: WorkflowSettings, s3_root: Path) -> None:
        self.settings = settings
        self.s3_root = s3_root
        self.dispatcher = WebhookDispatcher(store, settings.delivery)
        self.simulator = AnnotationSimulator(
            store, self.dispatcher, speed=settings.annotation_speed, tick=settings.tick
        )
        self._jobs: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run ``coro`` in the background until it ends or the app stops."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._jobs.add(task)
        task.add_done_callback(self._job_done)
        return task

    def _job_done(self, task: asyncio.Task[Any]) -> None:
        self._jobs.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background job %s failed", task.get_name(), exc_info=task.exception())

    async def settle(self) -> None:
        """Wait for the background jobs and queued webhook deliveries (for tests)."""
        while self._jobs:
            await asyncio.gather(*list(self._jobs), return_exceptions=True)
        await self.dispatcher.drain()

    async def start(self) -> None:
        """Start the dispatcher and the simulator."""
        self.s3_root.mkdir(parents=True, exist_ok=True)
        await self.dispatcher.start()
        await self.simulator.start()

    async def close(self) -> None:
        """Stop everything, background jobs included, and wait for it."""
        await self.simulator.close()
        jobs = list(self._jobs)
        for task in jobs:
            task.cancel()
        await asyncio.gather(*jobs, return_exceptions=True)
        await self.dispatcher.close()


WORKFLOW_SETTINGS = web.AppKey("workflow_settings", WorkflowSettings)
"""The settings ``build_app`` was given."""
WORKFLOW = web.AppKey("workflow", Workflow)
"""The app's running :class:`Workflow`."""


def install(app: web.Application, store: Store) -> Workflow:
    """Build the app's workflow (once) and hook it to the app's startup and cleanup."""
    if WORKFLOW in app:
        return app[WORKFLOW]
    settings = app.get(WORKFLOW_SETTINGS) or WorkflowSettings()
    s3_root = settings.s3_root or app[FILES_DIR].parent / "s3"
    workflow = Workflow(store, settings, s3_root)
    app[WORKFLOW] = workflow

    async def on_startup(_app: web.Application) -> None:
        await workflow.start()

    async def on_cleanup(_app: web.Application) -> None:
        await workflow.close()

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    return workflow
