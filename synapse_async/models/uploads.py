"""Models of chunked uploads: the server's view of an upload, its parts, the result."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from synapse_async.models._converter import Model

__all__ = ["ChunkedUpload", "UploadPart", "UploadResult"]


@attrs.frozen
class UploadPart(Model):
    """One part the server holds (parallel uploads).

    Attributes:
        n: the 1-based part number.
        size: its length in bytes.
        md5: hex MD5 of its bytes.
    """

    n: int
    size: int
    md5: str


@attrs.frozen
class ChunkedUpload(Model):
    """The server's view of a chunked upload (creation, chunk and status replies).

    Attributes:
        id: the upload id.
        url: where the next v1 chunk (and the completion) goes.
        offset: bytes received contiguously from the start.
        expires: when an incomplete upload is discarded.
        status: the upload's state (``"uploading"``, ``"complete"``; servers vary in spelling).
        completed_at: when it was completed.
        part_size: bytes per part (parallel uploads).
        part_count: number of parts (parallel uploads).
        parallel: the server accepts parts in parallel (the EXT protocol).
        parts: the parts the server holds (parallel uploads, status replies).
    """

    id: str
    url: str | None = None
    offset: int | None = None
    expires: datetime | None = None
    status: Any = None
    completed_at: datetime | None = None
    part_size: int | None = None
    part_count: int | None = None
    parallel: bool = False
    parts: list[UploadPart] = attrs.field(factory=list)

    @property
    def is_complete(self) -> bool:
        """Whether the server says the upload is complete."""
        return str(self.status).lower() in ("complete", "completed", "2")


@attrs.frozen
class UploadResult(Model):
    """A completed chunked upload: ``client.uploads.upload_file``'s result.

    Pass ``id`` as ``chunked_upload`` to create a record from the bytes (data file, model).

    Attributes:
        id: the upload id.
        checksum: hex MD5 of the whole file, as the server computed it.
        size: bytes stored.
        filename: the file name.
        completed_at: when the server completed it.
        status: the server's status (``"complete"``).
        resent: True when the whole file was sent a second time because the server's MD5
            of the first upload's stored bytes was not the file's (a chunk corrupted on the
            way; the first upload was deleted).
    """

    id: str
    checksum: str | None = None
    size: int | None = None
    filename: str | None = None
    completed_at: datetime | None = None
    status: Any = None
    resent: bool = False
