"""The soak's client process: a mixed workload for ``--seconds``; prints one JSON line last.

Workers run concurrently through the public async API until the deadline: task listings,
small creates (tasks, projects, data units, each with an Idempotency-Key), small data-file
uploads, chunked uploads of a few MB checked against the local MD5, bulk uploads of small
batches, gets, and one thread doing listings through the sync facade (``synapse_sync``).
Every ``--every`` seconds it samples its RSS (``VmRSS``) and open file descriptors. An error
that reaches a worker is "unexpected" (the SDK retries faults; with the default retry policy
5% faults should not surface): each is counted by operation and type, the first of each
with its message and traceback.
Retries the SDK made (its ``retrying ...`` log lines) are counted by the error they absorbed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import synapse_sync
from synapse_async import AsyncClient
from synapse_async.bulk import BulkItem

MB = 10**6
JPEG = b"\xff\xd8\xff\xe0"


class RetryCounter(logging.Handler):
    """Counts the SDK's ``retrying <what> after <ErrorType>`` log records by error type."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.by_type: Counter[str] = Counter()
        self._lock = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.msg.startswith("retrying") and isinstance(record.args, tuple):
            with self._lock:
                self.by_type[str(record.args[1])] += 1


class Soak:
    """Shared state of the workers: deadline, counts and errors."""

    def __init__(self, seconds: float, root: Path) -> None:
        self.deadline = time.monotonic() + seconds
        self.root = root
        self.ops: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.examples: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return time.monotonic() < self.deadline

    def record_error(self, kind: str, exc: BaseException) -> None:
        name = f"{type(exc).__module__}.{type(exc).__qualname__}"
        with self.lock:
            key = f"{kind}: {name}"
            self.errors[key] += 1
            if self.errors[key] == 1:  # the first of each operation and error type
                trace = "".join(traceback.format_exception(exc))[-4000:]
                self.examples.append(
                    {"operation": kind, "type": name, "message": str(exc)[:500], "traceback": trace}
                )

    async def loop(
        self, kind: str, op: Callable[[int], Awaitable[None]], pause: float = 0.0
    ) -> None:
        """Run ``op(i)`` until the deadline, counting successes and errors."""
        i = 0
        while self.alive():
            try:
                await op(i)
            except Exception as exc:  # every error that surfaces is the finding
                self.record_error(kind, exc)
            else:
                self.ops[kind] += 1
            i += 1
            if pause:
                await asyncio.sleep(pause)


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def write_file(path: Path, size: int) -> str:
    """Random bytes behind a JPEG signature; returns the MD5 hex."""
    digest = hashlib.md5()
    with path.open("wb") as fh:
        left = size
        first = True
        while left:
            block = os.urandom(min(left, 2**20))
            if first:
                block = JPEG + block[len(JPEG) :]
                first = False
            fh.write(block)
            digest.update(block)
            left -= len(block)
    return digest.hexdigest()


def sync_listings(soak: Soak, url: str, token: str, project: int) -> None:
    """The sync-facade thread: full task listings of the fixed project until the deadline."""
    with synapse_sync.Client(url, access_token=token) as client:
        while soak.alive():
            try:
                n = sum(1 for _ in client.tasks.list(project=project, page_size=50))
                if n < 1:
                    raise AssertionError(f"sync listing returned {n} tasks")
            except Exception as exc:
                soak.record_error("sync_list", exc)
            else:
                with soak.lock:
                    soak.ops["sync_list"] += 1
            time.sleep(0.2)


async def main(a: argparse.Namespace) -> None:
    retries = RetryCounter()
    sdk_logger = logging.getLogger("synapse_async")
    sdk_logger.addHandler(retries)
    sdk_logger.setLevel(logging.INFO)
    sdk_logger.propagate = False

    root = Path(a.dir)
    soak = Soak(a.seconds, root)
    small = [root / f"small-{i}.jpg" for i in range(8)]
    for p in small:
        write_file(p, 20_000)
    big = root / "chunked.bin"
    big_md5 = write_file(big, a.chunked_mb * MB)
    samples: list[dict[str, float]] = []
    started = time.monotonic()

    async with AsyncClient(a.url, access_token=a.token) as client:
        coll = await client.data_collections.create(
            "soak",
            file_specifications=[{"name": "image", "file_type": "image", "is_required": True}],
        )
        fixed = await client.projects.create("soak-fixed")
        await client.tasks.create(fixed.id, [{"data": {"i": i}} for i in range(a.fixed_tasks)])
        growing = await client.projects.create("soak-growing")
        soak.deadline = time.monotonic() + a.seconds
        started = time.monotonic()

        async def listing(_: int) -> None:
            n = 0
            async for _task in client.tasks.list(project=fixed.id, page_size=50):
                n += 1
            if n != a.fixed_tasks:
                raise AssertionError(f"listing returned {n} tasks, expected {a.fixed_tasks}")

        async def listing_partial(_: int) -> None:
            # Leaves a listing early (its read-ahead pages must be cancelled, not leaked).
            n = 0
            async for _task in client.tasks.list(project=fixed.id, page_size=20):
                n += 1
                if n == 30:
                    break

        async def create_tasks(i: int) -> None:
            created = await client.tasks.create(
                growing.id,
                [{"data": {"i": i, "j": j}} for j in range(3)],
                idempotency_key=f"soak-tasks-{uuid.uuid4().hex}",
            )
            if len(created) != 3:
                raise AssertionError(f"created {len(created)} tasks, expected 3")

        async def create_project(i: int) -> None:
            await client.projects.create(f"soak-{i}")

        async def create_units(i: int) -> None:
            units = await client.data_units.create(
                [
                    {
                        "data_collection": coll.id,
                        "meta": {"i": i, "j": j},
                        "files": {
                            "image": {"checksum": f"{i:016x}{j:016x}", "path": f"u/{i}-{j}.jpg"}
                        },
                    }
                    for j in range(2)
                ],
                idempotency_key=f"soak-units-{uuid.uuid4().hex}",
            )
            if len(units) != 2:
                raise AssertionError(f"created {len(units)} data units, expected 2")

        async def data_file(i: int) -> None:
            df = await client.data_files.create(small[i % len(small)])
            got = await client.data_files.get(df.id)
            if got.id != df.id:
                raise AssertionError(f"data file {df.id} read back as {got.id}")

        async def chunked(_: int) -> None:
            result = await client.uploads.upload_file(
                big, part_size=5 * 2**20, max_concurrency=4, cache_dir=root / "cache"
            )
            if result.checksum != big_md5 or result.size != big.stat().st_size:
                raise AssertionError(
                    f"chunked upload {result.id}: checksum {result.checksum} "
                    f"size {result.size}, local {big_md5} {big.stat().st_size}"
                )

        async def bulk(i: int) -> None:
            batch = root / f"bulk-{i}"
            batch.mkdir()
            try:
                for j in range(5):  # fresh content: the server must receive every file
                    write_file(batch / f"{j}.jpg", 10_000)
                report = await client.data_collections.upload(
                    coll.id,
                    [BulkItem(files={"image": batch / f"{j}.jpg"}) for j in range(5)],
                    project=growing.id,
                    max_concurrency=8,
                )
                if report.failed or len(report.data_unit_ids) != 5 or len(report.task_ids) != 5:
                    raise AssertionError(
                        f"bulk batch {i}: failed {report.failed} "
                        f"({report.failures[:2]}), units "
                        f"{len(report.data_unit_ids)}, tasks "
                        f"{len(report.task_ids)}"
                    )
            finally:
                for f in batch.iterdir():
                    f.unlink()
                batch.rmdir()

        async def gets(i: int) -> None:
            await client.projects.get(fixed.id)
            await client.data_collections.get(coll.id)
            async for task in client.tasks.list(project=fixed.id, page_size=1):
                got = await client.tasks.get(task.id)
                if got.id != task.id:
                    raise AssertionError(f"task {task.id} read back as {got.id}")
                break

        async def sampler() -> None:
            while True:
                with soak.lock:
                    ops = sum(soak.ops.values())
                    errs = sum(soak.errors.values())
                samples.append(
                    {
                        "t": round(time.monotonic() - started, 1),
                        "rss_kb": rss_kb(),
                        "fds": fd_count(),
                        "ops": ops,
                        "errors": errs,
                        "retries": sum(retries.by_type.values()),
                    }
                )
                print(f"sample {json.dumps(samples[-1])}", flush=True)
                if not soak.alive():
                    return
                await asyncio.sleep(min(a.every, max(0.0, soak.deadline - time.monotonic())))

        sync_thread = threading.Thread(
            target=sync_listings, name="soak-sync", args=(soak, a.url, a.token, fixed.id)
        )
        sync_thread.start()
        try:
            workers = [
                soak.loop("list", listing),
                soak.loop("list", listing),
                soak.loop("list_partial", listing_partial, 0.1),
                soak.loop("create_tasks", create_tasks, 0.05),
                soak.loop("create_project", create_project, 0.1),
                soak.loop("create_units", create_units, 0.05),
                soak.loop("data_file", data_file, 0.05),
                soak.loop("chunked", chunked, 0.5),
                soak.loop("bulk", bulk, 0.2),
                soak.loop("get", gets, 0.05),
            ]
            await asyncio.gather(sampler(), *workers)
        finally:
            soak.deadline = 0
            await asyncio.to_thread(sync_thread.join)
        # One last sample after every worker and the sync thread have stopped.
        samples.append(
            {
                "t": round(time.monotonic() - started, 1),
                "rss_kb": rss_kb(),
                "fds": fd_count(),
                "ops": sum(soak.ops.values()),
                "errors": sum(soak.errors.values()),
                "retries": sum(retries.by_type.values()),
                "final": 1,
            }
        )
    print(
        json.dumps(
            {
                "seconds": time.monotonic() - started,
                "samples": samples,
                "ops": dict(soak.ops),
                "errors": dict(soak.errors),
                "examples": soak.examples,
                "retries": dict(retries.by_type),
            }
        )
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--seconds", type=float, default=300)
    p.add_argument("--every", type=float, default=10)
    p.add_argument("--chunked-mb", type=int, default=12)
    p.add_argument("--fixed-tasks", type=int, default=200)
    asyncio.run(main(p.parse_args()))
