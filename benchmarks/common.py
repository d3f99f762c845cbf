"""Benchmark plumbing: an emulator subprocess, client subprocesses, and statistics.

Every figure is the median of several runs in fresh client processes, with min and max;
peak RSS comes from ``resource.getrusage`` of the client process, CPU is user + sys.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass
class EmulatorProcess:
    url: str
    token: str
    proc: subprocess.Popen[str]
    data_dir: str


@contextlib.contextmanager
def emulator_process(*flags: str, data_dir: str | None = None) -> Iterator[EmulatorProcess]:
    """Start ``python -m synapse_async.emulator`` and yield its URL and token."""
    owned = data_dir is None
    data_dir = data_dir or tempfile.mkdtemp(prefix="synapse-bench-")
    cmd = [
        sys.executable,
        "-m",
        "synapse_async.emulator",
        "--port",
        "0",
        "--data-dir",
        data_dir,
        *flags,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("SYNAPSE_EMULATOR"):
            raise RuntimeError(f"emulator did not start: {line!r}")
        fields = dict(part.split("=", 1) for part in line.split()[1:])
        yield EmulatorProcess(fields["url"], fields["token"], proc, data_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if owned:
            import shutil

            shutil.rmtree(data_dir, ignore_errors=True)


def run_client(module: str, *args: str, timeout: float = 900) -> dict[str, Any]:
    """Run ``python -m module args`` in a fresh process; it prints one JSON line last."""
    out = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{module} {args} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def self_usage() -> dict[str, float]:
    """Peak RSS (MB) and CPU seconds (user + sys) of the calling process so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_rss_mb": ru.ru_maxrss / 1024, "cpu_s": ru.ru_utime + ru.ru_stime}


def summarize(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max."""
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def fmt(stats: dict[str, float], unit: str = "", digits: int = 2) -> str:
    """``median (min-max) unit``."""
    return (
        f"{stats['median']:.{digits}f} ({stats['min']:.{digits}f}-{stats['max']:.{digits}f}){unit}"
    )


def machine() -> str:
    """One line naming the machine the figures come from."""
    return (
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {time.strftime('%Y-%m-%d')}"
    )


@dataclass(frozen=True)
class Target:
    """One benchmark target and what the run measured against it."""

    benchmark: str
    goal: str
    measured: str
    met: bool
    judged: bool = True

    @property
    def verdict(self) -> str:
        """``met``, ``NOT MET`` or, for smoke runs, ``not judged (smoke sizes)``."""
        if not self.judged:
            return "not judged (smoke sizes)"
        return "met" if self.met else "NOT MET"


TARGETS: list[Target] = []
"""Every target checked in this process, in order (``python -m benchmarks`` prints them)."""


def target(benchmark: str, goal: str, measured: str, met: bool, *, smoke: bool) -> str:
    """Record a target and return its report line (smoke runs are never judged)."""
    t = Target(benchmark, goal, measured, met, judged=not smoke)
    TARGETS.append(t)
    return f"Target ({benchmark}): {goal}; measured {measured}: **{t.verdict}**."
