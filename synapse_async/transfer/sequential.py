"""The v1 chunked upload (DESIGN 5.3): what the real backend serves; one chunk at a time.

``PUT chunked_upload/`` with the first chunk (multipart ``filename`` + ``file``, header
``Content-Range``) creates the upload; each next chunk goes to the ``url`` the server gave;
``POST <url>`` ``{"md5"}`` completes it. Chunks stream from disk like parallel parts, and the
whole-file MD5 is computed in a thread while they go out. A chunk whose answer was lost is
reconciled with ``GET chunked_upload/{id}/``: the server's offset says whether it arrived.
"""

from __future__ import annotations

import logging

from synapse_async.errors import (
    APIError,
    FileChangedError,
    ServerError,
    SynapseError,
    TransportError,
    ValidationError,
)
from synapse_async.models import ChunkedUpload, UploadResult
from synapse_async.transfer.bodies import multipart_chunk
from synapse_async.transfer.checksums import file_md5
from synapse_async.transfer.common import PART_ATTEMPTS, UploadJob, run_all
from synapse_async.transfer.plan import Part

__all__ = ["SequentialUpload"]

logger = logging.getLogger("synapse_async.transfer")


class SequentialUpload:
    """One file's v1 upload.

    Args:
        job: the upload job (file, settings, state).
    """

    def __init__(self, job: UploadJob) -> None:
        self.job = job
        self.resends = 0
        self._url: str | None = None

    async def run(self, url: str | None = None, offset: int = 0) -> UploadResult:
        """Send the file from ``offset`` (resuming at the server's offset, with its ``url``)."""
        job = self.job
        self._url = url
        whole: list[str] = []

        async def hash_whole() -> None:
            whole.append(await file_md5(job.snapshot))

        async def send() -> None:
            await self._send_from(offset)

        await run_all([hash_whole, send])
        job.snapshot.check()
        return await job.complete(whole[0], url=self._url)

    async def _send_from(self, offset: int) -> None:
        job = self.job
        size = job.snapshot.size
        job.progress.advance_to(offset)
        while offset < size:
            part = Part(offset // job.part_size + 1, offset,
                        min(job.part_size, size - offset))
            reply = await self._put(part)
            if job.upload_id is None:
                self._url = reply.url or f"chunked_upload/{reply.id}/"
                await job.begin(reply.id, "v1", self._url)
            new_offset = reply.offset if reply.offset is not None else part.end
            if new_offset != part.end:
                raise job.error(f"the server is at byte {new_offset} after a chunk ending at "
                                f"{part.end}", reason="rejected", part=part.n)
            offset = new_offset
            job.progress.advance_to(offset)

    async def _put(self, part: Part) -> ChunkedUpload:
        """PUT one chunk until the server has it, or raise ``UploadError`` naming it."""
        job = self.job
        last: SynapseError | None = None
        for attempt in range(1, PART_ATTEMPTS + 1):
            body, headers = multipart_chunk(job.snapshot, job.filename, part)
            try:
                try:
                    data = await job.http.request("PUT", self._url or "chunked_upload/",
                                                  data=body, headers=headers)
                finally:
                    await body.aclose()
                reply: ChunkedUpload = job.decode(data, ChunkedUpload)
                return reply
            except FileChangedError as exc:
                exc.upload_id, exc.part = job.upload_id, part.n
                raise
            except ValidationError as exc:
                # The previous attempt may have arrived with its answer lost: ask the server.
                server = await self._server_offset()
                if server == part.end:
                    return ChunkedUpload(id=str(job.upload_id), offset=server)
                if server != part.offset:
                    raise job.error(f"the server refused it: {exc.detail}", reason="rejected",
                                    part=part.n) from exc
                last = exc
            except ServerError as exc:
                last = exc
            except (TransportError, APIError) as exc:
                if await self._server_offset() == part.end:
                    return ChunkedUpload(id=str(job.upload_id), offset=part.end)
                raise job.error(f"it could not be sent: {exc}", reason="transport"
                                if isinstance(exc, TransportError) else "rejected",
                                part=part.n) from exc
            self.resends += 1
            logger.info("resending chunk %d of %s (attempt %d): %s", part.n, job.snapshot.path,
                        attempt, last)
            if attempt < PART_ATTEMPTS:
                await job.pause(attempt)
        raise job.error(f"the server kept failing ({last})", reason="server_error",
                        part=part.n) from last

    async def _server_offset(self) -> int | None:
        """The server's offset of this upload (None before it exists or when unknown)."""
        if self.job.upload_id is None:
            return None
        try:
            return (await self.job.status(self.job.upload_id)).offset
        except SynapseError:
            return None
