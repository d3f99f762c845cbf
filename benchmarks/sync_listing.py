"""Sync facade listing vs the async listing of the same 10,000 tasks (same emulator, same run).

Each run is a fresh client process; the two kinds alternate so drift affects both alike.
"""

from __future__ import annotations

from benchmarks.common import emulator_process, fmt, run_client, summarize, target
from benchmarks.listing import _project_id


def run(*, smoke: bool = False) -> str:
    """Median elapsed of sync vs async iteration over every task; returns markdown."""
    n = 1000 if smoke else 10_000
    runs = 1 if smoke else 7
    with emulator_process("--latency-ms", "20", "--seed-tasks", str(n)) as emu:
        project = _project_id(emu.url, emu.token)
        base = [
            "--url",
            emu.url,
            f"--token={emu.token}",
            "--project",
            str(project),
            "--concurrency",
            "16",
        ]
        results: dict[str, list[dict[str, float]]] = {"async": [], "sync": []}
        for _ in range(runs):
            results["async"].append(run_client("benchmarks.listing_client", *base))
            results["sync"].append(run_client("benchmarks.listing_client", *base, "--sync"))
    lines = ["| client | elapsed s, median (min-max) | peak RSS MB | CPU s |", "|---|---|---|---|"]
    medians = {}
    for kind, rows in results.items():
        assert all(r["items"] == n for r in rows), rows
        t = summarize([r["elapsed_s"] for r in rows])
        medians[kind] = t["median"]
        rss = summarize([r["peak_rss_mb"] for r in rows])
        cpu = summarize([r["cpu_s"] for r in rows])
        lines.append(f"| {kind} | {fmt(t)} | {fmt(rss, digits=1)} | {fmt(cpu)} |")
    ratio = medians["sync"] / medians["async"]
    return "\n".join(
        [
            *lines,
            "",
            f"{n:,} tasks, 20 ms latency, {runs} runs each: sync / async "
            f"elapsed = **{ratio:.2f}x**.",
            "",
            target(
                "sync_listing",
                "sync / async elapsed <= 1.2x",
                f"{ratio:.2f}x",
                ratio <= 1.2,
                smoke=smoke,
            ),
        ]
    )
