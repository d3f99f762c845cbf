"""Errors as the backend sends them (JSON ``{"detail": ...}``) and the outermost middleware.

Handlers raise :class:`ApiError` (or let aiohttp raise ``HTTPNotFound`` and friends); the
``request_id_middleware`` turns every error into a JSON response and stamps ``X-Request-Id`` on
every response, errors included.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

__all__ = [
    "ApiError",
    "bad_request",
    "error_response",
    "not_found",
    "read_json",
    "request_id_middleware",
]

log = logging.getLogger("synapse_async.emulator")

REQUEST_ID_HEADER = "X-Request-Id"


class ApiError(Exception):
    """An error answer: HTTP ``status`` with JSON body ``{"detail": detail}`` (plus ``extra``)."""

    def __init__(
        self,
        status: int,
        detail: Any,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(status, detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra

    def response(self) -> web.Response:
        """The JSON response for this error."""
        return error_response(self.status, self.detail, headers=self.headers, **self.extra)


def error_response(
    status: int, detail: Any, *, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    """A JSON error response ``{"detail": detail, **extra}``."""
    return web.json_response({"detail": detail, **extra}, status=status, headers=headers)


def bad_request(detail: Any, **extra: Any) -> ApiError:
    """A 400 validation error (``detail`` a message or a DRF-style field-error dict)."""
    return ApiError(400, detail, **extra)


def not_found() -> ApiError:
    """The DRF 404."""
    return ApiError(404, "Not found.")


async def read_json(request: web.Request) -> Any:
    """The request's JSON body; an empty body reads as ``{}`` (as DRF does).

    Raises:
        ApiError: 400 ``JSON parse error - ...`` when the body is not JSON.
    """
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"JSON parse error - {exc}") from None


def _http_exception_response(exc: web.HTTPException) -> web.StreamResponse:
    if exc.status < 400:
        return exc  # redirects and the like pass through unchanged
    if exc.status == 404:
        detail = "Not found."
    elif exc.status == 405:
        detail = (
            f'Method "{exc.method}" not allowed.'
            if isinstance(exc, web.HTTPMethodNotAllowed)
            else "Method not allowed."
        )
    elif exc.status == 413:
        detail = "Request entity too large."
    else:
        detail = exc.reason
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    return error_response(exc.status, detail, headers=headers)


INSUFFICIENT_STORAGE = (
    "Insufficient storage: the server's disk is full. Abort unfinished uploads "
    "(DELETE chunked_upload/{id}/) to free space, or retry later."
)
"""The detail of a 507 answer."""


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost middleware: JSON errors always, and ``X-Request-Id`` on every response."""
    request_id = os.urandom(16).hex()  # uuid4().hex's form, at a fraction of its cost
    response: web.StreamResponse
    try:
        response = await handler(request)
    except ApiError as exc:
        response = exc.response()
    except web.HTTPException as exc:
        response = _http_exception_response(exc)
    except ConnectionResetError:  # the client went away mid-body: no server error, no log
        response = error_response(400, "The connection was lost while the request was read.")
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            log.exception(
                "unhandled error in %s %s (request id %s)", request.method, request.path, request_id
            )
            response = error_response(500, "A server error occurred.")
        else:  # the disk is full: say so, so the client can free space (DELETE an upload)
            response = error_response(507, INSUFFICIENT_STORAGE)
    except Exception:
        log.exception(
            "unhandled error in %s %s (request id %s)", request.method, request.path, request_id
        )
        response = error_response(500, "A server error occurred.")
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response
