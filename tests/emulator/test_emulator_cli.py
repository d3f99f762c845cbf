from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

READY = re.compile(r"^SYNAPSE_EMULATOR url=(\S+) token=(\S+)$")


@contextmanager
def emulator_process(*args: str) -> Iterator[subprocess.Popen[str]]:
    with subprocess.Popen(
        [sys.executable, "-m", "synapse_async.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_module_prints_ready_line_and_serves(tmp_path: Path) -> None:
    with emulator_process(
        "--data-dir", str(tmp_path), "--token", "cli-token", "--seed-tasks", "25",
        "--latency-ms", "1",
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        line = proc.stdout.readline().rstrip("\n")
        match = READY.match(line)
        assert match, line
        url, token = match.groups()
        assert token == "cli-token"
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(url + "_emulator/health/", timeout=10) as r:
            assert json.load(r) == {"ok": True}
        req = urllib.request.Request(
            url + "tasks/?page_size=1", headers={"Synapse-Access-Token": f"Token {token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            assert json.load(r)["count"] == 25
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert proc.stdout.read() == ""  # exactly one line on stdout
    assert (tmp_path / "emulator.sqlite3").exists()


def test_module_sigint_exits_cleanly() -> None:
    with emulator_process() as proc:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert READY.match(line.rstrip("\n")), line
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert "Traceback" not in proc.stderr.read()


def test_module_rejects_bad_fault_settings() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "synapse_async.emulator", "--port", "0", "--error-rate", "3"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "error_rate" in proc.stderr
