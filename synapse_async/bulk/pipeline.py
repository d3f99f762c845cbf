"""The bulk upload pipeline: check -> hash -> dedupe -> send -> data units -> tasks.

Every stage runs at once, joined by bounded memory streams, so the input is read lazily and
memory stays flat whatever the number of items. Requests go through the client's resources
(``data_files``, ``data_units``, ``tasks``), whose HTTP layer does every retry.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import attrs
from anyio.streams.memory import MemoryObjectReceiveStream as ObjectReceiveStream
from anyio.streams.memory import MemoryObjectSendStream as ObjectSendStream

from synapse_async._tasks import first_error
from synapse_async._validation import check_int_range
from synapse_async.bulk.items import (
    BulkItem,
    SlotRules,
    absolute_paths,
    check_slots,
    item_key,
    to_item,
)
from synapse_async.bulk.journal import FileState, Journal, JournalRow
from synapse_async.bulk.report import BulkFailure, BulkProgress, BulkUploadReport
from synapse_async.errors import (
    BulkUploadError,
    FileChangedError,
    InvalidInputError,
    NotFoundError,
    SynapseError,
    ValidationError,
)
from synapse_async.resources._base import check_id
from synapse_async.resources.data_files import MULTIPART_LIMIT, AsyncDataFiles
from synapse_async.resources.data_units import DATA_UNIT_BATCH_SIZE, AsyncDataUnits
from synapse_async.resources.tasks import AsyncTasks

if TYPE_CHECKING:
    from synapse_async.http import HTTPClient

__all__ = ["BulkUpload"]

T = TypeVar("T")

_EUID = os.geteuid() if hasattr(os, "geteuid") else -1
_READ_CHUNK = 512  # items read from the input per thread hop / journal lookup
_READ_AHEAD = 4  # chunks read before the stages take them (while the targets are checked)
_HASHERS = 4
_HASH_BATCH = 32  # items hashed per thread hop at most ...
_HASH_BATCH_BYTES = 4 * 2**20  # ... and bytes: a batch of large files must not gate the sends
_KEEP_BYTES = 32 * 2**10  # files up to this size are read once, hashed and sent from memory
_DEDUPE_BATCH = 500  # checksums per verify_checksums request
_DEDUPE_LINGER = 0.01
_UNIT_LINGER = 0.2
_LARGE_PART_BUDGET = 8 * 2**20  # bytes counted per part in flight of a large file
_LARGE_PARTS = 8
_BYTE_BUDGET = 256 * 2**20
_PROGRESS_EVERY = 0.2
_CONTROL_CONNECTIONS = 4  # connections left to dedupe, data unit and task requests


@attrs.define(eq=False)
class _File:
    slot: str
    path: Path
    size: int
    mtime_ns: int
    md5: str | None = None
    sent: bool = False  # the server holds it (sent by us now or earlier, or found by checksum)
    content: bytes | None = None  # a small file's bytes, read once to hash and to send

    def state(self) -> FileState:
        return FileState(str(self.path), self.size, self.mtime_ns, self.md5 or "", self.sent)


@attrs.define(eq=False)
class _Entry:
    index: int
    key: str
    item: BulkItem
    files: list[_File] = attrs.field(factory=list)
    unit_id: int | None = None
    task_id: int | None = None
    journaled: JournalRow | None = None


@attrs.define(eq=False)
class _Prepared:
    """A chunk of input, prepared in a worker thread; items the journal shows done, counted."""

    rest: list[_Entry | tuple[int, dict[str, str], Exception]] = attrs.field(factory=list)
    rows: dict[str, JournalRow] = attrs.field(factory=dict)
    done: int = 0
    done_files: int = 0
    done_bytes: int = 0
    unit_ids: list[int] = attrs.field(factory=list)
    task_ids: list[int] = attrs.field(factory=list)


class _Budget:
    """Requests and bytes in flight, shared by every file of the upload.

    Used from the event loop thread only, so the counters need no lock; a caller waits only
    when its share is not free (no lock round trip per small file).
    """

    def __init__(self, requests: int, nbytes: int) -> None:
        self._requests = requests
        self._bytes = nbytes
        self._max_bytes = nbytes
        self._waiters: deque[anyio.Event] = deque()

    async def acquire(self, requests: int, nbytes: int) -> int:
        """Take ``requests`` and ``nbytes`` (capped at the whole budget); returns the bytes."""
        nbytes = min(nbytes, self._max_bytes)
        while self._requests < requests or self._bytes < nbytes:
            woken = anyio.Event()
            self._waiters.append(woken)
            await woken.wait()
        self._requests -= requests
        self._bytes -= nbytes
        return nbytes

    def release(self, requests: int, nbytes: int) -> None:
        """Give back what ``acquire`` took; every waiter checks again."""
        self._requests += requests
        self._bytes += nbytes
        waiters, self._waiters = self._waiters, deque()
        for woken in waiters:
            woken.set()


def _md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_entries(entries: list[_Entry]) -> list[OSError | None]:
    """Hash every file of these entries (in a worker thread); keep small files' bytes.

    One thread hop for a batch of items: for small files the hop costs more than the hash.
    Returns, per entry, the error that stopped it or None.
    """
    errors: list[OSError | None] = []
    for entry in entries:
        try:
            for f in entry.files:
                if f.md5 is not None:
                    continue
                if f.size <= _KEEP_BYTES:
                    f.content = f.path.read_bytes()
                    f.md5 = hashlib.md5(f.content, usedforsecurity=False).hexdigest()
                else:
                    f.md5 = _md5_file(f.path)
            errors.append(None)
        except OSError as exc:
            errors.append(exc)
    return errors


def _stat_file(path: Path) -> os.stat_result:
    """Stat a file to upload; raise InvalidInputError naming what is wrong with it."""
    name = str(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(
            f"file name {os.fsencode(path)!r} is not valid UTF-8; rename the file"
        ) from None
    try:
        st = os.stat(name)
        if stat.S_ISREG(st.st_mode) and (
            (st.st_uid == _EUID and st.st_mode & stat.S_IRUSR) or os.access(name, os.R_OK)
        ):  # the mode bits answer for one's own files without another system call
            return st
    except OSError:
        pass
    return _explain_stat_failure(path, name)


def _explain_stat_failure(path: Path, name: str) -> os.stat_result:
    """Stat ``path`` again and raise InvalidInputError naming what is wrong with it."""
    shown = repr(name)
    try:
        st = os.stat(name)
    except FileNotFoundError:
        if path.is_symlink():
            raise InvalidInputError(f"{shown} is a broken symlink") from None
        raise InvalidInputError(f"no such file: {shown}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InvalidInputError(f"{shown} is a symlink loop") from None
        raise InvalidInputError(f"cannot read {shown}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInputError(f"{shown} is a directory; pass a file")
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInputError(f"{shown} is not a regular file (a FIFO, socket or device)")
    if not os.access(name, os.R_OK):
        raise InvalidInputError(f"{shown} is not readable (check its permissions)")
    return st


def _unit_path(path: Path) -> str:
    """The ``path`` sent in a data unit: the file name, never a local absolute path."""
    return path.name


async def _aiter_chunks(
    items: Iterable[Any] | AsyncIterable[Any], size: int
) -> AsyncIterator[list[Any]]:
    """The input in lists of up to ``size``; a blocking iterable is read in a worker thread."""
    if isinstance(items, AsyncIterable):
        chunk: list[Any] = []
        async for value in items:
            chunk.append(value)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        return
    iterator: Iterator[Any] = iter(items)

    def take() -> list[Any]:
        out = []
        for value in iterator:
            out.append(value)
            if len(out) >= size:
                break
        return out

    while chunk := await anyio.to_thread.run_sync(take):
        yield chunk


async def _collect(recv: ObjectReceiveStream[T], limit: int, linger: float) -> list[T] | None:
    """Up to ``limit`` values: the first as soon as it comes, the rest within ``linger``.

    None when the stream has ended. Polls instead of cancelling a receive, so no value is
    ever lost to a timeout.
    """
    try:
        batch = [await recv.receive()]
    except anyio.EndOfStream:
        return None
    deadline = time.monotonic() + linger
    while len(batch) < limit:
        try:
            batch.append(recv.receive_nowait())
        except anyio.WouldBlock:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            await anyio.sleep(min(left, 0.005))
        except anyio.EndOfStream:
            break
    return batch


async def _collect_hash_batch(recv: ObjectReceiveStream[_Entry]) -> list[_Entry] | None:
    """Entries to hash in one thread hop; None when the stream has ended.

    What is waiting, up to ``_HASH_BATCH`` items and ``_HASH_BATCH_BYTES`` bytes: a large file
    goes alone, so the first send never waits for a whole batch of large files to be hashed.
    """
    try:
        batch = [await recv.receive()]
    except anyio.EndOfStream:
        return None
    nbytes = sum(f.size for f in batch[0].files)
    while len(batch) < _HASH_BATCH and nbytes < _HASH_BATCH_BYTES:
        try:
            entry = recv.receive_nowait()
        except (anyio.WouldBlock, anyio.EndOfStream):
            break
        batch.append(entry)
        nbytes += sum(f.size for f in entry.files)
    return batch


def _first_error(group: BaseException) -> BaseException:
    """The error to raise for a failed task group: its SDK error when there is one."""
    leaves: list[BaseException] = []

    def walk(exc: BaseException) -> None:
        inner: Any = getattr(exc, "exceptions", None)
        if isinstance(inner, tuple):
            for each in inner:
                walk(each)
        else:
            leaves.append(exc)

    walk(group)
    # The SDK error is the cause; others (a stream closed by the failed stage, ...) follow it.
    return next((exc for exc in leaves if isinstance(exc, SynapseError)), group)


class BulkUpload:
    """One run of ``client.data_collections.upload`` (see its docstring)."""

    def __init__(
        self,
        http: HTTPClient,
        *,
        collection: int,
        project: int | None,
        journal: str | os.PathLike[str] | None,
        max_concurrency: int,
        on_progress: Callable[[BulkProgress], None] | None,
        fail_fast: bool,
        unit_batch_size: int = DATA_UNIT_BATCH_SIZE,
    ) -> None:
        check_id(collection, "collection")
        if project is not None:
            check_id(project, "project")
        check_int_range(max_concurrency, "max_concurrency", 1, 256)
        if not isinstance(unit_batch_size, int) or not 1 <= unit_batch_size <= 1000:
            raise InvalidInputError(
                f"batch size must be an integer from 1 to 1000, got {unit_batch_size!r}"
            )
        if on_progress is not None and not callable(on_progress):
            raise InvalidInputError(f"on_progress must be callable, got {on_progress!r}")
        self._http = http
        self._files = AsyncDataFiles(http)
        self._units = AsyncDataUnits(http)
        self._tasks = AsyncTasks(http)
        self._collection = collection
        self._project = project
        self._journal_path = journal
        self._journal: Journal | None = None
        self._on_progress = on_progress
        self._fail_fast = fail_fast
        self._unit_batch = unit_batch_size
        self._slots = SlotRules(collection, (), ())
        self._report = BulkUploadReport(collection=collection, project=project)
        # Senders beyond the connection pool would only queue for a connection, and the
        # dedupe, data unit and task requests that feed and drain them would queue behind.
        self._senders = max(
            1, min(max_concurrency, http.config.max_connections - _CONTROL_CONNECTIONS)
        )
        self._budget = _Budget(self._senders, _BYTE_BUDGET)
        self._large = anyio.Semaphore(max(1, self._senders // (2 * _LARGE_PARTS)))
        self._journal_lock = anyio.CapacityLimiter(1)
        self._hash_limiter = anyio.CapacityLimiter(_HASHERS)
        self._seen_paths: dict[int, int] = {}
        self._checksums_in_flight: dict[str, anyio.Event | None] = {}
        self._checksums_sent: set[int] = set()  # each MD5 sent, as an int: ~70 B per file
        self._files_total = 0
        self._files_done = 0
        self._bytes_done = 0
        self._partial: dict[int, int] = {}
        self._items_done = 0
        self._scan_complete = False
        self._samples: deque[tuple[float, int]] = deque(maxlen=64)
        self._stop: BulkFailure | None = None
        self._cancel: anyio.CancelScope | None = None

    # -- entry point ---------------------------------------------------------------------

    async def run(self, items: Iterable[Any] | AsyncIterable[Any]) -> BulkUploadReport:
        """Upload every item; the report of what happened."""
        if isinstance(items, (str, bytes, os.PathLike)) or not isinstance(
            items, (Iterable, AsyncIterable)
        ):
            raise InvalidInputError(
                f"items must be an iterable of items (e.g. scan_directory(...)), got {items!r}; "
                "for a folder use synapse_async.bulk.scan_directory(folder, ...)"
            )
        started = time.monotonic()
        # The input is read while the target checks wait for the server: a rerun that
        # finds everything done is mostly reading and stat-ing it.
        chunks, chunks_recv = anyio.create_memory_object_stream[list[Any]](_READ_AHEAD)
        try:
            async with anyio.create_task_group() as reading:
                reading.start_soon(self._read_input, items, chunks)
                try:
                    async with first_error() as checks:  # both targets at once
                        checks.start_soon(self._check_collection)
                        if self._project is not None:
                            checks.start_soon(self._check_project, self._project)
                    await self._open_journal()  # after the checks: never a journal for a typo
                    await self._replay_pending()
                    await self._run_stages(chunks_recv)
                finally:
                    reading.cancel_scope.cancel()  # when the stages stopped early
        except Exception as exc:  # a task group's ExceptionGroup: raise the SDK error
            raise _first_error(exc) from None
        finally:
            if self._journal is not None:
                self._journal.close()
            self._report.seconds = time.monotonic() - started
            self._emit(force=True)
        if self._stop is not None:
            raise BulkUploadError(
                f"bulk upload stopped at item #{self._stop.index} (fail_fast): "
                f"{self._stop.error_type}: {self._stop.message}",
                report=self._report,
            )
        return self._report

    async def _check_collection(self) -> None:
        try:
            data = await self._http.request(
                "GET",
                f"data_collections/{self._collection}/",
                params={"expand": "file_specifications"},
            )
        except NotFoundError as exc:
            raise InvalidInputError(
                f"data collection {self._collection} does not exist (404); check the id "
                "(client.data_collections.list() shows yours)"
            ) from exc
        specs = data.get("file_specifications") if isinstance(data, dict) else None
        specs = [s for s in specs or [] if isinstance(s, dict)]
        self._slots = SlotRules.of(specs, self._collection)

    async def _check_project(self, project: int) -> None:
        try:
            await self._http.request("GET", f"projects/{project}/")
        except NotFoundError as exc:
            raise InvalidInputError(
                f"project {project} does not exist (404); check the id"
            ) from exc

    async def _open_journal(self) -> None:
        path = self._journal_path
        if path is not None:
            self._journal = await anyio.to_thread.run_sync(
                lambda: Journal(Path(path), collection=self._collection, project=self._project)
            )

    async def _read_input(
        self, items: Iterable[Any] | AsyncIterable[Any], out: ObjectSendStream[list[Any]]
    ) -> None:
        """Stage 0: the input in chunks of ``_READ_CHUNK`` values, read ahead of their use."""
        async with out:
            async for chunk in _aiter_chunks(items, _READ_CHUNK):
                try:
                    await out.send(chunk)
                except anyio.BrokenResourceError:  # the stages stopped (fail_fast)
                    return

    async def _journal_call(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._journal_lock)

    async def _replay_pending(self) -> None:
        """Resend the batches a crashed run recorded but got no answer for, same keys."""
        journal = self._journal
        if journal is None:
            return
        for batch in await self._journal_call(journal.pending_batches):
            if not batch.keys:
                continue
            try:
                if batch.kind == "unit":
                    ids = await self._units._create_ids(
                        batch.payload, idempotency_key=batch.idem_key
                    )
                else:
                    assert self._project is not None  # the journal's project matched
                    ids = await self._tasks._create_ids(
                        self._project,
                        [{"data_unit": u} for u in batch.payload],
                        idempotency_key=batch.idem_key,
                    )
            except (ValidationError, NotFoundError):
                # Refused, so nothing was created: its items go through the pipeline again.
                await self._journal_call(
                    journal.abandon_batch, batch.kind, batch.idem_key, batch.keys
                )
                continue
            await self._journal_call(
                journal.finish_batch,
                batch.kind,
                batch.idem_key,
                list(zip(batch.keys, ids, strict=True)),
            )

    async def _run_stages(self, chunks: ObjectReceiveStream[list[Any]]) -> None:
        hash_send, hash_recv = anyio.create_memory_object_stream[_Entry](256)
        dedupe_send, dedupe_recv = anyio.create_memory_object_stream[_Entry](512)
        send_send, send_recv = anyio.create_memory_object_stream[_Entry](256)
        unit_send, unit_recv = anyio.create_memory_object_stream[_Entry](2 * DATA_UNIT_BATCH_SIZE)
        task_send, task_recv = anyio.create_memory_object_stream[_Entry](2 * DATA_UNIT_BATCH_SIZE)
        async with anyio.create_task_group() as outer:
            outer.start_soon(self._ticker)
            async with anyio.create_task_group() as tg:
                self._cancel = tg.cancel_scope
                tg.start_soon(
                    self._produce,
                    chunks,
                    hash_send,
                    dedupe_send.clone(),
                    unit_send.clone(),
                    task_send.clone(),
                )
                for _ in range(_HASHERS):
                    tg.start_soon(self._hasher, hash_recv.clone(), dedupe_send.clone())
                hash_recv.close()
                dedupe_send.close()
                tg.start_soon(self._deduper, dedupe_recv, send_send, unit_send.clone())
                for _ in range(self._senders):
                    tg.start_soon(self._sender, send_recv.clone(), unit_send.clone())
                send_recv.close()
                unit_send.close()
                tg.start_soon(self._unit_batcher, unit_recv, task_send)
                tg.start_soon(self._task_batcher, task_recv)
            outer.cancel_scope.cancel()

    # -- failures and progress -----------------------------------------------------------

    def _fail(
        self, entry: _Entry | None, index: int, paths: dict[str, str], exc: BaseException
    ) -> None:
        failure = BulkFailure(
            index=index, paths=paths, error_type=type(exc).__name__, message=str(exc)
        )
        self._report.failures.append(failure)
        self._report.failed += 1
        if entry is not None:
            for f in entry.files:
                if not f.sent:
                    self._files_done += 1
                    self._bytes_done += f.size
        if self._fail_fast and self._stop is None:
            self._stop = failure
            if self._cancel is not None:
                self._cancel.cancel()

    def _fail_entry(self, entry: _Entry, exc: BaseException) -> None:
        self._fail(entry, entry.index, {s: str(p) for s, p in entry.item.files.items()}, exc)

    def _file_done(self, f: _File, *, sent: bool) -> None:
        self._files_done += 1
        self._bytes_done += f.size
        if sent:
            self._report.sent += 1
            self._report.bytes_sent += f.size
        else:
            self._report.already_on_server += 1

    def _emit(self, *, force: bool = False) -> None:
        now = time.monotonic()
        done = self._bytes_done + sum(self._partial.values())
        self._samples.append((now, done))
        if self._on_progress is None:
            return
        first_t, first_b = self._samples[0]
        for t, b in self._samples:
            if now - t <= 3.0:
                first_t, first_b = t, b
                break
        rate = (done - first_b) / (now - first_t) if now > first_t else 0.0
        self._on_progress(
            BulkProgress(
                files_done=self._files_done,
                files_total=self._files_total,
                bytes_done=done,
                bytes_total=self._report.bytes_total,
                items_done=self._items_done,
                items_failed=self._report.failed,
                rate=rate,
                scan_complete=self._scan_complete,
            )
        )

    async def _ticker(self) -> None:
        while True:
            await anyio.sleep(_PROGRESS_EVERY)
            self._emit()

    def _item_finished(self, entry: _Entry) -> None:
        self._items_done += 1
        if entry.unit_id is not None:
            self._report.data_unit_ids.append(entry.unit_id)
        if entry.task_id is not None:
            self._report.task_ids.append(entry.task_id)

    # -- stage 1: read, check, consult the journal ----------------------------------------

    def _prepare(self, index: int, raw: Any) -> _Entry | tuple[int, dict[str, str], Exception]:
        """Validate one input value and stat its files (runs in a worker thread)."""
        item: BulkItem | None = None
        try:
            item = to_item(raw)
            check_slots(item, self._slots)
            absolute = absolute_paths(item)
            entry = _Entry(index=index, key=item_key(item, absolute), item=item)
            for slot, path in item.files.items():
                first = self._seen_paths.setdefault(hash(absolute[slot]), index)
                if first != index or (entry.files and any(f.path == path for f in entry.files)):
                    raise InvalidInputError(
                        f"duplicate path {str(path)!r} (also in item #{first}); each file "
                        "goes into one data unit once"
                    )
                st = _stat_file(path)
                entry.files.append(_File(slot, path, st.st_size, st.st_mtime_ns))
            return entry
        except (InvalidInputError, OSError) as exc:
            return (index, {s: str(p) for s, p in item.files.items()} if item else {}, exc)

    def _prepare_chunk(self, start: int, chunk: list[Any]) -> _Prepared:
        """Prepare a chunk of input values and look their keys up in the journal.

        One worker-thread hop for both (the journal has its own lock). Items the journal
        shows finished, with files unchanged, are only counted: a rerun is mostly those.
        """
        prepared = [self._prepare(start + i, raw) for i, raw in enumerate(chunk)]
        out = _Prepared()
        if self._journal is None:
            out.rest = prepared
            return out
        out.rows = self._journal.lookup([p.key for p in prepared if isinstance(p, _Entry)])
        for p in prepared:
            if isinstance(p, _Entry) and (row := out.rows.get(p.key)) is not None:
                unit_id = self._finished_unit(p, row)
                if unit_id is not None:
                    out.done += 1
                    out.done_files += len(p.files)
                    out.done_bytes += sum(f.size for f in p.files)
                    out.unit_ids.append(unit_id)
                    if row.task_id is not None:
                        out.task_ids.append(row.task_id)
                    continue
            out.rest.append(p)
        return out

    def _finished_unit(self, entry: _Entry, row: JournalRow) -> int | None:
        """The item's data unit id if the journal shows it done for the same files, else None.

        Done: its data unit created, and its task when the upload makes tasks.
        """
        if row.unit_id is None or (self._project is not None and row.task_id is None):
            return None
        for f in entry.files:
            if not row.holds(f.slot, f.size, f.mtime_ns):
                return None
        return row.unit_id

    async def _produce(
        self,
        chunks: ObjectReceiveStream[list[Any]],
        to_hash: ObjectSendStream[_Entry],
        to_dedupe: ObjectSendStream[_Entry],
        to_units: ObjectSendStream[_Entry],
        to_tasks: ObjectSendStream[_Entry],
    ) -> None:
        async with chunks, to_hash, to_dedupe, to_units, to_tasks:
            index = 0
            async for chunk in chunks:
                start = index
                index += len(chunk)
                ready = await anyio.to_thread.run_sync(self._prepare_chunk, start, chunk)
                self._report.items += len(chunk)
                self._count_finished(ready)
                rows = ready.rows
                entries: list[_Entry] = []
                for p in ready.rest:
                    if isinstance(p, _Entry):
                        entries.append(p)
                        self._files_total += len(p.files)
                        self._report.bytes_total += sum(f.size for f in p.files)
                    else:
                        self._fail(None, *p)
                changed: list[str] = []
                for entry in entries:
                    row = rows.get(entry.key)
                    route = self._apply_journal(entry, row, changed) if row else "hash"
                    if route == "hash":
                        await to_hash.send(entry)
                    elif route == "dedupe":
                        await to_dedupe.send(entry)
                    elif route == "units":
                        await to_units.send(entry)
                    elif route == "tasks":
                        await to_tasks.send(entry)
                if changed and self._journal is not None:
                    await self._journal_call(self._journal.forget, changed)
            self._scan_complete = True

    def _count_finished(self, ready: _Prepared) -> None:
        """Count the items a chunk's journal lookup found done (in input order)."""
        if not ready.done:
            return
        self._report.skipped += ready.done
        self._items_done += ready.done
        self._files_total += ready.done_files
        self._files_done += ready.done_files
        self._report.bytes_total += ready.done_bytes
        self._bytes_done += ready.done_bytes
        self._report.data_unit_ids.extend(ready.unit_ids)
        self._report.task_ids.extend(ready.task_ids)

    def _apply_journal(self, entry: _Entry, row: JournalRow, changed: list[str]) -> str:
        """Use what the journal knows of an item; returns where the item goes next."""
        same = all(row.holds(f.slot, f.size, f.mtime_ns) for f in entry.files)
        if not same:
            if row.unit_id is not None:
                self._fail_entry(
                    entry,
                    FileChangedError(
                        f"item #{entry.index} changed since the journal recorded it: its data unit "
                        f"{row.unit_id} holds the earlier content; upload the new version with "
                        "another journal",
                        path=str(entry.files[0].path),
                        reason="file_changed",
                    ),
                )
                return "done"
            changed.append(entry.key)
            return "hash"
        files = row.files
        for f in entry.files:
            f.md5 = files[f.slot].md5
            f.sent = files[f.slot].sent
        entry.unit_id = row.unit_id
        entry.task_id = row.task_id
        # Items with their unit (and task, when asked) were counted by _prepare_chunk.
        if entry.unit_id is not None:
            for f in entry.files:
                self._files_done += 1
                self._bytes_done += f.size
            return "tasks"
        return "dedupe"

    # -- stage 2: hash --------------------------------------------------------------------

    async def _hasher(
        self, recv: ObjectReceiveStream[_Entry], out: ObjectSendStream[_Entry]
    ) -> None:
        async with recv, out:
            while (batch := await _collect_hash_batch(recv)) is not None:
                errors = await anyio.to_thread.run_sync(
                    _hash_entries, batch, limiter=self._hash_limiter
                )
                for entry, error in zip(batch, errors, strict=True):
                    if error is not None:
                        for f in entry.files:
                            f.content = None
                        self._fail_entry(
                            entry,
                            InvalidInputError(f"cannot read {error.filename!r}: {error.strerror}"),
                        )
                    else:
                        await out.send(entry)

    # -- stage 3: dedupe by checksum ------------------------------------------------------

    async def _deduper(
        self,
        recv: ObjectReceiveStream[_Entry],
        to_send: ObjectSendStream[_Entry],
        to_units: ObjectSendStream[_Entry],
    ) -> None:
        async with recv, to_send, to_units:
            while (batch := await _collect(recv, _DEDUPE_BATCH, _DEDUPE_LINGER)) is not None:
                wanted = sorted(
                    {f.md5 for e in batch for f in e.files if not f.sent and f.md5 is not None}
                )
                existing: dict[str, int] = {}
                if wanted:
                    try:
                        existing = await self._files.verify_checksums(wanted)
                    except SynapseError as exc:
                        for entry in batch:
                            self._fail_entry(entry, exc)
                        continue
                for entry in batch:
                    for f in entry.files:
                        if not f.sent and f.md5 in existing:
                            f.sent = True
                            f.content = None
                            self._file_done(f, sent=False)
                if self._journal is not None:
                    await self._journal_call(
                        self._journal.record_files,
                        [(e.key, {f.slot: f.state() for f in e.files}) for e in batch],
                    )
                for entry in batch:
                    if all(f.sent for f in entry.files):
                        await to_units.send(entry)
                    else:
                        await to_send.send(entry)

    # -- stage 4: send --------------------------------------------------------------------

    async def _sender(
        self, recv: ObjectReceiveStream[_Entry], out: ObjectSendStream[_Entry]
    ) -> None:
        async with recv, out:
            async for entry in recv:
                try:
                    for f in entry.files:
                        if not f.sent:
                            await self._send_file(f)
                except (SynapseError, OSError) as exc:
                    self._fail_entry(entry, exc)
                    continue
                await out.send(entry)

    async def _send_file(self, f: _File) -> None:
        assert f.md5 is not None
        md5_int = int(f.md5, 16)
        while f.md5 in self._checksums_in_flight:  # the same content is being sent for another
            f.content = None
            waiting = self._checksums_in_flight[f.md5]
            if waiting is None:  # the first waiter makes the event (most files have none)
                waiting = self._checksums_in_flight[f.md5] = anyio.Event()
            await waiting.wait()
        if md5_int in self._checksums_sent:  # the server has this content now
            f.content = None
            f.sent = True
            self._file_done(f, sent=False)
            return
        self._checksums_in_flight[f.md5] = None
        try:
            large = f.size > MULTIPART_LIMIT
            requests = _LARGE_PARTS if large else 1
            want = _LARGE_PARTS * _LARGE_PART_BUDGET if large else f.size
            if large:
                await self._large.acquire()
            try:
                got = await self._budget.acquire(requests, want)
                try:
                    uploaded = await self._upload(f, large)
                finally:
                    self._budget.release(requests, got)
            finally:
                if large:
                    self._large.release()
            st = f.path.stat()  # a stat is cheaper than a thread hop
            if uploaded.checksum != f.md5 or st.st_size != f.size or (st.st_mtime_ns != f.mtime_ns):
                raise FileChangedError(
                    f"{str(f.path)!r} changed while it was sent (its size, mtime or content "
                    f"differ from when it was hashed: MD5 {f.md5}, the server got "
                    f"{uploaded.checksum}); upload it again once it stops changing",
                    path=str(f.path),
                    reason="file_changed",
                )
        except BaseException:
            self._release_checksum(f.md5)
            raise
        finally:
            f.content = None
        f.sent = True
        self._file_done(f, sent=True)
        self._checksums_sent.add(md5_int)
        self._release_checksum(f.md5)

    def _release_checksum(self, md5: str) -> None:
        """The send of ``md5`` ended: wake the items waiting for it, if any."""
        waiting = self._checksums_in_flight.pop(md5)
        if waiting is not None:
            waiting.set()

    async def _upload(self, f: _File, large: bool) -> Any:
        if f.content is not None:
            return await self._files._create_from_bytes(f.path.name, f.content)
        if not large:
            return await self._files.create(f.path)
        key = id(f)

        def progress(confirmed: int, _total: int) -> None:
            self._partial[key] = confirmed

        assert f.md5 is not None
        try:  # hashed already: the upload does not hash the whole file again
            return await self._files._create_chunked(
                f.path, progress, _LARGE_PARTS, known_md5=(f.size, f.mtime_ns, f.md5)
            )
        finally:
            self._partial.pop(key, None)

    # -- stage 5: data units ---------------------------------------------------------------

    def _unit_body(self, entry: _Entry) -> dict[str, Any]:
        body: dict[str, Any] = {
            "data_collection": self._collection,
            "files": {f.slot: {"checksum": f.md5, "path": _unit_path(f.path)} for f in entry.files},
            "meta": entry.item.meta,
        }
        if entry.item.groups:
            body["groups"] = entry.item.groups
        return body

    async def _unit_batcher(
        self, recv: ObjectReceiveStream[_Entry], out: ObjectSendStream[_Entry]
    ) -> None:
        async with recv, out, anyio.create_task_group() as tg:
            limiter = anyio.Semaphore(2)
            while (batch := await _collect(recv, self._unit_batch, _UNIT_LINGER)) is not None:
                await limiter.acquire()
                tg.start_soon(self._create_units, batch, out.clone(), limiter)

    async def _create_units(
        self, batch: list[_Entry], out: ObjectSendStream[_Entry], limiter: anyio.Semaphore
    ) -> None:
        try:
            async with out:
                bodies = [self._unit_body(e) for e in batch]
                idem: str | None = None
                if self._journal is not None:
                    await self._journal_call(
                        self._journal.record_files,
                        [(e.key, {f.slot: f.state() for f in e.files}) for e in batch],
                    )
                    idem = await self._journal_call(
                        self._journal.begin_batch,
                        "unit",
                        [(e.key, b) for e, b in zip(batch, bodies, strict=True)],
                    )
                try:
                    units = await self._units._create_ids(bodies, idempotency_key=idem)
                    if len(units) != len(batch):
                        raise InvalidInputError(
                            f"the server created {len(units)} data units for {len(batch)}"
                        )
                except SynapseError as exc:
                    if self._journal is not None and idem is not None:
                        await self._journal_call(
                            self._journal.abandon_batch, "unit", idem, [e.key for e in batch]
                        )
                    for entry in batch:
                        self._fail_entry(entry, exc)
                    return
                for entry, unit_id in zip(batch, units, strict=True):
                    entry.unit_id = unit_id
                if self._journal is not None and idem is not None:
                    await self._journal_call(
                        self._journal.finish_batch,
                        "unit",
                        idem,
                        [(e.key, u) for e, u in zip(batch, units, strict=True)],
                    )
                for entry in batch:
                    if self._project is None:
                        self._item_finished(entry)
                    else:
                        await out.send(entry)
        finally:
            limiter.release()

    # -- stage 6: tasks --------------------------------------------------------------------

    async def _task_batcher(self, recv: ObjectReceiveStream[_Entry]) -> None:
        async with recv:
            while (batch := await _collect(recv, self._unit_batch, _UNIT_LINGER)) is not None:
                await self._create_tasks(batch)

    async def _create_tasks(self, batch: Sequence[_Entry]) -> None:
        assert self._project is not None
        idem: str | None = None
        if self._journal is not None:
            idem = await self._journal_call(
                self._journal.begin_batch, "task", [(e.key, e.unit_id) for e in batch]
            )
        try:
            tasks = await self._tasks._create_ids(
                self._project, [{"data_unit": e.unit_id} for e in batch], idempotency_key=idem
            )
        except SynapseError as exc:
            if self._journal is not None and idem is not None:
                await self._journal_call(
                    self._journal.abandon_batch, "task", idem, [e.key for e in batch]
                )
            for entry in batch:
                self._fail_entry(entry, exc)
            return
        for entry, task_id in zip(batch, tasks, strict=True):
            entry.task_id = task_id
        if self._journal is not None and idem is not None:
            await self._journal_call(
                self._journal.finish_batch,
                "task",
                idem,
                [(e.key, t) for e, t in zip(batch, tasks, strict=True)],
            )
        for entry in batch:
            self._item_finished(entry)
