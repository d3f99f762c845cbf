"""The SDK against the official ``synapse-sdk`` client (PyPI), on the same emulator.

The official client needs Python 3.12: it is installed with pip into its own venv under
``.bench-out/official-venv`` (made with ``~/.pyenv/versions/3.12.1/bin/python -m venv``, or the
interpreter named by ``SYNAPSE_BENCH_PYTHON312``; reused while it imports). Each run is a fresh
process of either client; runs alternate so load changes hit both alike.

1. Listing 10,000 tasks, emulator ``--latency-ms 20``: ``BackendClient.list_tasks(...,
   list_all=True)`` (follows ``next`` links) vs ``client.tasks.list`` (16 pages in flight).
   Target: the SDK >= 12x faster (median elapsed).
2. Uploading 1 GiB, emulator ``--bandwidth 25000000 --latency-ms 20`` (bytes/s per
   connection): ``BackendClient.create_chunked_upload`` (v1, 50 MiB chunks one after the
   other) vs ``client.uploads.upload_file`` (parallel extension, 8 parts of 50 MiB in flight).
   Target: the SDK >= 6.5x faster. The official client rejects the emulator's finalize reply
   while its ``status`` is a string (it requires an integer), so its time is taken when its
   last chunk was answered (all bytes sent and stored), without the finalize round trip; the
   SDK's time includes its finalize. The report says which applied.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.common import EmulatorProcess, emulator_process, fmt, summarize, target
from benchmarks.listing import _project_id
from benchmarks.upload import GIB, MIB, _control, _load, _make_file, _scratch, _upload

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".bench-out" / "official-venv"
CLIENT = Path(__file__).resolve().parent / "official_client.py"
LISTING_TARGET = 12.0
UPLOAD_TARGET = 6.5


def _python312() -> str:
    for candidate in (
        os.environ.get("SYNAPSE_BENCH_PYTHON312"),
        str(Path.home() / ".pyenv" / "versions" / "3.12.1" / "bin" / "python"),
        shutil.which("python3.12"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError(
        "the official synapse-sdk needs Python 3.12: install it (pyenv install "
        "3.12.1) or name it in SYNAPSE_BENCH_PYTHON312"
    )


def ensure_venv() -> Path:
    """The venv's python, with ``synapse-sdk`` installed from PyPI (reused when present)."""
    python = VENV / "bin" / "python"
    probe = [str(python), "-c", "import synapse_sdk.clients.backend"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([_python312(), "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "synapse-sdk"], check=True)
    subprocess.run(probe, check=True)
    return python


def _official(python: Path, *args: str, timeout: float = 900) -> dict[str, Any]:
    out = subprocess.run(
        [str(python), str(CLIENT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"official client {args[0]} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _ours_list(emu: EmulatorProcess, project: int) -> dict[str, Any]:
    from benchmarks.common import run_client

    return run_client(
        "benchmarks.listing_client",
        "--url",
        emu.url,
        f"--token={emu.token}",
        "--project",
        str(project),
        "--concurrency",
        "16",
    )


def _listing(python: Path, n: int, runs: int, smoke: bool) -> list[str]:
    load = _load()
    official: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    with emulator_process("--latency-ms", "20", "--seed-tasks", str(n)) as emu:
        project = _project_id(emu.url, emu.token)
        for _ in range(runs):
            official.append(
                _official(
                    python,
                    "list",
                    "--url",
                    emu.url,
                    f"--token={emu.token}",
                    "--project",
                    str(project),
                )
            )
            ours.append(_ours_list(emu, project))
    assert all(r["items"] == n for r in official + ours), (official, ours)
    lines = [
        f"**1. Listing {n:,} tasks, emulator `--latency-ms 20`** ({runs} runs each, "
        f"alternating; load average at start {load}, at end {_load()})",
        "",
        "| client | elapsed s, median (min-max) | items/s | peak RSS MB | CPU s |",
        "|---|---|---|---|---|",
    ]
    for name, rows in (
        (
            f"official synapse-sdk {official[0]['synapse_sdk']} `list_tasks(list_all=True)`",
            official,
        ),
        ("this SDK `client.tasks.list` (16 pages in flight)", ours),
    ):
        t = summarize([r["elapsed_s"] for r in rows])
        lines.append(
            f"| {name} | {fmt(t)} | {n / t['median']:,.0f} | "
            f"{fmt(summarize([r['peak_rss_mb'] for r in rows]), digits=1)} | "
            f"{fmt(summarize([r['cpu_s'] for r in rows]))} |"
        )
    t_off = summarize([r["elapsed_s"] for r in official])["median"]
    t_ours = summarize([r["elapsed_s"] for r in ours])["median"]
    ratio = t_off / t_ours
    lines += [
        "",
        f"This SDK lists **{ratio:.1f}x** faster (median elapsed).",
        "",
        target(
            "official",
            f"listing {n:,} tasks at 20 ms: >= {LISTING_TARGET:g}x the official client",
            f"{ratio:.1f}x",
            ratio >= LISTING_TARGET,
            smoke=smoke,
        ),
    ]
    return lines


def _uploads(python: Path, size: int, runs: int, smoke: bool) -> list[str]:
    flags = ("--bandwidth", "25000000", "--latency-ms", "20")
    official: list[dict[str, Any]] = []
    ours: list[dict[str, Any]] = []
    with _scratch(size) as root:
        path = root / "official.bin"
        md5 = _make_file(path, size)
        load = _load()
        with emulator_process(*flags, data_dir=str(root / "emu")) as emu:
            for _ in range(runs):
                before = _control(emu)["totals"]
                res = _official(
                    python, "upload", "--url", emu.url, f"--token={emu.token}", "--file", str(path)
                )
                after = _control(emu)["totals"]
                # v1 chunks, every byte stored once; when the client accepted the finalize
                # reply, the server's checksum is the file's
                assert after["chunk_puts"] - before["chunk_puts"] == -(-size // (50 * MIB))
                assert after["bytes_received"] - before["bytes_received"] >= size
                assert not res["finalize_ok"] or res["checksum"] == md5, res
                for stored in (Path(emu.data_dir) / "files").glob("upload-*"):
                    stored.unlink()
                official.append(res)
                _control(emu, {"parallel": True})
                ours.append(
                    _upload(emu, "benchmarks.upload_client", path, md5, 50 * MIB, "parallel")
                )
        end_load = _load()
    finalized = all(r["finalize_ok"] for r in official)
    off_key = "elapsed_s" if finalized else "bytes_sent_s"
    t_off = summarize([r[off_key] for r in official])
    t_ours = summarize([r["elapsed_s"] for r in ours])
    ratio = t_off["median"] / t_ours["median"]
    how = (
        "upload completed, finalize included"
        if finalized
        else "until its last chunk was answered: it rejected the finalize reply ("
        f"{official[0].get('finalize_error', '').splitlines()[0]}...)"
    )
    lines = [
        f"**2. Uploading {size / MIB:,.0f} MiB, emulator `{' '.join(flags)}`** ({runs} runs "
        f"each, alternating; load average at start {load}, at end {end_load})",
        "",
        "| client | elapsed s, median (min-max) | MB/s | peak RSS MB | CPU s |",
        "|---|---|---|---|---|",
        f"| official synapse-sdk {official[0]['synapse_sdk']} `create_chunked_upload` "
        f"(v1, {how.split(':')[0]}) | {fmt(t_off)} | {size / 1e6 / t_off['median']:.1f} | "
        f"{fmt(summarize([r['peak_rss_mb'] for r in official]), digits=1)} | "
        f"{fmt(summarize([r['cpu_s'] for r in official]))} |",
        f"| this SDK `upload_file` (parallel, 8 x 50 MiB, finalize included) | "
        f"{fmt(t_ours)} | {size / 1e6 / t_ours['median']:.1f} | "
        f"{fmt(summarize([r['peak_rss_mb'] for r in ours]), digits=1)} | "
        f"{fmt(summarize([r['cpu_s'] for r in ours]))} |",
        "",
        f"Official client timed {how}. This SDK uploads **{ratio:.1f}x** faster (median elapsed).",
        "",
        target(
            "official",
            f"uploading {size / MIB:,.0f} MiB at 25 MB/s per connection + "
            f"20 ms: >= {UPLOAD_TARGET:g}x the official client",
            f"{ratio:.1f}x",
            ratio >= UPLOAD_TARGET,
            smoke=smoke,
        ),
    ]
    return lines


def run(*, smoke: bool = False) -> str:
    """Install the official client if needed, run both comparisons; returns markdown."""
    python = ensure_venv()
    n, size, list_runs, upload_runs = (1000, 120 * MIB, 1, 1) if smoke else (10_000, GIB, 5, 3)
    lines = _listing(python, n, list_runs, smoke)
    lines += ["", *_uploads(python, size, upload_runs, smoke)]
    return "\n".join(lines)
