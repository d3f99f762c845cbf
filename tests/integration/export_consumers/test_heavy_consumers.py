"""Exports read back by Ultralytics and Datumaro, each in its own environment.

These run in the ``consumers`` nox session, which builds the environments and sets
``ULTRALYTICS_PYTHON`` / ``DATUMARO_PYTHON`` to their interpreters; elsewhere they are
skipped. Each consumer reads the export with its own dataset code in a subprocess and
prints what it saw; the counts, classes and coordinates (1e-3 relative) must equal the
source records.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from synapse_async.export import FormatOptions
from synapse_async.export.voc import labelmap_safe
from tests.integration.export_consumers._data import (
    LABELS,
    Box,
    Source,
    dataset,
    export_with_files,
    png_bytes,
)

HERE = Path(__file__).parent
SPLIT = {"train": 0.6, "val": 0.4}
SAFE = [lb for lb in LABELS if labelmap_safe(lb)]  # what a VOC labelmap.txt can declare


def _python(var: str) -> str:
    path = os.environ.get(var)
    if not path:
        pytest.skip(f"{var} is not set (run `nox -s consumers`)")
    return path


def _read(var: str, script: str, *args: str) -> Any:
    proc = subprocess.run(
        [_python(var), str(HERE / script), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _expected(boxes: list[Box]) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {}
    for b in boxes:
        out.setdefault(b.file_stem, []).append([b.x, b.y, b.x + b.w, b.y + b.h, b.label])
    return out


def _same_boxes(got: list[list[Any]], want: list[list[Any]]) -> None:
    key = lambda b: (b[4], [round(v) for v in b[:4]])  # noqa: E731
    got, want = sorted(got, key=key), sorted(want, key=key)
    assert [g[4] for g in got] == [w[4] for w in want]
    for g, w in zip(got, want, strict=True):
        assert g[:4] == pytest.approx(w[:4], rel=1e-3, abs=1e-3)


def test_ultralytics_detect(tmp_path: Path) -> None:
    source = dataset(40, polygons=False)
    out = tmp_path / "yolo"
    assert export_with_files(source, "yolo", out, split=SPLIT).complete
    seen = _read("ULTRALYTICS_PYTHON", "_read_ultralytics.py", str(out / "data.yaml"), "detect")
    assert seen["nc"] == len(LABELS) and list(seen["names"].values()) == LABELS
    items = [i for split in seen["splits"].values() for i in split]
    assert len(items) == len(source.records)  # every image, suffix or not, is seen
    expected = _expected(source.boxes)
    for item in items:
        _same_boxes(item["boxes"], expected.get(Path(item["file"]).stem, []))
    assert sum(len(i["boxes"]) for i in items) == len(source.boxes)


def test_ultralytics_segment(tmp_path: Path) -> None:
    source = dataset(30)
    out = tmp_path / "seg"
    report = export_with_files(
        source, "yolo", out, split=SPLIT, options=FormatOptions(yolo_task="segment")
    )
    assert report.complete
    seen = _read("ULTRALYTICS_PYTHON", "_read_ultralytics.py", str(out / "data.yaml"), "segment")
    items = [i for split in seen["splits"].values() for i in split]
    assert len(items) == len(source.records)
    segments = sum(len(i.get("segments", [])) for i in items)
    assert segments == len(source.boxes) + source.polygons


def _pose_source() -> Source:
    records, images = [], {}
    for i in range(12):
        pts = [[10 + i, 12, 2], [30, 14 + i, 2], [20, 40, 1], [55, 25, 0 if i % 3 else 2]]
        records.append(
            {
                "id": f"k{i}",
                "files": {"image_1": {"file_name": f"pose_{i}"}},
                "data": {
                    "annotations": {
                        "image_1": [
                            {
                                "id": f"k{i}",
                                "type": "keypoint",
                                "data": pts,
                                "classification": "person",
                            }
                        ]
                    }
                },
            }
        )
        images[f"k{i}"] = png_bytes(80, 60)
    return Source(records, images, [], 0)


def test_ultralytics_pose(tmp_path: Path) -> None:
    source = _pose_source()
    out = tmp_path / "pose"
    report = export_with_files(
        source, "yolo", out, split=SPLIT, labels=["person"], options=FormatOptions(yolo_task="pose")
    )
    assert report.complete and report.annotations_written == 12
    seen = _read("ULTRALYTICS_PYTHON", "_read_ultralytics.py", str(out / "data.yaml"), "pose")
    items = [i for split in seen["splits"].values() for i in split]
    assert len(items) == 12
    for item in items:
        i = int(Path(item["file"]).stem.split("_")[1])
        (kps,) = item["keypoints"]
        assert kps[0] == pytest.approx([10 + i, 12, 2], rel=1e-3)
        assert kps[2][2] == 1 and (kps[3][2] == 0) == bool(i % 3)


def _datumaro_source(n: int = 30) -> Source:
    source = dataset(n, polygons=False)
    boxes = [
        Box(b.file_stem, b.x, b.y, b.w, b.h, b.label if b.label in SAFE else "car")
        for b in source.boxes
    ]
    for rec in source.records:
        for entry in rec["data"]["annotations"]["image_1"]:
            if entry["classification"] not in SAFE:
                entry["classification"] = "car"
    return Source(source.records, source.images, boxes, 0)


def test_datumaro_reads_voc_with_the_labelmap(tmp_path: Path) -> None:
    source = _datumaro_source()
    # A sub-pixel box: VOC's integer pixels keep it one pixel wide, never zero.
    source.records[1]["data"]["annotations"]["image_1"].append(
        {"id": "tiny", "type": "bbox", "data": [10.2, 5.3, 0.5, 0.4], "classification": "car"}
    )
    out = tmp_path / "voc"
    report = export_with_files(source, "voc", out, labels=SAFE)
    assert report.complete and not report.notes
    one_based = _read("DATUMARO_PYTHON", "_read_datumaro.py", str(out), "voc", "voc-one-based")
    assert len(one_based["items"]) == len(source.records)
    assert set(report.labels) <= set(one_based["labels"])
    expected = _expected(source.boxes)
    stem1 = source.records[1]["files"]["image_1"]["file_name"].split(".")[0]
    expected.setdefault(stem1, []).append([10, 5, 11, 6, "car"])  # the covering pixel
    for item in one_based["items"]:
        _same_boxes(item["boxes"], expected.get(item["id"], []))
    # Datumaro's default mode reads VOC corners as 0-based: one pixel off at xmin/ymin.
    default = _read("DATUMARO_PYTHON", "_read_datumaro.py", str(out), "voc")
    shifted = {i["id"]: i["boxes"] for i in default["items"]}
    for item in one_based["items"]:
        for a, b in zip(sorted(item["boxes"]), sorted(shifted[item["id"]]), strict=True):
            assert (b[0] - a[0], b[1] - a[1], b[2] - a[2], b[3] - a[3]) == (1, 1, 0, 0)


def test_datumaro_reads_coco_and_yolo(tmp_path: Path) -> None:
    source = _datumaro_source()
    expected = _expected(source.boxes)
    assert export_with_files(source, "coco", tmp_path / "coco", split=SPLIT, labels=SAFE).complete
    coco = _read("DATUMARO_PYTHON", "_read_datumaro.py", str(tmp_path / "coco"), "coco_instances")
    assert len(coco["items"]) == len(source.records)
    for item in coco["items"]:
        _same_boxes(item["boxes"], expected.get(Path(item["id"]).name, []))
    assert export_with_files(source, "yolo", tmp_path / "yolo", split=SPLIT, labels=SAFE).complete
    yolo = _read("DATUMARO_PYTHON", "_read_datumaro.py", str(tmp_path / "yolo"), "yolo")
    assert len(yolo["items"]) == len(source.records)
    assert yolo["labels"] == SAFE
    for item in yolo["items"]:
        _same_boxes(item["boxes"], expected.get(Path(item["id"]).name, []))
