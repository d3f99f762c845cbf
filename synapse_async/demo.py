"""The demo job: an embedded emulator, a seeded project, a concurrent listing, a summary.

Run it with ``python -m synapse_async.demo`` (options: ``--tasks N``, ``--latency-ms MS``).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import time

from synapse_async import AsyncClient
from synapse_async.emulator import Emulator, Faults

__all__ = ["main", "run_demo"]


async def run_demo(
    tasks: int = 5000, latency_ms: float = 20.0, page_size: int = 100
) -> dict[str, float]:
    """Seed a project with ``tasks`` tasks, list them two ways, print and return the figures."""
    async with Emulator(faults=Faults(latency=latency_ms / 1000)) as emu:
        project = emu.seed.project(name="Demo: street scenes")
        emu.seed.tasks(project["id"], tasks)
        print(f"emulator at {emu.url} (latency {latency_ms:g} ms per request)")
        async with AsyncClient(emu.url, access_token=emu.access_token) as client:
            proj = await client.projects.get(project["id"])
            print(f"project {proj.id}: {proj.name!r} ({proj.state})")

            started = time.perf_counter()
            statuses: collections.Counter[str] = collections.Counter()
            ids = []
            async for task in client.tasks.list(project=proj.id, page_size=page_size):
                statuses[task.status] += 1
                ids.append(task.id)
            concurrent = time.perf_counter() - started

            started = time.perf_counter()
            sequential_count = 0
            async for _ in client.with_options(page_concurrency=1).tasks.list(
                project=proj.id, page_size=page_size
            ):
                sequential_count += 1
            sequential = time.perf_counter() - started

    in_order = ids == sorted(ids) and len(set(ids)) == len(ids)
    print(
        f"listed {len(ids)} tasks in {concurrent:.2f} s concurrently "
        f"({len(ids) / concurrent:,.0f} tasks/s); following next links one page at a time "
        f"took {sequential:.2f} s: {sequential / concurrent:.1f}x faster"
    )
    print(f"statuses: {dict(statuses)}; every task once, in server order: {in_order}")
    if len(ids) != tasks or sequential_count != tasks or not in_order:
        raise SystemExit("demo failed: the listing did not return every task exactly once")
    return {"tasks": float(len(ids)), "concurrent_s": concurrent, "sequential_s": sequential}


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point of the demo."""
    parser = argparse.ArgumentParser(prog="python -m synapse_async.demo", description=__doc__)
    parser.add_argument("--tasks", type=int, default=5000, help="tasks to seed (default 5000)")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=20.0,
        help="emulated network latency per request (default 20)",
    )
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args(argv)
    asyncio.run(run_demo(args.tasks, args.latency_ms, args.page_size))


if __name__ == "__main__":
    main()
