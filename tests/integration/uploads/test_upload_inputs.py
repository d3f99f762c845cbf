"""Bad inputs fail before any request; a file changing mid-upload is reported, never mixed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from synapse_async import AsyncClient, FileChangedError, InvalidInputError, NotFoundError
from synapse_async.emulator import Emulator, Faults
from synapse_async.transfer import plan
from synapse_async.transfer.plan import Part, Progress, plan_parts
from synapse_async.transfer.resume import resolve_cache_dir
from tests.integration.uploads.conftest import MIB, FileMaker, state_files

pytestmark = pytest.mark.anyio

PART = 5 * MIB


async def test_bad_inputs_are_typed_errors_before_any_request(
    emulator: Emulator,
    client: AsyncClient,
    make_file: FileMaker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = make_file(10)
    empty = tmp_path / "empty.bin"
    empty.touch()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    huge = tmp_path / "huge.bin"
    with huge.open("wb") as fh:  # sparse: 10,001 parts of 5 MiB
        fh.truncate((plan.MAX_PARTS + 1) * PART)
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (tmp_path / "missing.bin", {}, "no such file"),
        (tmp_path, {}, "is a directory"),
        (fifo, {}, "not a regular file"),
        (empty, {}, "is empty"),
        (good, {"part_size": PART - 1}, "part_size must be"),
        (good, {"part_size": 5 * 2**30 + 1}, "part_size must be"),
        (good, {"part_size": "5MiB"}, "part_size must be"),
        (good, {"max_concurrency": 0}, "max_concurrency must be"),
        (good, {"max_concurrency": 65}, "max_concurrency must be"),
        (good, {"on_progress": "not callable"}, "on_progress must be"),
        (huge, {"part_size": PART}, "at most 10000"),
    ]
    for path, kwargs, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            await client.uploads.upload_file(path, **kwargs)
    # unreadable: root reads anything, so stand in for the permission check there
    secret = make_file(10, name="secret.bin")
    secret.chmod(0)
    if os.geteuid() == 0:

        def denied(_p: Path) -> None:
            raise PermissionError(13, "Permission denied")

        monkeypatch.setattr(plan, "_probe_readable", denied)
    with pytest.raises(InvalidInputError, match="not readable"):
        await client.uploads.upload_file(secret)
    assert emulator.counters["requests"] == 0  # nothing reached the server


@pytest.mark.parametrize("change", ["grow", "touch"])
async def test_file_changing_during_upload_is_reported_and_aborted(
    emulator: Emulator, client: AsyncClient, make_file: FileMaker, _cache_dir: Path, change: str
) -> None:
    path = make_file(20 * MIB)
    emulator.set_faults(Faults(bandwidth=40e6, paths="/parts/"))
    changed = False

    def on_progress(done: int, _total: int) -> None:
        nonlocal changed
        if done and not changed:
            changed = True
            if change == "grow":
                with path.open("ab") as fh:
                    fh.write(b"appended")
            else:
                st = path.stat()
                os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))

    with pytest.raises(FileChangedError) as info:
        await client.uploads.upload_file(
            path, part_size=PART, max_concurrency=1, on_progress=on_progress
        )
    err = info.value
    assert err.reason == "file_changed" and err.upload_id is not None and err.part == 2
    assert ("size went from" if change == "grow" else "modified") in str(err)
    with pytest.raises(NotFoundError):  # the server's partial copy was aborted
        await client.uploads.get(err.upload_id)
    assert state_files(_cache_dir) == []


def test_plan_parts_and_progress() -> None:
    assert plan_parts(1, PART) == [Part(1, 0, 1)]
    assert plan_parts(PART, PART) == [Part(1, 0, PART)]
    assert plan_parts(PART + 1, PART) == [Part(1, 0, PART), Part(2, PART, 1)]
    assert sum(p.size for p in plan_parts(123 * MIB + 5, PART)) == 123 * MIB + 5
    seen: list[tuple[int, int]] = []
    progress = Progress(100, lambda d, t: seen.append((d, t)))
    for value in (0, 0, 40, 30, 100, 120):
        progress.advance_to(value)
    assert seen == [(0, 100), (40, 100), (100, 100)]


def test_cache_dir_resolution(tmp_path: Path) -> None:
    assert resolve_cache_dir(tmp_path / "x") == tmp_path / "x"
    assert resolve_cache_dir(None, {"SYNAPSE_CACHE_DIR": str(tmp_path)}) == tmp_path / "uploads"
    assert resolve_cache_dir(None, {}) == Path("~/.cache/synapse-async/uploads").expanduser()
