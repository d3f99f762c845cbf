"""``synapse upload --ray``: the CLI shards the upload over the session's local Ray."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from synapse_async.cli import cli
from tests.fixtures import ThreadedEmulator
from tests.integration.ray.conftest import RayCluster
from tests.integration.ray.test_upload_on_ray import count, make_files, setup_targets


def test_upload_with_ray_flag_shards_over_ray_and_reruns_as_a_resume(
    ray_cluster: RayCluster,
    threaded_emulator: ThreadedEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    coll, project = setup_targets(threaded_emulator)
    make_files(tmp_path / "in", 30)
    monkeypatch.setenv("SYNAPSE_HOST", threaded_emulator.url)
    monkeypatch.setenv("SYNAPSE_ACCESS_TOKEN", threaded_emulator.access_token)
    monkeypatch.setenv("SYNAPSE_CONFIG_FILE", str(tmp_path / "config.json"))
    monkeypatch.setenv("SYNAPSE_CACHE_DIR", str(tmp_path / "cache"))
    args = [
        "upload",
        str(tmp_path / "in"),
        "--collection",
        str(coll),
        "--project",
        str(project),
        "--ray",
        "--json",
    ]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout.strip().splitlines()[-1])
    assert report["items"] == 30 and report["sent"] == 30 and report["failed"] == 0
    assert count(threaded_emulator, "data_units", data_collection=coll) == 30
    # the shards' journals live beside the command's journal
    assert list((tmp_path / "cache" / "bulk").glob("*.ray"))
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout.strip().splitlines()[-1])["sent"] == 0
    assert count(threaded_emulator, "data_units", data_collection=coll) == 30
    assert count(threaded_emulator, "tasks", project=project) == 30
