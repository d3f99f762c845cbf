"""The baseline: a minimal aiohttp script doing the same parallel protocol as the SDK.

Same parts, same checksums (each part's MD5 in a thread before it is sent as ``Content-MD5``,
the whole-file MD5 in a thread alongside), parts streamed from disk in 1 MiB reads, at most
``--concurrency`` in flight. No retries, no resume state, no validation: the loopback ceiling.
Prints JSON like ``upload_client``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator

import aiohttp

from benchmarks.common import self_usage

BUF = 2**20


def md5_range(path: str, offset: int, length: int) -> bytes:
    h = hashlib.md5()
    buf = bytearray(BUF)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        fh.seek(offset)
        while length:
            n = fh.readinto(view[: min(BUF, length)])
            h.update(view[:n])
            length -= n
    return h.digest()


async def stream(fd: int, offset: int, length: int) -> AsyncIterator[bytes]:
    while length:
        chunk = await asyncio.to_thread(os.pread, fd, min(BUF, length), offset)
        offset += len(chunk)
        length -= len(chunk)
        yield chunk


async def main(a: argparse.Namespace, size: int) -> None:
    headers = {"Synapse-Access-Token": f"Token {a.token}"}
    fd = os.open(a.file, os.O_RDONLY)
    async with aiohttp.ClientSession(a.url, headers=headers) as http:
        started = time.perf_counter()
        whole = asyncio.create_task(asyncio.to_thread(md5_range, a.file, 0, size))
        async with http.post(
            "chunked_upload/",
            json={"filename": os.path.basename(a.file), "size": size, "part_size": a.part_size},
        ) as r:
            upload = await r.json()
        gate = asyncio.Semaphore(a.concurrency)

        async def part(n: int) -> None:
            offset = (n - 1) * a.part_size
            length = min(a.part_size, size - offset)
            async with gate:
                digest = await asyncio.to_thread(md5_range, a.file, offset, length)
                async with http.put(
                    f"chunked_upload/{upload['id']}/parts/{n}/",
                    data=stream(fd, offset, length),
                    headers={
                        "Content-MD5": base64.b64encode(digest).decode(),
                        "Content-Length": str(length),
                        "Content-Type": "application/octet-stream",
                    },
                ) as r:
                    r.raise_for_status()

        await asyncio.gather(*(part(n) for n in range(1, upload["part_count"] + 1)))
        async with http.post(
            f"chunked_upload/{upload['id']}/", json={"md5": (await whole).hex()}
        ) as r:
            done = await r.json()
        elapsed = time.perf_counter() - started
    os.close(fd)
    print(
        json.dumps(
            {
                "elapsed_s": elapsed,
                "bytes": done["size"],
                "checksum": done["checksum"],
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
    args = p.parse_args()
    asyncio.run(main(args, os.path.getsize(args.file)))
