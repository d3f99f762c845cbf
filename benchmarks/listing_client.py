"""One listing run in a fresh process: prints JSON with elapsed seconds, items, RSS, CPU."""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from benchmarks.common import self_usage
from synapse_async import AsyncClient


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
    a = p.parse_args()
    asyncio.run(main(a.url, a.token, a.project, a.concurrency, a.page_size))
