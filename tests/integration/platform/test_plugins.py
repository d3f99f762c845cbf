"""Plugins (create, get by id or code, update, list, run) and plugin releases."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from synapse_async import (
    AsyncClient,
    InvalidInputError,
    Job,
    NotFoundError,
    Plugin,
    PluginRelease,
    ValidationError,
)
from synapse_async.resources import plugin_releases as releases_module
from synapse_async.resources.plugin_releases import parse_release_ref

pytestmark = pytest.mark.anyio


async def test_plugin_create_get_update_list(client: AsyncClient) -> None:
    plugin = await client.plugins.create("YOLO v8", category="neural_net", description="det")
    assert isinstance(plugin, Plugin) and plugin.code == "yolo-v8" and plugin.is_active
    assert await client.plugins.get(plugin.id) == plugin
    assert await client.plugins.get("yolo-v8") == plugin
    updated = await client.plugins.update("yolo-v8", description="detector", is_active=False)
    assert updated.description == "detector" and not updated.is_active and updated.name == "YOLO v8"
    await client.plugins.create("Exporter", code="coco-export", category="export")
    await client.plugins.create("Second", code="second", category="export")
    assert [p.code async for p in client.plugins.list(page_size=1)] == [
        "yolo-v8",
        "coco-export",
        "second",
    ]
    assert [p.code async for p in client.plugins.list(category="export")] == [
        "coco-export",
        "second",
    ]
    with pytest.raises(ValidationError, match="code"):
        await client.plugins.create("dup", code="second")


async def test_plugin_run_makes_a_progressing_job(client: AsyncClient) -> None:
    plugin = await client.plugins.create("Exporter", code="exporter")
    job = await client.plugins.run("exporter", action="export", params={"format": "coco"})
    assert isinstance(job, Job) and job.plugin == plugin.id and job.action == "export"
    assert job.params == {"format": "coco"} and job.status == "running"
    done = await client.jobs.wait(job.id, poll_interval=0.05, max_wait=5)
    assert done.status == "completed" and done.is_finished and done.finished is not None
    assert done.progress_record == {"step": 4, "total": 4}
    assert (await client.jobs.console_logs(job.id))[-1] == "export finished"


@pytest.mark.parametrize("bad", [0, -1, "", "12", "bad code", "a/b", None, 1.5, True])
async def test_plugin_bad_refs(client: AsyncClient, bad: object) -> None:
    with pytest.raises(InvalidInputError):
        await client.plugins.get(bad)  # type: ignore[arg-type]


async def test_plugin_bad_input(client: AsyncClient) -> None:
    with pytest.raises(InvalidInputError, match="nothing to update"):
        await client.plugins.update(1)
    with pytest.raises(InvalidInputError, match="action"):
        await client.plugins.run(1, action="")
    with pytest.raises(InvalidInputError, match="plugin name"):
        await client.plugins.create("  ")
    with pytest.raises(NotFoundError):
        await client.plugins.run("missing", action="train")


async def test_release_multipart_get_by_ref_and_list(client: AsyncClient, tmp_path: Path) -> None:
    plugin = await client.plugins.create("Detector", code="detector")
    archive = tmp_path / "detector.zip"
    archive.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 10)
    rel = await client.plugin_releases.create(
        "detector", "1.0.0", archive, config={"actions": ["train"]}
    )
    assert isinstance(rel, PluginRelease) and rel.plugin == plugin.id
    assert rel.ref == "detector@1.0.0"
    assert rel.checksum == hashlib.md5(archive.read_bytes()).hexdigest()
    assert rel.size == archive.stat().st_size and rel.config == {"actions": ["train"]}
    assert await client.plugin_releases.get(rel.id) == rel
    assert await client.plugin_releases.get("detector@1.0.0") == rel
    rel2 = await client.plugin_releases.create(plugin.id, "1.1.0", archive)
    assert [
        r.version async for r in client.plugin_releases.list(plugin=plugin.id, page_size=1)
    ] == ["1.0.0", "1.1.0"]
    job = await client.plugins.run(plugin.id, action="train")
    assert job.plugin_release == rel2.id  # the latest release runs by default
    job = await client.plugins.run(plugin.id, action="train", version="1.0.0")
    assert job.plugin_release == rel.id
    with pytest.raises(ValidationError, match="version"):
        await client.plugin_releases.create("detector", "1.0.0", archive)
    with pytest.raises(NotFoundError):
        await client.plugin_releases.get("detector@9.9.9")


async def test_release_over_the_multipart_limit_goes_by_chunked_upload(
    client: AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(releases_module, "MULTIPART_LIMIT", 1000)
    await client.plugins.create("Big", code="big")
    archive = tmp_path / "big.zip"
    archive.write_bytes(b"x" * 5000)
    rel = await client.plugin_releases.create("big", "2.0.0", archive)
    assert rel.size == 5000 and rel.checksum == hashlib.md5(b"x" * 5000).hexdigest()
    assert (await client.plugin_releases.get("big@2.0.0")).id == rel.id


@pytest.mark.parametrize(
    "ref", ["detector", "detector@", "@1.0", "a@b@c", "bad code@1", "x@1 .0", 7]
)
def test_release_ref_parse_errors(ref: object) -> None:
    with pytest.raises(InvalidInputError):
        parse_release_ref(ref)


async def test_release_bad_input(client: AsyncClient, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="code@version"):
        await client.plugin_releases.get("just-a-code")
    with pytest.raises(InvalidInputError, match="no such file"):
        await client.plugin_releases.create("p", "1.0", tmp_path / "missing.zip")
    with pytest.raises(InvalidInputError, match="version"):
        await client.plugin_releases.create("p", "1@0", tmp_path)
    archive = tmp_path / "a.zip"
    archive.write_bytes(b"zip")
    with pytest.raises(ValidationError, match="plugin"):
        await client.plugin_releases.create("nobody", "1.0", archive)
    assert parse_release_ref("yolo_v8.x@1.2.3-rc1") == ("yolo_v8.x", "1.2.3-rc1")
