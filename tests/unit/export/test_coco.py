"""COCO output loads in pycocotools with the same annotations and boxes."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from synapse_async.export import FormatOptions, export_coco, write_export
from tests.unit.export._records import bbox_record, compact_doc, polygon_record

pycocotools_coco = pytest.importorskip("pycocotools.coco")


def _random_records(n: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        boxes = []
        for _ in range(rng.randrange(0, 6)):
            w, h = rng.uniform(1, 200), rng.uniform(1, 150)
            boxes.append(
                (
                    round(rng.uniform(-20, 620), 3),
                    round(rng.uniform(-20, 460), 3),
                    round(w, 3),
                    round(h, 3),
                    rng.choice(["car", "bus", "dog"]),
                )
            )
        records.append(bbox_record(i + 1, boxes, compact=bool(i % 2)))
    return records


def test_pycocotools_round_trip(tmp_path: Path) -> None:
    records = _random_records(60)
    expected = [a for r in records for a in r["data"]["annotations"]["image_1"]]
    report = write_export(records, format="coco", output_dir=tmp_path, labels=["dog", "car", "bus"])
    coco = pycocotools_coco.COCO(str(tmp_path / "annotations" / "instances_default.json"))
    assert len(coco.getImgIds()) == 60 == report.images
    assert len(coco.getAnnIds()) == len(expected) == report.annotations_written
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["dog", "car", "bus"]
    by_ann = []
    for raw in records:
        for entry in raw["data"]["annotations"]["image_1"]:
            if "data" in entry:
                x, y, w, h = entry["data"]
                label = entry["classification"]
            else:
                coord = next(
                    d["coordinate"]
                    for d in raw["data"]["annotationsData"]["image_1"]
                    if d["id"] == entry["id"]
                )
                x, y, w, h = coord["x"], coord["y"], coord["width"], coord["height"]
                label = entry["classification"]["class"]
            by_ann.append((raw["file_name"], [x, y, w, h], label))
    for ann_id, (file_name, box, label) in zip(sorted(coco.getAnnIds()), by_ann, strict=True):
        ann = coco.loadAnns(ann_id)[0]
        assert coco.loadImgs(ann["image_id"])[0]["file_name"] == file_name
        assert ann["bbox"] == pytest.approx(box)
        assert ann["area"] == pytest.approx(box[2] * box[3])
        assert coco.loadCats(ann["category_id"])[0]["name"] == label
        assert ann["iscrowd"] == 0


def test_splits_share_category_ids_and_image_ids_are_unique(tmp_path: Path) -> None:
    records = _random_records(80)
    report = write_export(
        records, format="coco", output_dir=tmp_path, split={"train": 0.5, "val": 0.5}, seed=4
    )
    docs = {
        s: json.loads((tmp_path / "annotations" / f"instances_{s}.json").read_text())
        for s in ("train", "val")
    }
    assert docs["train"]["categories"] == docs["val"]["categories"]
    ids = [i["id"] for d in docs.values() for i in d["images"]]
    assert len(ids) == len(set(ids)) == 80
    for split, doc in docs.items():
        assert len(doc["images"]) == report.splits[split].items
        assert len(doc["annotations"]) == report.splits[split].annotations
        image_ids = {i["id"] for i in doc["images"]}
        assert all(a["image_id"] in image_ids for a in doc["annotations"])


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_polygons_keypoints_masks_and_rotation(tmp_path: Path) -> None:
    poly = polygon_record(1, [([(10, 10), (110, 10), (110, 60)], "roof")], width=200, height=100)
    other = {
        "id": 2,
        "file_name": "k.jpg",
        "width": 20,
        "height": 10,
        "data": compact_doc(
            [
                {
                    "id": "k",
                    "type": "keypoint",
                    "data": [[1, 2], [3, 4, 1], [0, 0, 0]],
                    "names": ["a", "b", "c"],
                    "skeleton": [[0, 1]],
                    "classification": "person",
                },
                {
                    "id": "m",
                    "type": "segmentation",
                    "data": [0, 1, 21, 22, 39],
                    "classification": "blob",
                },
                {
                    "id": "r",
                    "type": "bbox",
                    "data": [5, 2, 4, 2, 0.3],
                    "classification": "car",
                    "attributes": {"occluded": True},
                },
                {"id": "l", "type": "polyline", "data": [[0, 0], [1, 1]], "classification": "lane"},
                {"id": "c", "type": "classification", "classification": "day"},
            ]
        ),
    }
    report = write_export([poly, other], format="coco", output_dir=tmp_path)
    assert report.skipped == {"polyline": 1, "classification": 1}
    path = tmp_path / "annotations" / "instances_default.json"
    coco = pycocotools_coco.COCO(str(path))
    anns = {a["id"]: a for a in coco.loadAnns(coco.getAnnIds())}
    roof, person, blob, car = (anns[i] for i in (1, 2, 3, 4))
    assert roof["segmentation"] == [[10, 10, 110, 10, 110, 60]]
    assert roof["area"] == pytest.approx(2500) and roof["bbox"] == [10, 10, 100, 50]
    assert coco.annToMask(roof).sum() == pytest.approx(2500, rel=0.05)
    assert person["keypoints"] == [1, 2, 2, 3, 4, 1, 0, 0, 0] and person["num_keypoints"] == 2
    cat = coco.loadCats(person["category_id"])[0]
    assert cat["keypoints"] == ["a", "b", "c"] and cat["skeleton"] == [[1, 2]]
    mask = coco.annToMask(blob)
    assert mask.sum() == 5 == blob["area"]
    assert {(int(y), int(x)) for y, x in zip(*mask.nonzero(), strict=True)} == {
        (0, 0),
        (0, 1),
        (1, 1),
        (1, 2),
        (1, 19),
    }
    assert blob["bbox"] == [0, 0, 20, 2]
    assert car["attributes"] == {"occluded": True, "rotation": 0.3}
    assert len(car["segmentation"][0]) == 8


def test_export_coco_small_helper() -> None:
    doc = export_coco([bbox_record(1, [(1, 2, 3, 4, "car")])])
    assert doc["annotations"][0]["bbox"] == [1, 2, 3, 4]
    split = export_coco([bbox_record(1, [(1, 2, 3, 4, "car")])], split={"train": 1})
    assert set(split) == {"train"}


def test_mask_without_size_is_rejected(tmp_path: Path) -> None:
    raw = {
        "id": 1,
        "data": compact_doc(
            [{"id": "m", "type": "segmentation", "data": [1], "classification": "blob"}]
        ),
    }
    report = write_export([raw], format="coco", output_dir=tmp_path, options=FormatOptions())
    assert report.invalid == {"missing_image_size": 1} and report.images_without_size == 1


def test_plain_boxes_fast_path_writes_what_the_general_path_writes(tmp_path: Path) -> None:
    rng = random.Random(9)
    boxes = [
        (
            rng.choice([0.1, 3, 7.25, -2.5, 1e-7, 123456.789]) + rng.random() * i,
            rng.random() * 50,
            rng.choice([0.3, 2, 1e-3, 0.1 + 0.2]) + rng.random(),
            rng.random() * 40 + 0.5,
            "car",
        )
        for i in range(60)
    ]
    plain = bbox_record(1, boxes)
    extra = bbox_record(1, boxes)  # an attribute sends every box down the general path
    for entry in extra["data"]["annotations"]["image_1"]:
        entry["attributes"] = {"k": 1}
    write_export([plain], format="coco", output_dir=tmp_path / "fast")
    write_export([extra], format="coco", output_dir=tmp_path / "slow")
    name = "annotations/instances_default.json"
    fast = json.loads((tmp_path / "fast" / name).read_text())
    slow = json.loads((tmp_path / "slow" / name).read_text())
    for ann in slow["annotations"]:
        assert ann.pop("attributes") == {"k": 1}
    assert fast == slow
    assert (tmp_path / "fast" / name).read_text() == json.dumps(
        fast, separators=(",", ":"), ensure_ascii=False
    ) + "\n"
