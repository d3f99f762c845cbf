"""Bulk upload: the SDK's ``data_collections.upload`` against the official client (issue 12).

The official client (PyPI ``synapse-sdk``) runs in its own Python 3.12 venv, named by
``SYNAPSE_OFFICIAL_PYTHON`` (default ``/tmp/offsdk/bin/python``); its ``upload_data_collection``
is called with its defaults (10 worker threads). Both upload into a fresh emulator process per
run (so neither finds the other's files by checksum), with 20 ms latency per request:

1. N files of 20 KB into data units + tasks (N = 10,000; smoke 100).
2. 200 files of 5 MB + 2 of 300 MB (smoke: 5 x 1 MB), units only.
3. Rerun with the journal after completion: bytes sent and time against the first run.
4. SIGKILL at about 50%, rerun: bytes the server received in all, duplicates.
5. Peak RSS of the SDK client for 100,000 items from a generator (smoke 2,000), 0 ms latency.
6. 0 ms latency: files/s and MB/s of the SDK where the emulator is the limit.

Each client is a fresh process; files hold random bytes behind a JPEG signature (the official
client checks that a ``.jpg`` starts like one) and live on tmpfs when there is room. Runs per
figure: ``BULK_RUNS`` (default 5; smoke 1).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
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

MB = 10**6
REPO = Path(__file__).resolve().parents[1]
OFFICIAL_PYTHON = os.environ.get("SYNAPSE_OFFICIAL_PYTHON", "/tmp/offsdk/bin/python")
JPEG = b"\xff\xd8\xff\xe0"


@contextmanager
def _scratch(need: int) -> Iterator[Path]:
    shm = Path("/dev/shm")
    where = str(shm) if shm.is_dir() and shutil.disk_usage(shm).free > 3 * need else None
    root = Path(tempfile.mkdtemp(prefix="synapse-bulk-bench-", dir=where))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


_EMU_DIRS = iter(range(10**6))


@contextmanager
def _emulator(root: Path, *flags: str) -> Iterator[EmulatorProcess]:
    """A fresh emulator process whose data dir sits in ``root`` (tmpfs when there is room),
    removed afterwards."""
    data_dir = root / f"emu-{next(_EMU_DIRS)}"
    try:
        with emulator_process(*flags, data_dir=str(data_dir)) as emu:
            yield emu
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _write_files(root: Path, n: int, size: int, prefix: str = "") -> int:
    root.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        with (root / f"{prefix}{i}.jpg").open("wb") as fh:
            fh.write(JPEG)
            left = size - len(JPEG)
            while left:  # in blocks: a client forked from this process inherits its peak RSS
                block = os.urandom(min(left, 4 * 2**20))
                fh.write(block)
                left -= len(block)
    return n * size


def _api(emu: EmulatorProcess, method: str, path: str, body: Any = None) -> Any:
    req = urllib.request.Request(
        emu.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Synapse-Access-Token": f"Token {emu.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.load(resp)


def _targets(emu: EmulatorProcess) -> tuple[int, int]:
    coll = _api(
        emu,
        "POST",
        "data_collections/",
        {
            "name": "bench",
            "file_specifications": [{"name": "image", "file_type": "image", "is_required": True}],
        },
    )
    project = _api(emu, "POST", "projects/", {"name": "bench"})
    return int(coll["id"]), int(project["id"])


def _counts(emu: EmulatorProcess, collection: int, project: int) -> tuple[int, int]:
    units = _api(emu, "GET", f"data_units/?data_collection={collection}&page_size=1")["count"]
    tasks = _api(emu, "GET", f"tasks/?project={project}&page_size=1")["count"]
    return int(units), int(tasks)


def _server_files(emu: EmulatorProcess) -> tuple[int, int]:
    """Data files the server holds and their bytes (read from its SQLite file)."""
    with sqlite3.connect(f"file:{emu.data_dir}/emulator.sqlite3?mode=ro", uri=True) as conn:
        n, total = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(json_extract(doc, '$.size')), 0) FROM data_files"
        ).fetchone()
    return int(n), int(total)


def _distinct_unit_checksums(emu: EmulatorProcess) -> tuple[int, int]:
    with sqlite3.connect(f"file:{emu.data_dir}/emulator.sqlite3?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT json_extract(doc, '$.files.image.checksum') FROM data_units"
        ).fetchall()
    return len(rows), len({r[0] for r in rows})


def _sdk(
    emu: EmulatorProcess, directory: Path, collection: int, project: int | None, *extra: str
) -> dict[str, Any]:
    return run_client(
        "benchmarks.bulk_client",
        "--url",
        emu.url,
        f"--token={emu.token}",
        "--dir",
        str(directory),
        "--collection",
        str(collection),
        "--project",
        str(project or 0),
        *extra,
        timeout=3600,
    )


def _official(
    emu: EmulatorProcess, directory: Path, collection: int, project: int | None
) -> dict[str, Any]:
    out = subprocess.run(
        [
            OFFICIAL_PYTHON,
            "-m",
            "benchmarks.bulk_official",
            "--url",
            emu.url,
            f"--token={emu.token}",
            "--dir",
            str(directory),
            "--collection",
            str(collection),
            "--project",
            str(project or 0),
        ],
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
        cwd=REPO,
    )
    if out.returncode != 0:
        raise RuntimeError(f"official client failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CPU: dict[str, list[float]] = {}
"""CPU seconds per file of each run, keyed ``"<scenario> <sdk|official> <client|emulator>"``."""


def _cpu_line(label: str, n: int) -> str:
    """The median CPU per file of each side of ``label``'s runs, in ms."""
    parts = []
    for who in ("sdk", "official"):
        for side in ("client", "emulator"):
            values = CPU.get(f"{label} {who} {side}")
            if values:
                parts.append(f"{who} {side} {1000 * summarize(values)['median'] / n:.2f}")
    return f"- CPU per file, ms (median of runs; client: the upload call only): {label}: " + (
        ", ".join(parts) or "not measured"
    )


def _compare(
    directory: Path, n: int, runs: int, with_tasks: bool, *flags: str, label: str = ""
) -> tuple[list[float], list[float], list[str]]:
    """Interleaved runs of both clients, each into a fresh emulator; checks the server."""
    sdk: list[float] = []
    official: list[float] = []
    notes: list[str] = []
    label = label or directory.name
    clients = ["sdk"]
    if Path(OFFICIAL_PYTHON).exists():
        clients.append("official")
    else:
        notes.append(
            f"official client not measured: no interpreter at {OFFICIAL_PYTHON} "
            "(set SYNAPSE_OFFICIAL_PYTHON to a venv with synapse-sdk installed)"
        )
    for _ in range(runs):
        for who in clients:
            with _emulator(directory.parent, "--latency-ms", "20", *flags) as emu:
                collection, project = _targets(emu)
                proj = project if with_tasks else None
                emu_cpu = _cpu_seconds(emu.proc.pid)
                if who == "sdk":
                    result = _sdk(emu, directory, collection, proj)
                else:
                    result = _official(emu, directory, collection, proj)
                    if result.get("error"):
                        notes.append(f"official client: {result['error']}")
                        continue
                CPU.setdefault(f"{label} {who} emulator", []).append(
                    _cpu_seconds(emu.proc.pid) - emu_cpu
                )
                CPU.setdefault(f"{label} {who} client", []).append(result["upload_cpu_s"])
                units, tasks = _counts(emu, collection, project)
                if units != n or (with_tasks and tasks != n):
                    notes.append(f"{who}: {units} units, {tasks} tasks for {n} files")
                    continue
                (sdk if who == "sdk" else official).append(result["seconds"])
    return sdk, official, notes


def _ratio(sdk: list[float], official: list[float]) -> str:
    if not sdk or not official:
        return "n/a"
    s, o = summarize(sdk), summarize(official)
    return f"{o['median'] / s['median']:.1f}x (worst case {o['min'] / s['max']:.1f}x)"


def _speedup(sdk: list[float], official: list[float]) -> float:
    """Official / SDK median elapsed (0 when either side has no run)."""
    if not sdk or not official:
        return 0.0
    return summarize(official)["median"] / summarize(sdk)["median"]


BANDWIDTH = 8 * 2**20
"""Bytes/s per connection in the bandwidth-limited variant (a 20 ms round trip with a
64 KiB-ish TCP window carries a few MB/s per connection on a real network)."""


def _kill_midway(
    emu: EmulatorProcess,
    directory: Path,
    collection: int,
    project: int,
    journal: Path,
    kill_files: int,
) -> None:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bulk_client",
        "--url",
        emu.url,
        f"--token={emu.token}",
        "--dir",
        str(directory),
        "--collection",
        str(collection),
        "--project",
        str(project),
        "--journal",
        str(journal),
        "--progress",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=REPO)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("progress") and int(line.split()[1]) >= kill_files:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()


def run(smoke: bool = False) -> str:
    """Run every scenario; the markdown report."""
    runs = 1 if smoke else int(os.environ.get("BULK_RUNS", "5"))
    n_small = 100 if smoke else 10_000
    n_rss = 2_000 if smoke else 100_000
    lines: list[str] = []
    with _scratch(2 * 10**9 if not smoke else 10**8) as root:
        small = root / "small"
        _write_files(small, n_small, 20_000)
        mid = root / "mid"
        big = root / "big"
        if smoke:
            mid_bytes = _write_files(mid, 5, MB)
            big_bytes = 0
        else:
            mid_bytes = _write_files(mid, 200, 5 * MB)
            big_bytes = _write_files(big, 2, 300 * MB, prefix="big")
        lines += [
            f"Runs per figure: {runs}; emulator latency 20 ms unless said; "
            f"official client: `{OFFICIAL_PYTHON}`.",
            "",
            "| scenario | SDK s | official s | official / SDK |",
            "|---|---|---|---|",
        ]

        sdk, off, notes = _compare(small, n_small, runs, with_tasks=True)
        lines.append(
            f"| {n_small} x 20 KB -> units + tasks | "
            f"{fmt(summarize(sdk)) if sdk else 'n/a'} | "
            f"{fmt(summarize(off)) if off else 'n/a'} | {_ratio(sdk, off)} |"
        )
        small_x = _speedup(sdk, off)
        both = root / "both"
        both.mkdir()
        for p in [*mid.iterdir(), *(big.iterdir() if big.exists() else ())]:
            os.link(p, both / p.name)
        n_both = 5 if smoke else 202
        mixed = "5 x 1 MB" if smoke else "200 x 5 MB + 2 x 300 MB"
        sdk, off, notes2 = _compare(both, n_both, runs, with_tasks=False)
        notes += notes2
        lines.append(
            f"| {mixed} -> units | {fmt(summarize(sdk)) if sdk else 'n/a'} | "
            f"{fmt(summarize(off)) if off else 'n/a'} | {_ratio(sdk, off)} |"
        )
        mixed_x = _speedup(sdk, off)
        cap = str(BANDWIDTH)
        sdk, off, notes3 = _compare(
            both, n_both, runs, False, "--bandwidth", cap, label="both-capped"
        )
        notes += notes3
        lines.append(
            f"| {mixed} -> units, {BANDWIDTH / 2**20:.0f} MiB/s per connection | "
            f"{fmt(summarize(sdk)) if sdk else 'n/a'} | "
            f"{fmt(summarize(off)) if off else 'n/a'} | {_ratio(sdk, off)} |"
        )
        cpu_lines = [
            _cpu_line("small", n_small),
            _cpu_line("both", n_both),
            _cpu_line("both-capped", n_both),
            target(
                "bulk",
                f"{n_small} x 20 KB into units + tasks >= 5x the official client",
                f"{small_x:.1f}x",
                small_x >= 5,
                smoke=smoke,
            ),
            target(
                "bulk",
                f"{mixed} into units >= 3x the official client (20 ms, no bandwidth cap)",
                f"{mixed_x:.1f}x",
                mixed_x >= 3,
                smoke=smoke,
            ),
        ]
        lines += ["", *cpu_lines, *(f"- note: {n}" for n in sorted(set(notes)))]

        # 3. rerun with the journal after completion; 4. SIGKILL at about 50%, rerun.
        dataset = n_small * 20_000
        with _emulator(root, "--latency-ms", "20") as emu:
            collection, project = _targets(emu)
            journal = root / "done.journal"
            first = _sdk(emu, small, collection, project, "--journal", str(journal))
            again = _sdk(emu, small, collection, project, "--journal", str(journal))
            lines += [
                "",
                f"- rerun with the journal after completion ({n_small} x 20 KB, "
                f"units + tasks): {again['bytes_sent']} bytes sent, "
                f"{again['skipped']} items skipped, {again['seconds']:.2f} s = "
                f"{100 * again['seconds'] / first['seconds']:.1f}% of the first run's "
                f"{first['seconds']:.2f} s",
            ]
            share = again["seconds"] / first["seconds"]
            lines.append(
                target(
                    "bulk",
                    "rerun with the journal after completion: 0 bytes sent, <= 5% of the time",
                    f"{again['bytes_sent']} bytes, {100 * share:.1f}%",
                    again["bytes_sent"] == 0 and share <= 0.05,
                    smoke=smoke,
                )
            )
        journal.unlink()
        with _emulator(root, "--latency-ms", "20") as emu:
            collection, project = _targets(emu)
            journal = root / "kill.journal"
            _kill_midway(emu, small, collection, project, journal, n_small // 2)
            time.sleep(1.0)  # requests whose body had fully arrived finish on the server
            files_at_kill, bytes_at_kill = _server_files(emu)
            rerun = _sdk(emu, small, collection, project, "--journal", str(journal))
            units, distinct = _distinct_unit_checksums(emu)
            _, tasks = _counts(emu, collection, project)
            total = bytes_at_kill + rerun["bytes_sent"]
            lines.append(
                f"- SIGKILL at {files_at_kill}/{n_small} files on the server, then rerun: "
                f"bytes sent in all {total} = {total / dataset:.3f}x the dataset (+ bodies cut "
                f"by the kill, at most 64 x 20 KB); {units} units ({distinct} distinct files), "
                f"{tasks} tasks for {n_small} files"
            )
            lines.append(
                target(
                    "bulk",
                    "SIGKILL at about 50%, rerun: bytes <= 1.1x the dataset, no duplicate",
                    f"{total / dataset:.3f}x, {units} units of {distinct} files, {tasks} tasks",
                    total <= 1.1 * dataset and units == distinct == n_small and tasks == n_small,
                    smoke=smoke,
                )
            )

        # 5. peak RSS for items from a generator; 6. 0 ms latency ceiling.
        tiny = root / "tiny"
        _write_files(tiny, n_rss, 1000)
        with _emulator(root) as emu:
            collection, _project = _targets(emu)
            result = run_client(
                "benchmarks.bulk_client",
                "--url",
                emu.url,
                f"--token={emu.token}",
                "--dir",
                str(tiny),
                "--collection",
                str(collection),
                "--generator",
                str(n_rss),
                timeout=3600,
            )
            assert result["units"] == n_rss, result
            lines.append(
                f"- {n_rss:,} items of 1 KB from a generator, 0 ms: peak RSS "
                f"{result['peak_rss_mb']:.0f} MB, {result['seconds']:.1f} s "
                f"({n_rss / result['seconds']:.0f} files/s), client CPU "
                f"{result['cpu_s']:.1f} s"
            )
            lines.append(
                target(
                    "bulk",
                    f"peak RSS for {n_rss:,} items from a generator <= 120 MB",
                    f"{result['peak_rss_mb']:.0f} MB",
                    result["peak_rss_mb"] <= 120,
                    smoke=smoke,
                )
            )
        shutil.rmtree(tiny)
        for label, directory, count, nbytes in (
            (f"{n_small} x 20 KB", small, n_small, dataset),
            ("1 MB files" if smoke else "5 MB files", mid, 5 if smoke else 200, mid_bytes),
        ):
            rates = []
            for _ in range(runs):
                with _emulator(root) as emu:
                    collection, _project = _targets(emu)
                    result = _sdk(emu, directory, collection, None)
                    rates.append(result["seconds"])
            s = summarize(rates)
            lines.append(
                f"- 0 ms latency, {label}: {count / s['median']:.0f} files/s, "
                f"{nbytes / MB / s['median']:.0f} MB/s (median of {runs} runs, "
                f"{fmt(s, ' s')})"
            )
        del big_bytes
    return "\n".join(lines)
