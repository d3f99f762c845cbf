"""One listing run in a fresh process: prints JSON with elapsed seconds, items, RSS, CPU."""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from benchmarks.common import self_usage
from synapse_async import AsyncClient


def main_sync(url: str, token: str, project: int, concurrency: int, page_size: int) -> None:
    from synapse_sync import Client

    with Client(url, access_token=token, page_concurrency=concurrency) as client:
        started = time.perf_counter()
        count = 0
        last = -1
        for task in client.tasks.list(project=project, page_size=page_size):
            if task.id <= last:
                raise SystemExit("out of order")
            last = task.id
            count += 1
        elapsed = time.perf_counter() - started
    print(json.dumps({"elapsed_s": elapsed, "items": count, **self_usage()}))


async def main(url: str, token: str, project: int, concurrency: int, page_size: int) -> None:
    async with AsyncClient(url, access_token=token, page_concurrency=concurrency) as client:
        started = time.perf_counter()
        count = 0
        last = -1
        async for task in client.tasks.list(project=project, page_size=page_size):
            if task.id <= last:
                raise SystemExit("out of order")
            last = task.id
            count += 1
        elapsed = time.perf_counter() - started
    print(json.dumps({"elapsed_s": elapsed, "items": count, **self_usage()}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--project", type=int, required=True)
    p.add_argument("--concurrency", type=int, required=True)
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--sync", action="store_true", help="list through synapse_sync.Client")
    a = p.parse_args()
    if a.sync:
        main_sync(a.url, a.token, a.project, a.concurrency, a.page_size)
    else:
        asyncio.run(main(a.url, a.token, a.project, a.concurrency, a.page_size))
