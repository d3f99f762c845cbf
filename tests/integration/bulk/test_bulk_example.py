"""``docs/examples/bulk_upload.py`` (the script in docs/uploads.md) runs against the emulator."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from synapse_async.emulator import Emulator
from tests.integration.bulk.conftest import make_files

pytestmark = pytest.mark.anyio
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "bulk_upload.py"


async def test_bulk_example_uploads_then_resumes(
    emulator: Emulator,
    collection: int,
    project: int,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = importlib.util.spec_from_file_location("bulk_upload_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    make_files(tmp_path / "photos", 6)
    (tmp_path / "photos" / "0000.json").write_text("{}")  # joins 0000.jpg as its label
    argv = [
        str(tmp_path / "photos"),
        "--collection",
        str(collection),
        "--project",
        str(project),
        "--journal",
        str(tmp_path / "j"),
        "--report",
        str(tmp_path / "r.json"),
        "--url",
        emulator.url,
        "--token",
        emulator.access_token,
    ]
    assert await example.main(argv) == 0
    assert "6 items: 7 files sent" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["failed"] == 0
    assert await example.main(argv) == 0
    assert "0 files sent, 0 already on the server, 6 done earlier" in capsys.readouterr().out
    assert emulator.store.count("tasks", project=project) == 6
