"""``Uploader``: validate, pick the protocol (once per client), resume or start, clean up.

The parallel extension is detected on a client's first chunked upload (``POST
chunked_upload/``; a 400/404/405/501 means the server lacks it) and remembered for that client,
so later uploads go straight to the right protocol.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from synapse_async.errors import (
    APIError,
    FileChangedError,
    InvalidInputError,
    NotFoundError,
    UploadError,
    ValidationError,
)
from synapse_async.models import UploadResult
from synapse_async.transfer.checksums import file_md5
from synapse_async.transfer.common import UploadJob
from synapse_async.transfer.parallel import ParallelUpload
from synapse_async.transfer.plan import (
    FileSnapshot,
    Progress,
    ProgressCallback,
    check_concurrency,
    check_part_size,
    plan_parts,
)
from synapse_async.transfer.resume import ResumeState, ResumeStore, resolve_cache_dir
from synapse_async.transfer.sequential import SequentialUpload

if TYPE_CHECKING:
    from synapse_async.http import HTTPClient

__all__ = ["Uploader"]

logger = logging.getLogger("synapse_async.transfer")

PARALLEL = "parallel"
V1 = "v1"

_PROTOCOL = "upload_protocol"
"""Key of the protocol the server speaks in ``HTTPClient.shared`` (kept by ``with_options``)."""


class Uploader:
    """Uploads files for one client.

    Args:
        http: the client's HTTP layer.
        decode: structures server JSON into a model (the client's strict or lenient converter).
    """

    def __init__(self, http: HTTPClient, decode: Callable[[Any, type[Any]], Any]) -> None:
        self._http = http
        self._decode = decode

    @property
    def protocol(self) -> str | None:
        """``"parallel"`` or ``"v1"`` once this client's server was probed, else None."""
        protocol: str | None = self._http.shared.get(_PROTOCOL)
        return protocol

    async def upload(
        self,
        path: str | os.PathLike[str],
        *,
        part_size: int,
        max_concurrency: int,
        on_progress: ProgressCallback | None,
        resume: bool,
        cache_dir: str | os.PathLike[str] | None,
        known_md5: tuple[int, int, str] | None = None,
    ) -> UploadResult:
        """Upload one file (see ``AsyncUploads.upload_file``).

        ``known_md5``: ``(size, mtime_ns, md5)`` of the file as the caller hashed it (a bulk
        upload hashes every file first); used when the file still has that size and mtime.
        """
        part_size = check_part_size(part_size)
        concurrency = check_concurrency(max_concurrency)
        if on_progress is not None and not callable(on_progress):
            raise InvalidInputError(f"on_progress must be a callable or None, got {on_progress!r}")
        snapshot = FileSnapshot.take(path)
        if known_md5 is not None:
            snapshot = snapshot.with_known_md5(*known_md5)
        plan_parts(snapshot.size, part_size)  # too many parts is an input error
        store = ResumeStore(resolve_cache_dir(cache_dir)) if resume else None
        job = UploadJob(
            self._http,
            snapshot,
            snapshot.path.name,
            part_size,
            concurrency,
            Progress(snapshot.size, on_progress),
            store,
            self._decode,
        )
        try:
            try:
                result = await self._upload(job)
            except UploadError as exc:
                if not _stored_bytes_are_wrong(exc):
                    raise
                await self._drop(job, exc)
                result = await self._upload(job)  # once: a second mismatch is raised
        except FileChangedError as exc:
            await job.abort_quietly(exc.upload_id or job.upload_id)
            job.forget()
            raise
        except UploadError as exc:
            if _stored_bytes_are_wrong(exc):  # never leave a state that can only fail
                await job.abort_quietly(exc.upload_id or job.upload_id)
                job.forget()
            elif not resume:
                await job.abort_quietly(job.upload_id)
            raise
        except Exception:
            if not resume:  # nobody can resume it: do not leave it behind on the server
                await job.abort_quietly(job.upload_id)
            raise
        job.forget()
        job.progress.advance_to(snapshot.size)
        return attrs.evolve(result, resent=True) if job.resent else result

    async def _drop(self, job: UploadJob, exc: UploadError) -> None:
        """Delete a server upload whose stored bytes are not the file's, and its state.

        v1 chunks carry no checksum, so a chunk corrupted on the way is only found when
        completing; resuming that upload could only fail the same way.
        """
        logger.warning(
            "upload %s of %s: the server's MD5 of the stored bytes is not the "
            "file's; deleting it and sending the file again",
            exc.upload_id,
            job.snapshot.path,
        )
        await job.abort_quietly(exc.upload_id or job.upload_id)
        job.forget()
        job.state = job.upload_id = None
        job.resent = True

    async def _upload(self, job: UploadJob) -> UploadResult:
        state = None
        if job.store is not None:
            state = job.store.load(job.base_url, job.snapshot.path)
        if state is not None and not state.matches(job.snapshot, job.part_size):
            logger.info(
                "%s changed since its unfinished upload %s: starting over",
                job.snapshot.path,
                state.upload_id,
            )
            await job.abort_quietly(state.upload_id)
            job.forget()
            state = None
        if state is not None:
            result = await self._resume(job, state)
            if result is not None:
                return result
        if self.protocol != V1:
            parallel = ParallelUpload(job)
            if await parallel.create() is not None:
                self._http.shared[_PROTOCOL] = PARALLEL
                return await parallel.run({})
            self._http.shared[_PROTOCOL] = V1
        return await SequentialUpload(job).run()

    async def _resume(self, job: UploadJob, state: ResumeState) -> UploadResult | None:
        """Continue the upload ``state`` names; None when the server no longer has it."""
        try:
            status = await job.status(state.upload_id)
        except (NotFoundError, ValidationError) as exc:
            logger.info("upload %s is gone (%s): starting over", state.upload_id, exc)
            job.forget()
            return None
        except APIError as exc:
            if exc.status_code != 410:  # 410: expired
                raise
            job.forget()
            return None
        job.state, job.upload_id = state, state.upload_id
        if status.is_complete:  # it completed, only the state was not removed yet
            try:
                return await job.complete(await file_md5(job.snapshot), url=state.url)
            except UploadError:
                job.forget()
                job.state = job.upload_id = None
                return None
        logger.info("resuming upload %s of %s", state.upload_id, job.snapshot.path)
        if state.protocol == PARALLEL:
            self._http.shared[_PROTOCOL] = PARALLEL
            held = {
                p.n: p.md5.lower()
                for p in status.parts
                if p.size == min(job.part_size, job.snapshot.size - (p.n - 1) * job.part_size)
            }
            return await ParallelUpload(job).run(held)
        return await SequentialUpload(job).run(state.url, status.offset or 0)


def _stored_bytes_are_wrong(exc: UploadError) -> bool:
    """Whether the server refused to complete the upload: its stored bytes fail the MD5.

    Not a part's mismatch, not a changed file, and not a success reply naming another
    checksum (the stored bytes may be right: that is raised as it is).
    """
    return (
        exc.reason == "checksum_mismatch"
        and exc.part is None
        and not isinstance(exc, FileChangedError)
        and isinstance(exc.__cause__, ValidationError)
    )
