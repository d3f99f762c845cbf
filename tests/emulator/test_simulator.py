"""The annotation simulator's DM schema v1 results: valid for the export reader, per tool."""

from __future__ import annotations

from typing import Any

import pytest

from synapse_async import AsyncClient
from synapse_async.emulator import Emulator
from synapse_async.emulator.simulator import make_annotation
from synapse_async.export.ner import align_entities
from synapse_async.export.reader import read_document, read_item
from synapse_async.export.schema import BoundingBox, Keypoint, NamedEntity, Polygon

pytestmark = pytest.mark.anyio

LABELS = ["car", "bus", "person"]


def project(
    annotation_type: str | None, labels: list[str] = LABELS, **extra: Any
) -> dict[str, Any]:
    return {"id": 3, "annotation_type": annotation_type, "labels": labels, **extra}


@pytest.mark.parametrize(
    ("annotation_type", "tool", "geometry"),
    [
        ("bounding_box", "bounding_box", BoundingBox),
        ("bbox", "bounding_box", BoundingBox),
        ("polygon", "polygon", Polygon),
        ("keypoint", "keypoint", Keypoint),
        ("classification", "classification", None),
        (None, "classification", None),
        ("something-new", "classification", None),
    ],
)
def test_image_tools_parse_cleanly(
    annotation_type: str | None, tool: str, geometry: type | None
) -> None:
    for task_id in range(1, 60):
        doc, file, agreement = make_annotation(
            project(annotation_type), {"id": task_id, "data": {}}
        )
        parsed = read_document(doc)
        assert parsed.invalid == {} and parsed.unknown_tools == {}
        [(media, anns)] = parsed.media.items()
        assert media == "image_1" and anns
        assert {a.tool for a in anns} == {tool}
        assert {a.label for a in anns} <= set(LABELS)
        if geometry is not None:
            assert all(isinstance(a.geometry, geometry) for a in anns)
        width, height = file["image_1"]["width"], file["image_1"]["height"]
        for a in anns:
            if isinstance(a.geometry, BoundingBox):
                x0, y0, x1, y1 = a.geometry.bounds()
                assert 0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height
            elif isinstance(a.geometry, Polygon):
                assert len(a.geometry.points) >= 3
                assert all(0 <= x <= width and 0 <= y <= height for x, y in a.geometry.points)
        if tool == "classification":
            assert len(anns) == 1 and doc["annotationsData"] == {"image_1": []}
        if tool == "keypoint":
            assert [a.label for a in anns] == LABELS  # one point per label
        assert 0.7 <= agreement <= 1.0


def test_results_are_deterministic_and_use_task_metadata() -> None:
    task = {"id": 9, "data": {"image_url": "https://cdn/x/photo.png", "width": 320, "height": 200}}
    first = make_annotation(project("bounding_box", data_type="image"), task)
    assert first == make_annotation(project("bounding_box", data_type="image"), task)
    assert first[1] == {"image_1": {"file_name": "photo.png", "width": 320, "height": 200}}
    video = make_annotation(project("bounding_box", data_type="video"), {"id": 1, "data": {}})
    assert list(video[0]["annotations"]) == ["video_1"]
    default_label = make_annotation(project("classification", labels=[]), task)
    assert default_label[0]["annotations"]["image_1"][0]["classification"] == {"class": "object"}


def test_named_entities_align_with_the_text() -> None:
    text = (
        "On January 15, 2024, Judge Sarah Thompson ruled that Acme Corporation must pay "
        "$2.5 million to John Smith."
    )
    for task_id in range(1, 80):
        for data in ({"text": text}, {}):
            doc, file, _ = make_annotation(
                project("ner", labels=["PERSON", "ORG", "DATE"]), {"id": task_id, "data": data}
            )
            assert list(doc["annotations"]) == ["text_1"]
            item = read_item({"id": task_id, "data": doc, "file": file})
            assert item.invalid == {} and item.unknown_tools == {}
            [record] = item.records
            assert record.text == (data.get("text") or record.text) and record.text
            aligned, bad = align_entities(record)
            assert bad == [] and aligned is not None
            assert len(aligned.entities) == len(record.annotations) >= 1
            for ann in record.annotations:
                assert isinstance(ann.geometry, NamedEntity) and ann.tool == "named_entity"
                span = record.text[ann.geometry.start : ann.geometry.end]
                assert span == ann.geometry.text and span.strip() == span


async def test_simulated_assignments_through_the_api(
    manual_emu: Emulator, manual_client: AsyncClient
) -> None:
    p = await manual_client.projects.create(
        "poly", annotation_type="polygon", labels=["lake"], data_type="image"
    )
    await p.upload_tasks([{"file_name": f"{i}.jpg"} for i in range(5)])
    await p.pay_deposit()
    assert manual_emu.workflow.simulator.complete(p.id, 3) == 3
    assignments = [a async for a in manual_client.assignments.list(project=p.id)]
    assert len(assignments) == 3 and {a.status for a in assignments} == {"completed"}
    tasks = {t.id: t for t in [t async for t in manual_client.tasks.list(project=p.id)]}
    for a in assignments:
        assert a.task is not None and tasks[a.task].status == "completed"
        item = read_item({"id": a.id, "data": a.data, "file": a.file})
        [record] = item.records
        assert record.file_name == f"{a.task - min(tasks)}.jpg"
        assert record.width and record.height and record.annotations
        assert {ann.label for ann in record.annotations} == {"lake"}
    assert manual_emu.workflow.simulator.advance(10.0) == 0  # speed 0: no work
    manual_emu.workflow.simulator.speed = 1.0
    assert manual_emu.workflow.simulator.advance(1.5) == 1  # fractional work carries over
    assert manual_emu.workflow.simulator.advance(0.5) == 1
    assert (await p.get_status()).is_complete
