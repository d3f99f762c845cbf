"""A shard's worker killed mid-shard: Ray retries it, or (max_retries=0) the run raises and
a rerun finishes; either way no data unit or task is created twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from synapse_async.bulk import BulkProgress
from synapse_async.bulk.ray import upload_on_ray
from synapse_async.emulator import Faults
from tests.fixtures import ThreadedEmulator, running_emulator
from tests.integration.ray.conftest import RayCluster, ray
from tests.integration.ray.test_upload_on_ray import config_for, count, make_files, setup_targets

REPO = Path(__file__).resolve().parents[3]


def shard_workers() -> list[int]:
    """Pids of the worker processes running a shard right now (Ray titles them)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if cmdline.startswith(b"ray::synapse_bulk_shard"):
            pids.append(int(entry.name))
    return pids


class KillOnce:
    """An on_progress callback that SIGKILLs one shard worker once files are in flight."""

    def __init__(self, after_files: int) -> None:
        self.after = after_files
        self.killed: int | None = None

    def __call__(self, progress: BulkProgress) -> None:
        if self.killed is None and progress.files_done >= self.after:
            pids = shard_workers()
            if pids:
                os.kill(pids[0], signal.SIGKILL)
                self.killed = pids[0]


@pytest.fixture
def slow_emulator() -> Any:
    """Every request takes 100 ms: a shard of 120 small files runs for several seconds, so
    the progress callback sees files done while a shard worker is still there to be killed,
    even on a loaded machine (at 30 ms both shards could end before the first report)."""
    with running_emulator(faults=Faults(latency=0.1)) as emu:
        yield emu


def _items(tmp_path: Path, n: int) -> list[dict[str, Any]]:
    return [{"files": {"image": p}} for p in make_files(tmp_path / "in", n)]


def test_killed_worker_is_retried_and_resumes_its_journal(
    ray_cluster: RayCluster, slow_emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    coll, project = setup_targets(slow_emulator)
    items = _items(tmp_path, 240)
    kill = KillOnce(after_files=30)
    report = upload_on_ray(
        coll,
        items,
        config=config_for(slow_emulator),
        project=project,
        shard_size=120,
        per_worker_concurrency=4,
        journal_dir=tmp_path / "j",
        on_progress=kill,
    )
    assert kill.killed is not None, "no shard worker was killed: the test proved nothing"
    assert (report.items, report.failed) == (240, 0)
    assert sorted(set(report.data_unit_ids)) == sorted(report.data_unit_ids)
    assert len(report.data_unit_ids) == 240 and len(report.task_ids) == 240
    assert count(slow_emulator, "data_units", data_collection=coll) == 240
    assert count(slow_emulator, "tasks", project=project) == 240


def test_killed_worker_without_retries_raises_and_a_rerun_finishes(
    ray_cluster: RayCluster, slow_emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    coll, project = setup_targets(slow_emulator)
    items = _items(tmp_path, 240)
    config = config_for(slow_emulator)
    kill = KillOnce(after_files=30)
    with pytest.raises(ray.exceptions.WorkerCrashedError):
        upload_on_ray(
            coll,
            items,
            config=config,
            project=project,
            shard_size=120,
            per_worker_concurrency=4,
            max_retries=0,
            journal_dir=tmp_path / "j",
            on_progress=kill,
        )
    assert kill.killed is not None
    units_after_crash = count(slow_emulator, "data_units", data_collection=coll)
    assert units_after_crash < 240
    done = sorted(p.name for p in (tmp_path / "j").glob("*.done.json"))
    assert len(done) <= 1  # the shard whose worker was killed is not done

    again = upload_on_ray(
        coll,
        items,
        config=config,
        project=project,
        shard_size=120,
        per_worker_concurrency=4,
        journal_dir=tmp_path / "j",
    )
    assert (again.items, again.failed) == (240, 0)
    assert again.skipped >= 120 * len(done)
    assert count(slow_emulator, "data_units", data_collection=coll) == 240
    assert count(slow_emulator, "tasks", project=project) == 240
    assert len(set(again.data_unit_ids)) == 240 and len(set(again.task_ids)) == 240


def test_driver_killed_mid_run_then_rerun_finishes_without_duplicates(
    ray_cluster: RayCluster, slow_emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    coll, project = setup_targets(slow_emulator)
    items = _items(tmp_path, 240)
    address = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.integration.ray.driver_script",
            address,
            slow_emulator.url,
            str(coll),
            str(project),
            str(tmp_path / "in"),
            str(tmp_path / "j"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert driver.stdin is not None and driver.stdout is not None
    driver.stdin.write(slow_emulator.access_token + "\n")
    driver.stdin.close()
    try:
        assert driver.stdout.readline().strip() == "uploading"
    finally:
        driver.kill()
        driver.wait(30)
    deadline = time.monotonic() + 60
    while shard_workers() and time.monotonic() < deadline:  # Ray ends the dead driver's tasks
        time.sleep(0.2)
    assert shard_workers() == []
    assert count(slow_emulator, "data_units", data_collection=coll) < 240

    again = upload_on_ray(
        coll,
        items,
        config=config_for(slow_emulator),
        project=project,
        shard_size=120,
        per_worker_concurrency=4,
        journal_dir=tmp_path / "j",
    )
    assert (again.items, again.failed) == (240, 0)
    assert again.skipped > 0  # the journals kept what the killed run finished
    assert count(slow_emulator, "data_units", data_collection=coll) == 240
    assert count(slow_emulator, "tasks", project=project) == 240
