"""``billing/balance/`` (EXT): the account's credits, and the deposit price list.

Pricing (USD): ``annotation_cost = tasks x PRICE_PER_TASK[tier] x min_annotators``;
``quality_assurance`` is 15% of it (25% with ``enable_expert_review``); ``platform_fee`` is
10%; each rounded to cents, half up; the deposit ``amount`` is their sum.

Paid deposits are ``payments`` records (``{"project", "amount", "currency",
"payment_method", "status", "created"}``).

The balance is one record: ``available`` pays deposits; paying moves the amount to
``reserved``; it leaves ``reserved`` when the project completes (spent). It starts at
:data:`DEFAULT_CREDITS`; ``PUT _emulator/billing/balance/`` ``{"available": "10.00"}`` (or
``emu.seed.balance("10.00")``) sets it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..errors import bad_request, read_json
from ..keys import STORE
from ..store import Doc, Store
from .params import body_object

__all__ = [
    "CURRENCY",
    "DEFAULT_CREDITS",
    "DEFAULT_TIER",
    "PRICE_PER_TASK",
    "debit",
    "deposit_quote",
    "get_balance",
    "money",
    "paid_amount",
    "record_payment",
    "refund",
    "register_tables",
    "set_balance",
    "settle",
    "setup",
]

TABLE = "billing"
PAYMENTS = "payments"
EXTERNAL_METHODS = ("card", "invoice", "razorpay", "stripe")
"""Payment methods the emulator treats as an external charge that always succeeds."""
PAYMENT_METHODS = ("credits", *EXTERNAL_METHODS)
CURRENCY = "USD"
DEFAULT_CREDITS = Decimal("1000.00")
DEFAULT_TIER = "standard"
PRICE_PER_TASK: dict[str, Decimal] = {
    "basic": Decimal("0.05"),
    "standard": Decimal("0.10"),
    "premium": Decimal("0.25"),
}
"""Annotation price of one task for one annotator, per pricing tier."""

_CENT = Decimal("0.01")
_BALANCE_ID = 1


def money(value: Decimal) -> str:
    """An amount as the wire sends it: a decimal string with two places (``"12.50"``)."""
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(TABLE)
    store.register_table(PAYMENTS, indexed=("project",))


def _doc(store: Store) -> Doc:
    doc = store.get(TABLE, _BALANCE_ID)
    if doc is None:
        doc = store.insert(
            TABLE, {"available": money(DEFAULT_CREDITS), "reserved": "0.00", "currency": CURRENCY}
        )
    return doc


def get_balance(store: Store) -> tuple[Decimal, Decimal]:
    """``(available, reserved)``."""
    doc = _doc(store)
    return Decimal(doc["available"]), Decimal(doc["reserved"])


def set_balance(store: Store, available: object) -> Doc:
    """Set the available credits (``reserved`` is kept); returns the balance doc."""
    try:
        amount = Decimal(str(available))
    except InvalidOperation:
        raise ValueError(f"not an amount: {available!r}") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"the balance must be a non-negative amount, got {available!r}")
    _doc(store)
    doc = store.update(TABLE, _BALANCE_ID, {"available": money(amount)})
    assert doc is not None
    return doc


def debit(store: Store, amount: Decimal) -> bool:
    """Move ``amount`` from available to reserved; False (nothing changed) when short."""
    available, reserved = get_balance(store)
    if available < amount:
        return False
    store.update(
        TABLE,
        _BALANCE_ID,
        {"available": money(available - amount), "reserved": money(reserved + amount)},
    )
    return True


def settle(store: Store, amount: Decimal) -> None:
    """Release ``amount`` from reserved (spent on a completed project)."""
    _available, reserved = get_balance(store)
    store.update(TABLE, _BALANCE_ID, {"reserved": money(max(reserved - amount, Decimal(0)))})


def refund(store: Store, amount: Decimal) -> None:
    """Move ``amount`` from reserved back to available (a cancelled project's deposit)."""
    available, reserved = get_balance(store)
    back = min(reserved, amount)
    store.update(
        TABLE,
        _BALANCE_ID,
        {"available": money(available + back), "reserved": money(reserved - back)},
    )


def record_payment(store: Store, project_id: int, amount: Decimal, method: str) -> Doc:
    """Store a succeeded payment of a project's deposit; returns it."""
    return store.insert(
        PAYMENTS,
        {
            "project": project_id,
            "amount": money(amount),
            "currency": CURRENCY,
            "payment_method": method,
            "status": "succeeded",
            "created": now_iso(),
        },
    )


def paid_amount(store: Store, project_id: int, method: str | None = None) -> Decimal | None:
    """The sum of the project's deposit payments (by ``method``, else all), or None."""
    docs = [
        d
        for d in store.list(PAYMENTS, limit=None, project=project_id)
        if method is None or d["payment_method"] == method
    ]
    return sum((Decimal(d["amount"]) for d in docs), Decimal(0)) if docs else None


def deposit_quote(project: Doc, task_count: int) -> dict[str, Any]:
    """The deposit of ``project`` with ``task_count`` tasks (wire form, amounts as strings)."""
    tier = project.get("pricing_tier") or DEFAULT_TIER
    price = PRICE_PER_TASK.get(tier, PRICE_PER_TASK[DEFAULT_TIER])
    quality = project.get("quality_settings") or {}
    annotators = quality.get("min_annotators", 1)
    if not isinstance(annotators, int) or isinstance(annotators, bool) or annotators < 1:
        annotators = 1
    annotation = (price * task_count * annotators).quantize(_CENT, rounding=ROUND_HALF_UP)
    qa_rate = Decimal("0.25") if quality.get("enable_expert_review") else Decimal("0.15")
    qa = (annotation * qa_rate).quantize(_CENT, rounding=ROUND_HALF_UP)
    fee = (annotation * Decimal("0.10")).quantize(_CENT, rounding=ROUND_HALF_UP)
    return {
        "project": project["id"],
        "amount": money(annotation + qa + fee),
        "currency": CURRENCY,
        "task_count": task_count,
        "pricing_tier": tier,
        "price_per_task": money(price),
        "breakdown": {
            "annotation_cost": money(annotation),
            "quality_assurance": money(qa),
            "platform_fee": money(fee),
        },
    }


async def get_balance_view(request: web.Request) -> web.Response:
    """``GET billing/balance/`` -> ``{"available", "reserved", "currency"}``."""
    doc = _doc(request.app[STORE])
    return web.json_response({k: doc[k] for k in ("available", "reserved", "currency")})


async def put_balance_view(request: web.Request) -> web.Response:
    """``PUT _emulator/billing/balance/`` ``{"available": "10.00"}``: set the credits."""
    data = body_object(await read_json(request))
    try:
        doc = set_balance(request.app[STORE], data.get("available"))
    except ValueError as exc:
        raise bad_request({"available": [str(exc)]}) from None
    return web.json_response({k: doc[k] for k in ("available", "reserved", "currency")})


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    app.router.add_get("/billing/balance/", get_balance_view)
    app.router.add_put("/_emulator/billing/balance/", put_balance_view)
