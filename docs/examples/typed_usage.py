"""Typed usage of both APIs; `mypy --strict docs/examples/typed_usage.py` runs in CI.

Run it against an embedded emulator: ``python docs/examples/typed_usage.py``.
"""

from __future__ import annotations

import asyncio
import threading

from synapse_async import AsyncClient, NotFoundError, Page, Task
from synapse_async.emulator import Emulator
from synapse_sync import Client, call_timeout


async def async_usage(url: str, token: str, project_id: int) -> list[int]:
    """The async API: listing, one page, a typed error."""
    async with AsyncClient(url, access_token=token) as client:
        ids: list[int] = [task.id async for task in client.tasks.list(project=project_id)]
        page: Page[Task] = await client.tasks.list(project=project_id).page(1)
        assert page.count == len(ids)
        try:
            await client.tasks.get(10**9)
        except NotFoundError as exc:
            assert exc.status_code == 404
        return ids


def sync_usage(url: str, token: str, project_id: int) -> list[int]:
    """The same with the generated sync facade."""
    with Client(url, access_token=token) as client:
        ids: list[int] = [task.id for task in client.tasks.list(project=project_id)]
        page: Page[Task] = client.tasks.list(project=project_id).page(1)
        assert page.count == len(ids)
        with call_timeout(10):
            first: Task = client.tasks.get(ids[0])
        assert first.project == project_id
        return ids


def main() -> None:
    """Serve an emulator on a thread, then use both APIs against it."""
    ready = threading.Event()
    stop = threading.Event()
    box: dict[str, str | int] = {}

    async def serve() -> None:
        async with Emulator() as emu:
            project = emu.seed.project(name="typed usage")
            emu.seed.tasks(project["id"], 250)
            box.update(url=emu.url, token=emu.access_token, project=project["id"])
            ready.set()
            await asyncio.to_thread(stop.wait)

    server = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    server.start()
    ready.wait(30)
    url, token, project = str(box["url"]), str(box["token"]), int(box["project"])
    assert asyncio.run(async_usage(url, token, project)) == sync_usage(url, token, project)
    stop.set()
    server.join(10)
    print("both APIs listed the same 250 tasks")


if __name__ == "__main__":
    main()
