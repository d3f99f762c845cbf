"""Every public exception of the SDK, in one module.

The tree::

    SynapseError                     root: catch this to catch everything the SDK raises
    ├── ConfigurationError           bad client settings (missing token, bad URL, ...)
    ├── InvalidInputError            a bad argument, caught before any request (also ValueError)
    │   └── JournalError             a bulk upload journal is corrupt, foreign or not writable
    ├── TransportError               the request did not get an HTTP answer
    │   ├── TimeoutError             connect/read/total timeout (also builtins.TimeoutError)
    │   │   └── ConnectTimeoutError  timed out connecting (also a ConnectFailed)
    │   └── ConnectFailed            no connection: nothing was sent
    ├── APIError                     the server answered with an error status
    │   ├── AuthenticationError      401
    │   ├── PermissionDeniedError    403
    │   ├── NotFoundError            404
    │   ├── ValidationError          400 / 422
    │   ├── InsufficientCreditsError 402
    │   ├── ConflictError            409
    │   ├── RateLimitError           429 (``retry_after`` seconds, when the server said)
    │   ├── ServerError              5xx
    │   └── UnexpectedResponseError  2xx/3xx the SDK cannot use (HTML page, redirect, bad JSON)
    ├── WaitTimeoutError             a wait/poll reached max_wait (also builtins.TimeoutError)
    ├── PageFetchError               a listing page kept failing (names the page; cause chained)
    ├── LoopMismatchError            a client used from another event loop (also RuntimeError)
    ├── ClientClosedError            a closed client was used again (also RuntimeError)
    ├── UploadError                  a chunked upload failed (names the part and why)
    │   └── FileChangedError         the file changed size or mtime while being uploaded
    ├── ChecksumMismatchError        a downloaded file's MD5 is not the server's checksum
    ├── ProjectStateError            a workflow step is not allowed in the project's state
    ├── ImportFailedError            a server-side import (upload_from_s3) failed
    ├── BulkUploadError              a bulk upload stopped at a failed item (``.report``)
    └── WebhookVerificationError     a webhook delivery failed signature/freshness/replay checks

The sync facade adds ``synapse_sync.errors.FacadeError`` (a ``SynapseError``) and its subclasses.

Transport failures (no answer) are kept apart from status failures (an answer that says no).
Messages never contain credentials: only the method, the URL path and the server's detail.
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from synapse_async.transport import Response

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "ConflictError",
    "ConnectFailed",
    "ConnectTimeoutError",
    "InsufficientCreditsError",
    "InvalidInputError",
    "NotFoundError",
    "PageFetchError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServerError",
    "SynapseError",
    "TimeoutError",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
    "WaitTimeoutError",
    "error_class_for_status",
]


def _restore(cls: type[SynapseError], args: tuple[Any, ...], state: dict[str, Any]) -> SynapseError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class SynapseError(Exception):
    """Root of every exception raised by the SDK."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled with its attributes and without calling __init__ (whose keyword-only
        # arguments the default Exception pickling would drop): an error raised in another
        # process (a Ray worker, multiprocessing) arrives whole.
        return _restore, (type(self), self.args, dict(self.__dict__))


class ConfigurationError(SynapseError):
    """The client settings are unusable (no token, malformed base URL, unreadable config file)."""


class InvalidInputError(SynapseError, ValueError):
    """An argument is invalid; raised before any request is sent."""


class TransportError(SynapseError):
    """No HTTP answer: connection refused or reset, DNS failure, TLS failure, dropped body.

    Attributes:
        method: the HTTP method of the failed request.
        url: the request URL (no credentials are ever part of it).
        retryable: whether another attempt may help (False for TLS failures and bad URLs).
    """

    def __init__(
        self, message: str, *, method: str = "", url: str = "", retryable: bool = True
    ) -> None:
        super().__init__(message)
        self.method = method
        self.url = url
        self.retryable = retryable


class TimeoutError(TransportError, builtins.TimeoutError):
    """The connect, read or total timeout expired (also a ``builtins.TimeoutError``)."""


class ConnectFailed(TransportError):
    """No connection could be made: nothing of the request was sent (always safe to retry)."""


class ConnectTimeoutError(ConnectFailed, TimeoutError):
    """Timed out connecting, before the request was sent (safe to retry for every method)."""


class WaitTimeoutError(SynapseError, builtins.TimeoutError):
    """A wait gave up at its deadline (``max_wait``): the thing waited for is not done yet.

    Not a transport failure: every request succeeded, the job or project is still running
    on the server. Also a ``builtins.TimeoutError``.

    Attributes:
        waited: the deadline in seconds (``max_wait``).
        last: the last state polled (a ``Job``, ``ImportJob``, ``ProjectStatus``...), or
            None when nothing was polled (a stream).
    """

    def __init__(self, message: str, *, waited: float, last: Any = None) -> None:
        super().__init__(message)
        self.waited = waited
        self.last = last


class APIError(SynapseError):
    """The server answered with an error status.

    Attributes:
        status_code: the HTTP status.
        detail: the server's explanation (``detail`` of the JSON body, or a short text excerpt).
        request_id: the server's request id header, when it sent one (quote it in bug reports).
        method: the HTTP method.
        url: the request URL.
        body: the decoded JSON body, or None when the body was not JSON.
        response: the raw answer (``.status``, ``.headers``, ``.body`` bytes; ``str()`` of
            it is the body's text, as the official client's ``ClientError.response`` prints),
            when there was one (credentials scrubbed from its body).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        detail: Any = None,
        request_id: str | None = None,
        method: str = "",
        url: str = "",
        body: Any = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(message)
        self.response = response
        self.status_code = status_code
        self.detail = detail
        self.request_id = request_id
        self.method = method
        self.url = url
        self.body = body


class AuthenticationError(APIError):
    """401: the token is missing, wrong or expired."""


class PermissionDeniedError(APIError):
    """403: the token is valid but may not do this."""


class NotFoundError(APIError):
    """404: no such object (or page)."""


class ValidationError(APIError):
    """400/422: the server rejected the request body or parameters."""


class InsufficientCreditsError(APIError):
    """402: the account balance does not cover the operation."""


class ConflictError(APIError):
    """409: the request conflicts with the object's current state."""


class RateLimitError(APIError):
    """429: too many requests.

    Attributes:
        retry_after: seconds the server asked to wait, or None when it did not say.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: the server failed."""


class UnexpectedResponseError(APIError):
    """The server's answer cannot be used: an HTML page, invalid JSON, a redirect."""


class PageFetchError(SynapseError):
    """A page of a listing could not be fetched after retries.

    Attributes:
        page: the 1-based page number (None for cursor pages).
        url: the page URL.
    The original error is chained as ``__cause__``.
    """

    def __init__(self, message: str, *, page: int | None, url: str) -> None:
        super().__init__(message)
        self.page = page
        self.url = url


_STATUS_ERRORS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
}


def error_class_for_status(status: int) -> type[APIError]:
    """Return the exception class for an HTTP error status (the one status table)."""
    if status in _STATUS_ERRORS:
        return _STATUS_ERRORS[status]
    if status >= 500:
        return ServerError
    if 200 <= status < 400:
        return UnexpectedResponseError
    return APIError


class LoopMismatchError(SynapseError, RuntimeError):
    """An async client object was used from an event loop other than the one it was built on.

    Use the async client in async code and the sync facade (``synapse_sync``) in sync code;
    do not share one client instance across event loops.
    """


class ClientClosedError(SynapseError, RuntimeError):
    """A client was used after ``aclose()`` (or after its ``async with``/``with`` block ended).

    A closed client does not silently open a new connection pool: make a new client.
    """


__all__ += ["ClientClosedError", "LoopMismatchError"]


class WebhookVerificationError(SynapseError):
    """A webhook delivery failed verification (``synapse_async.webhooks.verify_signature``).

    Attributes:
        reason: ``missing_signature``, ``bad_signature``, ``malformed_payload``, ``stale``
            (``created`` older than the tolerance), ``future`` (``created`` too far ahead) or
            ``replayed`` (an event id already accepted). Messages never include the secret.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class ProjectStateError(SynapseError):
    """A workflow call cannot proceed in the project's current state.

    E.g. waiting for the completion of a project that was never started, or was cancelled.

    Attributes:
        state: the project's state.
    """

    def __init__(self, message: str, *, state: str) -> None:
        super().__init__(message)
        self.state = state


class ImportFailedError(SynapseError):
    """A server-side import (``project.upload_from_s3``) failed.

    Attributes:
        job: the failed ``ImportJob`` (its ``error`` says why).
    """

    def __init__(self, message: str, *, job: Any) -> None:
        super().__init__(message)
        self.job = job


__all__ += ["ImportFailedError", "ProjectStateError", "WebhookVerificationError"]


class UploadError(SynapseError):
    """A chunked upload could not be completed (``SynapseError`` -> ``UploadError``).

    The message names the file, the part (when one part failed) and why. Unless the file
    changed, the server keeps what arrived: calling ``upload_file`` again resumes it.

    Attributes:
        path: the local file.
        part: the 1-based part (v1: chunk) number that failed, or None for the upload as a whole.
        reason: ``"checksum_mismatch"``, ``"server_error"``, ``"transport"``, ``"rejected"``,
            ``"incomplete"`` or ``"file_changed"``.
        upload_id: the server's upload id, when one was created.
    The error of the last attempt, if any, is chained as ``__cause__``.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str,
        reason: str,
        part: int | None = None,
        upload_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.path = path
        self.part = part
        self.reason = reason
        self.upload_id = upload_id


class ChecksumMismatchError(SynapseError):
    """A downloaded file's MD5 differs from the checksum the server gave for it.

    The download was tried afresh once; nothing is left at the destination (the bytes went
    to a temp file that is removed). The server's copy, or something between, is corrupt:
    retry later, or re-upload the original.

    Attributes:
        url: the file's URL (query string removed: it may be a signature).
        expected: the server's MD5 (hex).
        actual: the MD5 of the bytes received (hex).
    """

    def __init__(self, message: str, *, url: str, expected: str, actual: str) -> None:
        super().__init__(message)
        self.url = url
        self.expected = expected
        self.actual = actual


class FileChangedError(UploadError):
    """The file's size or modification time changed while it was being uploaded.

    Nothing is completed on the server (never a mix of old and new bytes); the upload is
    aborted. Upload the file again once it has stopped changing.
    """


__all__ += ["ChecksumMismatchError", "FileChangedError", "UploadError"]


class JournalError(InvalidInputError):
    """A bulk upload journal cannot be used: corrupt, another collection's, or not writable.

    Raised before any request when the journal is unusable; raised mid-upload when a write
    fails (e.g. disk full): what the server already holds is kept, and rerunning with the same
    journal once the problem is fixed finishes the job.

    Attributes:
        path: the journal file.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(message)
        self.path = path


class BulkUploadError(SynapseError):
    """A bulk upload stopped at its first failed item (``fail_fast=True``).

    Attributes:
        report: what was done up to that point (``failures[0]`` is the item that stopped it).
    """

    def __init__(self, message: str, *, report: Any) -> None:
        super().__init__(message)
        self.report = report


__all__ += ["BulkUploadError", "JournalError"]
