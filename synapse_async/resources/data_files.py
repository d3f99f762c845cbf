"""Data files: upload (multipart), get, find existing ones by checksum."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import aiofiles

from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path, multipart_body
from synapse_async.models import DataFile
from synapse_async.resources._base import AsyncResource, check_id

__all__ = ["MULTIPART_LIMIT", "AsyncDataFiles"]

MULTIPART_LIMIT = 50 * 2**20
"""Files up to this size go in one multipart request; larger ones need a chunked upload."""


def check_upload_path(path: str | os.PathLike[str]) -> Path:
    """Validate a local file to upload, before any request."""
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"no such file: {str(p)!r}")
    if p.is_dir():
        raise InvalidInputError(f"{str(p)!r} is a directory; pass a file")
    if not os.access(p, os.R_OK):
        raise InvalidInputError(f"{str(p)!r} is not readable (check its permissions)")
    return p


class AsyncDataFiles(AsyncResource):
    """``client.data_files``: files stored by the platform."""

    async def create(self, path: str | os.PathLike[str]) -> DataFile:
        """Upload a local file as a data file (multipart, up to 50 MiB).

        Raises:
            InvalidInputError: missing, unreadable, directory, or larger than 50 MiB.
        """
        p = check_upload_path(path)
        size = p.stat().st_size
        if size > MULTIPART_LIMIT:
            raise InvalidInputError(
                f"{str(p)!r} is {size} bytes; files over {MULTIPART_LIMIT} bytes need a "
                "chunked upload")

        async with aiofiles.open(p, "rb") as fh:
            content = await fh.read()

        body = multipart_body({}, {"file": (p.name, content)})
        data = await self._http.request("POST", "data_files/", data=body)
        return self._decode(data, DataFile)

    async def get(self, data_file_id: int) -> DataFile:
        """One data file by id."""
        data = await self._http.request(
            "GET", build_path("data_files", check_id(data_file_id, "data_file_id")))
        return self._decode(data, DataFile)

    async def verify_checksums(self, checksums: Iterable[str]) -> dict[str, int]:
        """Which of these MD5 checksums the server already holds: ``{md5: data_file_id}``."""
        sums = list(checksums)
        for s in sums:
            if not isinstance(s, str) or len(s) != 32:
                raise InvalidInputError(f"not an MD5 hex checksum: {s!r}")
        data = await self._http.request("POST", "data_files/verify_checksums/",
                                        json_body={"checksums": sums})
        existing = data.get("existing", {}) if isinstance(data, dict) else {}
        return {str(k): int(v) for k, v in existing.items()}
