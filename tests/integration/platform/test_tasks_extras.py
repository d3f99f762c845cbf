"""Task tags and ``annotate_task_data`` against the emulator."""

from __future__ import annotations

import pytest

from synapse_async import (
    Assignment,
    AsyncClient,
    InvalidInputError,
    NotFoundError,
    TaskTag,
    ValidationError,
)

pytestmark = pytest.mark.anyio

DOC = {
    "annotations": {"image_1": [{"id": "a1", "tool": "bounding_box"}]},
    "annotationsData": {"image_1": [{"id": "a1", "coordinate": {"x": 1, "y": 2}}]},
}


async def test_task_tags_create_get_list_paginated(client: AsyncClient) -> None:
    project = await client.projects.create("tags")
    hard = await client.task_tags.create("hard", project=project.id, color="#ff0000")
    assert isinstance(hard, TaskTag) and hard.project == project.id and hard.color == "#ff0000"
    assert await client.task_tags.get(hard.id) == hard
    for i in range(4):
        await client.task_tags.create(f"tag {i}")
    listed = [t.name async for t in client.task_tags.list(page_size=2)]
    assert listed == ["hard", "tag 0", "tag 1", "tag 2", "tag 3"]
    assert [t.id async for t in client.task_tags.list(project=project.id)] == [hard.id]
    tasks = await client.tasks.create(project.id, [{"data": {"n": 1}}])
    assert await client.tasks.set_tags([tasks[0].id], [hard.id]) == 1
    assert (await client.tasks.get(tasks[0].id)).tags == [hard.id]


async def test_task_tags_bad_input(client: AsyncClient) -> None:
    for bad in ("", "  ", None, 3):
        with pytest.raises(InvalidInputError, match="tag name"):
            await client.task_tags.create(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="positive integer"):
        await client.task_tags.get(0)
    with pytest.raises(InvalidInputError, match="project"):
        client.task_tags.list(project=-1)
    with pytest.raises(ValidationError, match="project"):
        await client.task_tags.create("x", project=999)
    with pytest.raises(NotFoundError):
        await client.task_tags.get(999)


async def test_annotate_task_data_writes_the_assignment(client: AsyncClient) -> None:
    project = await client.projects.create("pre-annotation")
    task = (await client.tasks.create(project.id, [{"data": {"text": "x"}}]))[0]
    first = await client.tasks.annotate_task_data(task.id, DOC)
    assert isinstance(first, Assignment) and first.task == task.id and first.data == DOC
    again = await client.tasks.annotate_task_data(task.id, {"annotations": {}})
    assert again.id == first.id and again.data == {"annotations": {}}
    assert (await client.assignments.get(first.id)).data == {"annotations": {}}


async def test_annotate_task_data_bad_input(client: AsyncClient) -> None:
    with pytest.raises(InvalidInputError, match="mapping"):
        await client.tasks.annotate_task_data(1, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="schema"):
        await client.tasks.annotate_task_data(1, DOC, schema="")
    with pytest.raises(InvalidInputError, match="positive integer"):
        await client.tasks.annotate_task_data(True, DOC)
    with pytest.raises(NotFoundError):
        await client.tasks.annotate_task_data(424242, DOC)
    project = await client.projects.create("p")
    task = (await client.tasks.create(project.id, [{"data": {}}]))[0]
    with pytest.raises(ValidationError, match="schema"):
        await client.tasks.annotate_task_data(task.id, DOC, schema="coco")
    with pytest.raises(ValidationError, match="annotations"):
        await client.tasks.annotate_task_data(task.id, {"annotations": {"image_1": "box"}})
