"""Fixtures for the CLI tests: an emulator run by the ``synapse`` console script itself."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner

SYNAPSE = str(Path(sys.executable).with_name("synapse"))


@attrs.frozen
class RunningEmulator:
    url: str
    token: str
    proc: subprocess.Popen[str]

    def seed(self, kind: str, **args: Any) -> Any:
        """``POST _emulator/seed/``: create test data through the emulator's control API."""
        req = urllib.request.Request(
            self.url + "_emulator/seed/",
            data=json.dumps({"kind": kind, **args}).encode(),
            headers={
                "Synapse-Access-Token": f"Token {self.token}",
                "Content-Type": "application/json",
            },
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def env(self, **extra: str) -> dict[str, str]:
        """An environment pointing the CLI at this emulator."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNAPSE_")}
        env.update(SYNAPSE_HOST=self.url, SYNAPSE_ACCESS_TOKEN=self.token, **extra)
        return env


def start_emulator(*args: str) -> RunningEmulator:
    """``synapse emulator --port 0 ARGS`` in a subprocess, once it printed its address."""
    proc = subprocess.Popen(
        [SYNAPSE, "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("SYNAPSE_EMULATOR"):
        proc.kill()
        assert proc.stderr is not None
        raise RuntimeError(f"emulator did not start: {line!r} {proc.stderr.read()!r}")
    fields = dict(part.split("=", 1) for part in line.split()[1:])
    return RunningEmulator(fields["url"], fields["token"], proc)


@contextlib.contextmanager
def running_emulator(*args: str) -> Iterator[RunningEmulator]:
    """``start_emulator(*args)``, stopped (SIGTERM) and its pipes closed on exit."""
    running = start_emulator(*args)
    try:
        yield running
    finally:
        running.proc.terminate()
        running.proc.wait(timeout=30)
        for stream in (running.proc.stdout, running.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    with running_emulator("--seed-tasks", "250", "--annotation-speed", "2000") as running:
        yield running


@pytest.fixture
def runner(emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    """A Click runner whose environment points at ``emu`` (config file in tmp_path)."""
    monkeypatch.setenv("SYNAPSE_HOST", emu.url)
    monkeypatch.setenv("SYNAPSE_ACCESS_TOKEN", emu.token)
    monkeypatch.setenv("SYNAPSE_CONFIG_FILE", str(tmp_path / "config.json"))
    monkeypatch.setenv("SYNAPSE_CACHE_DIR", str(tmp_path / "cache"))
    return CliRunner()
