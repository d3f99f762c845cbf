"""``synapse upload``: files to data units (and tasks), the report, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from synapse_async.cli import cli
from tests.cli.conftest import RunningEmulator


def _files(root: Path, n: int) -> list[Path]:
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = root / f"img_{i:03d}.png"
        path.write_bytes(b"\x89PNG fake " + str(i).encode() * 50)
        paths.append(path)
    return paths


def test_upload_a_directory_into_units_and_tasks(runner: CliRunner, emu: RunningEmulator,
                                                 tmp_path: Path) -> None:
    coll = emu.seed("data_collection", name="cli upload")
    project = emu.seed("project", name="cli upload")
    _files(tmp_path / "data" / "nested", 7)
    report = tmp_path / "report.json"
    result = runner.invoke(cli, ["upload", str(tmp_path / "data"), "--collection",
                                 str(coll["id"]), "--project", str(project["id"]),
                                 "--report", str(report)])
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text())
    assert data["sent"] == 7 and data["failed"] == 0
    assert len(data["data_unit_ids"]) == 7 and len(data["task_ids"]) == 7
    assert "data units" in result.stdout
    listed = runner.invoke(cli, ["ls", "tasks", "--project", str(project["id"]), "--json"])
    units = [json.loads(line)["data_unit"] for line in listed.stdout.splitlines()]
    assert sorted(units) == sorted(data["data_unit_ids"])


def test_upload_to_a_missing_collection_is_a_typed_error(runner: CliRunner,
                                                         tmp_path: Path) -> None:
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
