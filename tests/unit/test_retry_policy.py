"""The retry decisions are pure functions: tested without a network."""

import contextlib
import random
import ssl
from types import SimpleNamespace

import aiohttp
import pytest

from synapse_async import RetryPolicy, errors
from synapse_async._retry import (
    ConnectFailed,
    backoff_delay,
    is_retryable,
    parse_retry_after,
    retry_delay,
)
from synapse_async.http import map_transport_error


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("0.25") == 0.25
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def _api(status: int) -> errors.APIError:
    return errors.error_class_for_status(status)("x", status_code=status)


def test_retryable_statuses_only_when_idempotent() -> None:
    p = RetryPolicy()
    for status in (429, 502, 503, 504):
        assert is_retryable(_api(status), p, idempotent=True)
        assert not is_retryable(_api(status), p, idempotent=False)
    for status in (400, 401, 403, 404, 409, 500):
        assert not is_retryable(_api(status), p, idempotent=True)


def test_connect_failures_always_retryable_other_transport_only_idempotent() -> None:
    p = RetryPolicy()
    assert is_retryable(ConnectFailed("x"), p, idempotent=False)
    assert is_retryable(errors.TransportError("x"), p, idempotent=True)
    assert not is_retryable(errors.TransportError("x"), p, idempotent=False)
    assert not is_retryable(ValueError("x"), p, idempotent=True)


def test_full_jitter_bounds_and_cap() -> None:
    p = RetryPolicy(initial_delay=0.5, max_delay=4.0)
    rng = random.Random(1)
    for attempt in range(1, 12):
        ceiling = min(4.0, 0.5 * 2 ** (attempt - 1))
        values = [backoff_delay(attempt, p, rng) for _ in range(200)]
        assert all(0 <= v <= ceiling for v in values)
        assert max(values) > ceiling * 0.8  # really jittered over the whole range


def test_retry_after_honoured_and_capped() -> None:
    p = RetryPolicy(retry_after_cap=2.0)
    assert retry_delay(errors.RateLimitError("x", retry_after=1.5, status_code=429), 1, p) == 1.5
    assert retry_delay(errors.RateLimitError("x", retry_after=90, status_code=429), 1, p) == 2.0


def test_status_table() -> None:
    expected = {
        400: errors.ValidationError,
        401: errors.AuthenticationError,
        402: errors.InsufficientCreditsError,
        403: errors.PermissionDeniedError,
        404: errors.NotFoundError,
        409: errors.ConflictError,
        422: errors.ValidationError,
        429: errors.RateLimitError,
        500: errors.ServerError,
        503: errors.ServerError,
        418: errors.APIError,
    }
    for status, cls in expected.items():
        assert errors.error_class_for_status(status) is cls


@pytest.mark.parametrize("name", aiohttp.client_exceptions.__all__)
def test_every_aiohttp_client_exception_is_mapped(name: str) -> None:
    """STYLE 5: the translation at the HTTP boundary covers every aiohttp client error."""
    cls = getattr(aiohttp.client_exceptions, name)
    if issubclass(cls, aiohttp.ClientConnectorError):
        key = SimpleNamespace(host="h", port=443, ssl=True)
        cause = (
            ssl.SSLCertVerificationError("bad cert")
            if cls is aiohttp.ClientConnectorCertificateError
            else OSError(111, "refused")
        )
        exc = cls(key, cause)
    else:
        exc = cls.__new__(cls)  # constructors differ; the mapping looks at the type only
        with contextlib.suppress(TypeError):
            exc.__init__()
    mapped = map_transport_error(exc, "GET", "https://h/x/")
    assert "https://h/x/" in str(mapped)
    assert isinstance(mapped, errors.TransportError)
    if isinstance(exc, (aiohttp.ConnectionTimeoutError, aiohttp.SocketTimeoutError)):
        assert isinstance(mapped, errors.TimeoutError)
    if isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
        assert "TLS" in str(mapped) and not is_retryable(mapped, RetryPolicy(), idempotent=True)
    elif isinstance(exc, aiohttp.ClientConnectorError):
        assert isinstance(mapped, ConnectFailed)
