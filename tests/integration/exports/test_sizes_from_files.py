"""Client exports with include_files: sizes and suffixes come from the downloaded files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from synapse_async import AsyncClient, InvalidInputError
from synapse_async.emulator import Emulator
from synapse_async.emulator.routes.ml import EVENTS, new_event
from tests.integration.export_consumers._data import png_bytes

pytestmark = pytest.mark.anyio

SIZES = [(64, 48), (120, 90), (33, 77), (200, 150), (50, 50), (81, 40)]


async def _ground_truth(client: AsyncClient, emulator: Emulator, tmp_path: Path) -> int:
    """A version whose events point at real PNG data files; odd ones carry no size and no
    file suffix (the server's metadata has neither)."""
    src = tmp_path / "src"
    src.mkdir()
    events: list[dict[str, Any]] = []
    for i, (w, h) in enumerate(SIZES):
        body = png_bytes(w, h, shade=10 * i)
        path = src / f"f{i}.png"
        path.write_bytes(body)
        await client.data_files.create(path)
        slot: dict[str, Any] = {
            "checksum": hashlib.md5(body).hexdigest(),
            "path": f"gt/shot_{i}" if i % 2 else f"gt/shot_{i}.png",
        }
        if i % 2 == 0:
            slot.update(width=w, height=h)
        boxes = [
            {"id": f"b{i}_{k}", "tool": "bounding_box", "classification": {"class": "car"}}
            for k in range(2)
        ]
        coords = [
            {
                "id": f"b{i}_{k}",
                "coordinate": {"x": 1 + k, "y": 2, "width": w // 3, "height": h // 4},
            }
            for k in range(2)
        ]
        events.append(
            {
                "files": {"image_1": slot},
                "data": {"annotations": {"image_1": boxes}, "annotationsData": {"image_1": coords}},
            }
        )
    seeded = emulator.seed.ground_truth(versions=1, events=0)
    version = seeded["versions"][0]
    emulator.store.insert_many(
        EVENTS, [new_event(version, e, f"e{i}") for i, e in enumerate(events)]
    )
    return int(version["id"])


async def test_unsized_media_are_sized_and_named_from_their_files(
    client: AsyncClient, emulator: Emulator, tmp_path: Path
) -> None:
    version = await _ground_truth(client, emulator, tmp_path)
    target: dict[str, Any] = {
        "target": "ground_truth",
        "filter": {"ground_truth_dataset_version": version},
    }
    bare = await client.exports.export(**target, format="yolo", output_dir=tmp_path / "bare")
    assert not bare.complete and bare.failed == {"missing_image_size": 3}

    out = tmp_path / "yolo"
    report = await client.exports.export(
        **target, format="yolo", output_dir=out, include_files=True, max_concurrency=3
    )
    assert report.complete and not report.failed and report.images_without_size == 0
    assert report.annotations_written == 2 * len(SIZES)
    images = sorted(os.listdir(out / "images" / "default"))
    assert images == [f"shot_{i}.png" for i in range(len(SIZES))]
    labels = sorted(os.listdir(out / "labels" / "default"))
    assert labels == [f"shot_{i}.txt" for i in range(len(SIZES))]
    for i, (w, h) in enumerate(SIZES):  # normalized by the file's own size
        rows = (out / "labels" / "default" / f"shot_{i}.txt").read_text().splitlines()
        assert len(rows) == 2
        _, _cx, _cy, bw, bh = (float(v) for v in rows[0].split())
        assert bw == pytest.approx((w // 3) / w, abs=1e-6)
        assert bh == pytest.approx((h // 4) / h, abs=1e-6)
    total = sum(len(png_bytes(w, h, shade=10 * i)) for i, (w, h) in enumerate(SIZES))
    assert any(f"({total} bytes)" in note for note in report.notes), report.notes


async def test_client_overwrite(client: AsyncClient, emulator: Emulator, tmp_path: Path) -> None:
    version = await _ground_truth(client, emulator, tmp_path)
    target: dict[str, Any] = {
        "target": "ground_truth",
        "filter": {"ground_truth_dataset_version": version},
    }
    out = tmp_path / "coco"
    await client.exports.export(
        **target, format="coco", output_dir=out, split={"train": 0.5, "val": 0.5}, seed=1
    )
    with pytest.raises(InvalidInputError, match="overwrite=True"):
        await client.exports.export(**target, format="coco", output_dir=out)
    report = await client.exports.export(**target, format="coco", output_dir=out, overwrite=True)
    assert report.complete is False  # no files: half the media have no size
    assert sorted(os.listdir(out / "annotations")) == ["instances_default.json"]
