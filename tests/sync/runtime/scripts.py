"""Run a Python snippet in a fresh interpreter (signals, fork and exit need their own process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str
    wall: float

    def last_json(self) -> Any:
        lines = [ln for ln in self.stdout.splitlines() if ln.startswith("{")]
        assert lines, f"no JSON line in stdout:\n{self.stdout}\nstderr:\n{self.stderr}"
        return json.loads(lines[-1])


def run_py(
    code: str, *, env: dict[str, str] | None = None, timeout: float = 60, args: tuple[str, ...] = ()
) -> Result:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    start = time.monotonic()
    # A process started in the background by a non-interactive shell (as CI may run us)
    # inherits SIGINT as ignored, and Python then installs no KeyboardInterrupt handler:
    # restore the default handler so the Ctrl-C tests test Ctrl-C, not the runner.
    prelude = "import signal as _s; _s.signal(_s.SIGINT, _s.default_int_handler)\n"
    proc = subprocess.run(
        [sys.executable, *args, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=str(ROOT),
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start)
