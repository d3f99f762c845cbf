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
)
from synapse_async.models import ChunkedUpload, UploadResult
from synapse_async.transfer.bodies import multipart_chunk
from synapse_async.transfer.checksums import file_md5
from synapse_async.transfer.common import UploadJob, run_all
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
            part = Part(offset // job.part_size + 1, offset, min(job.part_size, size - offset))
            reply = await self._put(part)
            if job.upload_id is None:
                self._url = reply.url or f"chunked_upload/{reply.id}/"
                await job.begin(reply.id, "v1", self._url)
            new_offset = reply.offset if reply.offset is not None else part.end
            if new_offset != part.end:
                raise job.error(
                    f"the server is at byte {new_offset} after a chunk ending at {part.end}",
                    reason="rejected",
                    part=part.n,
                )
            offset = new_offset
            job.progress.advance_to(offset)

    async def _put(self, part: Part) -> ChunkedUpload:
        """PUT one chunk (resent by the client's engine), or raise ``UploadError`` naming it.

        A chunk the server refuses, or that failed without an answer, may have arrived on an
        earlier attempt whose answer was lost: the server's offset decides.
        """
        job = self.job
        body, headers = multipart_chunk(job.snapshot, job.filename, part)
        try:
            data = await job.http.request(
                "PUT",
                self._url or "chunked_upload/",
                data=body,
                headers=headers,
                retry_on=lambda exc: isinstance(exc, ServerError),
            )
        except FileChangedError as exc:
            exc.upload_id, exc.part = job.upload_id, part.n
            raise
        except (TransportError, APIError) as exc:
            if await self._server_offset() == part.end:
                return ChunkedUpload(id=str(job.upload_id), offset=part.end)
            if isinstance(exc, ServerError):
                raise job.error(
                    f"the server kept failing ({exc})", reason="server_error", part=part.n
                ) from exc
            if isinstance(exc, TransportError):
                raise job.error(
                    f"it could not be sent: {exc}", reason="transport", part=part.n
                ) from exc
            raise job.error(
                f"the server refused it: {exc.detail}", reason="rejected", part=part.n
            ) from exc
        finally:
            await body.aclose()
        reply: ChunkedUpload = job.decode(data, ChunkedUpload)
        return reply

    async def _server_offset(self) -> int | None:
        """The server's offset of this upload (None before it exists or when unknown)."""
        if self.job.upload_id is None:
            return None
        try:
            return (await self.job.status(self.job.upload_id)).offset
        except SynapseError:
            return None
