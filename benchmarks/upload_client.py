"""One SDK upload in a fresh process: prints JSON with elapsed s, peak RSS, CPU, checksum."""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time

from benchmarks.common import self_usage
from synapse_async import AsyncClient


async def main(a: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="synapse-bench-cache-") as cache:
        async with AsyncClient(a.url, access_token=a.token) as client:
            started = time.perf_counter()
            result = await client.uploads.upload_file(
                a.file, part_size=a.part_size, max_concurrency=a.concurrency, cache_dir=cache
            )
            elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {
                "elapsed_s": elapsed,
                "bytes": result.size,
                "checksum": result.checksum,
                **self_usage(),
            }
        )
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--part-size", type=int, default=50 * 2**20)
    p.add_argument("--concurrency", type=int, default=8)
    asyncio.run(main(p.parse_args()))
