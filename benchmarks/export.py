"""Client exports: N bounding boxes listed from the emulator and written as COCO and YOLO.

The emulator runs in its own process (``python -m synapse_async.emulator``) and is seeded over
``POST _emulator/seed/`` (``annotated_assignments``: 5 integer boxes per 1280x720 image, in
the simulator's DM shape). Each run is a fresh client process calling
``client.exports.export(filter={"project": ...}, format=..., output_dir=...)`` with default
settings, so its peak RSS (``resource.getrusage``) and CPU seconds (user + sys) are the
export's own: listing (concurrent pages, JSON decoding, models) plus conversion and file
writes. The "list only" row lists the same assignments without exporting, to show the
listing's share. Peak RSS is compared between projects 10x apart.

    python -m benchmarks.export [--smoke] [--runs N] [--out-base DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request
from typing import Any

from benchmarks.common import (
    emulator_process,
    fmt,
    machine,
    run_client,
    self_usage,
    summarize,
    target,
)

PER_IMAGE = 5
MODES = ("list only", "coco", "yolo")


def _seed(url: str, token: str, boxes: int) -> int:
    """Seed a project with ``boxes`` boxes over ``_emulator/seed/``; returns its id."""

    def post(body: dict[str, Any]) -> Any:
        req = urllib.request.Request(
            url + "_emulator/seed/",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Synapse-Access-Token": f"Token {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=600) as resp:
            return json.load(resp)

    project = post({"kind": "project", "name": f"{boxes} boxes", "annotation_type": "bounding_box"})
    made = post(
        {
            "kind": "annotated_assignments",
            "project_id": project["id"],
            "n_items": -(-boxes // PER_IMAGE),
            "boxes_per_item": PER_IMAGE,
        }
    )
    assert made["boxes"] >= boxes, made
    return int(project["id"])


async def _child(
    url: str, token: str, project: int, mode: str, out_base: str | None
) -> dict[str, Any]:
    from synapse_async import AsyncClient

    start_cpu = self_usage()["cpu_s"]
    out = tempfile.mkdtemp(prefix="synapse-export-bench-", dir=out_base)
    try:
        async with AsyncClient(url, access_token=token) as client:
            t0 = time.perf_counter()
            if mode == "list only":
                written = 0
                async for a in client.assignments.list(project=project):
                    written += len((a.data or {}).get("annotations", {}).get("image_1", ()))
            else:
                report = await client.exports.export(
                    filter={"project": project}, format=mode, output_dir=out
                )
                written = report.annotations_written
                assert report.annotations_read == written and report.clamped == 0, report
            elapsed = time.perf_counter() - t0
        usage = self_usage()
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {
        "elapsed_s": elapsed,
        "annotations": written,
        "peak_rss_mb": usage["peak_rss_mb"],
        "cpu_s": usage["cpu_s"] - start_cpu,
    }


RSS_GROWTH_MB = 10.0
"""Memory must stay flat: peak RSS may grow less than this when the boxes grow 10x."""


def run(*, smoke: bool = False, runs: int | None = None, out_base: str | None = None) -> str:
    """Run the benchmark and return a markdown report."""
    sizes = [500, 5_000] if smoke else [100_000, 1_000_000]
    runs = runs or (1 if smoke else 5)
    lines = [
        f"Emulator in its own process, seeded over `_emulator/seed/` ({PER_IMAGE} boxes per "
        f"1280x720 image); {runs} fresh client process(es) per row; default client "
        "settings (100 items a page, 16 pages in flight); output on the local disk.",
        "",
        "| boxes | images | mode | elapsed s, median (min-max) | annotations/s "
        "| peak RSS MB | CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    rss: dict[tuple[str, int], float] = {}
    base = ["--out-base", out_base] if out_base else []
    for n in sizes:
        with emulator_process("--annotation-speed", "0") as emu:
            project = _seed(emu.url, emu.token, n)
            for mode in MODES:
                results = [
                    run_client(
                        "benchmarks.export",
                        "--child",
                        "--url",
                        emu.url,
                        f"--token={emu.token}",
                        "--project",
                        str(project),
                        "--mode",
                        mode,
                        *base,
                        timeout=3600,
                    )
                    for _ in range(runs)
                ]
                assert all(r["annotations"] in (0, n) for r in results), results
                t = summarize([r["elapsed_s"] for r in results])
                mem = summarize([r["peak_rss_mb"] for r in results])
                cpu = summarize([r["cpu_s"] for r in results])
                rss[(mode, n)] = mem["median"]
                lines.append(
                    f"| {n:,} | {-(-n // PER_IMAGE):,} | {mode} | {fmt(t)} | "
                    f"{n / t['median']:,.0f} | {fmt(mem, digits=1)} | {fmt(cpu)} |"
                )
    small, big = sizes
    lines.append("")
    for mode in MODES:
        lines.append(
            f"Peak RSS, {mode}: {rss[(mode, big)]:.1f} MB at {big:,} boxes vs "
            f"{rss[(mode, small)]:.1f} MB at {small:,} "
            f"({rss[(mode, big)] - rss[(mode, small)]:+.1f} MB for 10x the boxes)."
        )
    lines.append("")
    for mode in MODES:
        growth = rss[(mode, big)] - rss[(mode, small)]
        lines.append(
            target(
                "export",
                f"{mode}: peak RSS grows < {RSS_GROWTH_MB:g} MB for 10x the boxes",
                f"{growth:+.1f} MB",
                growth < RSS_GROWTH_MB,
                smoke=smoke,
            )
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url")
    parser.add_argument("--token")
    parser.add_argument("--project", type=int)
    parser.add_argument("--mode", default="coco", choices=MODES)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument(
        "--out-base",
        default=None,
        help="parent folder of the temporary output (default: system temp)",
    )
    args = parser.parse_args()
    if args.child:
        print(
            json.dumps(
                asyncio.run(_child(args.url, args.token, args.project, args.mode, args.out_base))
            )
        )
        return
    print(f"Machine: {machine()}; {os.getloadavg()[0]:.2f} load at start\n", file=sys.stderr)
    print(run(smoke=args.smoke, runs=args.runs, out_base=args.out_base))


if __name__ == "__main__":
    main()
