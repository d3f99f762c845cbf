"""Export conversion: N synthetic bounding boxes -> COCO and YOLO, no network, no server.

Each run is a fresh process (``python -m benchmarks.export_convert --child ...``), so its
peak RSS (``resource.getrusage``) and CPU seconds are the conversion's own. Records are
generated on the fly (``synapse_async.export.synthetic_items``: 5 boxes per 1280x720 image,
2% crossing the edge) and streamed through ``write_export``; the "generate only" row
measures the generator alone, and "import only" the interpreter plus the package, so the
conversion's share can be read off. Peak RSS is compared between sizes 10x apart to show
that memory does not grow with the number of boxes.

    python -m benchmarks.export_convert [--smoke] [--runs N] [--out-base DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from typing import Any

from benchmarks.common import fmt, machine, run_client, self_usage, summarize, target

PER_IMAGE = 5


def _child(fmt_name: str, boxes: int, out_base: str | None) -> dict[str, Any]:
    from synapse_async.export import convert_synthetic, synthetic_items

    start_cpu = self_usage()["cpu_s"]
    out = tempfile.mkdtemp(prefix="synapse-export-bench-", dir=out_base)
    try:
        t0 = time.perf_counter()
        if fmt_name == "import only":
            written = 0
        elif fmt_name == "generate only":
            written = sum(
                len(r["data"]["annotations"]["image_1"])
                for r in synthetic_items(-(-boxes // PER_IMAGE), PER_IMAGE)
            )
        else:
            report = convert_synthetic(
                boxes, format=fmt_name, output_dir=out, boxes_per_image=PER_IMAGE
            )
            written = report.annotations_written + report.outside
            assert report.annotations_read == written == boxes, report
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
    sizes = [2_000, 20_000] if smoke else [100_000, 1_000_000]
    runs = runs or (1 if smoke else 5)
    where = out_base or tempfile.gettempdir()
    lines = [
        f"Output under `{where}`; {PER_IMAGE} boxes per image; {runs} fresh process(es) per row.",
        "",
        "| boxes | images | format | elapsed s, median (min-max) | annotations/s "
        "| peak RSS MB | CPU s |",
        "|---|---|---|---|---|---|---|",
    ]
    rss: dict[tuple[str, int], float] = {}
    base = ["--out-base", out_base] if out_base else []
    for n in sizes:
        for name in ("import only", "generate only", "coco", "yolo"):
            if name == "import only" and n != sizes[0]:
                continue
            results = [
                run_client(
                    "benchmarks.export_convert",
                    "--child",
                    "--format",
                    name,
                    "--boxes",
                    str(n),
                    *base,
                    timeout=1800,
                )
                for _ in range(runs)
            ]
            t = summarize([r["elapsed_s"] for r in results])
            mem = summarize([r["peak_rss_mb"] for r in results])
            cpu = summarize([r["cpu_s"] for r in results])
            rss[(name, n)] = mem["median"]
            rate = f"{n / t['median']:,.0f}" if name not in ("import only",) else "-"
            label = "-" if name == "import only" else f"{n:,}"
            images = "-" if name == "import only" else f"{-(-n // PER_IMAGE):,}"
            lines.append(
                f"| {label} | {images} | {name} | {fmt(t)} | {rate} | "
                f"{fmt(mem, digits=1)} | {fmt(cpu)} |"
            )
    small, big = sizes
    lines.append("")
    for name in ("coco", "yolo"):
        lines.append(
            f"Peak RSS, {name}: {rss[(name, big)]:.1f} MB at {big:,} boxes vs "
            f"{rss[(name, small)]:.1f} MB at {small:,} "
            f"({rss[(name, big)] - rss[(name, small)]:+.1f} MB for 10x the boxes)."
        )
    lines.append("")
    for name in ("coco", "yolo"):
        growth = rss[(name, big)] - rss[(name, small)]
        lines.append(
            target(
                "export_convert",
                f"{name}: peak RSS grows < {RSS_GROWTH_MB:g} MB for 10x the boxes",
                f"{growth:+.1f} MB",
                growth < RSS_GROWTH_MB,
                smoke=smoke,
            )
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export_convert")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--format", default="coco")
    parser.add_argument("--boxes", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument(
        "--out-base",
        default=None,
        help="parent folder of the temporary output (default: system temp)",
    )
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.format, args.boxes, args.out_base)))
        return
    print(f"Machine: {machine()}; {os.getloadavg()[0]:.2f} load at start\n", file=sys.stderr)
    print(run(smoke=args.smoke, runs=args.runs, out_base=args.out_base))


if __name__ == "__main__":
    main()
