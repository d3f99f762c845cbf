"""YOLO: round trips within a pixel, every value in [0, 1], clamping counted exactly."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from synapse_async.export import FormatOptions, SplitPlan, export_yolo, write_export
from synapse_async.export.geometry import NEGLIGIBLE_AREA
from tests.unit.export._records import bbox_record, compact_doc, polygon_record

yaml = pytest.importorskip("yaml")


def _rows(path: Path) -> list[list[float]]:
    return [[float(v) for v in line.split()] for line in path.read_text().splitlines()]


def _expected(
    box: tuple[float, float, float, float], width: float, height: float
) -> tuple[str, tuple[float, float, float, float] | None]:
    x, y, w, h = box
    return _verdict((x, y, x + w, y + h), width, height)


def _verdict(
    raw: tuple[float, float, float, float], width: float, height: float
) -> tuple[str, tuple[float, float, float, float] | None]:
    """The spec: clip to the image; no area left -> outside; any side moved -> clamped."""
    c = (
        min(max(raw[0], 0), width),
        min(max(raw[1], 0), height),
        min(max(raw[2], 0), width),
        min(max(raw[3], 0), height),
    )
    if not (c[0] < c[2] and c[1] < c[3]):
        return "outside", None
    return ("clamped" if c != raw else "inside"), c


def test_round_trip_within_one_pixel(tmp_path: Path) -> None:
    boxes = [
        (0, 0, 640, 480, "a"),
        (10.25, 20.5, 30.75, 40.125, "b"),
        (600, 400, 40, 80, "a"),
        (-5, -5, 20, 20, "c"),
        (630, 470, 50, 50, "b"),
        (700, 10, 5, 5, "a"),
    ]
    report = write_export([bbox_record(1, boxes)], format="yolo", output_dir=tmp_path)
    rows = _rows(tmp_path / "labels" / "default" / "img_1.txt")
    assert report.clamped == 2 and report.outside == 1 and len(rows) == 5
    names = (tmp_path / "classes.txt").read_text().splitlines()
    kept = [b for b in boxes if _expected(b[:4], 640, 480)[0] != "outside"]
    for row, box in zip(rows, kept, strict=True):
        cls, cx, cy, w, h = row
        assert names[int(cls)] == box[4]
        _, (x0, y0, x1, y1) = _expected(box[:4], 640, 480)  # type: ignore[misc]
        back = ((cx - w / 2) * 640, (cy - h / 2) * 480, (cx + w / 2) * 640, (cy + h / 2) * 480)
        assert back == pytest.approx((x0, y0, x1, y1), abs=1.0)
        assert back == pytest.approx((x0, y0, x1, y1), abs=0.01)  # 6 decimals at 640 px


box_strategy = st.tuples(
    st.floats(-500, 1500, allow_nan=False),
    st.floats(-500, 1500, allow_nan=False),
    st.floats(0.01, 1200, allow_nan=False),
    st.floats(0.01, 1200, allow_nan=False),
)


@given(
    size=st.tuples(st.integers(1, 1000), st.integers(1, 1000)),
    boxes=st.lists(box_strategy, max_size=12),
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_boxes(size: tuple[int, int], boxes: list[tuple[float, ...]]) -> None:
    width, height = size
    labelled = [(*b, "obj") for b in boxes]
    with tempfile.TemporaryDirectory() as tmp:
        report = write_export(
            [bbox_record(1, labelled, width=width, height=height)],  # type: ignore[arg-type]
            format="yolo",
            output_dir=tmp,
        )
        rows = _rows(Path(tmp) / "labels" / "default" / "img_1.txt")
    verdicts = [_expected(b, width, height) for b in boxes]  # type: ignore[arg-type]
    assert report.outside == sum(v == "outside" for v, _ in verdicts)
    assert report.clamped == sum(v == "clamped" for v, _ in verdicts)
    assert len(rows) == len(boxes) - report.outside == report.annotations_written
    for row, (_, clipped) in zip(rows, [v for v in verdicts if v[0] != "outside"], strict=True):
        assert len(row) == 5 and row[0] == 0
        assert all(0.0 <= v <= 1.0 for v in row[1:])
        cx, cy, w, h = row[1:]
        assert clipped is not None
        x0, y0, x1, y1 = clipped
        assert (cx - w / 2) * width == pytest.approx(x0, abs=1.0)
        assert (cy - h / 2) * height == pytest.approx(y0, abs=1.0)
        assert (cx + w / 2) * width == pytest.approx(x1, abs=1.0)
        assert (cy + h / 2) * height == pytest.approx(y1, abs=1.0)


def _area(pts: list[tuple[float, float]]) -> float:
    n = len(pts)
    return (
        abs(
            sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n))
        )
        / 2
    )


def _clip(pts: list[tuple[float, float]], width: float, height: float) -> list[tuple[float, float]]:
    return [(min(max(x, 0.0), width), min(max(y, 0.0), height)) for x, y in pts]


point = st.tuples(st.floats(-300, 900, allow_nan=False), st.floats(-300, 900, allow_nan=False))


@given(
    size=st.tuples(st.integers(1, 600), st.integers(1, 600)),
    polygons=st.lists(st.lists(point, min_size=3, max_size=8), max_size=6),
    task=st.sampled_from(["detect", "segment"]),
)
@example(  # area 1.7e-233 px²: float noise, counted as no area by both sides
    size=(1, 1),
    polygons=[[(0.0, 1.0), (0.0, 0.0), (1.0, 0.0), (0.0, 3.37e-233), (0.0, 1.0), (1.0, 0.0)]],
    task="segment",
)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_property_polygons(
    size: tuple[int, int], polygons: list[list[tuple[float, float]]], task: str
) -> None:
    width, height = size
    raw = polygon_record(1, [(p, "shape") for p in polygons], width=width, height=height)
    with tempfile.TemporaryDirectory() as tmp:
        report = write_export(
            [raw], format="yolo", output_dir=tmp, options=FormatOptions(yolo_task=task)
        )
        rows = _rows(Path(tmp) / "labels" / "default" / "poly_1.txt")
    valid = [p for p in polygons if _area(p) > NEGLIGIBLE_AREA]
    assert report.invalid.get("zero_area", 0) == len(polygons) - len(valid)
    polygons = valid
    outside = 0
    clamped = 0
    for pts in polygons:
        verdict, _ = _verdict(_bounds(pts), width, height)
        if verdict == "outside" or (
            task == "segment" and _area(_clip(pts, width, height)) <= NEGLIGIBLE_AREA
        ):
            outside += 1
        elif task == "segment":
            clamped += any(not (0 <= x <= width and 0 <= y <= height) for x, y in pts)
        else:
            clamped += verdict == "clamped"
    assert report.outside == outside and len(rows) == len(polygons) - outside
    if task == "segment":
        assert report.clamped == clamped
        assert all(
            len(r) == 1 + 2 * len(p)
            for r, p in zip(
                rows,
                [
                    p
                    for p in polygons
                    if _in(p, width, height) and _area(_clip(p, width, height)) > NEGLIGIBLE_AREA
                ],
                strict=True,
            )
        )
    for row in rows:
        assert all(0.0 <= v <= 1.0 for v in row[1:])


def _bounds(pts: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _in(pts: list[tuple[float, float]], width: int, height: int) -> bool:
    return _verdict(_bounds(pts), width, height)[0] != "outside"


def test_data_yaml_classes_and_splits(tmp_path: Path) -> None:
    labels = [
        "plain",
        'with "quotes"',
        "colon: yes",
        "tab\there",
        "ünï",
        "#hash",
        "- dash",
        "new\nline",
        "emoji 🚗",
        "back\\slash",
        "\u2028sep",
    ]
    records = [bbox_record(i, [(1, 1, 5, 5, labels[i % len(labels)])]) for i in range(200)]
    report = write_export(
        records,
        format="yolo",
        output_dir=tmp_path,
        labels=labels,
        split={"train": 0.7, "val": 0.2, "test": 0.1},
        seed=11,
    )
    data = yaml.safe_load((tmp_path / "data.yaml").read_text(encoding="utf-8"))
    assert data["names"] == dict(enumerate(labels)) and data["nc"] == len(labels)
    assert (data["train"], data["val"], data["test"]) == (
        "images/train",
        "images/val",
        "images/test",
    )
    assert "path" not in data
    classes = (tmp_path / "classes.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert classes == [n.replace("\n", "\\n") for n in labels]  # escaped, not a space
    plan = SplitPlan({"train": 0.7, "val": 0.2, "test": 0.1}, seed=11)
    for raw in records:
        split = plan.assign(str(raw["id"]))
        assert (tmp_path / "labels" / split / f"img_{raw['id']}.txt").exists()
        assert (tmp_path / "images" / split).is_dir()
    counts = {s: c.items for s, c in report.splits.items()}
    assert sum(counts.values()) == 200 and all(counts[s] > 0 for s in counts)
    assert sum(report.per_image_files.values()) == 200


def test_split_is_deterministic_and_order_independent(tmp_path: Path) -> None:
    records = [bbox_record(i, [(1, 1, 5, 5, "a")]) for i in range(100)]
    ratio = {"train": 0.8, "val": 0.2}
    a = write_export(records, format="yolo", output_dir=tmp_path / "a", split=ratio, seed=5)
    b = write_export(records[::-1], format="yolo", output_dir=tmp_path / "b", split=ratio, seed=5)
    for split in ratio:
        assert sorted(p.name for p in (tmp_path / "a" / "labels" / split).iterdir()) == sorted(
            p.name for p in (tmp_path / "b" / "labels" / split).iterdir()
        )
    assert a.splits == b.splits
    c = write_export(records, format="yolo", output_dir=tmp_path / "c", split=ratio, seed=6)
    assert c.splits != a.splits or sorted((tmp_path / "c" / "labels" / "val").iterdir()) != sorted(
        (tmp_path / "a" / "labels" / "val").iterdir()
    )


def test_segment_obb_pose_rows(tmp_path: Path) -> None:
    raw = {
        "id": 1,
        "file_name": "p.jpg",
        "width": 100,
        "height": 50,
        "data": compact_doc(
            [
                {"id": "b", "type": "bbox", "data": [10, 10, 20, 10], "classification": "car"},
                {
                    "id": "r",
                    "type": "bbox",
                    "data": [40, 20, 20, 10, math.pi / 2],
                    "classification": "car",
                },
                {
                    "id": "p",
                    "type": "polygon",
                    "data": [[0, 0], [50, 0], [150, 25]],
                    "classification": "road",
                },
                {
                    "id": "k",
                    "type": "keypoint",
                    "data": [[10, 10], [20, 20, 1], [500, 5], [0, 0, 0]],
                    "classification": "person",
                },
            ]
        ),
    }
    seg = write_export(
        [raw],
        format="yolo",
        output_dir=tmp_path / "s",
        options=FormatOptions(yolo_task="segment"),
        labels=["car", "road", "person"],
    )
    rows = _rows(tmp_path / "s" / "labels" / "default" / "p.txt")
    assert rows[0] == [0, 0.1, 0.2, 0.3, 0.2, 0.3, 0.4, 0.1, 0.4]
    assert rows[2] == [1, 0, 0, 0.5, 0, 1.0, 0.5]
    assert seg.clamped == 1 and seg.skipped == {"keypoint": 1}
    obb = write_export(
        [raw], format="yolo", output_dir=tmp_path / "o", options=FormatOptions(yolo_task="obb")
    )
    assert obb.skipped == {"polygon": 1, "keypoint": 1}
    rows = _rows(tmp_path / "o" / "labels" / "default" / "p.txt")
    assert len(rows) == 2 and rows[1][1:] == pytest.approx(
        [0.55, 0.3, 0.55, 0.7, 0.45, 0.7, 0.45, 0.3]
    )
    pose = write_export(
        [raw],
        format="yolo",
        output_dir=tmp_path / "k",
        options=FormatOptions(yolo_task="pose", keypoint_count=5),
    )
    (row,) = _rows(tmp_path / "k" / "labels" / "default" / "p.txt")
    assert row[:5] == pytest.approx([0, 0.15, 0.3, 0.1, 0.2])
    assert row[5:] == pytest.approx([0.1, 0.2, 2, 0.2, 0.4, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    assert pose.clamped == 1
    data = yaml.safe_load((tmp_path / "k" / "data.yaml").read_text())
    assert data["kpt_shape"] == [5, 3]


def test_missing_size_writes_no_label_file(tmp_path: Path) -> None:
    raw = bbox_record(1, [(1, 1, 2, 2, "a")])
    del raw["width"]
    empty = {"id": 2, "file_name": "bg.jpg", "width": 10, "height": 10, "data": None}
    report = write_export([raw, empty], format="yolo", output_dir=tmp_path)
    assert report.invalid == {"missing_image_size": 1} and report.images_without_size == 1
    assert not (tmp_path / "labels" / "default" / "img_1.txt").exists()
    assert (tmp_path / "labels" / "default" / "bg.txt").read_text() == ""


def test_export_yolo_helper_shape(tmp_path: Path) -> None:
    out = export_yolo(
        [bbox_record(i, [(1, 1, 5, 5, "car")]) for i in range(20)],
        output_dir=tmp_path,
        labels=["car", "truck"],
    )
    assert set(out) >= {"images_dir", "labels_dir", "classes", "data_yaml"}
    assert out["classes"] == ["car", "truck"]
    assert out["data_yaml"]["names"] == {0: "car", 1: "truck"}
    assert out["data_yaml"]["train"] == "images/train"
    assert Path(out["labels_dir"], "train").is_dir() and Path(out["images_dir"]).is_dir()
