"""``synapse upload``: files to data units (and tasks), the report, exit codes."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from synapse_async.cli import cli
from tests.integration.cli.conftest import RunningEmulator


def _files(root: Path, n: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = root / f"img_{i:03d}.png"
        # unique per test: the module's emulator dedupes content it already holds
        path.write_bytes(b"\x89PNG fake " + str(root).encode() + str(i).encode() * 50)
        paths.append(path)
    return paths


def test_upload_a_directory_into_units_and_tasks(
    runner: CliRunner, emu: RunningEmulator, tmp_path: Path
) -> None:
    coll = emu.seed("data_collection", name="cli upload")
    project = emu.seed("project", name="cli upload")
    _files(tmp_path / "data" / "nested", 7)
    report = tmp_path / "report.json"
    result = runner.invoke(
        cli,
        [
            "upload",
            str(tmp_path / "data"),
            "--collection",
            str(coll["id"]),
            "--project",
            str(project["id"]),
            "--report",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["sent"] == 7 and data["failed"] == 0
    assert len(data["data_unit_ids"]) == 7 and len(data["task_ids"]) == 7
    assert "data units" in result.stdout
    listed = runner.invoke(cli, ["ls", "tasks", "--project", str(project["id"]), "--json"])
    units = [json.loads(line)["data_unit"] for line in listed.stdout.splitlines()]
    assert sorted(units) == sorted(data["data_unit_ids"])


def test_upload_to_a_missing_collection_is_a_typed_error(runner: CliRunner, tmp_path: Path) -> None:
    _files(tmp_path / "data", 1)
    result = runner.invoke(cli, ["upload", str(tmp_path / "data"), "--collection", "9999"])
    assert result.exit_code == 1
    assert "NotFoundError" in result.stderr
    assert "Traceback" not in result.output


def test_upload_without_a_collection_is_bad_usage(runner: CliRunner, tmp_path: Path) -> None:
    _files(tmp_path / "data", 1)
    result = runner.invoke(cli, ["upload", str(tmp_path / "data")])
    assert result.exit_code == 2
    assert "--collection" in result.stderr


def test_a_failed_item_is_listed_and_exits_1(
    runner: CliRunner, emu: RunningEmulator, tmp_path: Path
) -> None:
    coll = emu.seed("data_collection", name="cli upload failures")
    good = _files(tmp_path / "data", 2)
    fifo = tmp_path / "special.png"
    os.mkfifo(fifo)
    result = runner.invoke(
        cli, ["upload", *map(str, good), str(fifo), "--collection", str(coll["id"]), "--json"]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["sent"] == 2 and data["failed"] == 1
    assert data["failures"][0]["paths"] == {"image_1": str(fifo)}


def test_rerunning_the_same_command_resumes_from_its_journal(
    runner: CliRunner, emu: RunningEmulator, tmp_path: Path
) -> None:
    coll = emu.seed("data_collection", name="cli resume")
    _files(tmp_path / "data", 5)
    args = ["upload", str(tmp_path / "data"), "--collection", str(coll["id"]), "--json"]
    first = runner.invoke(cli, args)
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["sent"] == 5
    again = runner.invoke(cli, args)
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert report["skipped"] == 5 and report["sent"] == 0 and report["bytes_sent"] == 0
    assert sorted(report["data_unit_ids"]) == sorted(json.loads(first.stdout)["data_unit_ids"])
    assert list((tmp_path / "cache" / "bulk").glob("upload-*.sqlite3"))
