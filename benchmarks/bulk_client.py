"""One bulk upload with the SDK (``client.data_collections.upload``); prints one JSON line.

``--dir`` uploads every file of a folder (``scan_directory``); ``--generator N`` uploads N
files named ``<dir>/<i>.jpg`` from a generator, so no item list is ever built. With
``--progress`` each progress call prints ``progress <files_done> <bytes_done>`` first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks.common import self_usage
from synapse_async import AsyncClient
from synapse_async.bulk import BulkItem, BulkProgress, scan_directory


def generated(root: str, n: int) -> Iterator[BulkItem]:
    for i in range(n):
        yield BulkItem(files={"image": Path(root) / f"{i}.jpg"})


async def main(a: argparse.Namespace) -> None:
    def show(p: BulkProgress) -> None:
        print(f"progress {p.files_done} {p.bytes_done}", flush=True)

    async with AsyncClient(a.url, access_token=a.token) as client:
        items = (
            generated(a.dir, a.generator)
            if a.generator
            else scan_directory(a.dir, file_specifications=[{"name": "image"}])
        )
        started = time.perf_counter()
        cpu_before = self_usage()["cpu_s"]
        limits = {"max_concurrency": a.concurrency} if a.concurrency else {}  # else the default
        report = await client.data_collections.upload(
            a.collection,
            items,
            project=a.project or None,
            journal=a.journal,
            on_progress=show if a.progress else None,
            **limits,
        )
        seconds = time.perf_counter() - started
        usage = self_usage()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "items": report.items,
                "sent": report.sent,
                "already_on_server": report.already_on_server,
                "skipped": report.skipped,
                "failed": report.failed,
                "bytes_sent": report.bytes_sent,
                "bytes_total": report.bytes_total,
                "units": len(report.data_unit_ids),
                "tasks": len(report.task_ids),
                **usage,
                "upload_cpu_s": usage["cpu_s"] - cpu_before,
            }
        )
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--collection", type=int, required=True)
    p.add_argument("--project", type=int, default=0)
    p.add_argument("--journal")
    p.add_argument("--generator", type=int, default=0)
    p.add_argument("--concurrency", type=int, default=0)
    p.add_argument("--progress", action="store_true")
    asyncio.run(main(p.parse_args()))
