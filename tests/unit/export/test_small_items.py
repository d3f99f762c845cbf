"""Degenerate geometry, empty exports and splits, the simulator's polygons."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from synapse_async.emulator.simulator import make_annotation
from synapse_async.export import FormatOptions, read_item, write_export
from tests.unit.export._records import bbox_record, polygon_record


def test_zero_area_polygons_are_rejected_like_zero_area_boxes(tmp_path: Path) -> None:
    flat = [(0, 0), (10, 10), (20, 20)]  # collinear
    repeated = [(5, 5), (5, 5), (9, 9)]
    good = [(0, 0), (10, 0), (0, 10)]
    raw = polygon_record(1, [(flat, "a"), (repeated, "a"), (good, "a")])
    raw["data"]["annotations"]["image_1"].append(
        {"id": "z", "type": "bbox", "data": [1, 1, 0, 4], "classification": "a"}
    )
    item = read_item(raw)
    assert item.invalid == {"zero_area": 3} and len(item.records[0].annotations) == 1
    report = write_export(
        [raw],
        format="yolo",
        output_dir=tmp_path / "seg",
        options=FormatOptions(yolo_task="segment"),
    )
    rows = (tmp_path / "seg" / "labels" / "default" / "poly_1.txt").read_text().splitlines()
    assert len(rows) == 1 and len(rows[0].split()) == 7  # the one real triangle
    assert report.invalid == {"zero_area": 3}
    coco = write_export([raw], format="coco", output_dir=tmp_path / "coco")
    doc = json.loads((tmp_path / "coco" / "annotations" / "instances_default.json").read_text())
    assert coco.annotations_written == 1 and all(a["area"] > 0 for a in doc["annotations"])


def test_a_polygon_clamped_onto_the_border_is_outside(tmp_path: Path) -> None:
    # Its bounds overlap the image, but clamped its points are (0, 5), (0, 5), (5, 0): a
    # two-point "polygon" (no area), which YOLO-seg must not write.
    sliver = [(-10, 5), (-5, 5), (5, -10)]
    report = write_export(
        [polygon_record(1, [(sliver, "a")])],
        format="yolo",
        output_dir=tmp_path,
        options=FormatOptions(yolo_task="segment"),
    )
    assert report.outside == 1 and report.annotations_written == 0


def test_the_simulator_draws_polygons_with_area() -> None:
    project = {"id": 3, "labels": ["a"], "annotation_type": "polygon", "data_type": "image"}
    for task_id in range(1, 400):
        doc, _, _ = make_annotation(project, {"id": task_id, "data": {}})
        for entry in doc["annotationsData"]["image_1"]:
            pts = [(p["x"], p["y"]) for p in entry["coordinate"]]
            n = len(pts)
            twice = sum(
                pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n)
            )
            assert abs(twice) > 0, (task_id, pts)


def test_an_export_without_classes_writes_no_yolo_dataset(tmp_path: Path) -> None:
    report = write_export([bbox_record(1, [])], format="yolo", output_dir=tmp_path / "y")
    assert report.complete
    assert not (tmp_path / "y" / "data.yaml").exists()
    assert not (tmp_path / "y" / "classes.txt").exists()
    assert any("nc: 0" in note for note in report.notes)


@pytest.mark.parametrize(
    ("fmt", "listing"), [("coco", "annotations"), ("voc", "ImageSets/Main"), ("yolo", "labels")]
)
def test_records_own_splits_leave_no_empty_default(tmp_path: Path, fmt: str, listing: str) -> None:
    records = [
        dict(bbox_record(i, [(1, 1, 5, 5, "car")]), split=("train", "val")[i % 2]) for i in range(4)
    ]
    report = write_export(records, format=fmt, output_dir=tmp_path / fmt)
    assert set(report.splits) == {"train", "val"}
    names = os.listdir(tmp_path / fmt / listing)
    assert not any("default" in n for n in names), names


def test_an_empty_export_still_writes_its_default_split(tmp_path: Path) -> None:
    write_export([], format="coco", output_dir=tmp_path / "c")
    doc = json.loads((tmp_path / "c" / "annotations" / "instances_default.json").read_text())
    assert doc["images"] == [] and doc["annotations"] == []
    write_export([], format="voc", output_dir=tmp_path / "v")
    assert (tmp_path / "v" / "ImageSets" / "Main" / "default.txt").read_text() == ""
    write_export([], format="json", output_dir=tmp_path / "j")
    assert (tmp_path / "j" / "synapse_default.jsonl").read_text() == ""
