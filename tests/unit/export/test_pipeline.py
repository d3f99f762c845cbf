"""The pipeline: lossless JSON, the report, async input, labels, helpers, synthetic data."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from synapse_async.export import (
    REPORT_FILE,
    Exporter,
    FormatOptions,
    awrite_export,
    canonical_format,
    convert_synthetic,
    export_json,
    export_small,
    synthetic_items,
    write_export,
)
from tests.unit.export._records import bbox_record, compact_doc, ner_record

UNUSUAL = {
    "id": "x/1",
    "data": {
        "annotations": {
            "image_1": [
                {"id": "u", "type": "cuboid", "data": [1, 2, 3], "classification": "car"},
                {
                    "id": "n",
                    "type": "bbox",
                    "data": [float("nan"), 0, 1, 1],
                    "classification": "car",
                },
            ]
        },
        "extra": {"note": "é \u2028 \x85"},
    },
    "files": {"image_1": {"url": "https://h/a.jpg"}},
    "server_field": [1, {"nested": True}],
}


def test_json_lines_are_lossless(tmp_path: Path) -> None:
    records = [
        bbox_record(1, [(1, 2, 3, 4, "car")]),
        ner_record(2, "Ann", [(0, 3, "P")]),
        json.loads(json.dumps(UNUSUAL).replace("NaN", "1e999")),
    ]
    report = write_export(records, format="jsonl", output_dir=tmp_path)
    lines = (tmp_path / "synapse_default.jsonl").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 4
    assert [json.loads(line) for line in lines[:-1]] == records
    assert report.unknown_tools == {"cuboid": 1} and report.invalid == {"non_finite": 1}
    assert report.annotations_written == report.annotations_read == 2


def test_json_array_variant(tmp_path: Path) -> None:
    records = [bbox_record(i, [(1, 2, 3, 4, "car")]) for i in range(3)]
    write_export(
        records,
        format="json",
        output_dir=tmp_path,
        options=FormatOptions(json_lines=False),
        split={"a": 1, "b": 1},
        seed=2,
    )
    loaded = [json.loads((tmp_path / f"synapse_{s}.json").read_text()) for s in ("a", "b")]
    assert sorted(loaded[0] + loaded[1], key=lambda r: r["id"]) == records
    assert export_json(records) == records and export_json(records)[0] is not records[0]


def test_both_shapes_export_identically(tmp_path: Path) -> None:
    boxes = [(1, 2, 3, 4, "car"), (10, 20, 30, 40.5, "bus")]
    for fmt in ("coco", "yolo", "voc", "csv"):
        a = write_export(
            [bbox_record(1, boxes, compact=True)], format=fmt, output_dir=tmp_path / fmt / "a"
        )
        b = write_export(
            [bbox_record(1, boxes, compact=False)], format=fmt, output_dir=tmp_path / fmt / "b"
        )
        assert a.annotations_written == b.annotations_written == 2
        files_a = sorted(
            p.relative_to(tmp_path / fmt / "a")
            for p in (tmp_path / fmt / "a").rglob("*")
            if p.is_file()
        )
        for rel in files_a:
            if rel.name != REPORT_FILE:
                assert (tmp_path / fmt / "a" / rel).read_bytes() == (
                    tmp_path / fmt / "b" / rel
                ).read_bytes(), rel


def test_report_file_and_fields(tmp_path: Path) -> None:
    records = [
        bbox_record(1, [(1, 1, 5, 5, "car"), (-10, -10, 5, 5, "car"), (630, 470, 50, 50, "truck")]),
        UNUSUAL,
    ]
    report = write_export(records, format="yolo", output_dir=tmp_path, labels=["car"])
    on_disk = json.loads((tmp_path / REPORT_FILE).read_text())
    assert on_disk == json.loads(json.dumps(report.to_dict()))
    assert report.complete and report.items == 2 and report.images == 2
    assert report.outside == 1 and report.clamped == 1
    assert report.unlisted_labels == {"truck": 1} and report.labels == ("car", "truck")
    assert report.unknown_total == 1 and report.invalid_total == 1
    assert report.images_without_size == 1
    assert report.splits["default"].items == 2 and report.splits["default"].annotations == 2
    assert report.files == ("classes.txt", "data.yaml", REPORT_FILE)
    assert report.per_image_files == {"labels/default": 2}


def test_exporter_protocol_and_image_paths(tmp_path: Path) -> None:
    out = tmp_path / "voc"
    with Exporter("Pascal-VOC", out, split={"train": 1}) as exporter:
        item = exporter.add(bbox_record(1, [(1, 1, 2, 2, "a")], name="../x.jpg"))
        again = exporter.add(bbox_record(2, [(1, 1, 2, 2, "a")], name="x.jpg"))
        staging = exporter.staging_dir
        assert staging.parent == tmp_path and staging.name.startswith(".voc.export-")
        assert exporter.image_path(item.records[0]) == staging / "JPEGImages" / "x.jpg"
        assert exporter.image_path(again.records[0]) == staging / "JPEGImages" / "x (2).jpg"
        exporter.image_path(item.records[0]).write_bytes(b"img")
        assert not out.exists()  # nothing visible before finish
        assert not exporter.report.complete
    assert (out / "JPEGImages" / "x.jpg").read_bytes() == b"img" and not staging.exists()
    assert exporter.report.complete and exporter.finish() is exporter.report
    with pytest.raises(RuntimeError):
        exporter.add(bbox_record(3, []))
    yolo = Exporter("yolo", tmp_path / "y", split={"train": 1})
    rec = yolo.add(bbox_record(1, [], name="x.jpg")).records[0]
    assert yolo.image_path(rec) == yolo.staging_dir / "images" / "train" / "x.jpg"
    yolo.abort()
    assert not (tmp_path / "y").exists() and not yolo.staging_dir.exists()


def test_unknown_format_and_bad_split() -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        canonical_format("tfrecord")
    with pytest.raises(ValueError, match="invalid split name"):
        write_export([], format="coco", output_dir="/nonexistent", split={"../x": 1})
    with pytest.raises(ValueError, match="positive sum"):
        write_export([], format="coco", output_dir="/nonexistent", split={"a": 0})
    with pytest.raises(TypeError):
        write_export([[1, 2]], format="json", output_dir="/tmp/never-used")  # type: ignore[list-item]


def test_records_may_name_their_own_split(tmp_path: Path) -> None:
    records = [
        {**bbox_record(1, []), "split": "validation"},
        bbox_record(2, []),
        {**bbox_record(3, []), "split": "../evil"},
    ]
    report = write_export(records, format="coco", output_dir=tmp_path)
    assert {k: v.items for k, v in report.splits.items()} == {"default": 2, "validation": 1}
    assert (tmp_path / "annotations" / "instances_validation.json").exists()


async def _agen(
    records: list[dict[str, Any]], fail_at: int | None = None
) -> AsyncIterator[dict[str, Any]]:
    for i, raw in enumerate(records):
        if i == fail_at:
            raise ConnectionError("page 3 failed")
        yield raw


@pytest.mark.anyio
async def test_awrite_export_from_an_async_iterator(tmp_path: Path) -> None:
    records = list(synthetic_items(50, 3, seed=1))
    progress: list[int] = []
    report = await awrite_export(
        _agen(records),
        format="coco",
        output_dir=tmp_path / "a",
        batch_size=16,
        on_progress=progress.append,
    )
    assert progress == [16, 32, 48, 50] and report.annotations_written == 150
    write_export(records, format="coco", output_dir=tmp_path / "b")
    name = "annotations/instances_default.json"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    with pytest.raises(ConnectionError):
        await awrite_export(
            _agen(records, fail_at=40), format="coco", output_dir=tmp_path / "c", batch_size=16
        )
    assert not (tmp_path / "c").exists()
    assert sorted(os.listdir(tmp_path)) == ["a", "b"]  # no staging folder left


def test_synthetic_conversion_and_small_dispatch(tmp_path: Path) -> None:
    report = convert_synthetic(1000, format="yolo", output_dir=tmp_path, boxes_per_image=5)
    assert report.images == 200 and report.annotations_read == 1000
    assert report.annotations_written + report.outside == 1000 and report.clamped > 0
    compact = list(synthetic_items(3, 2, compact=True))
    full = list(synthetic_items(3, 2))
    assert export_small(compact, "coco") == export_small(full, "coco")
    assert export_small(full, "csv").count("\r\n") == 7
    assert isinstance(export_small(full, "voc"), dict)


def test_classification_only_and_empty_inputs(tmp_path: Path) -> None:
    raw = {
        "id": 1,
        "file_name": "a.jpg",
        "width": 4,
        "height": 4,
        "data": compact_doc([{"id": "c", "type": "classification", "classification": "x"}]),
    }
    for fmt in ("coco", "yolo", "voc", "spacy"):
        report = write_export([raw], format=fmt, output_dir=tmp_path / fmt)
        assert report.skipped == {"classification": 1}
    empty = write_export([], format="coco", output_dir=tmp_path / "empty")
    doc = json.loads((tmp_path / "empty" / "annotations" / "instances_default.json").read_text())
    assert doc["images"] == [] and doc["annotations"] == [] and empty.items == 0
