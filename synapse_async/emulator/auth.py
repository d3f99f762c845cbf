"""Token authentication, as the backend checks it.

Accepted (any one suffices):

- ``Synapse-Access-Token: Token <access_token>``
- ``Authorization: Token <user_token>`` with ``Synapse-Tenant: Token <tenant>`` (when the
  emulator was given a user token; the tenant is checked when it was given one too)
- ``SYNAPSE-Agent: Token <agent_token>`` (when the emulator was given an agent token)

Everything needs a token except the paths in :data:`PUBLIC_PATHS` (the health check).
Failures are 401 ``{"detail": "Authentication credentials were not provided."}`` when no
credential header came, else 401 ``{"detail": "Invalid token."}``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

import attrs
from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .errors import error_response

__all__ = ["PUBLIC_PATHS", "Credentials", "auth_middleware", "authenticate"]

PUBLIC_PATHS = frozenset({"/_emulator/health/"})
"""Paths answered without authentication."""

NOT_PROVIDED = "Authentication credentials were not provided."
INVALID = "Invalid token."
_CREDENTIAL_HEADERS = ("Synapse-Access-Token", "Authorization", "SYNAPSE-Agent")


@attrs.frozen(repr=False)
class Credentials:
    """The tokens the emulator accepts (``None``: that kind of credential is refused)."""

    access_token: str
    user_token: str | None = None
    tenant: str | None = None
    agent_token: str | None = None

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"


def _token(value: str | None) -> str | None:
    """The token of a ``Token <tok>`` header value (None when absent or malformed)."""
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "token" or not token.strip():
        return None
    return token.strip()


def _same(given: str | None, expected: str | None) -> bool:
    if given is None or expected is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def authenticate(creds: Credentials, headers: Mapping[str, str]) -> str | None:
    """None when ``headers`` (case-insensitive mapping) authenticate, else the 401 detail."""
    if not any(h in headers for h in _CREDENTIAL_HEADERS):
        return NOT_PROVIDED
    if _same(_token(headers.get("Synapse-Access-Token")), creds.access_token):
        return None
    if creds.agent_token is not None and _same(
        _token(headers.get("SYNAPSE-Agent")), creds.agent_token
    ):
        return None
    user_ok = creds.user_token is not None and _same(
        _token(headers.get("Authorization")), creds.user_token
    )
    tenant_ok = creds.tenant is None or _same(_token(headers.get("Synapse-Tenant")), creds.tenant)
    if user_ok and tenant_ok:
        return None
    return INVALID


def auth_middleware(creds: Credentials) -> Middleware:
    """The aiohttp middleware refusing unauthenticated requests with 401."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in PUBLIC_PATHS:
            problem = authenticate(creds, request.headers)
            if problem is not None:
                return error_response(
                    401, problem, headers={"WWW-Authenticate": 'Token realm="api"'}
                )
        return await handler(request)

    return middleware
