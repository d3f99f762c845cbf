"""Exports read back by the libraries users train and evaluate with (the ``dev`` extra).

pycocotools (COCO, with COCOeval of the ground truth against itself), supervision (YOLO and
Pascal VOC), pandas (CSV), PyYAML (data.yaml) and spaCy (DocBin). Counts of images, boxes
and classes, and every coordinate (1e-3 relative), must equal the source records.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from synapse_async.export import FormatOptions, write_export
from tests.integration.export_consumers._data import LABELS, Box, dataset, export_with_files

np = pytest.importorskip("numpy")
coco_api = pytest.importorskip("pycocotools.coco")
cocoeval = pytest.importorskip("pycocotools.cocoeval")
yaml = pytest.importorskip("yaml")

SPLIT = {"train": 0.7, "val": 0.3}
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")


def _by_stem(boxes: list[Box]) -> dict[str, list[tuple[float, float, float, float, str]]]:
    out: dict[str, list[tuple[float, float, float, float, str]]] = {}
    for b in boxes:
        out.setdefault(b.file_stem, []).append((b.x, b.y, b.x + b.w, b.y + b.h, b.label))
    return out


def _quiet_eval(
    gt: Any, dt: Any, iou_type: str, cat_ids: list[int] | None = None, sigmas: Any = None
) -> float:
    ev = cocoeval.COCOeval(gt, dt, iou_type)
    if cat_ids is not None:
        ev.params.catIds = cat_ids
    if sigmas is not None:
        ev.params.kpt_oks_sigmas = sigmas
    with contextlib.redirect_stdout(io.StringIO()):
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0])


def _load_coco(path: Path) -> Any:
    with contextlib.redirect_stdout(io.StringIO()):
        return coco_api.COCO(str(path))


def test_coco_pycocotools_counts_coordinates_and_self_eval(tmp_path: Path) -> None:
    source = dataset(40)
    report = export_with_files(source, "coco", tmp_path / "coco", split=SPLIT)
    assert report.complete and report.images_without_size == 0
    expected = _by_stem(source.boxes)
    images = boxes = polys = 0
    for split in SPLIT:
        path = tmp_path / "coco" / "annotations" / f"instances_{split}.json"
        gt = _load_coco(path)
        assert [c["name"] for c in gt.loadCats(gt.getCatIds())] == LABELS
        images += len(gt.getImgIds())
        for img in gt.loadImgs(gt.getImgIds()):
            assert img["file_name"].endswith(".png") and img["width"] > 0 and img["height"] > 0
            anns = gt.loadAnns(gt.getAnnIds(imgIds=img["id"]))
            got_boxes = [
                a
                for a in anns
                if len(a["segmentation"][0]) == 8 and a["area"] == a["bbox"][2] * a["bbox"][3]
            ]
            want = expected.get(img["file_name"].rsplit(".", 1)[0], [])
            assert len(got_boxes) == len(want)
            for ann, (x0, y0, x1, y1, label) in zip(got_boxes, want, strict=True):
                assert ann["bbox"] == pytest.approx([x0, y0, x1 - x0, y1 - y0], rel=1e-3)
                assert gt.loadCats(ann["category_id"])[0]["name"] == label
            boxes += len(got_boxes)
            polys += len(anns) - len(got_boxes)
            for ann in anns:  # every annotation has a mask: boxes carry their polygon
                assert gt.annToMask(ann).sum() > 0
        results = [
            {
                "image_id": a["image_id"],
                "category_id": a["category_id"],
                "bbox": a["bbox"],
                "segmentation": a["segmentation"],
                "score": 1.0,
            }
            for a in gt.loadAnns(gt.getAnnIds())
        ]
        with contextlib.redirect_stdout(io.StringIO()):
            dt = gt.loadRes(results)
        assert _quiet_eval(gt, dt, "bbox") == pytest.approx(1.0)
        assert _quiet_eval(gt, dt, "segm") == pytest.approx(1.0)
    assert images == len(source.records) and boxes == len(source.boxes)
    assert polys == source.polygons


def _pose_records() -> list[dict[str, Any]]:
    records = []
    for i in range(12):
        pts = [
            [10 + i, 12, 2],
            [30, 14 + i, 2],
            [20, 40, 1],
            [55, 25, 0 if i % 3 == 0 else 2],
            [70 - i, 50, 2],
        ]
        entries = [
            {"id": f"k{i}", "type": "keypoint", "data": pts, "classification": "person"},
            {"id": f"d{i}", "type": "keypoint", "data": [5 + i, 9], "classification": "dot"},
        ]
        records.append(
            {
                "id": i,
                "file_name": f"p{i}.jpg",
                "width": 100,
                "height": 80,
                "data": {"annotations": {"image_1": entries}},
            }
        )
    return records


def test_coco_keypoints_follow_the_spec_and_self_eval_to_one(tmp_path: Path) -> None:
    write_export(_pose_records(), format="coco", output_dir=tmp_path)
    gt = _load_coco(tmp_path / "annotations" / "instances_default.json")
    person, dot = gt.getCatIds(catNms=["person"]), gt.getCatIds(catNms=["dot"])
    for ann in gt.loadAnns(gt.getAnnIds(catIds=person)):
        triples = [ann["keypoints"][i : i + 3] for i in range(0, 15, 3)]
        assert all(t == [0, 0, 0] for t in triples if t[2] == 0)  # v=0 -> 0,0,0
        assert ann["num_keypoints"] == sum(t[2] > 0 for t in triples)
    for ann in gt.loadAnns(gt.getAnnIds(catIds=dot)):
        assert ann["bbox"][2] > 0 and ann["bbox"][3] > 0 and ann["area"] > 0
    results = [
        {
            "image_id": a["image_id"],
            "category_id": a["category_id"],
            "bbox": a["bbox"],
            "keypoints": a["keypoints"],
            "score": 1.0,
        }
        for a in gt.loadAnns(gt.getAnnIds())
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        dt = gt.loadRes(results)
    assert _quiet_eval(gt, dt, "bbox") == pytest.approx(1.0)
    assert _quiet_eval(gt, dt, "keypoints", person, np.full(5, 0.1)) == pytest.approx(1.0)
    assert _quiet_eval(gt, dt, "keypoints", dot, np.full(1, 0.1)) == pytest.approx(1.0)


def _supervision() -> Any:
    return pytest.importorskip("supervision")


def test_yolo_supervision_and_yaml(tmp_path: Path) -> None:
    sv = _supervision()
    source = dataset(40, polygons=False)
    out = tmp_path / "yolo"
    report = export_with_files(
        source, "yolo", out, split=SPLIT, options=FormatOptions(yolo_task="detect")
    )
    assert report.complete
    data = yaml.safe_load((out / "data.yaml").read_text(encoding="utf-8"))
    assert data["names"] == dict(enumerate(LABELS)) and data["nc"] == len(LABELS)
    expected = _by_stem(source.boxes)
    images = boxes = 0
    for split in SPLIT:
        ds = sv.DetectionDataset.from_yolo(
            images_directory_path=str(out / "images" / split),
            annotations_directory_path=str(out / "labels" / split),
            data_yaml_path=str(out / "data.yaml"),
        )
        assert list(ds.classes) == LABELS
        images += len(ds)  # names without a suffix were given one: every image is seen
        for path, det in ds.annotations.items():
            want = sorted(expected.get(Path(path).stem, []), key=lambda b: (b[4], b[:4]))
            got = sorted(
                (
                    (*(float(v) for v in xyxy), ds.classes[c])
                    for xyxy, c in zip(det.xyxy, det.class_id, strict=True)
                ),
                key=lambda b: (b[4], b[:4]),
            )
            assert [g[4] for g in got] == [w[4] for w in want]
            if want:
                assert np.allclose(
                    np.array([g[:4] for g in got]),
                    np.array([w[:4] for w in want], dtype=float),
                    rtol=1e-3,
                    atol=1e-3,
                )
            boxes += len(got)
    assert images == len(source.records) and boxes == len(source.boxes)


def test_voc_supervision_reads_the_devkit_convention(tmp_path: Path) -> None:
    sv = _supervision()
    source = dataset(30, polygons=False)
    out = tmp_path / "voc"
    report = export_with_files(source, "voc", out)
    assert report.complete
    ds = sv.DetectionDataset.from_pascal_voc(
        images_directory_path=str(out / "JPEGImages"),
        annotations_directory_path=str(out / "Annotations"),
    )
    assert len(ds) == len(source.records)
    assert sorted(ds.classes) == sorted({b.label for b in source.boxes})
    expected = _by_stem(source.boxes)
    total = 0
    for path, det in ds.annotations.items():
        got = sorted(
            (tuple(float(v) for v in xyxy), ds.classes[c])
            for xyxy, c in zip(det.xyxy, det.class_id, strict=True)
        )
        want = sorted(
            ((float(x0), float(y0), float(x1), float(y1)), lb)
            for x0, y0, x1, y1, lb in expected.get(Path(path).stem, [])
        )
        assert got == want  # integer boxes come back exactly (xmin - 1, xmax)
        total += len(got)
    assert total == len(source.boxes)
    assert any("'colon: yes', '#hash'" in note for note in report.notes)  # Datumaro can't
    labelmap = (out / "labelmap.txt").read_text(encoding="utf-8").splitlines()
    assert labelmap[0].startswith("# label:color_rgb")
    assert [line.rsplit(":", 3)[0] for line in labelmap[1:]] == [
        lb.replace(":", "_") for lb in report.labels
    ]


def test_csv_pandas_counts_coordinates_and_formula_escaping(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    source = dataset(20, polygons=False)
    hostile = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tTab", "\rCR", "ok"]
    records = json.loads(json.dumps(source.records))
    n = 0
    for rec in records:
        for entry in rec["data"]["annotations"]["image_1"]:
            entry["classification"] = hostile[n % len(hostile)]
            n += 1
    write_export(records, format="csv", output_dir=tmp_path / "on")
    write_export(
        records,
        format="csv",
        output_dir=tmp_path / "off",
        options=FormatOptions(csv_escape_formulas=False),
    )
    on = pd.read_csv(tmp_path / "on" / "annotations.csv", keep_default_na=False)
    off = pd.read_csv(tmp_path / "off" / "annotations.csv", keep_default_na=False)
    assert len(on) == len(off) == len(source.boxes) == n
    want = [(b.x, b.y, b.w, b.h) for b in source.boxes]
    got = list(zip(on["x"], on["y"], on["width"], on["height"], strict=True))
    assert np.allclose(np.array(got, dtype=float), np.array(want, dtype=float), rtol=1e-3)
    labels_on, labels_off = Counter(on["label"]), Counter(off["label"])
    for cell in hostile[:-1]:
        assert labels_on["'" + cell] == labels_off[cell] > 0 and labels_on[cell] == 0
    assert labels_on["ok"] == labels_off["ok"] > 0


def test_spacy_docbin_loads_with_entities_and_empty_export(tmp_path: Path) -> None:
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    text = "Jane Doe paid Acme Corporation in Springfield"
    records = [
        {
            "id": i,
            "text": text,
            "data": {
                "annotations": {
                    "text_1": [
                        {
                            "id": "a",
                            "type": "named_entity",
                            "data": {"start": 0, "end": 8},
                            "classification": "PERSON",
                        },
                        {
                            "id": "b",
                            "type": "named_entity",
                            "data": {"start": 14, "end": 30},
                            "classification": "ORG",
                        },
                    ]
                }
            },
        }
        for i in range(6)
    ]
    report = write_export(records, format="spacy", output_dir=tmp_path / "ner")
    assert report.annotations_written == 12
    nlp = spacy.blank("en")
    docs = list(
        DocBin()
        .from_disk(tmp_path / "ner" / "docbin" / "default" / "part-00000.spacy")
        .get_docs(nlp.vocab)
    )
    assert len(docs) == 6
    assert [(e.text, e.label_) for e in docs[0].ents] == [
        ("Jane Doe", "PERSON"),
        ("Acme Corporation", "ORG"),
    ]
    write_export([], format="spacy", output_dir=tmp_path / "empty")
    empty = tmp_path / "empty" / "docbin" / "default" / "part-00000.spacy"
    assert len(list(DocBin().from_disk(empty).get_docs(nlp.vocab))) == 0
