"""Bad inputs fail before any request; export_to_s3; the download helper; the sync facade."""

from __future__ import annotations

import json
import logging
import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pycocotools.coco import COCO

from synapse_async import AsyncClient, ExportResult, InvalidInputError, ValidationError
from synapse_async.emulator import Emulator, Faults
from synapse_async.transfer.download import download
from synapse_sync import Client
from tests.fixtures import ThreadedEmulator
from tests.integration.exports.conftest import completed_project, image_tasks

pytestmark = pytest.mark.anyio

BAD: list[tuple[dict[str, Any], str]] = [
    ({"target": "annotations"}, "'annotations'"),
    ({"format": "tfrecord"}, "'tfrecord'"),
    ({"format": 7}, "7"),
    ({"split": {"train": -1, "val": 0.5}}, "-1"),
    ({"split": {"train": 0, "val": 0}}, "positive sum"),
    ({"split": {"../x": 1.0}}, "'../x'"),
    ({"split": [0.8, 0.2]}, "[0.8, 0.2]"),
    ({"filter": {"project": -3}}, "-3"),
    ({"filter": "project=1"}, "'project=1'"),
    ({"labels": "car"}, "'car'"),
    ({"page_size": 5000}, "5000"),
    ({"max_concurrency": 0}, "0"),
    ({"on_progress": "print"}, "'print'"),
    ({"include_files": "yes"}, "'yes'"),
]


@pytest.mark.parametrize(("change", "named"), BAD)
async def test_bad_input_is_rejected_before_any_request(
    client: AsyncClient, emulator: Emulator, tmp_path: Path, change: dict[str, Any], named: str
) -> None:
    before = emulator.counters["requests"]
    args: dict[str, Any] = {
        "filter": {"project": 1},
        "format": "coco",
        "output_dir": tmp_path / "out",
        **change,
    }
    with pytest.raises(InvalidInputError) as info:
        await client.exports.export(**args)
    assert named in str(info.value)
    assert emulator.counters["requests"] == before
    assert not (tmp_path / "out").exists()


async def test_output_dir_that_is_a_file(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    target = tmp_path / "report.json"
    target.write_text("{}")
    with pytest.raises(InvalidInputError, match=r"report\.json"):
        await client.exports.export(filter={"project": 1}, output_dir=target)
    assert emulator.counters["requests"] == 0
    assert target.read_text() == "{}"


async def test_export_to_s3_writes_into_the_bucket(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    project = await completed_project(client, emulator, image_tasks(9))
    bucket = emulator.workflow.s3_root / "ml-training-data"
    bucket.mkdir(parents=True)
    result = await project.export_to_s3(
        bucket="ml-training-data", key="annotations/job-1/results.json", format="json"
    )
    assert isinstance(result, ExportResult)
    assert result.uri == "s3://ml-training-data/annotations/job-1/results.json"
    records = json.loads((bucket / "annotations/job-1/results.json").read_text())
    assert len(records) == result.items == 9
    assert records == await project.export("json")
    coco = await project.export_to_s3("ml-training-data", "coco/instances.json", "coco")
    loaded = COCO(str(bucket / "coco/instances.json"))
    assert len(loaded.getAnnIds()) == coco.annotations > 0
    await project.export_to_s3("ml-training-data", "yolo/dataset.zip", "yolo")
    with zipfile.ZipFile(bucket / "yolo/dataset.zip") as zf:
        assert {"data.yaml", "classes.txt", "export_report.json"} <= set(zf.namelist())
    assert [p.name for p in bucket.rglob(".*")] == []
    with pytest.raises(ValidationError, match="does not exist"):
        await project.export_to_s3("no-such-bucket", "x.json")
    for key in ("/abs.json", "a/../b.json", ""):
        with pytest.raises(InvalidInputError):
            await project.export_to_s3("ml-training-data", key)
    with pytest.raises(InvalidInputError, match="'parquet'"):
        await project.export_to_s3("ml-training-data", "x.parquet", "parquet")
    with pytest.raises(InvalidInputError, match="yolo"):
        await project.export("coco", output_dir=tmp_path)


async def test_download_resumes_with_range(
    client: AsyncClient, emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body = os.urandom(300_000)
    (tmp_path / "big.bin").write_bytes(body)
    df = await client.data_files.create(tmp_path / "big.bin")
    emulator.set_faults(Faults(drop_rate=0.85, seed=5))
    caplog.set_level(logging.INFO, logger="synapse_async.http")
    size = await download(client._http, f"data_files/{df.id}/download/", tmp_path / "copy.bin")
    assert size == len(body) and (tmp_path / "copy.bin").read_bytes() == body
    resumed = [r.getMessage() for r in caplog.records if "resuming GET" in r.getMessage()]
    assert resumed and not any(" at byte 0 " in m for m in resumed[1:])
    assert _hidden(tmp_path) == []


def _hidden(folder: Path) -> list[str]:
    return [p.name for p in folder.glob(".*")]


def test_sync_facade_exports(threaded_emulator: ThreadedEmulator, tmp_path: Path) -> None:
    emu = threaded_emulator.emu
    pid = threaded_emulator.run(lambda: emu.seed.project("sync", labels=["car", "bus"]))["id"]
    threaded_emulator.run(lambda: emu.seed.annotated_assignments(pid, 20, 4))
    seen: list[tuple[int, int]] = []
    with Client(threaded_emulator.url, access_token=threaded_emulator.access_token) as client:
        report = client.exports.export(
            filter={"project": pid},
            format="coco",
            output_dir=tmp_path,
            on_progress=lambda d, t: seen.append((d, t)),
        )
        project = client.projects.get(pid)
        records = project.export("json")
    assert report.annotations_written == 80 and seen[-1] == (20, 20)
    assert len(COCO(str(tmp_path / "annotations/instances_default.json")).getAnnIds()) == 80
    assert isinstance(records, list) and len(records) == 20


async def test_seeding_boxes_over_http(client: AsyncClient, emulator: Emulator) -> None:
    project = await client._http.request(
        "POST", "_emulator/seed/", json_body={"kind": "project", "name": "boxes"}
    )
    made = await client._http.request(
        "POST",
        "_emulator/seed/",
        json_body={
            "kind": "annotated_assignments",
            "project_id": project["id"],
            "n_items": 2000,
            "boxes_per_item": 25,
            "seed": 3,
        },
    )
    assert made["boxes"] == 50_000 and made["items"] == 2000
    page = await client.assignments.list(project=project["id"]).page(20)
    assert page.count == 2000
    doc = page.items[-1].data
    assert doc is not None and len(doc["annotationsData"]["image_1"]) == 25
    for bad in ({"n_items": -1}, {"project_id": 999}, {"labels": [""]}):
        with pytest.raises(ValidationError):
            await client._http.request(
                "POST",
                "_emulator/seed/",
                json_body={
                    "kind": "annotated_assignments",
                    "project_id": project["id"],
                    "n_items": 1,
                    **bad,
                },
            )
