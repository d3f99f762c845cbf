"""Records made from a finished chunked upload (ML models, big plugin archives).

The chunked-upload endpoints live in ``routes.uploads``; this asks it for a completed upload
and turns that into the fields of a data file (the record shares the upload's bytes).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..store import Doc
from . import uploads
from .params import field_error

__all__ = ["resolve_chunked_upload"]


def resolve_chunked_upload(request: web.Request, value: Any) -> Doc:
    """The data-file fields (``checksum, size, filename, _storage``) of upload ``value``.

    Raises:
        ApiError: 400 on ``chunked_upload`` when it is not the id of a completed upload.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
        raise field_error("chunked_upload", "Incorrect type. Expected an upload id.")
    if uploads.UPLOADS not in request.app:
        raise field_error("chunked_upload", "This server does not serve chunked uploads.")
    doc = uploads.completed_upload(request.app, value)
    if doc is None:
        raise field_error("chunked_upload", f'No completed chunked upload "{value}" exists.')
    return {
        "checksum": doc["checksum"],
        "size": doc["size"],
        "filename": doc["filename"],
        "_storage": doc["_storage"],
    }
