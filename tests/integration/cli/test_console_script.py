"""The installed ``synapse`` console script, run in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from tests.integration.cli.conftest import SYNAPSE, RunningEmulator, running_emulator


def _run(
    args: list[str], env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SYNAPSE, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_demo_runs_the_main_job_end_to_end(emu: RunningEmulator, tmp_path: Path) -> None:
    work = tmp_path / "work"
    proc = _run(
        ["demo", "--images", "40", "--big-mb", "6", "--workdir", str(work)],
        emu.env(SYNAPSE_CACHE_DIR=str(tmp_path / "cache")),
    )
    assert proc.returncode == 0, proc.stderr
    for step in (
        "generate dataset",
        "bulk upload",
        "list tasks concurrently",
        "pay deposit and annotate",
        "export COCO",
        "total",
    ):
        assert step in proc.stdout, step
    assert "41 tasks" in proc.stdout
    coco = [p for p in (work / "coco").rglob("*.json") if p.name != "export_report.json"]
    images = sum(len(json.loads(p.read_text())["images"]) for p in coco)
    assert images == 41
    assert "Traceback" not in proc.stderr


def test_emulator_on_a_busy_port_is_a_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = _run(["emulator", "--port", str(port)], {"PATH": "/usr/bin:/bin"}, timeout=60)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert "already in use" in proc.stderr and str(port) in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(lines) <= 2  # one message (Rich may wrap it once)


def test_bad_usage_exits_2(emu: RunningEmulator) -> None:
    proc = _run(["ls", "nothing"], emu.env(), timeout=60)
    assert proc.returncode == 2
    assert "Invalid value" in proc.stderr


def test_synapse_log_debug_shows_queries_never_the_token(emu: RunningEmulator) -> None:
    proc = _run(
        ["ls", "tasks", "--project", "1", "--status", "pending", "--limit", "1"],
        emu.env(SYNAPSE_LOG="debug"),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    debug = [line for line in proc.stderr.splitlines() if "DEBUG synapse_async.http" in line]
    assert debug, proc.stderr
    assert any("sdk/tasks/?project=1&status=pending&page=1&page_size=100" in line for line in debug)
    assert emu.token not in proc.stderr + proc.stdout


def _get(emu: RunningEmulator, path: str) -> Any:
    req = urllib.request.Request(
        emu.url + path, headers={"Synapse-Access-Token": f"Token {emu.token}"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def test_ctrl_c_stops_cleanly_and_the_same_command_resumes(tmp_path: Path) -> None:
    with running_emulator("--latency-ms", "30") as slow:
        coll = slow.seed("data_collection", name="ctrl-c")
        data = tmp_path / "data"
        data.mkdir()
        for i in range(300):
            (data / f"f{i:03d}.png").write_bytes(os.urandom(2000))
        env = slow.env(SYNAPSE_CACHE_DIR=str(tmp_path / "cache"))
        args = [
            SYNAPSE,
            "upload",
            str(data),
            "--collection",
            str(coll["id"]),
            "--json",
            "--concurrency",
            "2",
        ]
        first = subprocess.Popen(
            args,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,  # Ctrl-C's default action, whatever pytest inherited
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        deadline = time.monotonic() + 60
        while _get(slow, "_emulator/faults/")["counters"]["requests"] < 40:
            assert first.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        first.send_signal(signal.SIGINT)
        _out, err = first.communicate(timeout=60)
        assert first.returncode == 130, err
        assert "run the same command again to resume" in err
        assert "Traceback" not in err
        second = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=180, check=False
        )
        assert second.returncode == 0, second.stderr
        report = json.loads(second.stdout)
        assert report["failed"] == 0 and report["bytes_sent"] < report["bytes_total"]
        units = _get(slow, f"data_units/?data_collection={coll['id']}&page_size=1")
        assert units["count"] == 300  # every file once: nothing lost, nothing duplicated
