"""Chunked uploads: SDK vs a minimal aiohttp script, parallel vs v1, peak RSS (issue 3).

1. Loopback, no caps: the SDK (``upload_client``) against ``upload_baseline`` (a minimal aiohttp
   script speaking the same parallel protocol: same parts, same checksums), same emulator
   process, runs interleaved. Throughput, client CPU s/GiB.
2. Emulator capping each connection at 25 MB/s with 20 ms latency: the same SDK client with the
   parallel extension on, and off (the server then speaks only v1, and the client falls back).
3. Peak RSS of the uploading process for a 2 GiB file, max_concurrency 8, 50 MiB parts.

Each run is a fresh client process; the emulator runs in its own process. Test files hold
random bytes and, like the emulator's data dir, live on tmpfs (``/dev/shm``) when there is
room, so no disk writeback competes for the CPU; they are deleted afterwards.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import (
    EmulatorProcess,
    emulator_process,
    fmt,
    run_client,
    summarize,
    target,
)

MIB = 2**20
GIB = 2**30


def _scratch_root(need: int) -> str | None:
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > need + 2 * GIB:
        return str(shm)
    return None


@contextmanager
def _scratch(need: int) -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="synapse-upload-bench-", dir=_scratch_root(need)))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _make_file(path: Path, size: int) -> str:
    h = hashlib.md5()
    with path.open("wb") as fh:
        left = size
        while left:
            block = os.urandom(min(4 * MIB, left))
            h.update(block)
            fh.write(block)
            left -= len(block)
    return h.hexdigest()


def _control(emu: EmulatorProcess, body: dict[str, Any] | None = None) -> dict[str, Any]:
    req = urllib.request.Request(
        emu.url + "_emulator/uploads/",
        method="PUT" if body is not None else "GET",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Synapse-Access-Token": f"Token {emu.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)  # type: ignore[no-any-return]


def _upload(
    emu: EmulatorProcess, module: str, path: Path, md5: str, part_size: int, protocol: str
) -> dict[str, Any]:
    """One upload in a fresh client process; checks the server's MD5 and the protocol used."""
    before = _control(emu)["totals"]
    result = run_client(
        module,
        "--url",
        emu.url,
        f"--token={emu.token}",
        "--file",
        str(path),
        "--part-size",
        str(part_size),
        "--concurrency",
        "8",
    )
    after = _control(emu)["totals"]
    assert result["checksum"] == md5, result
    used = "v1" if after["chunk_puts"] > before["chunk_puts"] else "parallel"
    assert used == protocol, (used, protocol)
    for stored in (Path(emu.data_dir) / "files").glob("upload-*"):
        stored.unlink()  # keep tmpfs/disk use flat between runs
    return result


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _mbps(r: dict[str, Any]) -> float:
    return float(r["bytes"]) / float(r["elapsed_s"]) / 1e6


def _stats(
    results: list[dict[str, Any]], key: Callable[[dict[str, Any]], float]
) -> dict[str, float]:
    return summarize([key(r) for r in results])


def _loopback(root: Path, size: int, part_size: int, runs: int, smoke: bool) -> list[str]:
    path = root / "loopback.bin"
    md5 = _make_file(path, size)
    sdk: list[dict[str, Any]] = []
    base: list[dict[str, Any]] = []
    load = _load()
    with emulator_process(data_dir=str(root / "emu1")) as emu:
        for _ in range(runs):  # interleaved, so load changes hit both alike
            sdk.append(_upload(emu, "benchmarks.upload_client", path, md5, part_size, "parallel"))
            base.append(
                _upload(emu, "benchmarks.upload_baseline", path, md5, part_size, "parallel")
            )
    path.unlink()
    gib = size / GIB
    lines = [
        f"**1. {size / MIB:,.0f} MiB, loopback, no caps** ({runs} runs each, interleaved; "
        f"load average at start {load}, at end {_load()})",
        "",
        "| client | MB/s, median (min-max) | elapsed s | client CPU s/GiB | peak RSS MB |",
        "|---|---|---|---|---|",
    ]
    for name, res in (("SDK `upload_file`", sdk), ("minimal aiohttp script", base)):
        lines.append(
            f"| {name} | {fmt(_stats(res, _mbps), digits=0)} | "
            f"{fmt(_stats(res, lambda r: r['elapsed_s']))} | "
            f"{fmt(_stats(res, lambda r: r['cpu_s'] / gib))} | "
            f"{fmt(_stats(res, lambda r: r['peak_rss_mb']), digits=1)} |"
        )
    ratio = _stats(sdk, _mbps)["median"] / _stats(base, _mbps)["median"]
    lines += [
        "",
        f"SDK throughput = **{ratio:.0%}** of the minimal script's (median MB/s). "
        "CPU includes interpreter start-up and imports.",
        "",
        target(
            "upload",
            "SDK MB/s >= 90% of the minimal aiohttp script's (loopback)",
            f"{ratio:.0%}",
            ratio >= 0.90,
            smoke=smoke,
        ),
    ]
    return lines


def _capped(
    root: Path, size: int, part_size: int, runs: int, v1_runs: int, smoke: bool
) -> list[str]:
    path = root / "capped.bin"
    md5 = _make_file(path, size)
    par: list[dict[str, Any]] = []
    seq: list[dict[str, Any]] = []
    load = _load()
    flags = ("--bandwidth", "25000000", "--latency-ms", "20")
    with emulator_process(*flags, data_dir=str(root / "emu2")) as emu:
        for i in range(max(runs, v1_runs)):
            if i < runs:
                _control(emu, {"parallel": True})
                par.append(
                    _upload(emu, "benchmarks.upload_client", path, md5, part_size, "parallel")
                )
            if i < v1_runs:
                _control(emu, {"parallel": False})
                seq.append(_upload(emu, "benchmarks.upload_client", path, md5, part_size, "v1"))
    path.unlink()
    lines = [
        f"**2. {size / MIB:,.0f} MiB, emulator `{' '.join(flags)}`** (bytes/s per "
        f"connection; same SDK client, parallel {runs} runs, v1 {v1_runs} runs, "
        f"interleaved; load average at start {load}, at end {_load()})",
        "",
        "| path | elapsed s, median (min-max) | MB/s | peak RSS MB |",
        "|---|---|---|---|",
    ]
    for name, res in (
        ("parallel (EXT), 8 parts in flight", par),
        ("sequential v1 (server without the extension)", seq),
    ):
        lines.append(
            f"| {name} | {fmt(_stats(res, lambda r: r['elapsed_s']))} | "
            f"{fmt(_stats(res, _mbps), digits=1)} | "
            f"{fmt(_stats(res, lambda r: r['peak_rss_mb']), digits=1)} |"
        )
    ratio = (
        _stats(seq, lambda r: r["elapsed_s"])["median"]
        / _stats(par, lambda r: r["elapsed_s"])["median"]
    )
    lines += [
        "",
        f"Parallel is **{ratio:.1f}x** faster than v1 (median elapsed).",
        "",
        target(
            "upload",
            "parallel >= 6x v1 at 25 MB/s per connection + 20 ms",
            f"{ratio:.1f}x",
            ratio >= 6.0,
            smoke=smoke,
        ),
    ]
    return lines


def _rss(root: Path, size: int, part_size: int, runs: int, smoke: bool) -> list[str]:
    path = root / "rss.bin"
    md5 = _make_file(path, size)
    load = _load()
    with emulator_process(data_dir=str(root / "emu3")) as emu:
        res = [
            _upload(emu, "benchmarks.upload_client", path, md5, part_size, "parallel")
            for _ in range(runs)
        ]
    path.unlink()
    rss = _stats(res, lambda r: r["peak_rss_mb"])
    return [
        f"**3. Peak RSS, {size / MIB:,.0f} MiB file, max_concurrency 8, "
        f"{part_size / MIB:.0f} MiB parts** ({runs} runs; load average at start {load}, "
        f"at end {_load()})",
        "",
        "| peak RSS MB, median (min-max) | MB/s | client CPU s/GiB |",
        "|---|---|---|",
        f"| {fmt(rss, digits=1)} | {fmt(_stats(res, _mbps), digits=0)} | "
        f"{fmt(_stats(res, lambda r: r['cpu_s'] / (size / GIB)))} |",
        "",
        f"Peak RSS **{rss['median']:.1f} MB** (max {rss['max']:.1f}).",
        "",
        target(
            "upload",
            f"peak RSS < 80 MB uploading {size / MIB:,.0f} MiB (max of runs)",
            f"{rss['max']:.1f} MB",
            rss["max"] < 80,
            smoke=smoke,
        ),
    ]


def run(*, smoke: bool = False) -> str:
    """Run the upload benchmarks and return a markdown report."""
    if smoke:
        size, big, part, runs, v1_runs = 24 * MIB, 48 * MIB, 5 * MIB, 1, 1
    else:
        size, big, part, runs, v1_runs = GIB, 2 * GIB, 50 * MIB, 5, 3
    with _scratch(big + size) as root:
        lines = _loopback(root, size, part, runs, smoke)
        lines += ["", *_capped(root, size, part, runs, v1_runs, smoke)]
        lines += ["", *_rss(root, big, part, runs, smoke)]
    return "\n".join(lines)
