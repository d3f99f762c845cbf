"""The emulator's chunked-upload service: records, bytes in sparse files, live MD5, counters.

Used by ``routes/uploads.py`` (the HTTP side). Each upload is a record in the ``chunked_uploads``
table and a sparse file ``files/upload-<id>`` of the upload's size; bodies stream into it at
their offsets with ``os.pwrite`` in worker threads (1 MiB batches), so a 50 MiB part never sits
in memory. The whole-file MD5 advances over the contiguous prefix of stored parts in a
background task as parts arrive (v1 chunks are hashed as they stream in), so completing a
large upload does not re-read it all; after a restart it is rebuilt from disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import os
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import attrs
from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from .clock import now_iso
from .errors import ApiError, bad_request, not_found
from .faults import FaultInjector, body_tap
from .store import Doc, Store

__all__ = [
    "BATCH",
    "DEFAULT_TTL",
    "TABLE",
    "UPLOADS",
    "UploadCounters",
    "UploadService",
    "UploadSettings",
    "body_lost",
    "field_chunks",
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
    """In-memory state of an open upload (rebuilt from disk after a restart)."""

    def __init__(self) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.hashed = 0  # bytes [0, hashed) are in md5
        self.next_part = 1  # parallel: the next part the whole-file MD5 needs
        self.generation = 0  # bumped when a hashed (or being hashed) part is replaced
        self.lock = asyncio.Lock()  # serialises hashing and v1 chunks
        self.task: asyncio.Task[None] | None = None
        self.attempted: set[int] = set()
        self.part_locks: dict[int, asyncio.Lock] = {}

    def reset(self) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.hashed = 0
        self.next_part = 1
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


def body_lost(exc: BaseException) -> ApiError:
    """The 400 for a body that ended before its declared length (the client went away)."""
    return bad_request(
        f"The request body ended early ({type(exc).__name__}).", code="incomplete_body")


async def _tapped(chunks: AsyncIterator[bytes], request: web.Request) -> AsyncIterator[bytes]:
    """The body chunks through the request's fault tap; a lost connection becomes a 400."""
    tap = body_tap(request)
    while True:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except (ConnectionError, HttpProcessingError, asyncio.IncompleteReadError) as exc:
            raise body_lost(exc) from None
        try:
            chunk = await tap.feed(chunk)
        except ConnectionError as exc:
            raise body_lost(exc) from None
        yield chunk


async def field_chunks(field: BodyPartReader) -> AsyncIterator[bytes]:
    """The bytes of one multipart field, in chunks of up to ``BATCH``."""
    while True:
        chunk = await field.read_chunk(BATCH)
        if not chunk:
            return
        yield chunk


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

    def find_open(self, upload_id: str) -> Doc:
        """The record of an upload still accepting bytes (400 once complete)."""
        doc = self.find(upload_id)
        if doc["status"] == "complete":
            raise bad_request("Upload has already been marked as complete.")
        return doc

    def path(self, doc: Doc) -> Path:
        """The sparse file holding the upload's bytes."""
        return self.files_dir / str(doc["_storage"])

    def live(self, upload_id: str) -> _Live:
        """The in-memory state of an open upload."""
        return self._live.setdefault(upload_id, _Live())

    def counter(self, upload_id: str) -> UploadCounters:
        """The counters of one upload."""
        return self.counters.setdefault(upload_id, UploadCounters())

    def register(self) -> None:
        """Create the table (idempotent)."""
        self.store.register_table(TABLE, indexed=("upload_id", "status"))

    def create(self, *, filename: str, size: int, part_size: int, parallel: bool) -> Doc:
        """A new upload with an empty sparse file of ``size`` bytes."""
        self.sweep_expired()
        upload_id = uuid.uuid4().hex
        storage = f"upload-{upload_id}"
        fd = os.open(self.files_dir / storage, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)
        now = time.time()
        expires = datetime.fromtimestamp(now + self.settings.ttl, tz=timezone.utc)
        return self.store.insert(TABLE, {
            "upload_id": upload_id, "filename": filename, "size": size,
            "part_size": part_size, "part_count": max(1, math.ceil(size / part_size)),
            "parallel": parallel, "status": "uploading", "offset": 0, "parts": {},
            "created": now_iso(), "expires": expires.isoformat().replace("+00:00", "Z"),
            "completed_at": None, "checksum": None, "_expires_ts": now + self.settings.ttl,
            "_storage": storage,
        })

    def drop_live(self, upload_id: str) -> None:
        """Forget the in-memory state of an upload (completed or deleted)."""
        live = self._live.pop(upload_id, None)
        if live is not None and live.task is not None:
            live.task.cancel()

    def delete(self, doc: Doc) -> None:
        """Forget an upload and its bytes."""
        self.store.delete(TABLE, doc["id"])
        self.path(doc).unlink(missing_ok=True)
        self.drop_live(doc["upload_id"])

    def sweep_expired(self) -> None:
        """Delete incomplete uploads past their expiry."""
        now = time.time()
        for doc in self.store.list(TABLE, limit=None, status="uploading"):
            if now > doc["_expires_ts"]:
                self.delete(doc)

    # -- bytes ---------------------------------------------------------------------------

    async def receive(
        self, chunks: AsyncIterator[bytes], request: web.Request, doc: Doc, offset: int,
        limit: int, hashers: list[Any], counter: UploadCounters, resend: bool = False,
    ) -> int:
        """Stream a body into the upload's file at ``offset``; returns its length.

        At most ``limit`` bytes are accepted (400 beyond, before anything is written there).
        """
        fd = os.open(self.path(doc), os.O_WRONLY)
        try:
            pending: list[bytes] = []
            pending_len = size = 0
            pos = offset
            async for chunk in _tapped(chunks, request):
                counter.bytes_received += len(chunk)
                if resend:
                    counter.resent_bytes += len(chunk)
                size += len(chunk)
                if size > limit:
                    raise bad_request(f"The body is longer than {limit} bytes.",
                                      code="size_mismatch")
                pending.append(chunk)
                pending_len += len(chunk)
                if pending_len >= BATCH:
                    await asyncio.to_thread(_write_batch, fd, pending, pos, hashers)
                    pos += pending_len
                    pending, pending_len = [], 0
            if pending:
                await asyncio.to_thread(_write_batch, fd, pending, pos, hashers)
            return size
        finally:
            os.close(fd)

    def forget_part(self, upload_id: str, n: int) -> None:
        """Drop part ``n`` from the record before its bytes are rewritten."""
        doc = self.find_open(upload_id)
        if doc["parts"].pop(str(n), None) is not None:
            self.store.update(TABLE, doc["id"], {"parts": doc["parts"],
                                                 "offset": _prefix(doc)})
        live = self.live(upload_id)
        if n < live.next_part:
            live.reset()
        elif n == live.next_part:
            live.generation += 1

    def record_part(self, upload_id: str, n: int, size: int, md5: str) -> None:
        """Record part ``n`` as stored."""
        doc = self.find_open(upload_id)
        doc["parts"][str(n)] = {"size": size, "md5": md5}
        self.store.update(TABLE, doc["id"], {"parts": doc["parts"], "offset": _prefix(doc)})

    def kick_hasher(self, upload_id: str) -> None:
        """Make sure the whole-file MD5 advances over newly stored parts."""
        live = self.live(upload_id)
        if live.task is None or live.task.done():
            live.task = asyncio.create_task(self.advance(upload_id))

    async def advance(self, upload_id: str) -> None:
        """Hash the contiguous run of stored parts after the whole-file MD5's position."""
        live = self.live(upload_id)
        async with live.lock:
            while True:
                doc = self.get(upload_id)
                n = live.next_part
                if doc is None or n > doc["part_count"] or str(n) not in doc["parts"]:
                    return
                generation, h = live.generation, live.md5.copy()
                start, size = (n - 1) * doc["part_size"], doc["parts"][str(n)]["size"]
                await asyncio.to_thread(_hash_range, self.path(doc), start, size, h)
                if live.generation == generation:
                    live.md5, live.next_part, live.hashed = h, n + 1, start + size

    async def whole_md5(self, doc: Doc) -> str | None:
        """The MD5 of the whole stored file (None when a part went missing meanwhile)."""
        upload_id = doc["upload_id"]
        live = self.live(upload_id)
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
        totals = {f.name: sum(c[f.name] for c in per.values())
                  for f in attrs.fields(UploadCounters)}
        return {"settings": attrs.asdict(self.settings), "totals": totals, "uploads": per,
                "faults": self.injector.body_counters}


def _prefix(doc: Doc) -> int:
    """Bytes stored contiguously from the start (a parallel upload's ``offset``)."""
    n, parts = 1, doc["parts"]
    while str(n) in parts:
        n += 1
    return min(int(doc["size"]), (n - 1) * int(doc["part_size"]))


UPLOADS = web.AppKey("uploads", UploadService)
"""The application key of the upload service."""
