"""upload_on_ray against a local Ray and the emulator: the same result as one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from synapse_async import ClientConfig
from synapse_async.bulk import BulkItem, BulkProgress, BulkUploadReport, scan_directory
from synapse_async.bulk.ray import upload_on_ray
from synapse_async.errors import BulkUploadError, InvalidInputError, JournalError
from tests.fixtures import ThreadedEmulator
from tests.helpers import make_client
from tests.integration.ray.conftest import RayCluster


def make_files(root: Path, n: int, *, size: int = 200) -> list[Path]:
    """``n`` small files with distinct content under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = root / f"{i:05d}.jpg"
        p.write_bytes(f"file {i} ".encode() + bytes([i % 251]) * size)
        out.append(p)
    return out


def setup_targets(emu: ThreadedEmulator) -> tuple[int, int]:
    """A collection with one image slot and a project on ``emu``."""

    async def create() -> tuple[int, int]:
        async with make_client(emu.emu) as client:
            coll = await client.data_collections.create(
                "ray",
                file_specifications=[{"name": "image", "file_type": "image", "is_required": True}],
            )
            project = await client.projects.create("ray tasks")
            return coll.id, project.id

    result: tuple[int, int] = emu.run_async(create)
    return result


def config_for(emu: ThreadedEmulator) -> ClientConfig:
    return ClientConfig.resolve(emu.url, access_token=emu.access_token)


def server_units(emu: ThreadedEmulator, collection: int) -> list[tuple[str, str]]:
    """(checksum, meta json) of every data unit of ``collection``, sorted."""
    rows = emu.run(lambda: emu.emu.store.list("data_units", limit=None, data_collection=collection))
    return sorted((u["files"]["image"]["checksum"], repr(sorted(u["meta"].items()))) for u in rows)


def count(emu: ThreadedEmulator, table: str, **where: Any) -> int:
    result: int = emu.run(lambda: emu.emu.store.count(table, **where))
    return result


def _counts(report: BulkUploadReport) -> dict[str, Any]:
    return {
        "items": report.items,
        "sent": report.sent,
        "already_on_server": report.already_on_server,
        "skipped": report.skipped,
        "failed": report.failed,
        "bytes_sent": report.bytes_sent,
        "bytes_total": report.bytes_total,
        "units": len(report.data_unit_ids),
        "tasks": len(report.task_ids),
        "failures": [(f.index, f.paths, f.error_type) for f in report.failures],
    }


def test_5000_files_in_4_shards_match_the_single_process_pipeline(
    ray_cluster: RayCluster,
    threaded_emulator: ThreadedEmulator,
    second_emulator: ThreadedEmulator,
    tmp_path: Path,
) -> None:
    files = make_files(tmp_path / "in", 5000)
    items: list[dict[str, Any]] = [
        {"files": {"image": p}, "meta": {"n": i}} for i, p in enumerate(files)
    ]
    items[3333] = {"files": {"image": tmp_path / "in" / "missing.jpg"}, "meta": {"n": 3333}}

    coll, project = setup_targets(second_emulator)

    async def single() -> BulkUploadReport:
        async with make_client(second_emulator.emu) as client:
            return await client.data_collections.upload(
                coll, items, project=project, journal=tmp_path / "single.journal"
            )

    reference: BulkUploadReport = second_emulator.run_async(single)

    r_coll, r_project = setup_targets(threaded_emulator)
    seen: list[BulkProgress] = []
    report = upload_on_ray(
        r_coll,
        items,
        config=config_for(threaded_emulator),
        project=r_project,
        shards=4,
        journal_dir=tmp_path / "journals",
        on_progress=seen.append,
    )

    assert reference.failed == 1 and reference.failures[0].index == 3333
    assert _counts(report) == _counts(reference)
    assert report.sent == 4999 and report.items == 5000
    assert server_units(threaded_emulator, r_coll) == server_units(second_emulator, coll)
    assert count(threaded_emulator, "tasks", project=r_project) == 4999
    assert sorted(p.name for p in (tmp_path / "journals").glob("*.journal")) == [
        f"shard-{i:06d}.journal" for i in range(4)
    ]
    # shard 2 (items 2500..3749) holds the failed item: it is not marked done
    assert sorted(p.name for p in (tmp_path / "journals").glob("*.done.json")) == [
        "shard-000000.done.json",
        "shard-000001.done.json",
        "shard-000003.done.json",
    ]
    final = seen[-1]
    assert (final.files_done, final.items_done, final.items_failed) == (4999, 4999, 1)
    assert final.scan_complete


def test_rerun_skips_done_shards_and_retries_the_unfinished_one(
    ray_cluster: RayCluster, threaded_emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 40)
    items: list[dict[str, Any]] = [{"files": {"image": p}} for p in files]
    missing = tmp_path / "in" / "late.jpg"
    items[25] = {"files": {"image": missing}}
    coll, project = setup_targets(threaded_emulator)
    config = config_for(threaded_emulator)
    first = upload_on_ray(
        coll, items, config=config, project=project, shard_size=10, journal_dir=tmp_path / "j"
    )
    assert (first.sent, first.failed, first.failures[0].index) == (39, 1, 25)

    missing.write_bytes(b"now it exists")
    # a done shard is not run again: without its journal a rerun would create its units twice
    (tmp_path / "j" / "shard-000000.journal").unlink()
    again = upload_on_ray(
        coll, items, config=config, project=project, shard_size=10, journal_dir=tmp_path / "j"
    )
    # shards 0, 1 and 3 were done: not run again; shard 2 resumes from its journal
    assert (again.items, again.sent, again.skipped, again.failed) == (40, 1, 39, 0)
    assert again.bytes_sent == len(b"now it exists")
    assert count(threaded_emulator, "data_units", data_collection=coll) == 40
    assert count(threaded_emulator, "tasks", project=project) == 40
    assert sorted(again.data_unit_ids) == sorted(
        set(first.data_unit_ids) | set(again.data_unit_ids)
    )
    assert len(again.data_unit_ids) == 40


def test_a_generator_is_read_lazily_one_shard_at_a_time(
    ray_cluster: RayCluster, threaded_emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 30)
    coll, _ = setup_targets(threaded_emulator)
    read: list[int] = []

    def items() -> Any:
        for i, p in enumerate(files):
            read.append(i)
            yield {"files": {"image": p}}

    ahead: list[int] = []

    def watch(progress: BulkProgress) -> None:
        ahead.append(len(read) - progress.items_done)

    report = upload_on_ray(
        coll,
        items(),
        config=config_for(threaded_emulator),
        shard_size=5,
        max_in_flight=1,
        journal_dir=tmp_path / "j",
        on_progress=watch,
    )
    assert report.sent == 30 and len(report.data_unit_ids) == 30
    assert len(read) == 30 and len(ahead) > 1
    # items read but not finished: the shard in flight (5), plus one more while the board lags
    assert max(ahead) <= 10


def test_bad_arguments_are_typed_errors(ray_cluster: RayCluster, tmp_path: Path) -> None:
    config = ClientConfig.resolve("http://127.0.0.1:9", access_token="t")
    with pytest.raises(InvalidInputError, match="shards=2 needs items with a length"):
        upload_on_ray(1, iter([]), config=config, shards=2, journal_dir=tmp_path)
    with pytest.raises(InvalidInputError, match="per_worker_concurrency must be"):
        upload_on_ray(1, [], config=config, per_worker_concurrency=0, journal_dir=tmp_path)
    with pytest.raises(InvalidInputError, match="not both"):
        upload_on_ray(1, [], config=config, shards=2, shard_size=3, journal_dir=tmp_path)
    upload_on_ray(1, [], config=config, shard_size=3, journal_dir=tmp_path / "j")
    with pytest.raises(JournalError, match="belongs to another run"):
        upload_on_ray(1, [], config=config, shard_size=4, journal_dir=tmp_path / "j")
    with pytest.raises(InvalidInputError, match="already initialised"):
        upload_on_ray(1, [], config=config, address="auto", journal_dir=tmp_path / "k")


def test_fail_fast_names_the_failed_item_by_its_index_in_the_input(
    ray_cluster: RayCluster, threaded_emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    files = make_files(tmp_path / "in", 30)
    items: list[dict[str, Any]] = [{"files": {"image": p}} for p in files]
    items[25] = {"files": {"image": tmp_path / "in" / "missing.jpg"}}
    coll, _ = setup_targets(threaded_emulator)
    with pytest.raises(BulkUploadError, match=r"stopped at item #25 \(fail_fast\)") as info:
        upload_on_ray(
            coll,
            items,
            config=config_for(threaded_emulator),
            shard_size=10,
            max_in_flight=1,
            fail_fast=True,
            journal_dir=tmp_path / "j",
        )
    report = info.value.report
    assert [f.index for f in report.failures] == [25]
    assert report.failures[0].paths == {"image": str(tmp_path / "in" / "missing.jpg")}


def test_relative_paths_are_resolved_in_the_driver(
    ray_cluster: RayCluster,
    threaded_emulator: ThreadedEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_files(tmp_path / "in", 6)
    monkeypatch.chdir(tmp_path)
    coll, _ = setup_targets(threaded_emulator)
    items = [
        BulkItem(files={"image": Path("in") / f"{i:05d}.jpg"}, meta={"n": i}) for i in range(3)
    ]
    items += list(scan_directory("in", file_specifications=[{"name": "image"}]))[3:]
    report = upload_on_ray(
        coll, items, config=config_for(threaded_emulator), shard_size=4, journal_dir="journals"
    )
    assert (report.sent, report.failed) == (6, 0)
    assert (tmp_path / "journals" / "shard-000001.done.json").is_file()
