"""Data files: upload (multipart, or chunked above 50 MiB), get, find existing ones by checksum."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import anyio.to_thread

from synapse_async.errors import InvalidInputError
from synapse_async.http import HTTPClient, build_path, multipart_body
from synapse_async.models import DataFile
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.uploads import AsyncUploads
from synapse_async.transfer.plan import FileSnapshot

__all__ = ["MULTIPART_LIMIT", "AsyncDataFiles"]

MULTIPART_LIMIT = 50 * 2**20
"""Files up to this size go in one multipart request; larger ones need a chunked upload."""


def check_upload_path(path: str | os.PathLike[str]) -> Path:
    """Validate a local file to upload, before any request (an empty file is allowed)."""
    return FileSnapshot.take(path, allow_empty=True).path


_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.~-]+")
_PLAIN_FORM_MAX = 1 << 20  # larger files: FormData writes their bytes without a copy


def _plain_file_form(name: str, content: bytes) -> tuple[bytes, str] | None:
    """The form ``multipart_body`` builds for one file part, as bytes, and its Content-Type.

    None when the file name needs quoting or the file is large (``multipart_body`` then).

    The bytes are the ones aiohttp's ``FormData`` writes for a plain file name, built in one
    join: a bulk upload sends thousands of small files a second, and ``FormData`` costs more
    client CPU per file than the rest of the request's preparation. Up to 1 MiB of content:
    copying larger files costs more than ``FormData`` does.
    """
    if len(content) > _PLAIN_FORM_MAX or not _PLAIN_NAME.fullmatch(name):
        return None
    boundary = os.urandom(16).hex()
    head = (
        f"--{boundary}\r\nContent-Type: application/octet-stream\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'
    )
    body = b"".join((head.encode("ascii"), content, f"\r\n--{boundary}--\r\n".encode("ascii")))
    return body, f"multipart/form-data; boundary={boundary}"


class AsyncDataFiles(AsyncResource):
    """``client.data_files``: files stored by the platform.

    Args:
        http: the client's HTTP layer.
        uploads: the client's uploads resource, for files over 50 MiB (``AsyncClient``
            passes its own; omitted, one is made on ``http``).
    """

    def __init__(self, http: HTTPClient, *, uploads: AsyncUploads | None = None) -> None:
        super().__init__(http)
        self._uploads = self._sibling(uploads, AsyncUploads)

    async def create(
        self,
        path: str | os.PathLike[str],
        *,
        on_progress: Callable[[int, int], None] | None = None,
        max_concurrency: int = 8,
    ) -> DataFile:
        """Upload a local file as a data file.

        Up to 50 MiB: one multipart ``POST data_files/``. Larger: a chunked upload
        (``client.uploads.upload_file``: parallel, MD5-checked, resumable), then
        ``POST data_files/ {"chunked_upload": id}``.

        Args:
            path: the file.
            on_progress: for chunked uploads, called with ``(bytes_confirmed, total_bytes)``.
            max_concurrency: for chunked uploads, parts in flight at once (1 to 64).

        Raises:
            InvalidInputError: missing, unreadable, or a directory.
            UploadError: the chunked upload failed (see ``AsyncUploads.upload_file``).
        """
        p = check_upload_path(path)
        size = p.stat().st_size
        if size > MULTIPART_LIMIT:
            return await self._create_chunked(p, on_progress, max_concurrency)

        content = await anyio.to_thread.run_sync(p.read_bytes)
        return await self._create_from_bytes(p.name, content)

    async def _create_chunked(
        self,
        path: Path,
        on_progress: Callable[[int, int], None] | None,
        max_concurrency: int,
        known_md5: tuple[int, int, str] | None = None,
    ) -> DataFile:
        """A chunked upload of ``path``, then ``POST data_files/ {"chunked_upload": id}``.

        ``known_md5``: ``(size, mtime_ns, md5)`` when the caller hashed the file already.
        """
        upload = await self._uploads._upload_hashed(
            path, known_md5, on_progress=on_progress, max_concurrency=max_concurrency
        )
        data = await self._http.request(
            "POST", "data_files/", json_body={"chunked_upload": upload.id}
        )
        return self._decode(data, DataFile)

    async def _create_from_bytes(self, name: str, content: bytes) -> DataFile:
        """``POST data_files/`` of bytes already read (multipart, field ``file``)."""
        plain = _plain_file_form(name, content)
        if plain is None:
            data = await self._http.request(
                "POST", "data_files/", data=multipart_body({}, {"file": (name, content)})
            )
        else:
            body, content_type = plain
            data = await self._http.request(
                "POST", "data_files/", data=lambda: body, headers={"Content-Type": content_type}
            )
        return self._decode(data, DataFile)

    async def get(self, data_file_id: int) -> DataFile:
        """One data file by id."""
        data = await self._http.request(
            "GET", build_path("data_files", check_id(data_file_id, "data_file_id"))
        )
        return self._decode(data, DataFile)

    async def verify_checksums(self, checksums: Iterable[str]) -> dict[str, int]:
        """Which of these MD5 checksums the server already holds: ``{md5: data_file_id}``."""
        sums = list(checksums)
        for s in sums:
            if not isinstance(s, str) or len(s) != 32:
                raise InvalidInputError(f"not an MD5 hex checksum: {s!r}")
        data = await self._http.request(
            "POST", "data_files/verify_checksums/", json_body={"checksums": sums}
        )
        existing = data.get("existing", {}) if isinstance(data, dict) else {}
        return {str(k): int(v) for k, v in existing.items()}
