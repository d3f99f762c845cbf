"""``synapse_async.webhooks``: signing and verification, without a network."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from synapse_async import InvalidInputError, WebhookVerificationError
from synapse_async.webhooks import ReplayGuard, sign, verify_signature

SECRET = "whsec_test_secret_123"
NOW = 1_700_000_000.0


def event(**changes: object) -> bytes:
    body = {
        "id": "evt_1",
        "type": "project.completed",
        "created": int(NOW),
        "data": {"project_id": 7},
    }
    body.update(changes)
    return json.dumps(body).encode()


def test_sign_is_hex_hmac_sha256_of_the_raw_body() -> None:
    body = event()
    assert sign(body, SECRET) == hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(body.decode(), SECRET.encode()) == sign(body, SECRET)


def test_verify_returns_the_event() -> None:
    body = event()
    got = verify_signature(body, sign(body, SECRET), SECRET, now=NOW + 10)
    assert got == json.loads(body)
    # header values are case-insensitive hex and may carry whitespace
    assert verify_signature(body, f" {sign(body, SECRET).upper()} ", SECRET, now=NOW)


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda b, s: (b.replace(b"7", b"8"), s), "bad_signature"),
        (lambda b, s: (b, sign(b, "another-secret")), "bad_signature"),
        (lambda b, s: (b, None), "missing_signature"),
        (lambda b, s: (b, ""), "missing_signature"),
        (lambda b, s: (b, "zz\u00e9"), "bad_signature"),
        (lambda b, s: (b"[1, 2]", sign(b"[1, 2]", SECRET)), "malformed_payload"),
        (lambda b, s: (b"not json", sign(b"not json", SECRET)), "malformed_payload"),
    ],
)
def test_verify_rejects(mutate: object, reason: str) -> None:
    body = event()
    payload, signature = mutate(body, sign(body, SECRET))  # type: ignore[operator]
    with pytest.raises(WebhookVerificationError) as exc:
        verify_signature(payload, signature, SECRET, now=NOW)
    assert exc.value.reason == reason
    assert SECRET not in str(exc.value)


def test_verify_rejects_stale_and_future_events() -> None:
    body = event()
    sig = sign(body, SECRET)
    with pytest.raises(WebhookVerificationError, match="300s tolerance") as exc:
        verify_signature(body, sig, SECRET, now=NOW + 301)
    assert exc.value.reason == "stale"
    assert verify_signature(body, sig, SECRET, now=NOW + 599, tolerance=600)
    with pytest.raises(WebhookVerificationError) as exc:
        verify_signature(body, sig, SECRET, now=NOW - 1000)
    assert exc.value.reason == "future"
    for bad_created in ("yesterday", True, None):
        bad = event(created=bad_created)
        with pytest.raises(WebhookVerificationError, match="not an event"):
            verify_signature(bad, sign(bad, SECRET), SECRET, now=NOW)


def test_replay_guard_rejects_a_second_delivery_of_an_event() -> None:
    guard = ReplayGuard()
    body = event()
    sig = sign(body, SECRET)
    verify_signature(body, sig, SECRET, now=NOW, seen=guard)
    with pytest.raises(WebhookVerificationError, match="already received") as exc:
        verify_signature(body, sig, SECRET, now=NOW + 1, seen=guard)
    assert exc.value.reason == "replayed"
    other = event(id="evt_2")
    verify_signature(other, sign(other, SECRET), SECRET, now=NOW, seen=guard)
    # a rejected delivery is not recorded: a forged copy cannot block the real event
    forged = event(id="evt_3")
    with pytest.raises(WebhookVerificationError):
        verify_signature(forged, "00" * 32, SECRET, now=NOW, seen=guard)
    assert verify_signature(forged, sign(forged, SECRET), SECRET, now=NOW, seen=guard)


def test_replay_guard_is_bounded() -> None:
    guard = ReplayGuard(max_size=3, ttl=60)
    for i in range(5):
        assert guard.check_and_add(f"e{i}", now=NOW)
    assert len(guard) == 3 and not guard.check_and_add("e4", now=NOW)
    assert guard.check_and_add("e0", now=NOW)  # evicted by size
    assert guard.check_and_add("e4", now=NOW + 61)  # expired by ttl
    assert len(guard) == 1 and "held=1" in repr(guard)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": ""},
        {"secret": 5},
        {"tolerance": 0},
        {"tolerance": float("inf")},
        {"payload": 12},
    ],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"payload": event(), "signature": "ab", "secret": SECRET}
    args.update(kwargs)
    with pytest.raises(InvalidInputError):
        verify_signature(  # deliberately wrong types: the function must reject them
            args.pop("payload"),  # type: ignore[arg-type]
            args.pop("signature"),  # type: ignore[arg-type]
            args.pop("secret"),  # type: ignore[arg-type]
            **args,  # type: ignore[arg-type]
        )
    with pytest.raises(InvalidInputError):
        ReplayGuard(max_size=0)
    with pytest.raises(InvalidInputError):
        ReplayGuard(ttl=-1)


def test_replay_guard_keeps_ids_for_the_whole_tolerance_window() -> None:
    guard = ReplayGuard()  # ttl 600 s by default
    body = event(created=NOW)
    sig = sign(body, SECRET)
    verify_signature(body, sig, SECRET, tolerance=3600, now=NOW, seen=guard)
    with pytest.raises(WebhookVerificationError) as info:  # 700 s later: still in the window
        verify_signature(body, sig, SECRET, tolerance=3600, now=NOW + 700, seen=guard)
    assert info.value.reason == "replayed"
    with pytest.raises(WebhookVerificationError) as info:
        verify_signature(body, sig, SECRET, tolerance=3600, now=NOW + 3599, seen=guard)
    assert info.value.reason == "replayed"


def test_replay_guard_forgets_after_its_hold() -> None:
    guard = ReplayGuard(ttl=10)
    assert guard.check_and_add("e1", now=0) and not guard.check_and_add("e1", now=9)
    assert guard.check_and_add("e1", now=11)  # forgotten after 10 s, then held again
    assert not guard.check_and_add("e1", now=20)
    assert guard.check_and_add("e2", now=0, keep_for=100) and not guard.check_and_add("e2", now=99)
