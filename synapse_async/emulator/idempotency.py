"""``Idempotency-Key`` (EXT): a retried POST never creates twice.

A POST carrying ``Idempotency-Key`` whose key was already answered with a 2xx for the same path
within 24 hours gets that stored status and body replayed (with ``Idempotent-Replayed: true``)
without running the handler. Only 2xx answers are stored, so a failed attempt can be retried.
A second request with a key still being handled waits for the first and then replays it.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .faults import CONTROL_PREFIX
from .store import Store

__all__ = ["IDEMPOTENCY_HEADER", "TTL_SECONDS", "IdempotencyCache", "idempotency_middleware"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
TTL_SECONDS = 24 * 3600.0
_PURGE_EVERY = 1000  # stores between purges of expired rows


class IdempotencyCache:
    """Stored 2xx answers keyed by (key, path), in the ``idempotency`` table of ``store``."""

    def __init__(self, store: Store, ttl: float = TTL_SECONDS) -> None:
        self._store = store
        self._ttl = ttl
        self._stores = 0
        self.inflight: dict[tuple[str, str], asyncio.Event] = {}
        store.execute(
            "CREATE TABLE IF NOT EXISTS idempotency(key TEXT NOT NULL, path TEXT NOT NULL,"
            " status INTEGER NOT NULL, body BLOB NOT NULL, content_type TEXT,"
            " created REAL NOT NULL, PRIMARY KEY (key, path))"
        )
        # The keys stored, kept in memory too: almost every key is new, and a set lookup
        # spares those a query (bulk uploads send thousands of keyed POSTs a second).
        self._known: set[str] = {
            str(row[0])
            for row in store.execute(
                "SELECT key FROM idempotency WHERE created >= ?", (time.time() - ttl,)
            )
        }

    def lookup(self, key: str, path: str) -> web.Response | None:
        """The stored answer as a fresh response, or None (also when expired)."""
        if key not in self._known:
            return None
        rows = self._store.execute(
            "SELECT status, body, content_type FROM idempotency"
            " WHERE key = ? AND path = ? AND created >= ?",
            (key, path, time.time() - self._ttl),
        )
        if not rows:
            return None
        status, body, content_type = rows[0]
        response = web.Response(status=int(status), body=bytes(body))
        response.content_type = content_type or "application/json"
        response.headers[REPLAYED_HEADER] = "true"
        return response

    def save(self, key: str, path: str, response: web.Response) -> None:
        """Remember a 2xx ``response`` (with a bytes body) for (key, path)."""
        body = response.body
        if not 200 <= response.status < 300 or not isinstance(body, (bytes, bytearray)):
            return
        self._store.execute(
            "INSERT OR REPLACE INTO idempotency(key, path, status, body, content_type, created)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (key, path, response.status, bytes(body), response.content_type, time.time()),
        )
        self._known.add(key)
        self._stores += 1
        if self._stores % _PURGE_EVERY == 0:
            cutoff = time.time() - self._ttl
            self._store.execute("DELETE FROM idempotency WHERE created < ?", (cutoff,))
            self._known = {
                str(row[0])
                for row in self._store.execute(
                    "SELECT key FROM idempotency WHERE created >= ?", (cutoff,)
                )
            }


def idempotency_middleware(cache: IdempotencyCache) -> Middleware:
    """The aiohttp middleware replaying answers to repeated ``Idempotency-Key`` POSTs."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if request.method != "POST" or not key or request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        slot = (key, request.path)
        while True:
            stored = cache.lookup(*slot)
            if stored is not None:
                return stored
            running = cache.inflight.get(slot)
            if running is None:
                break
            await running.wait()
        done = asyncio.Event()
        cache.inflight[slot] = done
        try:
            response = await handler(request)
            if isinstance(response, web.Response):
                cache.save(key, request.path, response)
            return response
        finally:
            del cache.inflight[slot]
            done.set()

    return middleware
