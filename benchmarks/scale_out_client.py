"""One bulk upload in a fresh process, single-process or sharded on a local Ray; prints JSON.

``--mode single``: ``client.data_collections.upload`` in this process.
``--mode ray``: ``upload_on_ray`` with ``--shards`` shards on a local Ray started here
(``num_cpus`` = shards, loopback only: the same settings as the Ray tests).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import self_usage
from synapse_async import AsyncClient, ClientConfig


def _items(folder: Path) -> list[dict[str, Any]]:
    return [{"files": {"image": p}} for p in sorted(folder.iterdir())]


async def _collection(config: ClientConfig) -> int:
    async with AsyncClient(config=config) as client:
        coll = await client.data_collections.create(
            "scale-out", file_specifications=[{"name": "image", "file_type": "image"}]
        )
        return coll.id


def _single(
    config: ClientConfig, collection: int, items: list[Any], journal: Path, concurrency: int
) -> tuple[float, Any]:
    async def go() -> Any:
        async with AsyncClient(config=config) as client:
            return await client.data_collections.upload(
                collection, items, journal=journal, max_concurrency=concurrency
            )

    started = time.perf_counter()
    report = asyncio.run(go())
    return time.perf_counter() - started, report


def main(a: argparse.Namespace) -> None:
    config = ClientConfig.resolve(a.url, access_token=a.token)
    collection = asyncio.run(_collection(config))
    items = _items(Path(a.dir))
    scratch = Path(tempfile.mkdtemp(prefix="synapse-scale-", dir="/tmp"))
    out: dict[str, Any] = {}
    try:
        if a.mode == "single":
            elapsed, report = _single(config, collection, items, scratch / "j", a.concurrency)
        else:
            home = scratch / "home"
            home.mkdir()
            (home / "ray_bootstrap_config.yaml").write_text("")
            os.environ.update(
                RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0", RAY_USAGE_STATS_ENABLED="0", HOME=str(home)
            )
            import ray

            from synapse_async.bulk.ray import upload_on_ray

            started = time.perf_counter()
            ray.init(
                num_cpus=a.shards,
                include_dashboard=False,
                _temp_dir=str(scratch / "ray"),
                object_store_memory=100 * 2**20,
                log_to_driver=False,
            )
            out["init_s"] = time.perf_counter() - started
            try:
                started = time.perf_counter()
                report = upload_on_ray(
                    collection,
                    items,
                    config=config,
                    shards=a.shards,
                    journal_dir=scratch / "j",
                    per_worker_concurrency=a.concurrency,
                )
                elapsed = time.perf_counter() - started
            finally:
                started = time.perf_counter()
                ray.shutdown()
                out["shutdown_s"] = time.perf_counter() - started
        assert report.failed == 0 and report.sent == len(items), report
        out.update(
            elapsed_s=elapsed,
            files=report.sent,
            bytes=report.bytes_sent,
            units=len(report.data_unit_ids),
            **self_usage(),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(out))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--mode", choices=["single", "ray"], required=True)
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--concurrency", type=int, default=32)
    main(p.parse_args())
