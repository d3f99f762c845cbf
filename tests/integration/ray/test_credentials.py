"""The access token reaches the shard workers as a task argument and nowhere else."""

from __future__ import annotations

import os
from pathlib import Path

from synapse_async.bulk.ray import upload_on_ray
from tests.fixtures import ThreadedEmulator
from tests.integration.ray.conftest import RayCluster
from tests.integration.ray.test_loopback import _descendants
from tests.integration.ray.test_upload_on_ray import config_for, make_files, setup_targets


def _files_holding(root: Path, secret: bytes) -> list[str]:
    found = []
    for path in root.rglob("*"):
        try:
            if path.is_file() and not path.is_socket() and secret in path.read_bytes():
                found.append(str(path))
        except OSError:
            continue
    return found


def test_token_is_not_in_the_session_dir_nor_worker_environments(
    ray_cluster: RayCluster, threaded_emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    token = threaded_emulator.access_token.encode()
    coll, _ = setup_targets(threaded_emulator)
    files = make_files(tmp_path / "in", 20)
    report = upload_on_ray(
        coll,
        [{"files": {"image": p}} for p in files],
        config=config_for(threaded_emulator),
        shard_size=10,
        journal_dir=tmp_path / "j",
        on_progress=lambda p: None,
    )
    assert report.sent == 20  # the workers did authenticate with the token

    workers = _descendants(os.getpid())
    assert workers, "no Ray process found"
    leaked = []
    for pid in workers:
        for name in ("environ", "cmdline"):
            try:
                if token in Path(f"/proc/{pid}/{name}").read_bytes():
                    leaked.append(f"{pid}/{name}")
            except OSError:
                continue
    assert leaked == []
    session = ray_cluster.session_dir
    assert (session / "logs").is_dir()
    assert _files_holding(ray_cluster.temp_dir, token) == []
    assert _files_holding(tmp_path / "j", token) == []
