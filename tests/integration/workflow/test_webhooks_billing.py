"""Webhooks CRUD, signed delivery to a real receiver, retries; billing balance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from synapse_async import (
    AsyncClient,
    InvalidInputError,
    NotFoundError,
    ValidationError,
    Webhook,
    WebhookVerificationError,
)
from synapse_async.emulator import Emulator
from synapse_async.webhooks import SIGNATURE_HEADER, ReplayGuard, verify_signature

pytestmark = pytest.mark.anyio

SECRET = "whsec_receiver_secret"


class Receiver:
    """An aiohttp webhook receiver verifying every delivery with the SDK helper."""

    def __init__(self, secret: str = SECRET, *, fail_first: int = 0, status: int = 200) -> None:
        self.secret = secret
        self.guard = ReplayGuard()
        self.events: list[dict[str, Any]] = []
        self.raw: list[tuple[bytes, str]] = []
        self.rejected: list[str] = []
        self.failures_left = fail_first
        self.status = status
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if self.failures_left > 0 or self.status != 200:
            self.failures_left -= 1
            return web.json_response(
                {"error": "busy"}, status=self.status if self.status != 200 else 503
            )
        try:
            event = verify_signature(body, signature, self.secret, seen=self.guard)
        except WebhookVerificationError as exc:
            self.rejected.append(exc.reason)
            return web.json_response({"error": exc.reason}, status=400)
        assert request.headers["X-Synapse-Event"] == event["type"]
        self.raw.append((body, signature))
        self.events.append(event)
        return web.json_response({"received": True})


async def serve(receiver: Receiver) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hooks/synapse", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks/synapse"
    return runner


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    runner = await serve(rec)
    yield rec
    await runner.cleanup()


async def test_signed_events_of_a_project_run_reach_the_receiver(
    fast_emu: Emulator, fast_client: AsyncClient, receiver: Receiver
) -> None:
    project = await fast_client.projects.create(
        "Job 42",
        annotation_type="classification",
        labels=["positive", "negative"],
        metadata={"job_id": "42"},
    )
    await project.upload_tasks([{"image_url": f"u{i}"} for i in range(20)])
    hook = await fast_client.webhooks.create(
        url=receiver.url,
        events=["project.completed", "task.completed", "project.started", "deposit.paid"],
        project_id=project.id,
        secret=SECRET,
    )
    assert isinstance(hook, Webhook) and hook.secret is None  # ours: not echoed
    await project.pay_deposit(payment_method="credits")
    await project.wait_for_completion(poll_interval=0.02, max_wait=30)
    await fast_emu.workflow.settle()
    types = [e["type"] for e in receiver.events]
    assert types == ["deposit.paid", "project.started"] + ["task.completed"] * 20 + [
        "project.completed"
    ]
    assert receiver.rejected == []
    tasks = [e["data"] for e in receiver.events if e["type"] == "task.completed"]
    assert [t["completed_count"] for t in tasks] == list(range(1, 21))
    assert {t["total_count"] for t in tasks} == {20}
    assert {t["project_id"] for t in tasks} == {project.id}
    done = receiver.events[-1]["data"]
    assert done["metadata"] == {"job_id": "42"} and done["completed_tasks"] == 20
    assert len({e["id"] for e in receiver.events}) == 23

    # A tampered body and a replayed delivery are rejected by the receiver.
    body, signature = receiver.raw[-1]
    tampered = body.replace(b'"completed"', b'"cancelled"')
    async with aiohttp.ClientSession() as http:
        for payload in (tampered, body):
            async with http.post(
                receiver.url, data=payload, headers={SIGNATURE_HEADER: signature}
            ) as resp:
                assert resp.status == 400
    assert receiver.rejected == ["bad_signature", "replayed"]
    deliveries = [d async for d in fast_client.webhooks.deliveries(hook.id)]
    assert len(deliveries) == 23
    assert {(d.status, d.attempts, d.response_status) for d in deliveries} == {
        ("succeeded", 1, 200)
    }


async def test_failed_deliveries_are_retried_with_backoff(
    manual_emu: Emulator, manual_client: AsyncClient
) -> None:
    flaky, broken = Receiver(fail_first=2), Receiver(status=500)
    runners = [await serve(flaky), await serve(broken)]
    try:
        project = await manual_client.projects.create("p")
        await project.upload_tasks([{"n": 1}])
        good = await manual_client.webhooks.create(flaky.url, ["project.started"], secret=SECRET)
        bad = await manual_client.webhooks.create(
            broken.url, ["project.started"], project_id=project.id, secret=SECRET
        )
        gone = await manual_client.webhooks.create(
            "http://127.0.0.1:9/none", ["project.started"], secret=SECRET
        )
        await project.pay_deposit()
        await manual_emu.workflow.settle()
    finally:
        for runner in runners:
            await runner.cleanup()
    [ok] = [d async for d in manual_client.webhooks.deliveries(good.id)]
    assert (ok.status, ok.attempts, ok.response_status, ok.last_error) == (
        "succeeded",
        3,
        200,
        None,
    )
    assert [e["type"] for e in flaky.events] == ["project.started"]
    [failed] = [d async for d in manual_client.webhooks.deliveries(bad.id)]
    assert (failed.status, failed.attempts, failed.response_status) == ("failed", 3, 500)
    assert failed.last_error == "receiver answered 500"
    [refused] = [d async for d in manual_client.webhooks.deliveries(gone.id)]
    assert (refused.status, refused.attempts, refused.response_status) == ("failed", 3, None)
    assert refused.last_error
    assert ok.event_id == failed.event_id == refused.event_id  # one event, three deliveries


async def test_webhook_crud(manual_client: AsyncClient) -> None:
    project = await manual_client.projects.create("p")
    generated = await manual_client.webhooks.create("https://example.com/h", ["task.completed"])
    assert generated.secret and generated.secret.startswith("whsec_")
    assert "secret" not in repr(generated)
    mine = await manual_client.webhooks.create(
        "https://example.com/p", ["project.completed"], project_id=project.id, secret=SECRET
    )
    assert (mine.url, mine.events, mine.project, mine.active) == (
        "https://example.com/p",
        ["project.completed"],
        project.id,
        True,
    )
    fetched = await manual_client.webhooks.get(generated.id)
    assert fetched.secret is None and fetched.id == generated.id
    assert [w.id async for w in manual_client.webhooks.list()] == [generated.id, mine.id]
    assert [w.id async for w in manual_client.webhooks.list(project_id=project.id)] == [mine.id]
    assert [w.secret async for w in manual_client.webhooks.list()] == [None, None]
    assert [d async for d in manual_client.webhooks.deliveries(mine.id)] == []
    await manual_client.webhooks.delete(generated.id)
    with pytest.raises(NotFoundError):
        await manual_client.webhooks.get(generated.id)
    with pytest.raises(NotFoundError):
        await manual_client.webhooks.delete(generated.id)
    with pytest.raises(NotFoundError):
        [d async for d in manual_client.webhooks.deliveries(generated.id)]


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("ftp://x/h", ["task.completed"]), "url"),
        (("/relative", ["task.completed"]), "url"),
        (("https://x/h", []), "events"),
        (("https://x/h", "task.completed"), "events"),
        (("https://x/h", [""]), "event type"),
        (("https://x/h", ["task.completed"], 0), "project_id"),
        (("https://x/h", ["task.completed"], None, "short"), "secret"),
    ],
)
async def test_webhook_bad_input(
    manual_client: AsyncClient, args: tuple[Any, ...], match: str
) -> None:
    with pytest.raises(InvalidInputError, match=match):
        await manual_client.webhooks.create(*args)


async def test_webhook_server_validation(manual_client: AsyncClient) -> None:
    with pytest.raises(ValidationError, match=r"Unknown event type 'task\.exploded'"):
        await manual_client.webhooks.create("https://x/h", ["task.exploded"])
    with pytest.raises(ValidationError, match="project"):
        await manual_client.webhooks.create("https://x/h", ["task.completed"], project_id=999)
    with pytest.raises(InvalidInputError):
        await manual_client.webhooks.get(-1)


async def test_billing_balance(manual_emu: Emulator, manual_client: AsyncClient) -> None:
    balance = await manual_client.billing.get_balance()
    assert (balance.available, balance.reserved, balance.currency) == (
        Decimal("1000.00"),
        Decimal("0.00"),
        "USD",
    )
    headers = {"Synapse-Access-Token": f"Token {manual_emu.access_token}"}
    async with aiohttp.ClientSession(manual_emu.url, headers=headers) as http:
        async with http.put("_emulator/billing/balance/", json={"available": "12.345"}) as r:
            assert r.status == 200 and (await r.json())["available"] == "12.35"
        for bad in ({"available": "-1"}, {"available": "lots"}, {}):
            async with http.put("_emulator/billing/balance/", json=bad) as r:
                assert r.status == 400
        async with http.post("_emulator/seed/", json={"kind": "balance", "available": "7"}) as r:
            assert r.status == 201
    assert (await manual_client.billing.get_balance()).available == Decimal("7.00")
