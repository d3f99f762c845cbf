"""Seeding the emulator: 100,000 tasks into a fresh store (what tests and demos wait for).

Each run is a fresh process that starts an in-process emulator on a new temporary directory
and times ``emu.seed.tasks(project, n)`` (one ``insert_many`` into SQLite). The tests only
check that seeding 100,000 tasks yields them all; the speed claim lives here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from benchmarks.common import fmt, run_client, self_usage, summarize, target

SECONDS_TARGET = 5.0
"""Median seconds to seed 100,000 tasks."""


async def _child(n: int) -> dict[str, float]:
    from synapse_async.emulator import Emulator

    async with Emulator() as emu:
        project = emu.seed.project(name="seeded")["id"]
        started = time.perf_counter()
        seeded = emu.seed.tasks(project, n)
        elapsed = time.perf_counter() - started
        assert seeded == n == emu.store.count("tasks", project=project)
    return {"elapsed_s": elapsed, **self_usage()}


def run(*, smoke: bool = False) -> str:
    """Time seeding in fresh processes; returns markdown."""
    n, runs = (5_000, 1) if smoke else (100_000, 5)
    results = [
        run_client("benchmarks.emulator_seed", "--child", "--tasks", str(n)) for _ in range(runs)
    ]
    t = summarize([r["elapsed_s"] for r in results])
    mem = summarize([r["peak_rss_mb"] for r in results])
    return "\n".join(
        [
            "| tasks | seconds, median (min-max) | tasks/s | peak RSS MB |",
            "|---|---|---|---|",
            f"| {n:,} | {fmt(t)} | {n / t['median']:,.0f} | {fmt(mem, digits=1)} |",
            "",
            target(
                "emulator_seed",
                f"seed {n:,} tasks in < {SECONDS_TARGET:g} s (median)",
                f"{t['median']:.2f} s",
                t["median"] < SECONDS_TARGET,
                smoke=smoke,
            ),
        ]
    )


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.emulator_seed")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--tasks", type=int, default=100_000)
    p.add_argument("--smoke", action="store_true")
    a = p.parse_args()
    if a.child:
        print(json.dumps(asyncio.run(_child(a.tasks))))
    else:
        print(run(smoke=a.smoke))


if __name__ == "__main__":
    main()
