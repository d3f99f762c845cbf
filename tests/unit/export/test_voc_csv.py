"""Pascal VOC parses back within a pixel; CSV is RFC 4180 with stable columns."""

from __future__ import annotations

import csv
import io
import random
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synapse_async.export import CSV_COLUMNS, export_csv, export_voc, write_export
from tests.unit.export._records import bbox_record, compact_doc, polygon_record


def _objects(path: Path) -> list[tuple[str, tuple[int, int, int, int], str]]:
    root = ET.parse(path).getroot()
    out = []
    for obj in root.iter("object"):
        box = obj.find("bndbox")
        assert box is not None
        coords = tuple(int(box.findtext(t) or "") for t in ("xmin", "ymin", "xmax", "ymax"))
        out.append((obj.findtext("name") or "", coords, obj.findtext("truncated") or ""))
    return out  # type: ignore[return-value]


def test_voc_round_trip_within_one_pixel(tmp_path: Path) -> None:
    rng = random.Random(7)
    records = []
    for i in range(30):
        boxes = []
        for _ in range(4):
            w, h = rng.uniform(0.5, 300), rng.uniform(0.5, 200)
            boxes.append((rng.uniform(0, 640 - w), rng.uniform(0, 480 - h), w, h, "car"))
        records.append(bbox_record(i, boxes))
    report = write_export(
        records, format="voc", output_dir=tmp_path, split={"train": 0.5, "val": 0.5}
    )
    assert report.clamped == 0 and report.annotations_written == 120
    for raw in records:
        path = tmp_path / "Annotations" / f"img_{raw['id']}.xml"
        root = ET.parse(path).getroot()
        assert root.findtext("size/width") == "640" and root.findtext("size/height") == "480"
        assert root.findtext("filename") == raw["file_name"]
        for (name, (xmin, ymin, xmax, ymax), truncated), entry in zip(
            _objects(path), raw["data"]["annotations"]["image_1"], strict=True
        ):
            x, y, w, h = entry["data"]
            assert name == "car" and truncated == "0"
            assert 1 <= xmin <= xmax <= 640 and 1 <= ymin <= ymax <= 480
            assert abs((xmin - 1) - x) <= 1 and abs((ymin - 1) - y) <= 1
            assert abs(xmax - (x + w)) <= 1 and abs(ymax - (y + h)) <= 1
    listed = [
        (tmp_path / "ImageSets" / "Main" / f"{s}.txt").read_text().split() for s in ("train", "val")
    ]
    assert sorted(listed[0] + listed[1]) == sorted(f"img_{r['id']}" for r in records)
    assert (tmp_path / "labels.txt").read_text() == "car\n"


@given(
    box=st.tuples(
        st.floats(-200, 300), st.floats(-200, 300), st.floats(0.01, 400), st.floats(0.01, 400)
    )
)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_voc_clamps_into_the_image(box: tuple[float, float, float, float]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        report = write_export(
            [bbox_record(1, [(*box, "x")], width=100, height=80)], format="voc", output_dir=tmp
        )
        objects = _objects(Path(tmp) / "Annotations" / "img_1.xml")
    assert len(objects) + report.outside == 1
    for _, (xmin, ymin, xmax, ymax), truncated in objects:
        assert 1 <= xmin <= xmax <= 100 and 1 <= ymin <= ymax <= 80
        assert truncated == ("1" if report.clamped else "0")


def test_voc_objects_from_polygons_and_weird_labels() -> None:
    docs = export_voc([polygon_record(1, [([(5, 5), (50, 5), (20, 40)], "a<b&c\x01")])])
    root = ET.fromstring(docs["poly_1.xml"])
    assert root.findtext("object/name") == "a<b&c\ufffd"
    assert root.findtext("object/bndbox/xmin") == "6"
    assert root.findtext("object/bndbox/xmax") == "50"


def test_csv_rows_quoting_and_columns() -> None:
    tricky = 'he said "hi", then\nleft'
    raw = {
        "id": 5,
        "file_name": "a,b.jpg",
        "width": 10,
        "height": 10,
        "text": "Ann went",
        "data": compact_doc(
            [
                {"id": "b", "type": "bbox", "data": [1, 2.5, 3, 4], "classification": tricky},
                {
                    "id": "p",
                    "type": "polygon",
                    "data": [[0, 0], [4, 0], [4, 3]],
                    "classification": "tri",
                },
                {
                    "id": "k",
                    "type": "keypoint",
                    "data": [[1, 1], [2, 2, 0]],
                    "classification": "pose",
                },
                {"id": "n", "type": "ner", "data": [0, 3], "classification": "PER"},
                {
                    "id": "c",
                    "type": "classification",
                    "classification": {"class": "day", "light": "dim"},
                },
            ]
        ),
    }
    text = export_csv([raw])
    assert text.startswith(",".join(CSV_COLUMNS) + "\r\n")
    assert '"he said ""hi"", then\nleft"' in text
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["tool"] for r in rows] == [
        "bounding_box",
        "polygon",
        "keypoint",
        "named_entity",
        "classification",
    ]
    box, poly, kp, ner, cls = rows
    assert box["label"] == tricky and box["file_name"] == "a,b.jpg"
    assert (box["x"], box["y"], box["width"], box["height"]) == ("1", "2.5", "3", "4")
    assert poly["points"] == "[[0.0,0.0],[4.0,0.0],[4.0,3.0]]"
    assert (poly["width"], poly["height"]) == ("4", "3")
    assert kp["points"] == "[[1.0,1.0,2],[2.0,2.0,0]]"
    assert (ner["start"], ner["end"], ner["text"]) == ("0", "3", "Ann")
    assert cls["label"] == "day" and cls["attributes"] == '{"light":"dim"}'
    assert all(r["split"] == "default" and r["item_id"] == "5" for r in rows)


def test_csv_report(tmp_path: Path) -> None:
    report = write_export(
        [bbox_record(1, [(1, 1, 2, 2, "a"), (5, 5, 1, 1, "b")])], format="csv", output_dir=tmp_path
    )
    assert report.annotations_written == 2 and report.files == (
        "annotations.csv",
        "export_report.json",
    )
    assert (tmp_path / "annotations.csv").read_bytes().count(b"\r\n") == 3


@pytest.mark.parametrize("columns", [CSV_COLUMNS])
def test_csv_columns_are_stable(columns: tuple[str, ...]) -> None:
    assert columns[:9] == (
        "item_id",
        "media_id",
        "file_name",
        "split",
        "image_width",
        "image_height",
        "annotation_id",
        "tool",
        "label",
    )
    assert len(columns) == 19


def test_voc_plain_box_fast_path_matches_the_general_path(tmp_path: Path) -> None:
    rng = random.Random(4)
    boxes = [
        (
            rng.uniform(-50, 650),
            rng.uniform(-50, 500),
            rng.uniform(0.1, 300),
            rng.uniform(0.1, 200),
            rng.choice(["car", "a<b&c>", "보행자"]),
        )
        for _ in range(80)
    ]
    corners = [([(x, y), (x + w, y), (x + w, y + h), (x, y + h)], lb) for x, y, w, h, lb in boxes]
    write_export([bbox_record(1, boxes)], format="voc", output_dir=tmp_path / "fast")
    # The same boxes as polygons of their corners take the general path: same bounds.
    poly = polygon_record(1, corners)
    poly["file_name"] = "img_1.jpg"
    write_export([poly], format="voc", output_dir=tmp_path / "slow")
    fast = (tmp_path / "fast" / "Annotations" / "img_1.xml").read_bytes()
    slow = (tmp_path / "slow" / "Annotations" / "img_1.xml").read_bytes()
    assert fast.count(b"<object>") > 40 and fast == slow
    ET.fromstring(fast)  # well-formed
