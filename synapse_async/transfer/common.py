"""What both upload protocols share: the job, first-failure task groups, completion, abort."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
import attrs

from synapse_async._tasks import first_error
from synapse_async.errors import (
    APIError,
    ServerError,
    SynapseError,
    TransportError,
    UploadError,
    ValidationError,
)
from synapse_async.http import build_path
from synapse_async.models import ChunkedUpload, UploadResult
from synapse_async.transfer.plan import FileSnapshot, Progress
from synapse_async.transfer.resume import ResumeState, ResumeStore

if TYPE_CHECKING:
    from synapse_async.http import HTTPClient

__all__ = ["UploadJob", "error_code", "reason_for", "run_all"]

logger = logging.getLogger("synapse_async.transfer")

T = TypeVar("T")


def error_code(exc: APIError) -> str | None:
    """The ``code`` of an API error's JSON body (``"checksum_mismatch"``, ...), if any."""
    body = exc.body
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None


async def run_all(jobs: Sequence[Callable[[], Awaitable[None]]]) -> None:
    """Run ``jobs`` concurrently; the first that fails cancels the others, its error is raised.

    The error comes out as itself, not wrapped in an exception group.
    """
    async with first_error() as group:
        for job in jobs:
            group.start_soon(job)


@attrs.define
class UploadJob:
    """One upload in progress: the client, the file, its settings, the resume state."""

    http: HTTPClient
    snapshot: FileSnapshot
    filename: str
    part_size: int
    concurrency: int
    progress: Progress
    store: ResumeStore | None
    decode: Callable[[Any, type[Any]], Any]
    state: ResumeState | None = None
    upload_id: str | None = None
    resent: bool = False
    _save_lock: anyio.Lock = attrs.field(factory=anyio.Lock, init=False, repr=False)

    @property
    def base_url(self) -> str:
        """The server the upload goes to."""
        return self.http.config.base_url

    def error(self, message: str, *, reason: str, part: int | None = None) -> UploadError:
        """An ``UploadError`` about this upload."""
        where = f"part {part} of " if part is not None else ""
        return UploadError(
            f"upload of {where}{str(self.snapshot.path)!r} failed: {message}",
            path=str(self.snapshot.path),
            reason=reason,
            part=part,
            upload_id=self.upload_id,
        )

    async def begin(self, upload_id: str, protocol: str, url: str | None = None) -> None:
        """Record a new server upload for this file (resume state written at once)."""
        self.upload_id = upload_id
        snap = self.snapshot
        self.state = ResumeState(
            self.base_url,
            str(snap.path),
            snap.size,
            snap.mtime_ns,
            self.part_size,
            protocol,
            upload_id,
            url,
        )
        await self.save()

    async def save(self) -> None:
        """Write the resume state (when resuming is on), in a worker thread.

        Saves are serialised, and each writes the state as it is when its turn comes, so
        the file on disk only ever moves forward.
        """
        if self.store is None or self.state is None:
            return
        async with self._save_lock:
            await anyio.to_thread.run_sync(self.store.write, self.state.to_json())

    def forget(self) -> None:
        """Delete the resume state."""
        if self.store is not None:
            self.store.discard(self.base_url, self.snapshot.path)

    async def status(self, upload_id: str) -> ChunkedUpload:
        """``GET chunked_upload/{id}/``."""
        data = await self.http.request("GET", build_path("chunked_upload", upload_id))
        status: ChunkedUpload = self.decode(data, ChunkedUpload)
        return status

    async def complete(self, md5: str, url: str | None = None) -> UploadResult:
        """Complete the upload with the whole-file MD5 and check the server's answer.

        A lost answer is rechecked with ``GET`` (the server may have completed it).
        """
        assert self.upload_id is not None
        target = url or build_path("chunked_upload", self.upload_id)
        try:
            data = await self.http.request("POST", target, json_body={"md5": md5})
        except ValidationError as exc:
            code = error_code(exc)
            if code == "checksum_mismatch":
                self.snapshot.check()  # a changed file is the likely cause: say so
                raise self.error(
                    f"the server's MD5 of the stored bytes is not the file's ({md5}): {exc.detail}",
                    reason="checksum_mismatch",
                ) from exc
            done = await self._recheck(md5)
            if done is not None:
                return done
            raise self.error(
                f"the server did not complete it: {exc.detail}",
                reason="incomplete" if code == "incomplete" else "rejected",
            ) from exc
        except (TransportError, ServerError) as exc:
            done = await self._recheck(md5)
            if done is not None:
                return done
            raise self.error(f"completing it failed: {exc}", reason=reason_for(exc)) from exc
        except APIError as exc:
            raise self.error(f"completing it failed: {exc}", reason="rejected") from exc
        result: UploadResult = self.decode(data, UploadResult)
        if result.checksum is not None and result.checksum.lower() != md5:
            raise self.error(
                f"the server stored MD5 {result.checksum}, the file's is {md5}",
                reason="checksum_mismatch",
            )
        return result

    async def _recheck(self, md5: str) -> UploadResult | None:
        assert self.upload_id is not None
        try:
            status = await self.status(self.upload_id)
        except SynapseError:
            return None
        if not status.is_complete:
            return None
        return UploadResult(
            id=self.upload_id,
            checksum=md5,
            size=self.snapshot.size,
            filename=self.filename,
            completed_at=status.completed_at,
            status=status.status,
        )

    async def abort_quietly(self, upload_id: str | None) -> None:
        """Best-effort ``DELETE chunked_upload/{id}/`` (shielded, at most a few seconds)."""
        if upload_id is None:
            return
        with anyio.CancelScope(shield=True), anyio.move_on_after(5):
            try:
                await self.http.with_config(
                    attrs.evolve(
                        self.http.config, retry=attrs.evolve(self.http.config.retry, max_retries=1)
                    )
                ).request("DELETE", build_path("chunked_upload", upload_id), expect="none")
            except SynapseError as exc:
                logger.info("could not abort upload %s: %s", upload_id, exc)


def reason_for(exc: SynapseError) -> str:
    """The ``UploadError.reason`` for the error of a failed request."""
    if isinstance(exc, ServerError):
        return "server_error"
    if isinstance(exc, TransportError):
        return "transport"
    return "rejected"
