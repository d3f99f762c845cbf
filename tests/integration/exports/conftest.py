"""Helpers for the client-export tests: a simulator-completed project, server-side counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from synapse_async import AsyncClient, AsyncProjectHandle
from synapse_async.emulator import Emulator

VEHICLES = ["car", "truck", "bus"]


async def completed_project(
    client: AsyncClient,
    emu: Emulator,
    tasks: Sequence[dict[str, Any]],
    *,
    annotation_type: str = "bounding_box",
    data_type: str = "image",
    labels: Sequence[str] = VEHICLES,
) -> AsyncProjectHandle:
    """Create, fill, pay and let the simulator finish a project (the seeds' workflow)."""
    emu.seed.balance("1000000.00")
    project = await client.projects.create(
        "Export test",
        annotation_type=annotation_type,
        data_type=data_type,
        labels=list(labels),
        pricing_tier="standard",
    )
    await project.upload_tasks(list(tasks))
    await project.pay_deposit("credits")
    emu.workflow.simulator.complete(project.id, len(tasks))
    await project.refresh()
    assert project.state == "completed"
    return project


def image_tasks(n: int) -> list[dict[str, Any]]:
    """Inline image tasks with a name and a size (what the simulator reads)."""
    return [
        {"image_url": f"https://cdn.example.com/cars/img_{i:03d}.jpg", "width": 640, "height": 480}
        for i in range(n)
    ]


def server_annotations(emu: Emulator, project_id: int) -> dict[str, list[dict[str, Any]]]:
    """File name -> the annotations the server holds (metadata joined with coordinates)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for doc in emu.store.list("assignments", limit=None, project=project_id):
        for media, metas in doc["data"]["annotations"].items():
            coords = {d["id"]: d for d in doc["data"]["annotationsData"][media]}
            name = doc["file"][media]["file_name"]
            out[name] = [{**m, **coords.get(m["id"], {})} for m in metas]
    return out
