"""Upload a folder as data units (and tasks), resumably: ``python bulk_upload.py FOLDER ...``.

Reads SYNAPSE_HOST / SYNAPSE_ACCESS_TOKEN (or ~/.synapse/config.json) unless --url/--token
are given. Run it again with the same --journal after a crash or Ctrl-C: it finishes the job
and sends nothing twice.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from synapse_async import AsyncClient
from synapse_async.bulk import BulkProgress, scan_directory


def show(p: BulkProgress) -> None:
    total = f"/{p.files_total}" if p.scan_complete else f"/{p.files_total}+"
    print(
        f"\r{p.files_done}{total} files, {p.bytes_done / 1e6:.1f} MB, "
        f"{p.rate / 1e6:.1f} MB/s, {p.items_failed} failed",
        end="",
        flush=True,
    )


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder")
    parser.add_argument("--collection", type=int, required=True)
    parser.add_argument("--project", type=int, help="also create one task per data unit")
    parser.add_argument("--journal", default="bulk-upload.journal")
    parser.add_argument("--pattern", default="*")
    parser.add_argument("--report", default="bulk-upload-report.json")
    parser.add_argument("--url")
    parser.add_argument("--token")
    args = parser.parse_args(argv)

    async with AsyncClient(args.url, access_token=args.token) as client:
        collection = await client.data_collections.get(args.collection)
        # One data unit per file; with several slots (e.g. image + json), files sharing a
        # stem (0001.jpg + 0001.json) become one unit.
        items = scan_directory(args.folder, file_specifications=collection, pattern=args.pattern)
        report = await client.data_collections.upload(
            collection, items, project=args.project, journal=args.journal, on_progress=show
        )
    print()
    print(
        f"{report.items} items: {report.sent} files sent, {report.already_on_server} already "
        f"on the server, {report.skipped} done earlier, {report.failed} failed "
        f"({report.bytes_sent / 1e6:.1f} MB in {report.seconds:.1f} s)"
    )
    for failure in report.failures[:20]:
        print(f"  #{failure.index} {failure.paths}: {failure.error_type}: {failure.message}")
    report.to_json(args.report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
