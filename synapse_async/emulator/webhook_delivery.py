"""Signed webhook delivery (DESIGN 5.6), retried with exponential backoff.

``WebhookDispatcher.emit(type, project_id, data)`` builds one event
``{"id": "evt_<hex>", "type", "created": <unix seconds>, "data"}``, encodes it once, and
queues a delivery to every active webhook subscribed to ``type`` for that project (or for
every project). Each delivery is a POST of the raw body with headers:

- ``X-Synapse-Signature``: hex HMAC-SHA256 of the body under the webhook's secret
- ``X-Synapse-Event``: the event type; ``X-Synapse-Delivery``: the delivery id

A 2xx answer ends the delivery (``succeeded``). Anything else (another status, a refused
connection, a timeout) is retried after ``retry_delay * 2**(attempt - 1)`` seconds, capped
at ``max_delay``, up to ``max_attempts`` POSTs in all (then ``failed``). Deliveries to one
webhook go one at a time, in emission order (a failing receiver delays later events to it,
never to other webhooks). Each attempt updates the delivery record
(``GET webhooks/{id}/deliveries/``). Deliveries still queued when the emulator stops stay
``pending``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import deque
from typing import Any

import aiohttp
import attrs

from synapse_async.webhooks import SIGNATURE_HEADER, sign

from .clock import now_iso
from .routes import webhooks
from .store import Doc, Store

__all__ = ["DeliverySettings", "WebhookDispatcher"]


@attrs.frozen
class DeliverySettings:
    """How deliveries are retried.

    Attributes:
        max_attempts: POSTs per delivery, the first included.
        retry_delay: seconds before the first retry (doubling after each failure).
        max_delay: the longest wait between attempts.
        request_timeout: seconds one POST may take.
    """

    max_attempts: int = 5
    retry_delay: float = 0.5
    max_delay: float = 30.0
    request_timeout: float = 10.0

    def delay(self, attempt: int) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_delay, self.retry_delay * 2 ** (attempt - 1)))


@attrs.frozen
class _Job:
    delivery: int
    webhook: int
    body: bytes
    event_id: str
    event_type: str


class WebhookDispatcher:
    """Queues and sends webhook deliveries; ``start()``/``close()`` bracket its lifetime."""

    def __init__(self, store: Store, settings: DeliverySettings | None = None) -> None:
        self._store = store
        self.settings = settings or DeliverySettings()
        self._session: aiohttp.ClientSession | None = None
        self._queues: dict[int, deque[_Job]] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._closed = False

    async def start(self) -> None:
        """Open the HTTP session deliveries use."""
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.request_timeout),
            headers={"User-Agent": "synapse-emulator-webhooks"},
        )

    async def close(self) -> None:
        """Stop delivering (queued deliveries stay ``pending``) and close the session."""
        self._closed = True
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        self._workers.clear()
        self._queues.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def busy(self) -> bool:
        """True while deliveries are queued or in flight."""
        return bool(self._workers)

    async def drain(self) -> None:
        """Wait until every queued delivery succeeded or failed (for tests)."""
        while self._workers:
            await asyncio.gather(*list(self._workers.values()), return_exceptions=True)

    def subscribers(self, event_type: str, project_id: int | None) -> list[Doc]:
        """The active webhooks that want ``event_type`` of ``project_id``."""
        hooks = self._store.list(webhooks.TABLE, limit=None, project=None)
        if project_id is not None:
            hooks += self._store.list(webhooks.TABLE, limit=None, project=project_id)
        return [h for h in hooks if h.get("active", True) and event_type in h["events"]]

    def emit(
        self,
        event_type: str,
        project_id: int | None,
        data: dict[str, Any],
        *,
        hooks: list[Doc] | None = None,
    ) -> int:
        """Queue one event to its subscribers; returns how many deliveries were queued.

        ``hooks``: the subscribers, when already looked up. Must run on the event loop.
        """
        if self._closed:
            return 0
        targets = self.subscribers(event_type, project_id) if hooks is None else hooks
        if not targets:
            return 0
        event_id = "evt_" + uuid.uuid4().hex
        body = json.dumps(
            {"id": event_id, "type": event_type, "created": int(time.time()), "data": data},
            separators=(",", ":"),
        ).encode()
        now = now_iso()
        records = self._store.insert_many(
            webhooks.DELIVERIES,
            [
                {
                    "webhook": h["id"],
                    "event_id": event_id,
                    "event_type": event_type,
                    "status": "pending",
                    "attempts": 0,
                    "response_status": None,
                    "last_error": None,
                    "created": now,
                    "modified": now,
                }
                for h in targets
            ],
        )
        for record in records:
            self._enqueue(_Job(record["id"], record["webhook"], body, event_id, event_type))
        return len(records)

    def _enqueue(self, job: _Job) -> None:
        queue = self._queues.setdefault(job.webhook, deque())
        queue.append(job)
        if job.webhook not in self._workers:
            self._workers[job.webhook] = asyncio.get_running_loop().create_task(
                self._drain_queue(job.webhook), name=f"webhook-{job.webhook}"
            )

    async def _drain_queue(self, webhook_id: int) -> None:
        queue = self._queues[webhook_id]
        try:
            while queue:
                await self._deliver(queue.popleft())
        finally:
            # No await between the loop's last check and here: emit() cannot slip a job in.
            self._workers.pop(webhook_id, None)
            if not queue:
                self._queues.pop(webhook_id, None)

    def _record(self, job: _Job, **changes: Any) -> None:
        self._store.update(webhooks.DELIVERIES, job.delivery, {**changes, "modified": now_iso()})

    async def _deliver(self, job: _Job) -> None:
        settings = self.settings
        for attempt in range(1, settings.max_attempts + 1):
            hook = self._store.get(webhooks.TABLE, job.webhook)
            if hook is None or not hook.get("active", True):
                self._record(job, status="failed", last_error="webhook deleted or inactive")
                return
            status, error = await self._post(hook, job)
            ok = status is not None and 200 <= status < 300
            final = ok or attempt == settings.max_attempts
            self._record(
                job,
                attempts=attempt,
                response_status=status,
                last_error=error,
                status="succeeded" if ok else ("failed" if final else "pending"),
            )
            if final:
                return
            await asyncio.sleep(settings.delay(attempt))

    async def _post(self, hook: Doc, job: _Job) -> tuple[int | None, str | None]:
        assert self._session is not None, "dispatcher not started"
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(job.body, hook["_secret"]),
            "X-Synapse-Event": job.event_type,
            "X-Synapse-Delivery": str(job.delivery),
        }
        try:
            async with self._session.post(hook["url"], data=job.body, headers=headers) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return status, None if 200 <= status < 300 else f"receiver answered {status}"
