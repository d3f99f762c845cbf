"""The one function the CLI uploads datasets through (``synapse upload`` and ``synapse demo``).

Interim implementation on the per-file SDK calls (``data_files.create`` under a semaphore,
then ``data_units.create`` and ``tasks.create`` in batches); it is replaced by
``client.data_collections.upload`` (the bulk pipeline: dedupe, journal, resume) when that
lands. Callers only see :func:`upload_items`, :class:`Progress` and :class:`Summary`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import anyio
import attrs

from synapse_async import AsyncClient, SynapseError

__all__ = ["Failure", "Progress", "Summary", "upload_items"]


@attrs.frozen
class Progress:
    """A snapshot for the progress bar."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    rate: float
    scan_complete: bool


@attrs.frozen
class Failure:
    """One item that failed."""

    index: int
    paths: dict[str, str]
    error_type: str
    message: str


@attrs.define
class Summary:
    """The outcome of an upload."""

    collection: int
    project: int | None = None
    items: int = 0
    sent: int = 0
    already_on_server: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_sent: int = 0
    bytes_total: int = 0
    seconds: float = 0.0
    data_unit_ids: list[int] = attrs.field(factory=list)
    task_ids: list[int] = attrs.field(factory=list)
    failures: list[Failure] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return attrs.asdict(self)


async def upload_items(
    client: AsyncClient,
    collection: int,
    items: Iterable[Mapping[str, Any]],
    *,
    project: int | None = None,
    journal: str | os.PathLike[str] | None = None,
    max_concurrency: int = 32,
    on_progress: Callable[[Progress], None] | None = None,
    fail_fast: bool = False,
) -> Summary:
    """Upload ``items`` (``{"files": {slot: path}, "meta": {...}}``) into ``collection``."""
    del journal  # resumable journals come with the bulk pipeline
    started = time.perf_counter()
    todo = [dict(item) for item in items]
    sizes = [{slot: os.stat(p).st_size for slot, p in item["files"].items()} for item in todo]
    summary = Summary(collection=collection, project=project, items=len(todo),
                      bytes_total=sum(sum(s.values()) for s in sizes))
    files_total = sum(len(s) for s in sizes)
    done_files = 0
    big_in_flight: dict[tuple[int, str], int] = {}
    units: list[tuple[int, dict[str, Any]]] = []
    limiter = anyio.CapacityLimiter(max_concurrency)

    def report(final: bool = False) -> None:
        if on_progress is None:
            return
        done = summary.bytes_sent + sum(big_in_flight.values())
        elapsed = time.perf_counter() - started
        on_progress(Progress(done_files, files_total, done, summary.bytes_total,
                             done / elapsed if elapsed > 0 else 0.0, True))

    async def one(index: int, item: dict[str, Any]) -> None:
        nonlocal done_files
        files: dict[str, Any] = {}
        try:
            async with limiter:
                for slot, path in item["files"].items():
                    key = (index, slot)

                    def part(sent: int, _total: int, key: tuple[int, str] = key) -> None:
                        big_in_flight[key] = sent
                        report()

                    data_file = await client.data_files.create(path, on_progress=part)
                    big_in_flight.pop(key, None)
                    files[slot] = {"checksum": data_file.checksum, "path": data_file.file}
                    summary.bytes_sent += sizes[index][slot]
                    done_files += 1
                    report()
        except SynapseError as exc:
            summary.failed += 1
            summary.failures.append(Failure(index, {k: str(v) for k, v in item["files"].items()},
                                            type(exc).__name__, str(exc)))
            if fail_fast:
                raise
            return
        summary.sent += 1
        units.append((index, {"data_collection": collection, "files": files,
                              "meta": dict(item.get("meta") or {})}))

    async with anyio.create_task_group() as tg:
        for index, item in enumerate(todo):
            tg.start_soon(one, index, item)
    units.sort(key=lambda pair: pair[0])
    if units:
        created = await client.data_units.create(unit for _i, unit in units)
        summary.data_unit_ids = [unit.id for unit in created]
        if project is not None:
            tasks = await client.tasks.create(project, ({"data_unit": u} for u in
                                                        summary.data_unit_ids))
            summary.task_ids = [task.id for task in tasks]
    summary.seconds = time.perf_counter() - started
    report(final=True)
    return summary


def items_from_paths(paths: Iterable[Path], specs: list[dict[str, Any]],
                     pattern: str = "*") -> Iterable[dict[str, Any]]:
    """One item per file under ``paths`` (directories walked in name order) in the one slot.

    Raises:
        InvalidInputError: the collection has more than one slot, or a path does not exist.
    """
    from synapse_async import InvalidInputError

    slots = [str(s.get("name")) for s in specs]
    if len(slots) != 1:
        raise InvalidInputError(
            f"the collection has slots {slots}: this upload fills exactly one slot")
    for root in paths:
        if not root.exists():
            raise InvalidInputError(f"{root} does not exist")
        files = sorted(p for p in root.rglob(pattern) if p.is_file()) if root.is_dir() else [root]
        for path in files:
            yield {"files": {slots[0]: path}, "meta": {"source": path.name}}
