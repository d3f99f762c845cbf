"""client.exports.export and project.export end to end: every format, exact counts."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from pycocotools.coco import COCO

from synapse_async import AsyncClient, ExportReport
from synapse_async.emulator import Emulator
from tests.integration.exports.conftest import (
    VEHICLES,
    completed_project,
    image_tasks,
    server_annotations,
)

pytestmark = pytest.mark.anyio


def _box(ann: dict[str, object]) -> list[float]:
    c = ann["coordinate"]
    assert isinstance(c, dict)
    return [c["x"], c["y"], c["width"], c["height"]]


async def test_coco_loads_in_pycocotools_with_the_servers_boxes(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    project = await completed_project(client, emulator, image_tasks(30))
    held = server_annotations(emulator, project.id)
    progress: list[tuple[int, int]] = []
    report = await client.exports.export(
        filter={"project": project.id},
        format="coco",
        output_dir=tmp_path,
        labels=VEHICLES,
        on_progress=lambda d, t: progress.append((d, t)),
        page_size=7,
    )
    assert isinstance(report, ExportReport) and report.complete
    total = sum(len(v) for v in held.values())
    assert report.items == 30 and report.annotations_written == total
    coco = COCO(str(tmp_path / "annotations" / "instances_default.json"))
    assert len(coco.getAnnIds()) == total
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == VEHICLES
    for img in coco.loadImgs(coco.getImgIds()):
        assert (img["width"], img["height"]) == (640, 480)
        got = sorted(a["bbox"] for a in coco.loadAnns(coco.getAnnIds(imgIds=img["id"])))
        assert got == sorted(_box(a) for a in held[img["file_name"]])
    assert progress[-1] == (30, 30)
    assert all(a[0] < b[0] and b[1] == 30 for a, b in itertools.pairwise(progress))
    assert (tmp_path / "export_report.json").is_file()


@pytest.mark.parametrize("fmt", ["yolo", "voc", "csv", "json"])
@pytest.mark.parametrize("target", ["assignment", "task"])
async def test_formats_write_every_box(
    client: AsyncClient, emulator: Emulator, tmp_path: Path, fmt: str, target: str
) -> None:
    project = await completed_project(client, emulator, image_tasks(12))
    held = server_annotations(emulator, project.id)
    total = sum(len(v) for v in held.values())
    report = await client.exports.export(
        target=target,
        filter={"project": project.id},
        format=fmt,
        output_dir=tmp_path,
        labels=VEHICLES,
    )
    assert report.items == 12 and report.annotations_written == total
    assert report.clamped == 0 and report.invalid_total == 0 and report.unknown_total == 0
    if fmt == "yolo":
        lines = [
            ln
            for p in (tmp_path / "labels" / "default").glob("*.txt")
            for ln in p.read_text().splitlines()
        ]
        assert len(lines) == total
        assert all(0 <= float(v) <= 1 for ln in lines for v in ln.split()[1:])
    elif fmt == "voc":
        objects = [
            o
            for p in (tmp_path / "Annotations").glob("*.xml")
            for o in ET.parse(p).getroot().iter("object")
        ]
        assert len(objects) == total
    elif fmt == "csv":
        text = (tmp_path / "annotations.csv").read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert len(rows) == total and {r["tool"] for r in rows} == {"bounding_box"}
    else:
        records = [
            json.loads(ln) for ln in (tmp_path / "synapse_default.jsonl").read_text().splitlines()
        ]
        assert len(records) == 12
        if target == "task":  # the task travels with its annotation, as the examples read it
            assert records[0]["task"]["data"]["image_url"].startswith("https://cdn.example")
            assert records[0]["data"]["annotations"]["image_1"]


async def test_named_entities_to_spacy(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    spacy = pytest.importorskip("spacy")
    from spacy.tokens import DocBin

    texts = [
        {"text": f"Acme Corporation hired Jane Doe in Springfield on day {i} ."} for i in range(8)
    ]
    project = await completed_project(
        client,
        emulator,
        texts,
        annotation_type="named_entity",
        data_type="text",
        labels=["ORG", "PERSON", "GPE"],
    )
    docs = emulator.store.list("assignments", limit=None, project=project.id)
    entities = sum(len(d["data"]["annotations"]["text_1"]) for d in docs)
    report = await client.exports.export(
        filter={"project": project.id}, format="spacy", output_dir=tmp_path
    )
    assert report.annotations_written == entities and report.misaligned_entities == 0
    lines = [json.loads(ln) for ln in (tmp_path / "default.jsonl").read_text().splitlines()]
    for line in lines:
        for start, end, _label in line["entities"]:
            assert line["text"][start:end].strip() == line["text"][start:end]
    data = await project.export("spacy")
    assert isinstance(data, bytes)
    nlp = spacy.blank("en")
    loaded = list(DocBin().from_bytes(data).get_docs(nlp.vocab))
    assert len(loaded) == 8 and sum(len(d.ents) for d in loaded) == entities


async def test_project_export_returns_what_the_examples_use(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    project = await completed_project(client, emulator, image_tasks(10))
    annotations = await project.export(format="json")
    assert isinstance(annotations, list) and len(annotations) == 10
    assert {"id", "data", "file"} <= set(annotations[0])
    yolo = await project.export(format="yolo")
    assert isinstance(yolo, dict)
    try:
        assert yolo["classes"] == VEHICLES  # the project's labels fix the class ids
        assert Path(yolo["images_dir"]).name == "images"
        assert set(os.listdir(yolo["labels_dir"])) <= {"train", "val", "test"}
        assert yolo["data_yaml"]["names"] == dict(enumerate(VEHICLES))
        assert yolo["data_yaml"]["train"] == "images/train"
    finally:
        shutil.rmtree(yolo["output_dir"], ignore_errors=True)
    coco = await project.export(format="coco")
    assert isinstance(coco, dict) and len(coco["images"]) == 10
    assert isinstance(await project.export(format="csv"), str)


async def test_ground_truth_events_export(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    seeded = emulator.seed.ground_truth(versions=2, events=4)
    version = seeded["versions"][1]["id"]
    report = await client.exports.export(
        target="ground_truth",
        filter={"ground_truth_dataset_version": version},
        format="json",
        output_dir=tmp_path,
        include_files=True,
    )
    assert report.items == 4
    assert any("4 media without a file URL" in note for note in report.notes)
    # The events' categories are their splits: no empty "default" beside them.
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith(".jsonl")) == [
        "synapse_train.jsonl",
        "synapse_val.jsonl",
    ]
    lines = [
        ln
        for name in ("train", "val")
        for ln in (tmp_path / f"synapse_{name}.jsonl").read_text().splitlines()
    ]
    assert {json.loads(ln)["ground_truth_dataset_version"] for ln in lines} == {version}
    assert len(lines) == 4
