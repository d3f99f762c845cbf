"""Export writing against the libraries users would write the same files with.

The same boxes (``--boxes`` of them, 5 per 1280x720 image, 10 classes, all inside the image)
are written as YOLO, COCO and Pascal VOC by the SDK (``write_export`` from raw records),
supervision (``DetectionDataset.as_yolo`` / ``as_coco`` / ``as_pascal_voc``) and Datumaro
(``Dataset.export``, in its own virtual environment: ``--datumaro-python`` or the
``DATUMARO_PYTHON`` variable), in the same run, alternating tools per round so that load
changes hit all of them alike. Each write is a fresh process; building each tool's own
in-memory dataset is not timed (the SDK's timed part includes parsing raw records). The SDK
also runs with ``durable=True`` (fsync of every file and folder) to show its cost, and its
streaming peak RSS comes from ``benchmarks.export_convert``.

    python -m benchmarks.export_libraries [--smoke] [--runs N] [--boxes N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import fmt, machine, summarize

CHILD = str(Path(__file__).with_name("_libraries_child.py"))
CLASSES = [f"class_{i}" for i in range(10)]
PER_IMAGE = 5


def _data(boxes: int, path: str) -> None:
    rng = random.Random(7)
    images = []
    for i in range(-(-boxes // PER_IMAGE)):
        items = []
        for _ in range(PER_IMAGE):
            w, h = round(rng.uniform(4, 320), 2), round(rng.uniform(4, 180), 2)
            items.append(
                [
                    round(rng.uniform(0, 1280 - w), 2),
                    round(rng.uniform(0, 720 - h), 2),
                    w,
                    h,
                    rng.randrange(len(CLASSES)),
                ]
            )
        images.append({"file": f"img_{i + 1:07d}.jpg", "w": 1280, "h": 720, "boxes": items})
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({"classes": CLASSES, "images": images}, fh)


def _python(tool: str, datumaro: str | None) -> str | None:
    if tool == "datumaro":
        return datumaro
    if tool == "supervision" and importlib.util.find_spec("supervision") is None:
        return None  # (not imported here: a child would inherit this process's peak RSS)
    return sys.executable


def _one(
    python: str, tool: str, fmt_name: str, data: str, base: str, durable: bool
) -> dict[str, Any]:
    out = tempfile.mkdtemp(prefix="bench-libs-", dir=base)
    shutil.rmtree(out)  # the SDK refuses a non-empty folder; a missing one is fine for all
    try:
        args = [python, CHILD, tool, fmt_name, data, out] + (["durable"] if durable else [])
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        proc = subprocess.run(
            args, capture_output=True, text=True, timeout=3600, env=env, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{tool} {fmt_name} failed:\n{proc.stderr[-3000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run(
    *,
    smoke: bool = False,
    runs: int | None = None,
    boxes: int | None = None,
    datumaro: str | None = None,
    out_base: str | None = None,
) -> str:
    """Run the comparison and return a markdown report."""
    boxes = boxes or (2_000 if smoke else 100_000)
    runs = runs or (1 if smoke else 3)
    datumaro = datumaro or os.environ.get("DATUMARO_PYTHON")
    base = tempfile.mkdtemp(prefix="bench-libs-", dir=out_base)
    data = os.path.join(base, "data.json")
    _data(boxes, data)
    tools = ["sdk", "sdk durable", "supervision", "datumaro"]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    load_start = os.getloadavg()
    try:
        for _ in range(runs):
            for fmt_name in ("yolo", "coco", "voc"):
                for tool in tools:
                    name = tool.split()[0]
                    if tool == "sdk durable" and fmt_name != "yolo":
                        continue
                    python = _python(name, datumaro)
                    if python is None:
                        continue
                    results.setdefault((tool, fmt_name), []).append(
                        _one(python, name, fmt_name, data, base, tool.endswith("durable"))
                    )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    load_end = os.getloadavg()
    lines = [
        f"{boxes:,} boxes, {-(-boxes // PER_IMAGE):,} images, {len(CLASSES)} classes; "
        f"{runs} round(s), each tool in a fresh process; load average (1/5/15 min) "
        f"{load_start[0]:.1f}/{load_start[1]:.1f}/{load_start[2]:.1f} at start, "
        f"{load_end[0]:.1f}/{load_end[1]:.1f}/{load_end[2]:.1f} at end.",
        "",
        "| format | tool | write s, median (min-max) | CPU s, median (min-max) | "
        "boxes/CPU-s | vs SDK (CPU) | vs SDK (wall, best) | peak RSS MB | files |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for fmt_name in ("yolo", "coco", "voc"):
        sdk = results.get(("sdk", fmt_name))
        sdk_c = summarize([r["cpu_s"] for r in sdk])["median"] if sdk else None
        sdk_w = summarize([r["elapsed_s"] for r in sdk])["min"] if sdk else None
        for tool in tools:
            got = results.get((tool, fmt_name))
            if not got:
                if tool != "sdk durable" or fmt_name == "yolo":
                    lines.append(f"| {fmt_name} | {tool} | not run (not installed) | | | | | | |")
                continue
            t = summarize([r["elapsed_s"] for r in got])
            c = summarize([r["cpu_s"] for r in got])
            rss = summarize([r["peak_rss_mb"] for r in got])
            by_cpu = f"{c['median'] / sdk_c:.2f}x" if sdk_c else "-"
            by_wall = f"{t['min'] / sdk_w:.2f}x" if sdk_w else "-"
            lines.append(
                f"| {fmt_name} | {tool} | {fmt(t)} | {fmt(c)} | "
                f"{boxes / c['median']:,.0f} | {by_cpu} | {by_wall} | "
                f"{rss['median']:.0f} | {got[0]['files']} |"
            )
    lines += [
        "",
        "`vs SDK` is the tool's time over the SDK's (above 1: the SDK is faster): "
        "median CPU seconds, and the best wall time of the rounds. Peak RSS includes "
        "the whole dataset each tool holds in memory before writing (the SDK's own "
        "streaming RSS is measured by `benchmarks.export_convert`).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.export_libraries")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--boxes", type=int, default=None)
    parser.add_argument(
        "--datumaro-python",
        default=None,
        help="the Python of a virtual environment with datumaro installed",
    )
    parser.add_argument("--out-base", default=None)
    args = parser.parse_args()
    print(f"Machine: {machine()}\n", file=sys.stderr)
    print(
        run(
            smoke=args.smoke,
            runs=args.runs,
            boxes=args.boxes,
            datumaro=args.datumaro_python,
            out_base=args.out_base,
        )
    )


if __name__ == "__main__":
    main()
