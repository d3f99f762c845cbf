"""The emulator's chunked-upload service: records, bytes in sparse files, live MD5, counters.

Used by ``routes/uploads.py`` (the HTTP side). Each upload is a record in the ``chunked_uploads``
table and a sparse file ``files/upload-<id>`` of the upload's size; bodies stream into it at
their offsets (``os.pwritev`` of ~1 MiB batches, in worker threads), so a 50 MiB part never sits
in memory. The whole-file MD5 follows the bytes as they are written, in file order, in a
background task (v1 chunks are hashed as they stream in), so completing a large upload does not
re-read it; after a restart it is rebuilt from disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import math
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
from aiohttp import web

from .clock import now_iso
from .errors import ApiError, bad_request, not_found
from .faults import FaultInjector
from .store import Doc, Store

__all__ = [
    "BATCH",
    "DEFAULT_TTL",
    "TABLE",
    "UPLOADS",
    "UploadCounters",
    "UploadService",
    "UploadSettings",
]

TABLE = "chunked_uploads"
DEFAULT_TTL = 24 * 3600.0
BATCH = 1 << 20
"""Bytes per worker-thread write (and per read of a request body)."""


@attrs.define
class UploadSettings:
    """Switches of the upload service (mutable at run time).

    Attributes:
        parallel: serve the parallel extension (off: behave like the real v1 backend).
        ttl: seconds an upload may stay incomplete before it expires.
    """

    parallel: bool = True
    ttl: float = DEFAULT_TTL


@attrs.define
class UploadCounters:
    """What one upload cost the server (measured, so tests can count re-sent bytes).

    Attributes:
        part_puts: part PUTs that reached the handler (parallel protocol).
        chunk_puts: chunk PUTs that reached the handler (v1).
        bytes_received: body bytes read for parts and chunks, failed attempts included.
        resends: part PUTs for a part number the server had seen before.
        resent_bytes: body bytes received by those.
        checksum_mismatches: parts whose bytes did not match their ``Content-MD5``.
        parts_stored: parts (or chunks) accepted.
    """

    part_puts: int = 0
    chunk_puts: int = 0
    bytes_received: int = 0
    resends: int = 0
    resent_bytes: int = 0
    checksum_mismatches: int = 0
    parts_stored: int = 0


class _Live:
    """In-memory state of an open upload (rebuilt from its record after a restart).

    The whole-file MD5 of a parallel upload follows the bytes as they are written: it covers
    [0, hashed), where ``hashed`` may stop inside part ``next_part`` while that part is still
    arriving; ``checkpoint`` is the MD5 at the start of that part, to rewind to when the part
    fails. ``generation`` changes whenever bytes already hashed (or being hashed) are dropped.
    """

    def __init__(self, doc: Doc, path: Path) -> None:
        self.path = path
        self.size: int = doc["size"]
        self.part_size: int = doc["part_size"]
        self.part_count: int = doc["part_count"]
        self.stored = {int(n): int(p["size"]) for n, p in doc["parts"].items()}
        self.written: dict[int, int] = {}  # parts arriving: bytes written so far
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.checkpoint = self.md5.copy()
        self.hashed = 0
        self.next_part = 1
        self.generation = 0
        self.lock = asyncio.Lock()  # serialises hashing and v1 chunks
        self.task: asyncio.Task[None] | None = None
        self.attempted: set[int] = set()
        self.part_locks: dict[int, asyncio.Lock] = {}

    def reset(self) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.checkpoint = self.md5.copy()
        self.hashed = 0
        self.next_part = 1
        self.generation += 1

    def drop_part(self, n: int) -> None:
        """Part ``n`` is being rewritten or failed: forget what was hashed of it."""
        self.stored.pop(n, None)
        self.written.pop(n, None)
        if n < self.next_part:
            self.reset()
        elif n == self.next_part:
            self.md5 = self.checkpoint.copy()
            self.hashed = (n - 1) * self.part_size
            self.generation += 1


def _write_batch(fd: int, chunks: list[bytes], offset: int, hashers: list[Any]) -> None:
    for chunk in chunks:
        for h in hashers:
            h.update(chunk)
    if hasattr(os, "pwritev"):  # one system call, no joining copy
        total = sum(len(c) for c in chunks)
        written = os.pwritev(fd, chunks, offset)
        if written == total:
            return
        chunks, offset = [b"".join(chunks)[written:]], offset + written
    for chunk in chunks:
        view = memoryview(chunk)
        while view:
            n = os.pwrite(fd, view, offset)
            view = view[n:]
            offset += n


def _hash_range(path: Path, offset: int, length: int, h: Any) -> None:
    buf = bytearray(BATCH)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as fh:
        fh.seek(offset)
        while length > 0:
            n = fh.readinto(view[: min(BATCH, length)])
            if not n:
                raise OSError(f"{path} is shorter than expected")
            h.update(view[:n])
            length -= n


class UploadService:
    """Chunked uploads: records in the store, bytes in sparse files, live hashing, counters."""

    def __init__(self, store: Store, files_dir: Path, injector: FaultInjector) -> None:
        self.store = store
        self.files_dir = files_dir
        self.injector = injector
        self.settings = UploadSettings()
        self.counters: dict[str, UploadCounters] = {}
        self._live: dict[str, _Live] = {}

    # -- records -------------------------------------------------------------------------

    def get(self, upload_id: str) -> Doc | None:
        """The upload's record (expired or not), or None."""
        docs = self.store.list(TABLE, limit=1, upload_id=upload_id)
        return docs[0] if docs else None

    def find(self, upload_id: str) -> Doc:
        """The record; 404 when unknown, 410 when it expired before completion."""
        doc = self.get(upload_id)
        if doc is None:
            raise not_found()
        if doc["status"] != "complete" and time.time() > doc["_expires_ts"]:
            raise ApiError(410, "Upload has expired.")
        return doc

    def expire(self, upload_id: str) -> None:
        """Make an incomplete upload expire now (a test control, whatever its ``ttl``)."""
        doc = self.get(upload_id)
        if doc is None:
            raise KeyError(upload_id)
        self.store.update(TABLE, doc["id"], {"_expires_ts": time.time() - 1})

    def find_open(self, upload_id: str) -> Doc:
        """The record of an upload still accepting bytes (400 once complete)."""
        doc = self.find(upload_id)
        if doc["status"] == "complete":
            raise bad_request("Upload has already been marked as complete.")
        return doc

    def path(self, doc: Doc) -> Path:
        """The sparse file holding the upload's bytes."""
        return self.files_dir / str(doc["_storage"])

    def live(self, doc: Doc) -> _Live:
        """The in-memory state of an open upload."""
        live = self._live.get(doc["upload_id"])
        if live is None:
            live = self._live[doc["upload_id"]] = _Live(doc, self.path(doc))
        return live

    def counter(self, upload_id: str) -> UploadCounters:
        """The counters of one upload."""
        return self.counters.setdefault(upload_id, UploadCounters())

    def register(self) -> None:
        """Create the table (idempotent)."""
        self.store.register_table(TABLE, indexed=("upload_id", "status"))

    # -- disk space --------------------------------------------------------------------------

    def _allocated(self) -> int:
        """Bytes the upload files occupy on disk now (sparse holes not counted)."""
        total = 0
        for path in self.files_dir.glob("upload-*"):
            try:
                total += path.stat().st_blocks * 512
            except OSError:
                continue
        return total

    def free_space(self) -> int:
        """Free bytes for upload files: the disk's, or what ``Faults.disk_free`` leaves."""
        limit = self.injector.faults.disk_free
        if limit is None:
            return shutil.disk_usage(self.files_dir).free
        return max(0, limit - self._allocated())

    def reserved(self) -> int:
        """Bytes that open uploads still have to write (promised at their creation)."""
        owed = 0
        for doc in self.store.list(TABLE, limit=None, status="uploading"):
            try:
                on_disk = self.path(doc).stat().st_blocks * 512
            except OSError:
                on_disk = 0
            owed += max(0, int(doc["size"]) - on_disk)
        return owed

    def check_room(self, size: int) -> None:
        """507 unless ``size`` more bytes fit beside what open uploads still need."""
        room = self.free_space() - self.reserved()
        if size > room:
            raise ApiError(
                507,
                f"Insufficient storage: the upload needs {size} bytes and "
                f"{max(room, 0)} are free. Abort unfinished uploads "
                f"(DELETE chunked_upload/{{id}}/) or free space, then retry.",
            )

    def _check_write(self, nbytes: int) -> None:
        """Emulated full disk (``Faults.disk_free``): ENOSPC before a write that would not fit."""
        if self.injector.faults.disk_free is not None and nbytes > self.free_space():
            raise OSError(errno.ENOSPC, "No space left on device (emulated)")

    def create(self, *, filename: str, size: int, part_size: int, parallel: bool) -> Doc:
        """A new upload with an empty sparse file of ``size`` bytes (507 when it cannot fit)."""
        self.sweep_expired()
        self.check_room(size)
        upload_id = uuid.uuid4().hex
        storage = f"upload-{upload_id}"
        fd = os.open(self.files_dir / storage, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
        now = time.time()
        expires = datetime.fromtimestamp(now + self.settings.ttl, tz=timezone.utc)
        return self.store.insert(
            TABLE,
            {
                "upload_id": upload_id,
                "filename": filename,
                "size": size,
                "part_size": part_size,
                "part_count": max(1, math.ceil(size / part_size)),
                "parallel": parallel,
                "status": "uploading",
                "offset": 0,
                "parts": {},
                "created": now_iso(),
                "expires": expires.isoformat().replace("+00:00", "Z"),
                "completed_at": None,
                "checksum": None,
                "_expires_ts": now + self.settings.ttl,
                "_storage": storage,
            },
        )

    def drop_live(self, upload_id: str) -> None:
        """Forget the in-memory state of an upload (completed or deleted)."""
        live = self._live.pop(upload_id, None)
        if live is not None and live.task is not None:
            live.task.cancel()

    def delete(self, doc: Doc) -> None:
        """Forget an upload and its bytes.

        The bytes go first: on a full disk the record's deletion (a database write) may fail,
        and the space must come back all the same (a retried DELETE then removes the row).
        """
        self.drop_live(doc["upload_id"])
        self.path(doc).unlink(missing_ok=True)
        self.store.delete(TABLE, doc["id"])

    def sweep_expired(self) -> None:
        """Delete incomplete uploads past their expiry."""
        now = time.time()
        for doc in self.store.list(TABLE, limit=None, status="uploading"):
            if now > doc["_expires_ts"]:
                self.delete(doc)

    # -- bytes ---------------------------------------------------------------------------

    async def receive(
        self,
        chunks: AsyncIterator[bytes],
        doc: Doc,
        offset: int,
        limit: int,
        hashers: list[Any],
        counter: UploadCounters,
        resend: bool = False,
        on_written: Callable[[int], None] | None = None,
    ) -> int:
        """Stream body ``chunks`` into the upload's file at ``offset``; returns their length.

        At most ``limit`` bytes are accepted (400 beyond, before anything is written there).
        ``on_written`` gets the number of bytes on disk after each batch.
        """
        fd = os.open(self.path(doc), os.O_WRONLY)
        try:
            pending: list[bytes] = []
            pending_len = size = 0
            pos = offset
            async for chunk in chunks:
                counter.bytes_received += len(chunk)
                if resend:
                    counter.resent_bytes += len(chunk)
                size += len(chunk)
                if size > limit:
                    raise bad_request(
                        f"The body is longer than {limit} bytes.", code="size_mismatch"
                    )
                pending.append(chunk)
                pending_len += len(chunk)
                if pending_len >= BATCH:
                    self._check_write(pending_len)
                    await asyncio.to_thread(_write_batch, fd, pending, pos, hashers)
                    pos += pending_len
                    pending, pending_len = [], 0
                    if on_written is not None:
                        on_written(pos - offset)
            if pending:
                self._check_write(pending_len)
                await asyncio.to_thread(_write_batch, fd, pending, pos, hashers)
                if on_written is not None:
                    on_written(size)
            return size
        finally:
            os.close(fd)

    def forget_part(self, upload_id: str, n: int) -> None:
        """Drop part ``n`` from the record before its bytes are rewritten."""
        doc = self.find_open(upload_id)
        if doc["parts"].pop(str(n), None) is not None:
            self.store.update(TABLE, doc["id"], {"parts": doc["parts"], "offset": _prefix(doc)})
        self.live(doc).drop_part(n)

    def part_failed(self, upload_id: str, n: int) -> None:
        """Part ``n`` did not arrive whole (or failed its MD5): unhash what was hashed of it."""
        live = self._live.get(upload_id)
        if live is not None:
            live.drop_part(n)

    def part_written(self, upload_id: str, n: int, nbytes: int) -> None:
        """``nbytes`` of part ``n`` are on disk: the whole-file MD5 may follow them."""
        live = self._live.get(upload_id)
        if live is not None:
            live.written[n] = nbytes
            if n == live.next_part:
                self.kick_hasher(upload_id)

    def record_part(self, upload_id: str, n: int, size: int, md5: str) -> None:
        """Record part ``n`` as stored."""
        doc = self.find_open(upload_id)
        doc["parts"][str(n)] = {"size": size, "md5": md5}
        self.store.update(TABLE, doc["id"], {"parts": doc["parts"], "offset": _prefix(doc)})
        live = self.live(doc)
        live.stored[n] = size
        live.written.pop(n, None)
        self.kick_hasher(upload_id)

    def kick_hasher(self, upload_id: str) -> None:
        """Make sure the whole-file MD5 advances over newly written bytes."""
        live = self._live.get(upload_id)
        if live is not None and (live.task is None or live.task.done()):
            live.task = asyncio.create_task(self.advance(upload_id))

    async def advance(self, upload_id: str) -> None:
        """Hash the bytes on disk after the whole-file MD5's position, in file order.

        It follows the part at its position while that part arrives, and moves on to the
        next part once that one is stored (its MD5 checked).
        """
        live = self._live.get(upload_id)
        if live is None:
            return
        async with live.lock:
            while live.next_part <= live.part_count:
                n = live.next_part
                start = (n - 1) * live.part_size
                size = min(live.part_size, live.size - start)
                stored = live.stored.get(n) == size
                upto = start + (size if stored else min(live.written.get(n, 0), size))
                if upto <= live.hashed:
                    return
                generation, h = live.generation, live.md5.copy()
                await asyncio.to_thread(_hash_range, live.path, live.hashed, upto - live.hashed, h)
                if live.generation != generation:
                    continue  # part n was dropped meanwhile
                live.md5, live.hashed = h, upto
                if stored:
                    live.next_part, live.checkpoint = n + 1, h.copy()

    async def whole_md5(self, doc: Doc) -> str | None:
        """The MD5 of the whole stored file (None when a part went missing meanwhile)."""
        upload_id = doc["upload_id"]
        live = self.live(doc)
        if doc["parallel"]:
            await self.advance(upload_id)
            return live.md5.hexdigest() if live.next_part > doc["part_count"] else None
        async with live.lock:
            await self.rehash_prefix(doc, live, doc["offset"])
            return live.md5.hexdigest()

    async def rehash_prefix(self, doc: Doc, live: _Live, offset: int) -> None:
        """Make ``live.md5`` cover bytes [0, offset) of a v1 upload (re-read after a restart)."""
        if live.hashed != offset:
            live.reset()
            await asyncio.to_thread(_hash_range, self.path(doc), 0, offset, live.md5)
            live.hashed = offset

    async def close(self, _app: web.Application | None = None) -> None:
        """Stop the background hashing tasks (on application cleanup)."""
        tasks = [live.task for live in self._live.values() if live.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task

    # -- wire forms ----------------------------------------------------------------------

    def counters_json(self) -> dict[str, Any]:
        """Settings, counters per upload and in total, and the body-fault counters."""
        per = {uid: attrs.asdict(c) for uid, c in self.counters.items()}
        totals = {
            f.name: sum(c[f.name] for c in per.values()) for f in attrs.fields(UploadCounters)
        }
        return {
            "settings": attrs.asdict(self.settings),
            "totals": totals,
            "uploads": per,
            "faults": self.injector.body_counters,
        }


def _prefix(doc: Doc) -> int:
    """Bytes stored contiguously from the start (a parallel upload's ``offset``)."""
    n, parts = 1, doc["parts"]
    while str(n) in parts:
        n += 1
    return min(int(doc["size"]), (n - 1) * int(doc["part_size"]))


UPLOADS = web.AppKey("uploads", UploadService)
"""The application key of the upload service."""
