"""The emulator honours the export filters (tags, ground-truth category, date ranges) on the
listings exports read, and answers 400 for a filter it does not know."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from synapse_async import AsyncClient, ValidationError
from synapse_async.emulator import Emulator
from synapse_async.emulator.routes import ml

pytestmark = pytest.mark.anyio


async def test_assignment_tags_and_dates(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    pid = emulator.seed.project("p")["id"]
    emulator.seed.assignments(pid, 250)
    tag = await client.task_tags.create("keep")
    await client.assignments.set_tags([3, 7], [tag.id])
    report = await client.exports.export(
        filter={"project": pid, "tags": tag.id}, output_dir=tmp_path / "a"
    )
    assert report.items == 2
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    report = await client.exports.export(
        filter={"project": pid, "created__gte": future}, output_dir=tmp_path / "b"
    )
    assert report.items == 0
    report = await client.exports.export(
        filter={"project": pid, "created_before": future}, output_dir=tmp_path / "c"
    )
    assert report.items == 250


async def test_task_tags(client: AsyncClient, emulator: Emulator, tmp_path: Path) -> None:
    pid = emulator.seed.project("p")["id"]
    emulator.seed.tasks(pid, 30)
    tag = await client.task_tags.create("t")
    await client.tasks.set_tags([1, 2, 3], [tag.id])
    tasks = [t.id async for t in client.tasks.list(project=pid, tags=tag.id)]
    assert tasks == [1, 2, 3]


async def test_ground_truth_category(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    made = emulator.seed.ground_truth("gt", versions=1, events=60)
    store = emulator.store
    for event in store.list(ml.EVENTS, limit=None):
        category = "val" if event["id"] % 3 == 0 else "train"
        store.update(ml.EVENTS, event["id"], {"meta": {"category": category}})
    version = made["versions"][0]["id"]
    report = await client.exports.export(
        target="ground_truth",
        filter={"ground_truth_dataset_version": version, "category": "val"},
        output_dir=tmp_path / "gt",
    )
    assert report.items == 20


async def test_unknown_filter_is_refused_not_ignored(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    pid = emulator.seed.project("p")["id"]
    emulator.seed.assignments(pid, 5)
    with pytest.raises(ValidationError, match="colour"):
        await client.exports.export(
            filter={"project": pid, "colour": "red"}, output_dir=tmp_path / "x"
        )
    with pytest.raises(ValidationError, match="created__gte"):
        await client.exports.export(
            filter={"project": pid, "created__gte": "yesterday"}, output_dir=tmp_path / "y"
        )
