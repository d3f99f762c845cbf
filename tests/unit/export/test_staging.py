"""The export folder is the atomic unit: staging, one rename, overwrite, stale leftovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from synapse_async.errors import InvalidInputError
from synapse_async.export import FormatOptions, write_export
from synapse_async.export.pipeline import REPORT_FILE, remove_stale_staging
from tests.unit.export._records import bbox_record

ROOT = Path(__file__).resolve().parents[3]


def _records(n: int) -> list[dict[str, object]]:
    return [bbox_record(i, [(1, 1, 5, 5, "car")]) for i in range(n)]


def _images(out: Path) -> dict[str, set[str]]:
    return {split.name: {p.name for p in split.iterdir()} for split in (out / "labels").iterdir()}


def test_a_non_empty_output_is_refused_and_overwrite_replaces_it_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    split = {"train": 0.5, "val": 0.5}
    write_export(_records(50), format="yolo", output_dir=out, split=split, seed=1)
    first = _images(out)
    with pytest.raises(InvalidInputError, match="not empty; pass overwrite=True"):
        write_export(_records(50), format="yolo", output_dir=out, split=split, seed=2)
    assert _images(out) == first  # untouched
    write_export(_records(50), format="yolo", output_dir=out, split=split, seed=2, overwrite=True)
    second = _images(out)
    assert second != first
    assert sum(len(v) for v in second.values()) == 50  # no stale label file
    assert not second["train"] & second["val"]
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no staging or old folder left


def test_an_empty_existing_directory_is_fine(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    report = write_export(_records(3), format="coco", output_dir=tmp_path / "out")
    assert report.complete and (tmp_path / "out" / REPORT_FILE).exists()
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidInputError, match="is not a directory"):
        write_export(_records(1), format="coco", output_dir=tmp_path / "file", overwrite=True)


def test_durable_export_syncs_every_file_and_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    write_export(
        _records(4), format="yolo", output_dir=tmp_path / "d", options=FormatOptions(durable=True)
    )
    entries = sum(len(files) + 1 for _, _, files in os.walk(tmp_path / "d"))
    assert len(synced) >= entries + 1  # every file, every folder, and the parent


_SLOW_EXPORT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from synapse_async.export import write_export
    from tests.unit.export._records import bbox_record

    marker = Path(sys.argv[2])
    def records():
        for i in range(10_000):
            if i == 50:
                marker.write_text("half")
                time.sleep(60)
            yield bbox_record(i, [(1, 1, 5, 5, "car")])
    write_export(records(), format="yolo", output_dir=sys.argv[1])
""")


def test_a_killed_export_leaves_nothing_visible_and_the_next_one_cleans_up(tmp_path: Path) -> None:
    out, marker = tmp_path / "out", tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_EXPORT, str(out), str(marker)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not out.exists()  # no visible folder, so no empty label file a trainer would read
    stale = [p for p in os.listdir(tmp_path) if p.startswith(".out.export-")]
    assert len(stale) == 1
    leftover = tmp_path / stale[0]
    assert len(list((leftover / "labels" / "default").iterdir())) == 50
    (leftover / "images" / "default" / "a.jpg.download").write_bytes(b"partial")
    write_export(_records(2), format="yolo", output_dir=out)
    assert sorted(os.listdir(tmp_path)) == ["marker", "out"]  # the dead export's folder went


def test_live_exports_staging_is_kept(tmp_path: Path) -> None:
    live = tmp_path / f".out.export-{os.getpid()}-abcd"
    live.mkdir()
    dead = tmp_path / ".out.export-999999999-abcd"
    dead.mkdir()
    other = tmp_path / ".other.export-999999999-abcd"
    other.mkdir()
    assert remove_stale_staging(tmp_path / "out") == 1
    assert sorted(os.listdir(tmp_path)) == sorted([live.name, other.name])
