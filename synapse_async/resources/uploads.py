"""``client.uploads``: chunked, parallel, resumable uploads of large files."""

from __future__ import annotations

import os
from collections.abc import Callable

from synapse_async.http import build_path
from synapse_async.models import ChunkedUpload, UploadResult
from synapse_async.resources._base import AsyncResource
from synapse_async.transfer import DEFAULT_PART_SIZE, Uploader
from synapse_async.transfer.plan import check_upload_id

__all__ = ["AsyncUploads"]


class AsyncUploads(AsyncResource):
    """``client.uploads``: chunked uploads (parallel when the server offers it, else v1)."""

    async def upload_file(
        self,
        path: str | os.PathLike[str],
        *,
        part_size: int = DEFAULT_PART_SIZE,
        max_concurrency: int = 8,
        on_progress: Callable[[int, int], None] | None = None,
        resume: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> UploadResult:
        """Upload a local file by chunked upload; returns the completed upload.

        Parts of ``part_size`` bytes go up to ``max_concurrency`` at a time, each with its
        MD5 (``Content-MD5``), streamed from disk: memory stays at a few MiB per part in
        flight, whatever the file size. The server checks every part and the whole file's
        MD5. A failed part is resent alone; a server without the parallel extension gets the
        sequential v1 protocol (detected once per client).

        With ``resume`` (the default), an unfinished upload of the same file (same path, size
        and modification time) to the same server continues where the server has it: only
        missing parts are sent. Its small state lives in ``cache_dir`` (default
        ``$SYNAPSE_CACHE_DIR/uploads`` or ``~/.cache/synapse-async/uploads``).

        Args:
            path: the file.
            part_size: bytes per part, 5 MiB to 5 GiB (default 50 MiB).
            max_concurrency: parts in flight at once, 1 to 64 (default 8).
            on_progress: called with ``(bytes_confirmed, total_bytes)`` as the server confirms
                parts; the value never goes down and ends at ``total_bytes``.
            resume: continue an unfinished upload of this file, and record progress so a
                crashed upload can be continued; False starts afresh and records nothing.
            cache_dir: where resume state is kept.

        Returns:
            The upload: ``id`` (pass it as ``chunked_upload``), ``checksum`` (MD5 hex of the
            whole file, as the server computed it), ``size``, ``filename``.

        Raises:
            InvalidInputError: before any request: no such file, a directory, unreadable,
                empty, ``part_size`` or ``max_concurrency`` out of range.
            FileChangedError: the file's size or mtime changed during the upload (nothing is
                completed; the server's copy is aborted).
            UploadError: a part kept failing (``.part`` names it, ``.reason`` says why) or
                the server refused to complete; call again to resume.
        """
        return await Uploader(self._http, self._decode).upload(
            path,
            part_size=part_size,
            max_concurrency=max_concurrency,
            on_progress=on_progress,
            resume=resume,
            cache_dir=cache_dir,
        )

    async def _upload_hashed(
        self,
        path: str | os.PathLike[str],
        known_md5: tuple[int, int, str] | None,
        *,
        on_progress: Callable[[int, int], None] | None,
        max_concurrency: int,
    ) -> UploadResult:
        """``upload_file`` (its defaults), taking the file's MD5 when the caller has it.

        ``known_md5`` is ``(size, mtime_ns, md5)`` or None: a bulk upload hashes every file
        before sending it, and a file that still has that size and mtime is not hashed again.
        """
        return await Uploader(self._http, self._decode).upload(
            path,
            part_size=DEFAULT_PART_SIZE,
            max_concurrency=max_concurrency,
            on_progress=on_progress,
            resume=True,
            cache_dir=None,
            known_md5=known_md5,
        )

    async def get(self, upload_id: str) -> ChunkedUpload:
        """The server's view of a chunked upload: offset, status, parts held."""
        data = await self._http.request(
            "GET", build_path("chunked_upload", check_upload_id(upload_id))
        )
        return self._decode(data, ChunkedUpload)

    async def abort(self, upload_id: str) -> None:
        """Abort an unfinished chunked upload (the server drops what it received)."""
        await self._http.request(
            "DELETE", build_path("chunked_upload", check_upload_id(upload_id)), expect="none"
        )
