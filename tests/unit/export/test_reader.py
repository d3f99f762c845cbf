"""The DM schema v1 reader: both shapes, every tool, invalid and unknown annotations."""

from __future__ import annotations

import math

import pytest

from synapse_async.emulator.seed import SAMPLE_ANNOTATION
from synapse_async.export import (
    BoundingBox,
    Classification,
    Keypoint,
    KeypointSet,
    NamedEntity,
    Polygon,
    Polyline,
    Segmentation,
    read_document,
    read_item,
)
from tests.unit.export._records import compact_doc, full_doc

FULL = full_doc(
    [
        (
            {"id": "b", "tool": "bounding_box", "classification": {"class": "car", "color": "red"}},
            {"id": "b", "coordinate": {"x": 1, "y": 2, "width": 3, "height": 4, "rotation": 0.5}},
        ),
        (
            {"id": "p", "tool": "polygon", "classification": {"class": "road"}},
            {
                "id": "p",
                "coordinate": [
                    {"x": 0, "y": 0, "id": "q"},
                    {"x": 5, "y": 0, "id": "r"},
                    {"x": 5, "y": 5, "id": "s"},
                ],
            },
        ),
        (
            {"id": "l", "tool": "polyline", "classification": {"class": "lane"}},
            {"id": "l", "coordinate": [{"x": 0, "y": 0}, {"x": 9, "y": 9}]},
        ),
        (
            {"id": "k", "tool": "keypoint", "classification": {"class": "nose"}},
            {"id": "k", "coordinate": {"x": 7, "y": 8}},
        ),
        (
            {"id": "ks", "tool": "keypoint", "classification": {"class": "person"}},
            {
                "id": "ks",
                "coordinate": [
                    {"x": 1, "y": 1},
                    {"x": 2, "y": 2, "visible": False},
                    {"x": 0, "y": 0, "v": 0},
                ],
                "names": ["head", "hand", "foot"],
                "skeleton": [[0, 1], [1, 2]],
            },
        ),
        ({"id": "c", "tool": "classification", "classification": {"class": "day"}}, {"id": "c"}),
        (
            {"id": "e", "tool": "named_entity", "classification": {"class": "PERSON"}},
            {"id": "e", "ranges": [{"start": 0, "end": 4}], "content": "John"},
        ),
        (
            {"id": "m", "tool": "segmentation", "classification": {"class": "blob"}},
            {"id": "m", "pixel_indices": [0, 1, 10]},
        ),
        (
            {"id": "v", "tool": "segmentation", "classification": {"class": "jump"}},
            {"id": "v", "section": {"startFrame": 3, "endFrame": 9}},
        ),
    ]
)

COMPACT = compact_doc(
    [
        {
            "id": "b",
            "type": "bbox",
            "data": [1, 2, 3, 4, 0.5],
            "classification": {"class": "car", "color": "red"},
        },
        {"id": "p", "type": "polygon", "data": [[0, 0], [5, 0], [5, 5]], "classification": "road"},
        {"id": "l", "type": "polyline", "data": [0, 0, 9, 9], "classification": "lane"},
        {"id": "k", "type": "keypoint", "data": [7, 8], "classification": "nose"},
        {
            "id": "ks",
            "type": "keypoints",
            "data": [[1, 1], [2, 2, 1], [0, 0, 0]],
            "names": ["head", "hand", "foot"],
            "skeleton": [[0, 1], [1, 2]],
            "classification": "person",
        },
        {"id": "c", "type": "classification", "classification": "day"},
        {"id": "e", "type": "ner", "data": [0, 4], "text": "John", "classification": "PERSON"},
        {"id": "m", "type": "segmentation", "data": [0, 1, 10], "classification": "blob"},
        {
            "id": "v",
            "type": "segmentation",
            "data": {"startFrame": 3, "endFrame": 9},
            "classification": "jump",
        },
    ]
)


def test_both_shapes_read_the_same() -> None:
    full, compact = read_document(FULL), read_document(COMPACT)
    assert full.invalid == {} and full.unknown_tools == {}
    assert compact.invalid == {} and compact.unknown_tools == {}
    assert full.media["image_1"] == compact.media["image_1"]


def test_geometries() -> None:
    anns = {a.id: a for a in read_document(FULL).media["image_1"]}
    assert anns["b"].geometry == BoundingBox(1, 2, 3, 4, 0.5)
    assert anns["b"].label == "car" and anns["b"].attributes == {"color": "red"}
    assert anns["p"].geometry == Polygon(((0, 0), (5, 0), (5, 5)))
    assert anns["l"].geometry == Polyline(((0, 0), (9, 9)))
    assert anns["k"].geometry == Keypoint(7, 8, 2)
    assert anns["ks"].geometry == KeypointSet(
        (Keypoint(1, 1, 2), Keypoint(2, 2, 1), Keypoint(0, 0, 0)),
        ("head", "hand", "foot"),
        ((0, 1), (1, 2)),
    )
    assert anns["c"].geometry == Classification() and anns["c"].label == "day"
    assert anns["e"].geometry == NamedEntity(0, 4, "John")
    assert anns["m"].geometry == Segmentation(pixel_indices=(0, 1, 10))
    assert anns["v"].geometry == Segmentation(frames=(3, 9))
    assert [a.tool for a in anns.values()] == [
        "bounding_box",
        "polygon",
        "polyline",
        "keypoint",
        "keypoint",
        "classification",
        "named_entity",
        "segmentation",
        "segmentation",
    ]


def test_emulator_sample_annotation() -> None:
    parsed = read_document(SAMPLE_ANNOTATION)
    (ann,) = parsed.media["image_1"]
    assert ann.geometry == BoundingBox(10, 20, 30, 40) and ann.label == "car"


def test_rotated_box_bounds_contain_corners() -> None:
    box = BoundingBox(10, 10, 40, 20, math.pi / 2)
    x0, y0, x1, y1 = box.bounds()
    assert (x0, y0, x1, y1) == pytest.approx((20, 0, 40, 40))


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ({"type": "bbox", "data": [float("nan"), 0, 1, 1]}, "non_finite"),
        ({"type": "bbox", "data": [0, 0, float("inf"), 1]}, "non_finite"),
        ({"type": "bbox", "data": [0, 0, -1, 1]}, "negative_size"),
        ({"type": "bbox", "data": [0, 0, 0, 1]}, "zero_area"),
        ({"type": "bbox", "data": [0, 0, 1]}, "arity"),
        ({"type": "bbox", "data": [0, 0, 1, 1, 0, 9]}, "arity"),
        ({"type": "bbox", "data": ["1", 0, 1, 1]}, "not_a_number"),
        ({"type": "bbox", "data": [True, 0, 1, 1]}, "not_a_number"),
        ({"type": "bbox"}, "missing_coordinates"),
        ({"type": "polygon", "data": [[0, 0], [1, 1]]}, "too_few_points"),
        ({"type": "polygon", "data": [[0, 0, 0], [1, 1], [2, 2]]}, "arity"),
        ({"type": "polygon", "data": [0, 0, 1, 1, 2]}, "arity"),
        ({"type": "polyline", "data": [[0, 0]]}, "too_few_points"),
        ({"type": "keypoint", "data": [1, 2, 5]}, "visibility"),
        ({"type": "keypoint", "data": [[1, 2]], "skeleton": [[0, 3]]}, "skeleton"),
        ({"type": "ner", "data": [5, 5]}, "empty_span"),
        ({"type": "ner", "data": [5, 2]}, "negative_span"),
        ({"type": "ner", "data": [1.5, 2]}, "not_an_integer"),
        (
            {"type": "ner", "ranges": [{"start": 0, "end": 1}, {"start": 2, "end": 3}]},
            "multi_range",
        ),
        ({"type": "segmentation", "data": [-1]}, "negative_index"),
        ({"type": "segmentation", "data": []}, "empty_mask"),
    ],
)
def test_invalid_geometry_is_counted_not_raised(entry: dict[str, object], reason: str) -> None:
    good = {"id": "ok", "type": "bbox", "data": [0, 0, 1, 1], "classification": "car"}
    doc = compact_doc([{"id": "x", "classification": "car", **entry}, good])
    parsed = read_document(doc)
    assert parsed.invalid == {reason: 1}
    assert [a.id for a in parsed.media["image_1"]] == ["ok"]


def test_missing_label_and_orphans() -> None:
    doc = full_doc(
        [
            (
                {"id": "a", "tool": "bounding_box"},
                {"id": "a", "coordinate": {"x": 0, "y": 0, "width": 1, "height": 1}},
            )
        ]
    )
    doc["annotationsData"]["image_1"].append({"id": "zzz", "coordinate": {}})
    doc["annotationsData"]["image_2"] = [{"id": "q"}]
    parsed = read_document(doc)
    assert parsed.invalid == {"missing_label": 1, "orphan_data": 2}


def test_unknown_tools_are_counted_per_name() -> None:
    doc = compact_doc(
        [
            {"id": "1", "type": "cuboid", "data": [1, 2, 3], "classification": "car"},
            {"id": "2", "type": "cuboid", "data": [1, 2, 3], "classification": "car"},
            {"id": "3", "tool": "3d_box", "classification": {"class": "car"}},
            {"id": "4", "classification": "car"},
            {"id": "5", "type": "bbox", "data": [0, 0, 1, 1], "classification": "car"},
        ]
    )
    parsed = read_document(doc)
    assert parsed.unknown_tools == {"cuboid": 2, "3d_box": 1, "<missing>": 1}
    assert len(parsed.media["image_1"]) == 1


@pytest.mark.parametrize(
    "doc",
    [
        None,
        {},
        {"annotations": None},
        {"annotations": "x"},
        {"annotations": {"image_1": "nope"}},
        [1, 2],
    ],
)
def test_degenerate_documents(doc: object) -> None:
    parsed = read_document(doc)  # type: ignore[arg-type]
    assert all(not anns for anns in parsed.media.values())


def test_read_item_media_and_metadata() -> None:
    raw = {
        "id": 7,
        "data": {
            "annotations": {
                "image_1": [
                    {"id": "a", "type": "bbox", "data": [0, 0, 1, 1], "classification": "x"}
                ],
                "image_2": [],
            }
        },
        "files": {
            "image_1": {
                "url": "https://cdn.example/a/b/photo%201.jpg?sig=1",
                "meta": {"width": 640, "height": 480},
            },
            "image_2": {"file_name": "../../etc/passwd", "width": 10, "height": 20},
            "text_1": {"text": "hello"},
        },
    }
    item = read_item(raw, split="train")
    assert item.id == "7" and item.split == "train"
    names = [(r.media_id, r.file_name, r.width, r.height, r.text) for r in item.records]
    assert names == [
        ("image_1", "photo 1.jpg", 640, 480, None),
        ("image_2", "passwd", 10, 20, None),
        ("text_1", "7_text_1", None, None, "hello"),
    ]
    assert item.annotation_count == 1


def test_read_item_top_level_metadata_and_fallbacks() -> None:
    item = read_item(
        {"id": 3, "file_name": "/abs/x.jpg", "width": 5.0, "height": 0, "text": "t", "data": None}
    )
    (rec,) = item.records
    assert (rec.media_id, rec.file_name, rec.width, rec.height, rec.text) == (
        None,
        "x.jpg",
        5,
        None,
        "t",
    )
    anonymous = read_item({"data": {}}, fallback_id="item-9")
    assert anonymous.id == "item-9" and anonymous.records[0].file_name == "item-9"
