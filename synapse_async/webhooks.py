"""Signing and verifying webhook deliveries (DESIGN 5.6).

Each delivery is a POST whose body is the JSON event ``{"id", "type", "created", "data"}``
(``created`` in unix seconds) and whose ``X-Synapse-Signature`` header is the hex
HMAC-SHA256 of the raw body under the webhook's secret. A receiver::

    from synapse_async.webhooks import ReplayGuard, verify_signature

    guard = ReplayGuard()                      # one per process, shared by every request

    def handle(body: bytes, headers) -> None:
        event = verify_signature(body, headers.get("X-Synapse-Signature"), SECRET,
                                 seen=guard)   # raises WebhookVerificationError
        ...

Verify the raw bytes as received, before any JSON parsing or re-encoding.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import threading
import time
from collections import OrderedDict
from typing import Any

from synapse_async._validation import is_int, is_number
from synapse_async.errors import InvalidInputError, WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNATURE_HEADER",
    "ReplayGuard",
    "sign",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Synapse-Signature"
"""The header carrying the signature."""

DEFAULT_TOLERANCE = 300.0
"""Seconds an event's ``created`` may lie in the past (or future: clock skew)."""


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes) or not secret:
        raise InvalidInputError("the webhook secret must be a non-empty str or bytes")
    return secret


def _body(payload: bytes | str) -> bytes:
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    raise InvalidInputError(
        f"payload must be the raw request body (bytes), got {type(payload).__name__}"
    )


def sign(payload: bytes | str, secret: str | bytes) -> str:
    """The signature of ``payload``: hex HMAC-SHA256 under ``secret`` (str is UTF-8 encoded)."""
    return hmac.new(_key(secret), _body(payload), hashlib.sha256).hexdigest()


class ReplayGuard:
    """Remembers accepted event ids, so a replayed delivery is rejected.

    Bounded: an id is kept for ``ttl`` seconds, and by ``verify_signature`` for at least twice
    its ``tolerance`` (events older than the tolerance are rejected as stale anyway, so a
    replay can never outlive its id), and at most ``max_size`` ids are kept (the oldest go
    first). Thread-safe, so one
    guard can serve a threaded web server.

    Args:
        max_size: most ids remembered.
        ttl: seconds an id is remembered.
    """

    def __init__(self, max_size: int = 100_000, ttl: float = 2 * DEFAULT_TOLERANCE) -> None:
        if not is_int(max_size) or max_size < 1:
            raise InvalidInputError(f"max_size must be a positive integer, got {max_size!r}")
        if not _positive(ttl):
            raise InvalidInputError(f"ttl must be a positive number of seconds, got {ttl!r}")
        self.max_size = max_size
        self.ttl = float(ttl)
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def __repr__(self) -> str:
        return f"ReplayGuard(max_size={self.max_size}, ttl={self.ttl}, held={len(self)})"

    def check_and_add(
        self, event_id: str, now: float | None = None, keep_for: float | None = None
    ) -> bool:
        """Record ``event_id``; False when it was already recorded (a replay).

        The id is kept for ``ttl`` seconds, or ``keep_for`` when that is longer (what
        ``verify_signature`` asks for: its tolerance window on either side of ``created``,
        however long it is), unless ``max_size`` forces the oldest out first.
        """
        now = time.time() if now is None else now
        hold = (
            self.ttl
            if keep_for is None or not _positive(keep_for)
            else max(self.ttl, float(keep_for))
        )
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now:
                self._seen.popitem(last=False)
            expiry = self._seen.get(event_id)
            if expiry is not None and expiry >= now:
                return False
            self._seen.pop(event_id, None)  # an expired entry: re-added at the end
            self._seen[event_id] = now + hold
            while len(self._seen) > self.max_size:
                self._seen.popitem(last=False)
            return True


def _positive(value: Any) -> bool:
    return is_number(value) and math.isfinite(value) and value > 0


def verify_signature(
    payload: bytes | str,
    signature: str | None,
    secret: str | bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
    seen: ReplayGuard | None = None,
) -> dict[str, Any]:
    """Verify one delivery and return its event (``id``, ``type``, ``created``, ``data``).

    Checks, in order: the signature (constant time, ``hmac.compare_digest``) over the raw
    body; the body is a JSON event; ``created`` is within ``tolerance`` seconds of ``now``;
    and, when ``seen`` is given, the event id was not accepted before (it is recorded only
    when every check passed). Without ``seen`` replays inside the tolerance window are not
    detected: pass one ``ReplayGuard`` shared by all requests.

    Args:
        payload: the raw request body.
        signature: the ``X-Synapse-Signature`` header (hex), or None when it was missing.
        secret: the webhook's secret.
        tolerance: seconds ``created`` may differ from ``now``.
        now: the current unix time (default: ``time.time()``).
        seen: the replay guard.

    Raises:
        WebhookVerificationError: with ``reason`` saying which check failed.
        InvalidInputError: bad arguments (empty secret, non-positive tolerance).
    """
    key = _key(secret)
    body = _body(payload)
    if not _positive(tolerance):
        raise InvalidInputError(
            f"tolerance must be a positive number of seconds, got {tolerance!r}"
        )
    if not signature or not isinstance(signature, str):
        raise WebhookVerificationError(
            f"the {SIGNATURE_HEADER} header is missing", reason="missing_signature"
        )
    expected = hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")
    given = signature.strip().lower().encode("utf-8", "replace")
    if not hmac.compare_digest(expected, given):
        raise WebhookVerificationError(
            "the signature does not match the body (wrong secret, or the body was altered)",
            reason="bad_signature",
        )
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not (
        isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("type"), str)
        and "data" in event
        and _timestamp(event.get("created")) is not None
    ):
        raise WebhookVerificationError(
            "the body is not an event object with id, type, created and data",
            reason="malformed_payload",
        )
    created = _timestamp(event["created"])
    assert created is not None
    current = time.time() if now is None else now
    if current - created > tolerance:
        raise WebhookVerificationError(
            f"event {event['id']} was created {current - created:.0f}s ago, more than the "
            f"{tolerance:g}s tolerance (a delayed or replayed delivery)",
            reason="stale",
        )
    if created - current > tolerance:
        raise WebhookVerificationError(
            f"event {event['id']} is dated {created - current:.0f}s in the future, more than "
            f"the {tolerance:g}s tolerance (check the clock)",
            reason="future",
        )
    if seen is not None and not seen.check_and_add(event["id"], current, keep_for=2 * tolerance):
        raise WebhookVerificationError(
            f"event {event['id']} was already received (a replay)", reason="replayed"
        )
    return event


def _timestamp(value: Any) -> float | None:
    if not is_number(value):
        return None
    return float(value) if math.isfinite(value) else None
