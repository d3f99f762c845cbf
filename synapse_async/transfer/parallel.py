"""The parallel chunked upload (DESIGN 5.4, EXT): parts in flight at once, each MD5-checked.

Hashers compute each part's MD5 in worker threads (re-reading the part from disk), in order
and up to a few parts ahead; ``max_concurrency`` senders stream the hashed parts from disk in
512 KiB reads as ``PUT chunked_upload/{id}/parts/{n}/`` with ``Content-MD5``. One more thread
hashes the whole file sequentially, from when the first parts are on their way. A part the
server rejects with ``checksum_mismatch`` or a 5xx is sent again by the client's retry engine
(alone, with backoff, within the request's attempts and budget); a part that still fails
cancels the others and the ``UploadError`` names it. Each confirmed part is
recorded in the resume state, so a crashed upload resumes with the parts the server lacks.
"""

from __future__ import annotations

import logging
import os
from functools import partial

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from synapse_async.errors import (
    APIError,
    FileChangedError,
    ServerError,
    SynapseError,
    TransportError,
    ValidationError,
)
from synapse_async.http import build_path
from synapse_async.models import ChunkedUpload, UploadPart, UploadResult
from synapse_async.transfer.bodies import raw_part
from synapse_async.transfer.checksums import content_md5, file_md5, part_md5
from synapse_async.transfer.common import UploadJob, error_code, run_all
from synapse_async.transfer.plan import Part, plan_parts

__all__ = ["NO_EXTENSION_STATUSES", "ParallelUpload"]

logger = logging.getLogger("synapse_async.transfer")

NO_EXTENSION_STATUSES = frozenset({400, 404, 405, 501})
"""Answers to ``POST chunked_upload/`` meaning the server lacks the parallel extension."""


class ParallelUpload:
    """One file's parallel upload.

    Args:
        job: the upload job (file, settings, state).
    """

    def __init__(self, job: UploadJob) -> None:
        self.job = job

    async def create(self) -> ChunkedUpload | None:
        """``POST chunked_upload/``; None when the server does not offer the extension."""
        job = self.job
        try:
            data = await job.http.request(
                "POST",
                "chunked_upload/",
                json_body={
                    "filename": job.filename,
                    "size": job.snapshot.size,
                    "part_size": job.part_size,
                },
            )
        except APIError as exc:
            if exc.status_code in NO_EXTENSION_STATUSES:
                logger.info("server has no parallel upload (%s); using v1", exc.status_code)
                return None
            raise
        upload: ChunkedUpload = job.decode(data, ChunkedUpload)
        if not upload.parallel:
            return None
        if upload.part_size is not None and upload.part_size != job.part_size:
            job.part_size = upload.part_size  # the server's word on the part size wins
        await job.begin(upload.id, "parallel")
        return upload

    async def run(self, server_parts: dict[int, str]) -> UploadResult:
        """Send the parts the server lacks (``server_parts``: n -> md5 it holds); complete.

        Parts the server holds whose MD5 the resume state recorded count as sent; others it
        holds are hashed locally and skipped when they match.
        """
        job = self.job
        assert job.state is not None and job.upload_id is not None
        parts = plan_parts(job.snapshot.size, job.part_size)
        held = {n: md5 for n, md5 in server_parts.items() if 1 <= n <= len(parts)}
        recorded = {n for n, md5 in held.items() if job.state.parts.get(n) == md5}
        job.state.parts = {n: held[n] for n in recorded}
        await job.save()
        job.progress.advance_to(sum(parts[n - 1].size for n in recorded))
        todo = [p for p in parts if p.n not in recorded]
        self._todo = iter(todo)
        self._maybe = {n: md5 for n, md5 in held.items() if n not in recorded}
        lanes = min(job.concurrency, len(todo))
        self._first_wave = anyio.Event()
        self._wave_left = lanes  # parts to hash before the whole-file pass starts
        if not lanes:
            self._first_wave.set()
        whole: list[str] = []

        async def hash_whole() -> None:
            # It has the whole upload to finish; started once the first parts have their
            # MD5, it does not compete with them for the CPU.
            await self._first_wave.wait()
            whole.append(await file_md5(job.snapshot))

        # Hashers compute part MD5s in order, ahead of the senders (a channel of ready
        # parts between them), so a connection never waits for a hash between two parts.
        tx, rx = anyio.create_memory_object_stream[tuple[Part, bytes]](job.concurrency)
        # As many hashers as cores: the first parts get their MD5 one per core at a time, so
        # the first connections start at once and the parts of each later wave finish a
        # little apart (the server then has the whole-file MD5 ready sooner at the end).
        cores = max(1, min(lanes, os.cpu_count() or 1))
        hashers = [partial(self._hasher, tx.clone()) for _ in range(cores)]
        senders = [partial(self._sender, rx.clone()) for _ in range(lanes)]
        tx.close()
        rx.close()
        await run_all([hash_whole, *hashers, *senders])
        job.snapshot.check()
        return await job.complete(whole[0])

    async def _hasher(self, tx: MemoryObjectSendStream[tuple[Part, bytes]]) -> None:
        async with tx:
            for part in self._todo:  # shared by the hashers: each part is taken once
                digest = await part_md5(self.job.snapshot, part)
                if self._maybe.get(part.n) == digest.hex():
                    await self._confirmed(part, digest.hex())  # the server has it already
                else:
                    await tx.send((part, digest))
                self._wave_left -= 1
                if self._wave_left <= 0:
                    self._first_wave.set()
        self._first_wave.set()  # (also when the hashers ran out of parts)

    async def _sender(self, rx: MemoryObjectReceiveStream[tuple[Part, bytes]]) -> None:
        async with rx:
            async for part, digest in rx:
                await self._send(part, digest)

    async def _confirmed(self, part: Part, md5: str) -> None:
        job = self.job
        assert job.state is not None
        job.state.parts[part.n] = md5
        await job.save()
        job.progress.add(part.size)

    async def _send(self, part: Part, digest: bytes) -> None:
        """PUT the part (resent by the client's engine), or raise ``UploadError`` naming it.

        Besides the retry policy's failures, a part the server received corrupted
        (``checksum_mismatch``) or answered with any 5xx is resent; the part's attempts and
        time budget are the client's, as for any request.
        """
        job = self.job
        assert job.upload_id is not None
        path = build_path("chunked_upload", job.upload_id, "parts", part.n)
        headers = {
            "Content-MD5": content_md5(digest),
            "Content-Length": str(part.size),
            "Content-Type": "application/octet-stream",
        }
        body = raw_part(job.snapshot, part)
        try:
            data = await job.http.request("PUT", path, data=body, headers=headers, retry_on=_resend)
        except FileChangedError as exc:
            exc.upload_id, exc.part = job.upload_id, part.n
            raise
        except ValidationError as exc:
            if error_code(exc) == "checksum_mismatch":
                raise job.error(
                    "the server's MD5 of the received bytes never matched the part's",
                    reason="checksum_mismatch",
                    part=part.n,
                ) from exc
            raise job.error(
                f"the server refused it: {exc.detail}", reason="rejected", part=part.n
            ) from exc
        except ServerError as exc:
            raise job.error(
                f"the server kept failing ({exc})", reason="server_error", part=part.n
            ) from exc
        except TransportError as exc:
            raise job.error(
                f"it could not be sent: {exc}", reason="transport", part=part.n
            ) from exc
        except APIError as exc:
            raise job.error(
                f"the server refused it: {exc.detail}", reason="rejected", part=part.n
            ) from exc
        finally:
            await body.aclose()
        stored: UploadPart = job.decode(data, UploadPart)
        if stored.md5.lower() != digest.hex() or stored.size != part.size:
            raise job.error(
                f"the server stored {stored.size} bytes with MD5 "
                f"{stored.md5}, expected {part.size} with {digest.hex()}",
                reason="checksum_mismatch",
                part=part.n,
            )
        await self._confirmed(part, digest.hex())


def _resend(exc: SynapseError) -> bool:
    """Whether a failed part may go again: the server got it corrupted, or failed."""
    if isinstance(exc, ValidationError):
        return error_code(exc) == "checksum_mismatch"
    return isinstance(exc, ServerError)
