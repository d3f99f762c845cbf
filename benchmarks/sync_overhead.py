"""Per-call overhead of the sync facade runtime vs a bare ``run_coroutine_threadsafe`` hop.

Each run is a fresh process (``python -m benchmarks.sync_overhead --client``) that measures,
interleaved round by round so that machine noise hits every variant alike:

* a trivial ``Portal.call`` (what a generated sync method does),
* a bare ``asyncio.run_coroutine_threadsafe(coro, loop).result()`` to a plain loop thread
  (the budget's baseline), and the same to the facade's own loop (which uses ``poll``),
* anyio's ``BlockingPortal.call``, for reference,
* iterating an async generator through ``Portal.iterate`` (64 items per hop), one item per
  hop (``iterate_batched(1, ...)``), and ``async for`` on the loop itself (no hop).

The acceptance budget (SYNC_FACADE.md 20) is a ratio measured in the same process: median
facade call <= 1.5x the median bare round trip.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from benchmarks.common import fmt, run_client, self_usage, summarize, target

BUDGET = 1.5


async def noop() -> int:
    return 1


async def numbers(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


def _per_call(fn: Callable[[], object], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def _per_item(consume: Callable[[], int], items: int) -> float:
    start = time.perf_counter()
    got = consume()
    elapsed = time.perf_counter() - start
    assert got == items, got
    return elapsed / items * 1e6


def client(rounds: int, calls: int, items: int) -> dict[str, Any]:
    """Measure in this process; return per-round µs figures for every variant."""
    from anyio.from_thread import start_blocking_portal

    from synapse_sync import Portal

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bare-loop", daemon=True)
    thread.start()
    facade = Portal()
    samples: dict[str, list[float]] = {
        k: []
        for k in (
            "facade",
            "bare",
            "bare_poll",
            "anyio",
            "iter_batched",
            "iter_single",
            "iter_async",
        )
    }

    async def async_iteration() -> int:
        count = 0
        async for _ in numbers(items):
            count += 1
        return count

    floop = facade.loop  # the facade's own loop (poll selector), for the bare variant too
    with start_blocking_portal() as anyio_portal:
        variants: list[tuple[str, Callable[[], object]]] = [
            ("facade", lambda: facade.call(noop)),
            ("bare", lambda: asyncio.run_coroutine_threadsafe(noop(), loop).result()),
            ("bare_poll", lambda: asyncio.run_coroutine_threadsafe(noop(), floop).result()),
            ("anyio", lambda: anyio_portal.call(noop)),
        ]
        for _, fn in variants:  # warm up: threads started, code paths hot
            _per_call(fn, 200)
        for r in range(rounds):
            order = variants if r % 2 == 0 else variants[::-1]
            for name, fn in order:
                samples[name].append(_per_call(fn, calls))
            samples["iter_batched"].append(
                _per_item(lambda: sum(1 for _ in facade.iterate(numbers, items)), items)
            )
            single = max(items // 10, 100)

            def iter_single(n: int = single) -> int:
                return sum(1 for _ in facade.iterate_batched(1, numbers, n))

            samples["iter_single"].append(_per_item(iter_single, single))
            samples["iter_async"].append(_per_item(lambda: facade.call(async_iteration), items))
    facade.close()
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    ratios = [f / b for f, b in zip(samples["facade"], samples["bare"], strict=True)]
    return {
        "samples": samples,
        "ratio_median": statistics.median(samples["facade"]) / statistics.median(samples["bare"]),
        "round_ratios": ratios,
        **self_usage(),
    }


def run(*, smoke: bool = False) -> str:
    """Run the overhead benchmark in fresh processes; return a markdown report."""
    runs, rounds, calls, items = (1, 3, 500, 2000) if smoke else (5, 15, 2000, 5000)
    results = [
        run_client(
            "benchmarks.sync_overhead",
            "--client",
            "--rounds",
            str(rounds),
            "--calls",
            str(calls),
            "--items",
            str(items),
        )
        for _ in range(runs)
    ]
    medians: dict[str, list[float]] = {}
    for res in results:
        for name, values in res["samples"].items():
            medians.setdefault(name, []).append(statistics.median(values))
    ratios = [res["ratio_median"] for res in results]
    ratio = statistics.median(ratios)
    rows = [
        ("trivial `Portal.call` (facade)", "facade", "µs/call"),
        ("bare `run_coroutine_threadsafe(...).result()`", "bare", "µs/call"),
        ("same, to the facade's own loop (poll selector)", "bare_poll", "µs/call"),
        ("anyio `BlockingPortal.call` (reference)", "anyio", "µs/call"),
        ("`Portal.iterate`, 64 items per hop", "iter_batched", "µs/item"),
        ("`Portal.iterate_batched(1, ...)`, 1 item per hop", "iter_single", "µs/item"),
        ("`async for` on the loop (no hop)", "iter_async", "µs/item"),
    ]
    lines = [
        f"{runs} fresh process(es) x {rounds} interleaved rounds; {calls:,} calls and "
        f"{items:,} items per round. Figures: median over processes of each process's "
        "median, (min-max across processes).",
        "",
        "| variant | median (min-max) | unit |",
        "|---|---|---|",
    ]
    for label, key, unit in rows:
        lines.append(f"| {label} | {fmt(summarize(medians[key]))} | {unit} |")
    lines += [
        "",
        f"Facade / bare ratio (same process, median of medians): **{ratio:.2f}x** "
        f"(per process: {', '.join(f'{r:.2f}' for r in ratios)}).",
        f"Batched iteration: {statistics.median(medians['iter_batched']):.2f} µs/item vs "
        f"{statistics.median(medians['iter_single']):.1f} µs/item one per hop.",
        "",
        target(
            "sync_overhead",
            f"facade / bare call time <= {BUDGET}x",
            f"{ratio:.2f}x",
            ratio <= BUDGET,
            smoke=smoke,
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--client", action="store_true", help="measure in this process (JSON)")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=2000)
    p.add_argument("--items", type=int, default=5000)
    p.add_argument("--smoke", action="store_true")
    a = p.parse_args()
    if a.client:
        print(json.dumps(client(a.rounds, a.calls, a.items)))
    else:
        print(run(smoke=a.smoke))


if __name__ == "__main__":
    main()
