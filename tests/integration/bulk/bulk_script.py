"""``python -m tests.integration.bulk.bulk_script``: a bulk upload with a journal and progress.

Used by the SIGKILL resume test, which kills this process part-way and runs the upload again.
Prints ``progress <files_done> <items_done>`` per progress call and ``done <units> <tasks>``.
"""

from __future__ import annotations

import argparse
import asyncio

from synapse_async import AsyncClient
from synapse_async.bulk import BulkProgress, scan_directory


def show(p: BulkProgress) -> None:
    print(f"progress {p.files_done} {p.items_done}", flush=True)


async def main(a: argparse.Namespace) -> None:
    async with AsyncClient(a.url, access_token=a.token) as client:
        items = scan_directory(a.dir, file_specifications=[{"name": "image"}])
        report = await client.data_collections.upload(
            a.collection,
            items,
            project=a.project,
            journal=a.journal,
            on_progress=show,
            max_concurrency=8,
        )
    print(f"done {len(report.data_unit_ids)} {len(report.task_ids)}", flush=True)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--journal", required=True)
    p.add_argument("--collection", type=int, required=True)
    p.add_argument("--project", type=int, required=True)
    asyncio.run(main(p.parse_args()))
