"""Bulk uploads sharded over a Ray cluster (``pip install 'synapse-async[ray]'``).

``upload_on_ray`` cuts the items into shards of consecutive items as it reads them (the driver
holds only the shards in flight), runs ``client.data_collections.upload`` on each shard in a
Ray task with the shard's own journal under ``journal_dir``, shows the shards' progress as one,
and merges the shards' reports into one ``BulkUploadReport``::

    import ray
    from synapse_async import ClientConfig
    from synapse_async.bulk import scan_directory
    from synapse_async.bulk.ray import upload_on_ray

    ray.init(address="auto")
    config = ClientConfig.resolve()  # credentials: arguments > environment > config file
    items = scan_directory("/data/photos", file_specifications=[{"name": "image"}])
    report = upload_on_ray(7, items, config=config, journal_dir="/shared/journals/photos")

Credentials reach the workers as an ordinary task argument (the ``ClientConfig``), never
through ``runtime_env`` environment variables, which Ray writes to its logs, state API and
every worker's environment.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import anyio
import attrs

from synapse_async._validation import check_int_range
from synapse_async.bulk.items import BulkItem
from synapse_async.bulk.report import BulkProgress, BulkUploadReport
from synapse_async.client import AsyncClient
from synapse_async.config import ClientConfig
from synapse_async.errors import BulkUploadError, InvalidInputError, JournalError
from synapse_async.export.files import write_atomic

try:
    import ray
    import ray.exceptions
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("synapse_async.bulk.ray needs Ray: pip install 'synapse-async[ray]'") from exc

__all__ = ["DEFAULT_SHARD_SIZE", "upload_on_ray"]

DEFAULT_SHARD_SIZE = 10_000
"""Items per shard when neither ``shards`` nor ``shard_size`` is given."""

_RUN_FILE = "ray-upload.json"
_POLL_SECONDS = 0.25


@attrs.frozen
class _Shard:
    """Consecutive items ``offset .. offset + len(items) - 1`` of the input."""

    index: int
    offset: int
    items: list[Any]
    files: int
    fingerprint: str

    @property
    def name(self) -> str:
        return f"shard-{self.index:06d}"


def _absolute(raw: Any) -> Any:
    """The item as a plain dict with absolute paths (workers may run in another folder).

    A malformed item is passed on unchanged: the shard's upload reports it as a failed item.
    """
    if isinstance(raw, BulkItem):
        files: Any = raw.files
        meta: Any = raw.meta
        groups: Any = raw.groups
    elif isinstance(raw, Mapping) and "files" in raw and set(raw) <= {"files", "meta", "groups"}:
        files, meta, groups = raw["files"], raw.get("meta"), raw.get("groups")
    else:
        return raw
    try:
        absolute = {slot: os.path.abspath(os.fspath(path)) for slot, path in files.items()}
    except (AttributeError, TypeError):
        return raw
    item: dict[str, Any] = {"files": absolute}
    if meta is not None:
        item["meta"] = meta
    if groups is not None:
        item["groups"] = groups
    return item


def _describe(item: Any) -> str:
    try:
        return json.dumps(item, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        return repr(item)


def _shards(items: Iterable[Any], size: int) -> Iterator[_Shard]:
    """Shards of ``size`` consecutive items, read lazily from ``items``."""
    iterator = iter(items)
    for index in itertools.count():
        chunk = [_absolute(raw) for raw in itertools.islice(iterator, size)]
        if not chunk:
            return
        digest = hashlib.sha256()
        for item in chunk:
            digest.update(_describe(item).encode("utf-8", "surrogateescape") + b"\n")
        files = sum(len(i["files"]) if isinstance(i, dict) else 1 for i in chunk)
        yield _Shard(
            index=index,
            offset=index * size,
            items=chunk,
            files=files,
            fingerprint=digest.hexdigest(),
        )


def _write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` atomically."""
    write_atomic(os.fspath(path), json.dumps(data).encode("utf-8"), durable=True)


def _check_run(journal_dir: Path, collection: int, project: int | None, size: int) -> None:
    """Record this run's shape; a rerun must cut the input the same way."""
    path = journal_dir / _RUN_FILE
    wanted = {"collection": collection, "project": project, "shard_size": size}
    if path.exists():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise JournalError(
                f"{str(path)!r} is unreadable ({exc}); use a fresh journal_dir", path=str(path)
            ) from None
        if found != wanted:
            raise JournalError(
                f"journal_dir {str(journal_dir)!r} belongs to another run ({found}); this run is "
                f"{wanted}: pass the same collection, project and shard size, or a fresh "
                "journal_dir",
                path=str(path),
            )
        return
    _write_json(path, wanted)


def _finished(journal_dir: Path, shard: _Shard) -> BulkUploadReport | None:
    """The report of an earlier run that finished ``shard`` with the same items, if any."""
    path = journal_dir / f"{shard.name}.done.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data["fingerprint"] != shard.fingerprint:
            return None
        done = data["report"]
        return BulkUploadReport(
            collection=done["collection"],
            project=done["project"],
            items=done["items"],
            skipped=done["items"],
            bytes_total=done["bytes_total"],
            data_unit_ids=list(done["data_unit_ids"]),
            task_ids=list(done["task_ids"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no marker, or not one of ours: the shard runs (its journal skips work)


def _run_shard(
    config: ClientConfig,
    collection: int,
    project: int | None,
    items: list[Any],
    journal: str,
    concurrency: int,
    fail_fast: bool,
    board: Any,
    shard: int,
) -> BulkUploadReport:
    """One shard on a Ray worker: the async bulk pipeline with the shard's own journal."""
    Path(journal).parent.mkdir(parents=True, exist_ok=True)

    def progress(snapshot: BulkProgress) -> None:
        board.report.remote(shard, snapshot)

    async def main() -> BulkUploadReport:
        async with AsyncClient(config=config) as client:
            return await client.data_collections.upload(
                collection,
                items,
                project=project,
                journal=journal,
                max_concurrency=concurrency,
                fail_fast=fail_fast,
                on_progress=progress if board is not None else None,
            )

    return anyio.run(main)


class _ProgressBoard:
    """A Ray actor holding each running shard's latest ``BulkProgress``."""

    def __init__(self) -> None:
        self._latest: dict[int, BulkProgress] = {}

    def report(self, shard: int, snapshot: BulkProgress) -> None:
        self._latest[shard] = snapshot

    def take(self) -> dict[int, BulkProgress]:
        return dict(self._latest)


def _merge(
    collection: int,
    project: int | None,
    parts: list[tuple[_Shard, BulkUploadReport]],
    seconds: float,
) -> BulkUploadReport:
    """One report from the shards' reports, in input order; failure indexes are global."""
    merged = BulkUploadReport(collection=collection, project=project, seconds=seconds)
    for shard, part in sorted(parts, key=lambda p: p[0].index):
        merged.items += part.items
        merged.sent += part.sent
        merged.already_on_server += part.already_on_server
        merged.skipped += part.skipped
        merged.failed += part.failed
        merged.bytes_sent += part.bytes_sent
        merged.bytes_total += part.bytes_total
        merged.data_unit_ids.extend(part.data_unit_ids)
        merged.task_ids.extend(part.task_ids)
        merged.failures.extend(attrs.evolve(f, index=f.index + shard.offset) for f in part.failures)
    return merged


def _shard_size(items: Iterable[Any], shards: int | None, shard_size: int | None) -> int:
    if shards is not None and shard_size is not None:
        raise InvalidInputError("pass shards or shard_size, not both")
    if shard_size is not None:
        check_int_range(shard_size, "shard_size", 1)
        return shard_size
    if shards is None:
        return DEFAULT_SHARD_SIZE
    check_int_range(shards, "shards", 1)
    try:
        total = len(items)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidInputError(
            f"shards={shards} needs items with a length (a list); for a generator such as "
            "scan_directory(...) pass shard_size=N instead"
        ) from None
    return max(1, -(-total // shards))


class _Progress:
    """Adds the shards' progress up for the caller's ``on_progress``."""

    def __init__(self, callback: Callable[[BulkProgress], None], board: Any) -> None:
        self._callback = callback
        self._board = board
        self._skipped: list[_Shard] = []
        self._skipped_bytes = 0
        self._last = 0.0

    def skipped(self, shard: _Shard, report: BulkUploadReport) -> None:
        self._skipped.append(shard)
        self._skipped_bytes += report.bytes_total

    def publish(self, *, scan_complete: bool, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < _POLL_SECONDS:
            return
        self._last = now
        latest: dict[int, BulkProgress] = ray.get(self._board.take.remote())
        files = sum(s.files for s in self._skipped)
        items = sum(len(s.items) for s in self._skipped)
        self._callback(
            BulkProgress(
                files_done=files + sum(p.files_done for p in latest.values()),
                files_total=files + sum(p.files_total for p in latest.values()),
                bytes_done=self._skipped_bytes + sum(p.bytes_done for p in latest.values()),
                bytes_total=self._skipped_bytes + sum(p.bytes_total for p in latest.values()),
                items_done=items + sum(p.items_done for p in latest.values()),
                items_failed=sum(p.items_failed for p in latest.values()),
                rate=sum(p.rate for p in latest.values() if not p.scan_complete or p.rate),
                scan_complete=scan_complete and all(p.scan_complete for p in latest.values()),
            )
        )


def upload_on_ray(
    collection: int,
    items: Iterable[BulkItem | Mapping[str, Any]],
    *,
    journal_dir: str | os.PathLike[str],
    config: ClientConfig | None = None,
    project: int | None = None,
    shards: int | None = None,
    shard_size: int | None = None,
    per_worker_concurrency: int = 32,
    max_in_flight: int | None = None,
    max_retries: int = 3,
    on_progress: Callable[[BulkProgress], None] | None = None,
    fail_fast: bool = False,
    address: str | None = None,
) -> BulkUploadReport:
    """Upload many files as data units (and tasks) from shards running on a Ray cluster.

    The items are cut into shards of consecutive items while they are read (``items`` may be
    a generator of millions: the driver holds only the shards in flight). Each shard runs
    ``client.data_collections.upload`` in a Ray task (one CPU) with its own journal
    ``journal_dir/shard-NNNNNN.journal``; a shard that finishes with no failed item is marked
    done (``shard-NNNNNN.done.json``). Running again with the same ``journal_dir`` and the
    same input skips the done shards and resumes the others from their journals, with no
    duplicate data unit or task. ``journal_dir`` must be one path that the driver and every
    worker see (a shared file system on a multi-node cluster).

    This call blocks until every shard is done. A shard whose worker dies is retried by Ray
    ``max_retries`` times (it resumes from its journal); after that, or on a shard's error, no
    new shard is started, the running ones finish, and the error is raised.

    Args:
        collection: the data collection id.
        items: ``BulkItem`` s or ``{"files": {slot: path}, "meta": {...}, "groups": [...]}``
            dicts, e.g. ``synapse_async.bulk.scan_directory(...)``.
        journal_dir: the folder of the shards' journals and done markers (created if missing).
        config: server and credentials (``ClientConfig.resolve(...)``); default: resolved
            here from the environment or config file. Sent to the workers as a task argument.
        project: also create one task per data unit in this project.
        shards: cut a sized input (a list) into this many shards.
        shard_size: items per shard (default ``DEFAULT_SHARD_SIZE``); for generators.
        per_worker_concurrency: requests in flight per shard, 1 to 256.
        max_in_flight: shards running at once; default: the cluster's CPU count.
        max_retries: times Ray reruns a shard whose worker process died.
        on_progress: called about 4 times a second with the shards' progress added up.
        fail_fast: stop at the first failed item (raises ``BulkUploadError``).
        address: the Ray cluster to connect to when Ray is not initialised yet (e.g.
            ``"auto"`` or ``"10.0.0.5:6379"``; None starts a local Ray); disconnects at the end.

    Returns:
        One report for the whole input: counts, bytes, data unit and task ids in input order,
        each failed item with its index in the input; ``skipped`` counts the items of done
        shards and items finished by an earlier run.

    Raises:
        InvalidInputError: bad arguments.
        JournalError: ``journal_dir`` holds another run's journals, or a shard's journal
            cannot be used.
        BulkUploadError: with ``fail_fast``, the first failed item (its ``report`` is merged).
        ray.exceptions.WorkerCrashedError: a shard's worker died more than ``max_retries``
            times; run again with the same ``journal_dir`` to finish.
    """
    check_int_range(collection, "collection", 1)
    if project is not None:
        check_int_range(project, "project", 1)
    check_int_range(per_worker_concurrency, "per_worker_concurrency", 1, 256)
    check_int_range(max_retries, "max_retries", 0)
    if max_in_flight is not None:
        check_int_range(max_in_flight, "max_in_flight", 1)
    if on_progress is not None and not callable(on_progress):
        raise InvalidInputError(f"on_progress must be callable, got {on_progress!r}")
    if isinstance(items, (str, bytes, os.PathLike)) or not isinstance(items, Iterable):
        raise InvalidInputError(
            f"items must be an iterable of items (e.g. scan_directory(...)), got {items!r}"
        )
    size = _shard_size(items, shards, shard_size)
    config = config if config is not None else ClientConfig.resolve()
    folder = Path(journal_dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    _check_run(folder, collection, project, size)

    started = time.monotonic()
    own_ray = not ray.is_initialized()
    if own_ray:
        ray.init(address=address, log_to_driver=False)
    elif address is not None:
        raise InvalidInputError(
            f"Ray is already initialised in this process; pass address=None, not {address!r}"
        )
    try:
        return _drive(
            collection,
            items,
            config=config,
            project=project,
            folder=folder,
            size=size,
            concurrency=per_worker_concurrency,
            max_in_flight=max_in_flight,
            max_retries=max_retries,
            on_progress=on_progress,
            fail_fast=fail_fast,
            started=started,
        )
    finally:
        if own_ray:
            ray.shutdown()


def _drive(
    collection: int,
    items: Iterable[Any],
    *,
    config: ClientConfig,
    project: int | None,
    folder: Path,
    size: int,
    concurrency: int,
    max_in_flight: int | None,
    max_retries: int,
    on_progress: Callable[[BulkProgress], None] | None,
    fail_fast: bool,
    started: float,
) -> BulkUploadReport:
    resources: Callable[[], dict[str, float]] = ray.cluster_resources
    limit = max_in_flight or max(1, int(resources().get("CPU", 1)))
    task = ray.remote(_run_shard).options(
        num_cpus=1, max_retries=max_retries, name="synapse_bulk_shard"
    )
    board = ray.remote(num_cpus=0)(_ProgressBoard).remote() if on_progress else None
    progress = _Progress(on_progress, board) if on_progress is not None else None
    parts: list[tuple[_Shard, BulkUploadReport]] = []
    pending: dict[Any, _Shard] = {}
    error: BaseException | None = None
    source = _shards(items, size)
    exhausted = False
    while True:
        while error is None and not exhausted and len(pending) < limit:
            shard = next(source, None)
            if shard is None:
                exhausted = True
                break
            earlier = _finished(folder, shard)
            if earlier is not None:
                parts.append((shard, earlier))
                if progress is not None:
                    progress.skipped(shard, earlier)
                continue
            journal = str(folder / f"{shard.name}.journal")
            ref = task.remote(
                config,
                collection,
                project,
                shard.items,
                journal,
                concurrency,
                fail_fast,
                board,
                shard.index,
            )
            pending[ref] = shard
        if not pending:
            break
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=_POLL_SECONDS)
        for ref in ready:
            shard = pending.pop(ref)
            try:
                report: BulkUploadReport = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                if isinstance(cause, BulkUploadError):
                    parts.append((shard, cause.report))
                    if error is None:
                        for other in pending:  # fail_fast: stop the other shards too
                            ray.cancel(other)
                error = error or (cause if isinstance(cause, Exception) else exc)
                continue
            except ray.exceptions.TaskCancelledError:
                continue  # cancelled above: its journal keeps what it did
            except ray.exceptions.RayError as exc:
                error = error or exc
                continue
            parts.append((shard, report))
            if report.failed == 0:
                _write_json(
                    folder / f"{shard.name}.done.json",
                    {"fingerprint": shard.fingerprint, "report": report.to_dict()},
                )
        if progress is not None:
            progress.publish(scan_complete=exhausted)
    if progress is not None:
        progress.publish(scan_complete=exhausted, force=True)
    merged = _merge(collection, project, parts, time.monotonic() - started)
    if isinstance(error, BulkUploadError):
        first = min(merged.failures, key=lambda f: f.index)
        raise BulkUploadError(
            f"bulk upload stopped at item #{first.index} (fail_fast): {first.error_type}: "
            f"{first.message}; run again with the same journal_dir to go on",
            report=merged,
        )
    if error is not None:
        raise error
    return merged
