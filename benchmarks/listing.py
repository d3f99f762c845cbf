"""Concurrent listing vs following ``next`` links one page at a time (same client, same run).

Emulator in its own process with 20 ms latency per request, tasks seeded at start; each run
is a fresh client process. Also checks that peak RSS stays flat when the collection grows 10x.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from benchmarks.common import emulator_process, fmt, run_client, summarize, target

SPEEDUP_TARGET = 10.0
"""Concurrent listing vs following next links, 10,000 tasks at 20 ms latency."""
RSS_GROWTH_TARGET = 1.10
"""Peak RSS at 10x the tasks, as a multiple of the smaller listing's."""


def _project_id(url: str, token: str) -> int:
    req = urllib.request.Request(
        url + "projects/", headers={"Synapse-Access-Token": f"Token {token}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return int(json.load(resp)["results"][0]["id"])


def _runs(url: str, token: str, project: int, concurrency: int, n: int) -> list[dict[str, Any]]:
    return [
        run_client(
            "benchmarks.listing_client",
            "--url",
            url,
            f"--token={token}",
            "--project",
            str(project),
            "--concurrency",
            str(concurrency),
        )
        for _ in range(n)
    ]


def run(*, smoke: bool = False, concurrency: int = 16) -> str:
    """Run the listing benchmark and return a markdown report."""
    sizes = [300, 3000] if smoke else [10_000, 100_000]
    runs = 1 if smoke else 5
    lines = [
        "| tasks | mode | elapsed s, median (min-max) | items/s | peak RSS MB | CPU s |",
        "|---|---|---|---|---|---|",
    ]
    ratio_line = ""
    speedup = 0.0
    rss: dict[int, float] = {}
    for n in sizes:
        with emulator_process("--latency-ms", "20", "--seed-tasks", str(n)) as emu:
            project = _project_id(emu.url, emu.token)
            modes = [("concurrent", concurrency)]
            if n == sizes[0]:
                modes += [
                    (f"concurrent x{2 * concurrency}", 2 * concurrency),
                    ("sequential (next links)", 1),
                ]
            elapsed: dict[str, float] = {}
            for mode, conc in modes:
                results = _runs(emu.url, emu.token, project, conc, runs)
                assert all(r["items"] == n for r in results), results
                t = summarize([r["elapsed_s"] for r in results])
                mem = summarize([r["peak_rss_mb"] for r in results])
                cpu = summarize([r["cpu_s"] for r in results])
                elapsed[mode] = t["median"]
                if mode == "concurrent":
                    rss[n] = mem["median"]
                lines.append(
                    f"| {n:,} | {mode} | {fmt(t)} | {n / t['median']:,.0f} | "
                    f"{fmt(mem, digits=1)} | {fmt(cpu)} |"
                )
            if len(elapsed) == 3:
                seq = elapsed["sequential (next links)"]
                speedup = seq / elapsed["concurrent"]
                ratio_line = (
                    f"At {n:,} tasks, vs following next links one page at a time: default "
                    f"{concurrency} pages in flight **{seq / elapsed['concurrent']:.1f}x** "
                    f"faster, {2 * concurrency} in flight **"
                    f"{seq / elapsed[f'concurrent x{2 * concurrency}']:.1f}x** (median elapsed)."
                )
    small, big = sizes
    growth = (
        f"Peak RSS at {big:,} tasks vs {small:,}: {rss[big]:.1f} MB vs {rss[small]:.1f} MB "
        f"(**{rss[big] / rss[small]:.2f}x** for 10x the items)."
    )
    checks = [
        target(
            "listing",
            f"{sizes[0]:,} tasks at 20 ms: concurrent >= {SPEEDUP_TARGET:g}x following next links",
            f"{speedup:.1f}x",
            speedup >= SPEEDUP_TARGET,
            smoke=smoke,
        ),
        target(
            "listing",
            f"peak RSS at {big:,} tasks <= {RSS_GROWTH_TARGET:.2f}x that at {small:,}",
            f"{rss[big] / rss[small]:.2f}x",
            rss[big] / rss[small] <= RSS_GROWTH_TARGET,
            smoke=smoke,
        ),
    ]
    return "\n".join([*lines, "", ratio_line, growth, "", *checks])
