"""What the platform resources need from ``client.uploads`` (chunked uploads), as a Protocol.

ML models and big plugin archives are sent by chunked upload first; the record is then
created from the upload's id. The resources reach the uploads resource through a getter, so
they work (and fail with a clear message) whichever order the client creates its resources.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Protocol

from synapse_async.errors import InvalidInputError

__all__ = ["UploadedFile", "Uploader", "UploaderGetter", "require_uploader"]


class UploadedFile(Protocol):
    """The result of a finished chunked upload."""

    @property
    def id(self) -> str | int:
        """The chunked upload's id (sent as ``chunked_upload``)."""

    @property
    def checksum(self) -> str:
        """MD5 hex of the whole file."""

    @property
    def size(self) -> int:
        """Bytes uploaded."""


class Uploader(Protocol):
    """``client.uploads``: ``upload_file(path, ...)`` returns an :class:`UploadedFile`."""

    async def upload_file(self, path: str | os.PathLike[str], **options: Any) -> UploadedFile:
        """Upload ``path`` by chunked upload."""


UploaderGetter = Callable[[], "Uploader | None"]
"""Returns the client's uploads resource, or None when this client has none."""


def require_uploader(getter: UploaderGetter | None, what: str) -> Uploader:
    """The uploads resource, or a clear error saying that ``what`` needs it."""
    uploader = getter() if getter is not None else None
    if uploader is None:
        raise InvalidInputError(
            f"{what} needs a chunked upload, and this client has no uploads resource "
            "(client.uploads)")
    return uploader
