"""include_files: concurrent downloads under faults, resume, safe names, clean interruption."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import pytest

from synapse_async import AsyncClient, NotFoundError
from synapse_async.emulator import Emulator, Faults
from synapse_async.transfer.download import download
from tests.integration.exports.conftest import completed_project

pytestmark = pytest.mark.anyio


async def _data_files(
    client: AsyncClient, tmp_path: Path, n: int, size: int = 120_000
) -> dict[str, tuple[int, bytes]]:
    """Upload ``n`` random files; name -> (data file id, bytes)."""
    src = tmp_path / "src"
    src.mkdir()
    made = {}
    for i in range(n):
        body = os.urandom(size + 997 * i)
        path = src / f"photo_{i}.jpg"
        path.write_bytes(body)
        made[path.name] = ((await client.data_files.create(path)).id, body)
    return made


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _files_outside(root: Path, out: Path, *allowed: str) -> list[Path]:
    return [
        p
        for p in root.rglob("*")
        if p.is_file()
        and out not in p.parents
        and not set(allowed) & set(p.relative_to(root).parts)
    ]


def _leftovers(root: Path) -> list[Path]:
    """Hidden temp/scratch files an export must never leave behind."""
    return [p for p in root.rglob(".*") if p.is_file()]


async def test_files_download_under_5xx_and_dropped_connections(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    files = await _data_files(client, tmp_path, 6)
    tasks = [
        {
            "file_name": name,
            "width": 640,
            "height": 480,
            "url": f"{emulator.url}data_files/{fid}/download/",
        }
        for name, (fid, _body) in files.items()
    ]
    project = await completed_project(client, emulator, tasks)
    emulator.set_faults(Faults(error_rate=0.15, drop_rate=0.7, seed=11))
    out = tmp_path / "out"
    progress: list[tuple[int, int]] = []
    report = await client.exports.export(
        filter={"project": project.id},
        format="coco",
        output_dir=out,
        include_files=True,
        max_concurrency=3,
        on_progress=lambda d, t: progress.append((d, t)),
    )
    emulator.set_faults(Faults())
    assert emulator._injector.dropped_connections > 0  # resumed with Range at least once
    assert emulator.counters["injected_errors"] > 0
    for name, (_fid, body) in files.items():
        assert (out / "images" / "default" / name).read_bytes() == body
    assert report.per_image_files["images/default"] == 6
    assert any("6 original files downloaded" in n for n in report.notes)
    assert progress[-1] == (6, 6) and [d for d, _ in progress] == sorted({d for d, _ in progress})
    assert _leftovers(out) == []


async def test_files_found_through_data_units_and_data_files(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    files = await _data_files(client, tmp_path, 4, size=5_000)
    (a_id, a_body), (b_id, b_body), (c_id, c_body), (d_id, d_body) = files.values()
    collection = await client.data_collections.create(
        "photos",
        file_specifications=[{"name": "image_1", "file_type": "image", "is_required": True}],
    )
    units = await client.data_units.create(
        [
            {
                "data_collection": collection.id,
                "files": {
                    "image_1": {
                        "checksum": (await client.data_files.get(fid)).checksum,
                        "path": f"units/{fid}.jpg",
                    }
                },
            }
            for fid in (a_id, b_id)
        ]
    )
    pid = emulator.seed.project("units", annotation_type="bounding_box", state="active")["id"]
    await client.tasks.create(
        pid,
        [{"data_unit": u.id} for u in units]
        + [
            {"data": {"data_file": c_id, "file_name": "c.jpg"}},
            {"data": {"data_file": d_id, "file_name": "d.jpg"}},
        ],
    )
    emulator.workflow.simulator.complete(pid, 4)
    out = tmp_path / "out"
    report = await client.exports.export(
        target="task", filter={"project": pid}, format="yolo", output_dir=out, include_files=True
    )
    assert report.items == 4
    images = {
        n: (out / "images" / "default" / n).read_bytes() for n in _names(out / "images" / "default")
    }
    assert sorted(images.values()) == sorted([a_body, b_body, c_body, d_body])
    assert images["c.jpg"] == c_body and images["d.jpg"] == d_body


async def test_path_traversal_names_from_the_server_are_neutralized(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    ((fid, body),) = (await _data_files(client, tmp_path, 1, size=2_000)).values()
    evil = ["../../escape.jpg", "..\\..\\win.jpg", "/etc/abs.jpg", "..", "a/../../b.jpg"]
    pid = emulator.seed.project("evil")["id"]
    seeded = emulator.seed.annotated_assignments(
        pid,
        len(evil),
        2,
        file_names=evil,
        urls=[f"{emulator.url}data_files/{fid}/download/"] * len(evil),
    )
    out = tmp_path / "nested" / "out"
    report = await client.exports.export(
        filter={"project": pid}, format="voc", output_dir=out, include_files=True
    )
    assert report.items == len(evil)
    fallback = str(seeded["first_assignment"] + 3)  # ".." leaves nothing: the record id
    names = _names(out / "JPEGImages")
    assert names == sorted(["escape.jpg", "win.jpg", "abs.jpg", "b.jpg", fallback])
    assert all((out / "JPEGImages" / n).read_bytes() == body for n in names)
    assert _files_outside(tmp_path, out, "src") == []
    assert {Path(n).stem for n in _names(out / "Annotations")} == {Path(n).stem for n in names}


async def test_cancelled_export_leaves_nothing_complete_looking(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    pid = emulator.seed.project("big")["id"]
    emulator.seed.annotated_assignments(pid, 3000, 3)
    out = tmp_path / "out"
    calls = []
    with anyio.CancelScope() as scope:

        def cancel_soon(done: int, total: int) -> None:
            calls.append(done)
            scope.cancel()

        await client.exports.export(
            filter={"project": pid}, format="coco", output_dir=out, on_progress=cancel_soon
        )
    assert scope.cancelled_caught and calls
    assert not (out / "export_report.json").exists()
    assert not (out / "annotations" / "instances_default.json").exists()
    assert _leftovers(out) == []


async def test_cancel_during_downloads_removes_partial_files(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    files = await _data_files(client, tmp_path, 4, size=400_000)
    pid = emulator.seed.project("slow")["id"]
    emulator.seed.annotated_assignments(
        pid,
        4,
        1,
        file_names=list(files),
        urls=[f"{emulator.url}data_files/{fid}/download/" for fid, _ in files.values()],
    )
    emulator.set_faults(Faults(bandwidth=400_000))  # about a second per file
    out = tmp_path / "out"
    with anyio.move_on_after(0.5):
        await client.exports.export(
            filter={"project": pid}, format="json", output_dir=out, include_files=True
        )
    assert not (out / "export_report.json").exists()
    assert not (out / "synapse_default.jsonl").exists()
    assert _leftovers(out) == []
    assert not any((out / "images" / "default").glob("*"))


async def test_failed_download_aborts_the_export(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    pid = emulator.seed.project("gone")["id"]
    emulator.seed.annotated_assignments(
        pid, 3, 1, urls=[f"{emulator.url}data_files/999/download/"] * 3
    )
    out = tmp_path / "out"
    with pytest.raises(NotFoundError):
        await client.exports.export(
            filter={"project": pid}, format="coco", output_dir=out, include_files=True
        )
    assert not (out / "export_report.json").exists()
    assert _leftovers(out) == []


async def test_a_corrupt_stored_file_fails_its_md5_check_and_leaves_nothing(
    client: AsyncClient, emulator: Emulator, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import hashlib
    import logging

    from synapse_async import ChecksumMismatchError

    files = await _data_files(client, tmp_path, 2, size=50_000)
    (good_id, _good_body), (bad_id, bad_body) = files.values()
    stored = [
        p
        for p in (emulator.data_dir / "files").rglob("*")
        if p.is_file() and p.read_bytes() == bad_body
    ]
    assert len(stored) == 1
    corrupt = bytearray(bad_body)
    corrupt[1234] ^= 0xFF  # the server's copy rots after its checksum was taken
    stored[0].write_bytes(bytes(corrupt))
    pid = emulator.seed.project("rot", annotation_type="bounding_box", state="active")["id"]
    await client.tasks.create(
        pid,
        [
            {"data": {"data_file": good_id, "file_name": "good.jpg"}},
            {"data": {"data_file": bad_id, "file_name": "bad.jpg"}},
        ],
    )
    emulator.workflow.simulator.complete(pid, 2)
    out = tmp_path / "out"
    with (
        caplog.at_level(logging.INFO, logger="synapse_async.http"),
        pytest.raises(ChecksumMismatchError) as info,
    ):
        await client.exports.export(
            target="task",
            filter={"project": pid},
            format="coco",
            output_dir=out,
            include_files=True,
            max_concurrency=1,
        )
    err = info.value
    assert err.expected == hashlib.md5(bad_body).hexdigest()
    assert err.actual == hashlib.md5(bytes(corrupt)).hexdigest()
    assert err.expected in str(err) and err.actual in str(err)
    assert any("downloading again" in r.getMessage() for r in caplog.records)  # tried twice
    assert not (out / "images" / "default" / "bad.jpg").exists()
    assert not (out / "export_report.json").exists()
    assert _leftovers(out) == []


async def test_download_checks_the_md5_it_is_given(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    import hashlib

    from synapse_async import ChecksumMismatchError

    ((fid, body),) = (await _data_files(client, tmp_path, 1, size=30_000)).values()
    url = f"{emulator.url}data_files/{fid}/download/"
    dest = tmp_path / "copy.bin"
    md5 = hashlib.md5(body).hexdigest()
    assert await download(client._http, url, dest, md5=md5.upper()) == len(body)
    assert dest.read_bytes() == body
    with pytest.raises(ChecksumMismatchError, match="downloaded twice"):
        await download(client._http, url, tmp_path / "other.bin", md5="0" * 32)
    assert not (tmp_path / "other.bin").exists()
    assert _leftovers(tmp_path) == []
