"""Sync facade listing vs async listing in the hardest case for the facade.

10,000 tasks, 0 ms emulator latency (the listing is CPU-bound, so facade cost is not hidden
behind network waits), warm clients (connections open, code paths hot), one client process
holding both an async client (on its own loop in the main thread) and a sync client; the two
alternate round by round and the best of ``--rounds`` is kept for each.

    python -m benchmarks sync_listing_warm
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import time
from typing import Any

from benchmarks.common import emulator_process, run_client, target
from benchmarks.listing import _project_id

TARGET = 1.2


def client(url: str, token: str, project: int, rounds: int, gc_off: bool = False) -> dict[str, Any]:
    """Measure in this process: best elapsed seconds of sync and of async listing.

    ``gc_off`` turns the cyclic garbage collector off for the measured rounds (a diagnosis:
    how much of the gap is collections, not a way the target is judged).
    """
    from synapse_async import AsyncClient
    from synapse_sync import Client

    loop = asyncio.new_event_loop()
    aio = AsyncClient(url, access_token=token)
    sync = Client(url, access_token=token)

    async def list_async() -> int:
        count = 0
        async for _ in aio.tasks.list(project=project):
            count += 1
        return count

    def list_sync() -> int:
        count = 0
        for _ in sync.tasks.list(project=project):
            count += 1
        return count

    def timed_async() -> tuple[float, int]:
        started = time.perf_counter()
        n = loop.run_until_complete(list_async())
        return time.perf_counter() - started, n

    def timed_sync() -> tuple[float, int]:
        started = time.perf_counter()
        n = list_sync()
        return time.perf_counter() - started, n

    timed_async()  # warm up both clients: connections open, code paths hot
    timed_sync()
    samples: dict[str, list[float]] = {"async": [], "sync": []}
    collections = {"async": [0, 0, 0], "sync": [0, 0, 0]}  # per generation, all rounds
    gc_seconds = {"async": 0.0, "sync": 0.0}
    current = ["async"]
    gc_started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
            return
        collections[current[0]][info["generation"]] += 1
        gc_seconds[current[0]] += time.perf_counter() - gc_started[0]

    items = set()
    gc.callbacks.append(on_gc)
    if gc_off:
        gc.disable()
    try:
        for r in range(rounds):
            order = [("async", timed_async), ("sync", timed_sync)]
            for name, fn in order if r % 2 == 0 else order[::-1]:
                current[0] = name
                elapsed, n = fn()
                samples[name].append(elapsed)
                items.add(n)
    finally:
        gc.enable()
        gc.callbacks.remove(on_gc)
    loop.run_until_complete(aio.aclose())
    loop.close()
    sync.close()
    return {
        "samples": samples,
        "items": sorted(items),
        "load": os.getloadavg(),
        "gc": {k: {"collections": collections[k], "seconds": gc_seconds[k]} for k in samples},
    }


def run(*, smoke: bool = False, rounds: int = 3, gc_off: bool = False) -> str:
    """Run the warm 0 ms listing comparison; return a markdown report."""
    n = 1000 if smoke else 10_000
    with emulator_process("--latency-ms", "0", "--seed-tasks", str(n)) as emu:
        project = _project_id(emu.url, emu.token)
        res = run_client(
            "benchmarks.sync_listing_warm",
            "--client",
            "--url",
            emu.url,
            f"--token={emu.token}",
            "--project",
            str(project),
            "--rounds",
            str(rounds),
            *(["--gc-off"] if gc_off else []),
        )
    assert res["items"] == [n], res["items"]
    best = {k: min(v) for k, v in res["samples"].items()}
    ratio = best["sync"] / best["async"]
    fmt = ", ".join
    return "\n".join(
        [
            f"| client | best of {rounds} ms | all rounds ms |",
            "|---|---|---|",
            *(
                f"| {k} | {best[k] * 1e3:.1f} | {fmt(f'{s * 1e3:.1f}' for s in v)} |"
                for k, v in res["samples"].items()
            ),
            "",
            f"{n:,} tasks, 0 ms latency, warm clients, alternating: sync / async = "
            f"**{ratio:.2f}x**; load average during the run {res['load'][0]:.2f}"
            + (" (garbage collector off: a diagnosis, not the target)." if gc_off else "."),
            "",
            "Garbage collector during the measured rounds (collections of generation 0/1/2, "
            "time): "
            + "; ".join(
                f"{k} {'/'.join(map(str, g['collections']))}, {g['seconds'] * 1e3:.1f} ms"
                for k, g in res["gc"].items()
            )
            + ".",
            "",
            "Not judged against the target: the garbage collector was off."
            if gc_off
            else target(
                "sync_listing_warm",
                f"sync / async best-of-{rounds} <= {TARGET}x",
                f"{ratio:.2f}x",
                ratio <= TARGET,
                smoke=smoke,
            ),
        ]
    )


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--client", action="store_true", help="measure in this process (JSON)")
    p.add_argument("--url")
    p.add_argument("--token")
    p.add_argument("--project", type=int)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--smoke", action="store_true")
    p.add_argument("--gc-off", action="store_true", help="no cyclic GC in the measured rounds")
    a = p.parse_args()
    if a.client:
        print(json.dumps(client(a.url, a.token, a.project, a.rounds, a.gc_off)))
    else:
        print(run(smoke=a.smoke, rounds=a.rounds, gc_off=a.gc_off))


if __name__ == "__main__":
    main()
