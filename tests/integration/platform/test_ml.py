"""ML models (create by chunked upload, list, get) and ground truth (datasets, versions, events)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from synapse_async import (
    AsyncClient,
    GroundTruth,
    GroundTruthDatasetVersion,
    GroundTruthEvent,
    InvalidInputError,
    MLModel,
    NotFoundError,
    ValidationError,
)
from synapse_async.emulator import Emulator

pytestmark = pytest.mark.anyio


async def test_ml_model_create_by_chunked_upload_get_list(
    client: AsyncClient, tmp_path: Path
) -> None:
    project = await client.projects.create("det")
    plugin = await client.plugins.create("YOLO", code="yolo")
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"\x00weights" * 1000)
    progress: list[tuple[int, int]] = []
    model = await client.ml_models.create(
        "yolo-best",
        weights,
        project=project.id,
        plugin=plugin.id,
        description="mAP 0.61",
        on_progress=lambda done, total: progress.append((done, total)),
    )
    assert isinstance(model, MLModel) and model.project == project.id and model.plugin == plugin.id
    assert model.checksum == hashlib.md5(weights.read_bytes()).hexdigest()
    assert model.size == weights.stat().st_size and model.file
    assert progress and progress[-1] == (model.size, model.size)
    assert await client.ml_models.get(model.id) == model
    other = await client.ml_models.create("other", weights)
    assert [m.id async for m in client.ml_models.list(page_size=1)] == [model.id, other.id]
    assert [m.id async for m in client.ml_models.list(project=project.id)] == [model.id]
    assert [m.id async for m in client.ml_models.list(plugin=plugin.id)] == [model.id]


async def test_ml_models_bad_input(client: AsyncClient, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        await client.ml_models.create("m", tmp_path / "nope.pt")
    with pytest.raises(InvalidInputError, match="directory"):
        await client.ml_models.create("m", tmp_path)
    with pytest.raises(InvalidInputError, match="model name"):
        await client.ml_models.create("", tmp_path / "x")
    with pytest.raises(InvalidInputError, match="project"):
        await client.ml_models.create("m", tmp_path / "x", project=0)
    with pytest.raises(InvalidInputError, match="model_id"):
        await client.ml_models.get("5")  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        await client.ml_models.get(5)
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"w")
    with pytest.raises(ValidationError, match="project"):
        await client.ml_models.create("m", weights, project=999)
    assert [m async for m in client.ml_models.list()] == []


async def test_ground_truths_versions_events(emulator: Emulator, client: AsyncClient) -> None:
    coll = await client.data_collections.create("imgs", file_specifications=[{"name": "image_1"}])
    gt = await client.ground_truths.create("Street GT", description="ref", data_collection=coll.id)
    assert isinstance(gt, GroundTruth) and gt.data_collection == coll.id
    assert await client.ground_truths.get(gt.id) == gt
    seeded = emulator.seed.ground_truth("Seeded", versions=3, events=120)
    assert [g.name async for g in client.ground_truths.list(page_size=1)] == ["Street GT", "Seeded"]
    gt_id = seeded["ground_truth"]["id"]
    v1, v2, v3 = (v["id"] for v in seeded["versions"])
    version = await client.ground_truth_dataset_versions.get(v2)
    assert isinstance(version, GroundTruthDatasetVersion)
    assert (version.ground_truth, version.version, version.event_count) == (gt_id, "v2", 120)
    assert [
        v.id
        async for v in client.ground_truth_dataset_versions.list(ground_truth=gt_id, page_size=2)
    ] == [v1, v2, v3]
    events = [
        e
        async for e in client.ground_truth_events.list(
            ground_truth_dataset_versions=[v1, v3], page_size=50
        )
    ]
    assert len(events) == 240 and all(isinstance(e, GroundTruthEvent) for e in events)
    assert {e.ground_truth_dataset_version for e in events} == {v1, v3}
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert (
        len([e async for e in client.ground_truth_events.list(ground_truth_dataset_versions=v2)])
        == 120
    )
    assert len([e async for e in client.ground_truth_events.list(ground_truth=gt_id)]) == 360
    assert events[0].files["image_1"]["path"].startswith("gt/v1/")


async def test_ground_truth_bad_input(client: AsyncClient) -> None:
    with pytest.raises(InvalidInputError, match="ground truth name"):
        await client.ground_truths.create(" ")
    with pytest.raises(InvalidInputError, match="data_collection"):
        await client.ground_truths.create("g", data_collection=-2)
    with pytest.raises(ValidationError, match="data_collection"):
        await client.ground_truths.create("g", data_collection=404)
    with pytest.raises(InvalidInputError, match="version"):
        await client.ground_truth_dataset_versions.get(0)
    for bad in ("1,2", [], [1, "x"], 0):
        with pytest.raises(InvalidInputError):
            client.ground_truth_events.list(ground_truth_dataset_versions=bad)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        await client.ground_truths.get(31337)
