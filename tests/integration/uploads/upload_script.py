"""``python -m tests.integration.uploads.upload_script``: upload one file, printing progress lines.

Used by the SIGKILL resume test: it kills this process mid-upload, then runs it again.
Prints ``progress <confirmed> <total>`` per confirmed part and ``done <id> <md5>`` at the end.
"""

from __future__ import annotations

import argparse
import asyncio

from synapse_async import AsyncClient


async def main(a: argparse.Namespace) -> None:
    async with AsyncClient(a.url, access_token=a.token) as client:
        result = await client.uploads.upload_file(
            a.file,
            part_size=a.part_size,
            max_concurrency=a.concurrency,
            cache_dir=a.cache_dir,
            on_progress=lambda done, total: print(f"progress {done} {total}", flush=True),
        )
    print(f"done {result.id} {result.checksum}", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--file", required=True)
    p.add_argument("--cache-dir", required=True)
    p.add_argument("--part-size", type=int, required=True)
    p.add_argument("--concurrency", type=int, required=True)
    asyncio.run(main(p.parse_args()))
