"""One loopback-only local Ray cluster for the whole test session, and a second emulator.

Out of the box Ray binds the machine's routable address, its dashboard side probes cloud
metadata and it reports usage. What keeps Ray 2.60 on loopback (checked with strace, see
``loopback_trace.py``): ``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` and ``RAY_USAGE_STATS_ENABLED=0``
set before ``import ray`` (the first is read at import time), and ``HOME`` pointed at a scratch
folder holding an empty ``ray_bootstrap_config.yaml``. ``nox -s ray`` also runs these tests
inside ``unshare -n`` (no interface but ``lo``) and under strace.

This directory is not collected by the default ``pytest`` run (``--ignore=tests/integration/ray`` in
pyproject.toml); ``pytest tests/integration/ray`` or ``nox -s ray`` runs it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def _scratch_base() -> str | None:
    """Ray refuses a temp dir inside the virtualenv (nox points TMPDIR there), and its socket
    paths must stay short: fall back to /tmp then."""
    base = Path(tempfile.gettempdir()).resolve()
    if base.is_relative_to(Path(sys.prefix).resolve()) or len(str(base)) > 40:
        return "/tmp" if os.path.isdir("/tmp") else None
    return None


_SCRATCH = Path(tempfile.mkdtemp(prefix="synapse-ray-", dir=_scratch_base()))
# Removed at exit, after Ray's own exit hooks (registered later, so run earlier): one of them
# writes HOME/.ray/auth_token again after shutdown.
atexit.register(shutil.rmtree, _SCRATCH, True)
_HOME = _SCRATCH / "home"
_HOME.mkdir()
(_HOME / "ray_bootstrap_config.yaml").write_text("", encoding="utf-8")
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ["HOME"] = str(_HOME)

ray = pytest.importorskip("ray")

from tests.fixtures import ThreadedEmulator, running_emulator  # noqa: E402

RAY_TEMP_DIR = _SCRATCH / "ray"


@dataclass(frozen=True)
class RayCluster:
    """The session's local Ray cluster: where it keeps its files."""

    temp_dir: Path

    @property
    def session_dir(self) -> Path:
        """The running session's directory (logs, sockets, runtime resources)."""
        return (self.temp_dir / "session_latest").resolve()


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    """A local Ray with 2 CPUs on loopback, its own temp dir; shut down after the session."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _temp_dir=str(RAY_TEMP_DIR),
        object_store_memory=100 * 2**20,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield RayCluster(temp_dir=RAY_TEMP_DIR)
    finally:
        ray.shutdown()


@pytest.fixture
def second_emulator() -> Iterator[ThreadedEmulator]:
    """Another emulator, e.g. for a single-process reference run on the same files."""
    with running_emulator() as emu:
        yield emu
