"""Bulk upload sharded on Ray: per-shard throughput on this machine (inputs of the scale-out
model in docs/scale-out.md).

Small files (20 KB, distinct content per run so nothing is deduplicated) into data units, the
emulator in its own process with 0 ms and 20 ms added latency per request. Per latency, runs
interleaved, each in a fresh client process:
- ``single``: ``client.data_collections.upload`` in one process (the pipeline alone);
- ``ray x1``: ``upload_on_ray`` with 1 shard on a local Ray (per-shard throughput with Ray);
- ``ray x2``: 2 shards at once on the 2 cores (what a second shard adds on this machine).
Ray start-up and shutdown are timed apart from the upload.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import emulator_process, fmt, run_client, summarize

KB = 1000


def _files(root: Path, n: int, size: int, tag: str) -> Path:
    folder = root / tag
    folder.mkdir(parents=True)
    for i in range(n):
        body = f"{tag}-{i}-".encode()
        (folder / f"{i:06d}.jpg").write_bytes(body + os.urandom(size - len(body)))
    return folder


def driver_rate(n: int = 100_000, shard_size: int = 10_000) -> str:
    """Items/s the driver cuts into shards (absolute paths, digest) and pickles for Ray."""
    import pickle
    import time

    from synapse_async.bulk.ray import _shards

    items = ({"files": {"image": f"/data/photos/{i:08d}.jpg"}, "meta": {"n": i}} for i in range(n))
    started = time.perf_counter()
    size = 0
    for shard in _shards(items, shard_size):
        size += len(pickle.dumps(shard.items))
    elapsed = time.perf_counter() - started
    return (
        f"driver: {n:,} items cut into shards of {shard_size:,} and pickled in "
        f"{elapsed:.2f} s = {n / elapsed:,.0f} items/s, {size / n:.0f} bytes per item "
        f"pickled (load average {os.getloadavg()[0]:.1f})"
    )


def run(*, smoke: bool = False) -> str:
    files, runs = (200, 1) if smoke else (2000, 5)
    size = 20 * KB
    modes = [
        ("single", ["--mode", "single"]),
        ("ray x1", ["--mode", "ray", "--shards", "1"]),
        ("ray x2", ["--mode", "ray", "--shards", "2"]),
    ]
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    root = Path(tempfile.mkdtemp(prefix="synapse-scale-bench-", dir=shm))
    lines = [
        driver_rate(20_000 if smoke else 100_000),
        "",
        f"{files} files of {size // KB} KB per run, {runs} run(s) per row, "
        f"load average at start {os.getloadavg()[0]:.1f}",
        "",
        "| latency | mode | files/s | MB/s | upload s | Ray init s | Ray shutdown s | "
        "client CPU s per 1,000 files | driver peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    try:
        for latency in ("0", "20"):
            results: dict[str, list[dict[str, Any]]] = {m: [] for m, _ in modes}
            with emulator_process("--latency-ms", latency, data_dir=str(root / "emu")) as emu:
                for r in range(runs):
                    for mode, flags in modes:
                        folder = _files(root, files, size, f"l{latency}-r{r}-{mode[-1]}")
                        results[mode].append(
                            run_client(
                                "benchmarks.scale_out_client",
                                "--url",
                                emu.url,
                                f"--token={emu.token}",
                                "--dir",
                                str(folder),
                                *flags,
                            )
                        )
                        shutil.rmtree(folder)
            shutil.rmtree(root / "emu", ignore_errors=True)
            for mode, _ in modes:
                rs = results[mode]
                fps = summarize([x["files"] / x["elapsed_s"] for x in rs])
                mbs = summarize([x["bytes"] / x["elapsed_s"] / 1e6 for x in rs])
                up = summarize([x["elapsed_s"] for x in rs])
                init = fmt(summarize([x["init_s"] for x in rs])) if "init_s" in rs[0] else "-"
                down = (
                    fmt(summarize([x["shutdown_s"] for x in rs])) if "shutdown_s" in rs[0] else "-"
                )
                rss = summarize([x["peak_rss_mb"] for x in rs])
                # the workers' CPU is not in the driver's rusage: only the single process counts
                cpu = (
                    fmt(summarize([x["cpu_s"] / x["files"] * 1000 for x in rs]))
                    if mode == "single"
                    else "-"
                )
                lines.append(
                    f"| {latency} ms | {mode} | {fmt(fps, digits=0)} | {fmt(mbs)} | "
                    f"{fmt(up)} | {init} | {down} | {cpu} | {fmt(rss, digits=0)} |"
                )
        lines.append("")
        lines.append(f"load average at end {os.getloadavg()[0]:.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return "\n".join(lines)
