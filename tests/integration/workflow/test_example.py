"""The seeds' end-to-end flow (``docs/examples/managed_project.py``) runs against the emulator."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from synapse_async.export.reader import read_item

pytestmark = pytest.mark.anyio

EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "managed_project.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("managed_project_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_example_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = load_example()
    out = tmp_path / "export" / "annotations.json"
    assert await example.main(["--out", str(out), "--tasks", "40"]) == 0
    printed = capsys.readouterr().out
    assert "Uploaded 40 tasks" in printed and "Project complete: 40 tasks" in printed
    assert "Progress: 100.0% (40/40)" in printed
    annotations = json.loads(out.read_text())
    assert len(annotations) == 40
    assert [p.name for p in out.parent.iterdir()] == ["annotations.json"]  # no temp files left
    labels = set(example.LABELS)
    for entry in annotations:
        item = read_item({"id": entry["assignment"], "data": entry["data"], "file": entry["file"]})
        [record] = item.records
        [annotation] = record.annotations
        assert annotation.tool == "classification" and annotation.label in labels


def test_atomic_write_leaves_no_partial_file(tmp_path: Path) -> None:
    example = load_example()
    target = tmp_path / "a.json"
    example.write_json_atomic(target, {"ok": 1})
    with pytest.raises(TypeError):
        example.write_json_atomic(target, {"bad": object()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
