"""The managed-annotation workflow (EXT, DESIGN 5.6): task import, deposit, start, status.

State rules (``projects.STATES``):

- ``draft`` -> ``pending_deposit`` once the project has tasks (``tasks/import/``, or an S3
  import). Tasks can be added while ``draft`` or ``pending_deposit`` (409 otherwise).
- ``deposit/pay/`` needs tasks and an unpaid deposit (409 otherwise); ``credits`` pays from
  the balance (402 when it is short), the external methods always succeed. Paying moves the
  project to ``active``: the simulator starts annotating (events ``deposit.paid``,
  ``project.started``).
- ``start/``: ``active`` stays ``active`` (no-op), ``paused`` resumes; 409 without tasks,
  without a paid deposit, or once ``review``/``completed``/``cancelled``.
- ``pause/``: ``active`` -> ``paused`` (``paused`` stays); 409 otherwise.
- The simulator moves ``active`` -> ``completed`` when no task is left pending; with
  ``quality_settings.enable_expert_review`` it goes ``active`` -> ``review`` first, and
  ``review`` -> ``completed`` one simulator step later.
- ``cancel/``: any state but ``completed``/``cancelled`` -> ``cancelled`` (reserved credits
  are released back to the balance).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..errors import ApiError, read_json
from ..keys import STORE
from ..simulator import PROGRESS, event_data, set_state
from ..store import Doc, Store
from ..workflow_runtime import WORKFLOW, install
from . import billing, projects, tasks
from .params import body_object, field_error, get_or_404, path_id

__all__ = ["MAX_IMPORT_TASKS", "UPLOADABLE", "conflict", "mark_has_tasks", "setup"]

MAX_IMPORT_TASKS = 1000
"""Most tasks one ``tasks/import/`` request may carry."""
UPLOADABLE = ("draft", "pending_deposit")
"""States in which tasks can be added."""


def conflict(detail: str) -> ApiError:
    """A 409 answer."""
    return ApiError(409, detail)


def _project(request: web.Request) -> Doc:
    return get_or_404(request.app[STORE], projects.TABLE, path_id(request))


def require_uploadable(project: Doc) -> None:
    """409 unless tasks can be added to ``project``."""
    if project["state"] not in UPLOADABLE:
        raise conflict(
            f"Project {project['id']} is {project['state']}: tasks can be added "
            f"only before its deposit is paid (draft or pending_deposit)."
        )


def mark_has_tasks(store: Store, project: Doc) -> Doc:
    """``draft`` -> ``pending_deposit`` when the project has tasks; returns the project."""
    if project["state"] == "draft" and store.count(tasks.TABLE, project=project["id"]):
        updated = store.update(
            projects.TABLE, project["id"], {"state": "pending_deposit", "modified": now_iso()}
        )
        assert updated is not None
        return updated
    return project


async def import_tasks(request: web.Request) -> web.Response:
    """``POST projects/{id}/tasks/import/`` ``{"tasks": [data, ...]}`` (1..1000) -> 201."""
    store = request.app[STORE]
    project = _project(request)
    body = body_object(await read_json(request))
    items = body.get("tasks")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_IMPORT_TASKS:
        raise field_error("tasks", f"Expected a list of 1 to {MAX_IMPORT_TASKS} task objects.")
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise field_error("tasks", f"item {n}: expected an object (the task's data).")
    require_uploadable(project)
    now = now_iso()
    created = store.insert_many(
        tasks.TABLE, [tasks.new_task(project["id"], data=item, now=now) for item in items]
    )
    project = mark_has_tasks(store, project)
    return web.json_response(
        {
            "project": project["id"],
            "task_count": len(created),
            "task_ids": [t["id"] for t in created],
            "total_tasks": store.count(tasks.TABLE, project=project["id"]),
            "state": project["state"],
        },
        status=201,
    )


async def get_deposit(request: web.Request) -> web.Response:
    """``GET projects/{id}/deposit/`` -> amount, currency, breakdown, ``paid``."""
    store = request.app[STORE]
    project = _project(request)
    quote = billing.deposit_quote(project, store.count(tasks.TABLE, project=project["id"]))
    quote["paid"] = billing.paid_amount(store, project["id"]) is not None
    return web.json_response(quote)


async def pay_deposit(request: web.Request) -> web.Response:
    """``POST projects/{id}/deposit/pay/`` ``{"payment_method"}`` -> 201 the payment."""
    store = request.app[STORE]
    workflow = request.app[WORKFLOW]
    project = _project(request)
    body = body_object(await read_json(request))
    method = body.get("payment_method", "credits")
    if method not in billing.PAYMENT_METHODS:
        raise field_error(
            "payment_method", f"Expected one of {', '.join(billing.PAYMENT_METHODS)}."
        )
    pid = project["id"]
    if billing.paid_amount(store, pid) is not None:
        raise conflict(f"The deposit of project {pid} is already paid.")
    if project["state"] not in UPLOADABLE:
        raise conflict(f"Project {pid} is {project['state']}: no deposit can be paid.")
    count = store.count(tasks.TABLE, project=pid)
    if count == 0:
        raise conflict(f"Project {pid} has no tasks: upload tasks before paying the deposit.")
    quote = billing.deposit_quote(project, count)
    amount = Decimal(quote["amount"])
    if method == "credits" and not billing.debit(store, amount):
        available, _reserved = billing.get_balance(store)
        raise ApiError(
            402,
            f"Insufficient credits: the deposit is {quote['amount']} {billing.CURRENCY}, "
            f"the available balance {billing.money(available)} {billing.CURRENCY}.",
            required=quote["amount"],
            available=billing.money(available),
        )
    payment = billing.record_payment(store, pid, amount, method)
    workflow.dispatcher.emit(
        "deposit.paid",
        pid,
        {
            "project_id": pid,
            "payment_id": payment["id"],
            "amount": payment["amount"],
            "currency": payment["currency"],
            "payment_method": method,
        },
    )
    set_state(store, workflow.dispatcher, project, "active")
    return web.json_response(payment, status=201)


async def start_project(request: web.Request) -> web.Response:
    """``POST projects/{id}/start/`` -> the project (``active``)."""
    store = request.app[STORE]
    project = _project(request)
    pid, state = project["id"], project["state"]
    if state == "active":
        return web.json_response(project)
    if state in UPLOADABLE:
        if store.count(tasks.TABLE, project=pid) == 0:
            raise conflict(f"Project {pid} has no tasks: upload tasks, then pay the deposit.")
        if billing.paid_amount(store, pid) is None:
            raise conflict(
                f"The deposit of project {pid} is not paid: GET deposit/, then POST deposit/pay/."
            )
    elif state != "paused":
        raise conflict(f"Project {pid} is {state} and cannot be started.")
    return web.json_response(set_state(store, request.app[WORKFLOW].dispatcher, project, "active"))


async def pause_project(request: web.Request) -> web.Response:
    """``POST projects/{id}/pause/`` -> the project (``paused``)."""
    project = _project(request)
    if project["state"] == "paused":
        return web.json_response(project)
    if project["state"] != "active":
        raise conflict(
            f"Project {project['id']} is {project['state']}: only an active project can be paused."
        )
    return web.json_response(
        set_state(request.app[STORE], request.app[WORKFLOW].dispatcher, project, "paused")
    )


async def cancel_project(request: web.Request) -> web.Response:
    """``POST projects/{id}/cancel/`` -> the project (``cancelled``).

    Any unfinished project can be cancelled; credits reserved by its deposit go back to the
    available balance (event ``project.cancelled``). 409 once completed or cancelled.
    """
    store = request.app[STORE]
    project = _project(request)
    if project["state"] in ("completed", "cancelled"):
        raise conflict(f"Project {project['id']} is {project['state']} and cannot be cancelled.")
    amount = billing.paid_amount(store, project["id"], "credits")
    if amount is not None:
        billing.refund(store, amount)
    return web.json_response(
        set_state(store, request.app[WORKFLOW].dispatcher, project, "cancelled")
    )


def project_status(request: web.Request, project: Doc) -> dict[str, Any]:
    """The status document of ``project``."""
    store = request.app[STORE]
    info = event_data(store, project)
    total, done = info["total_tasks"], info["completed_tasks"]
    found = store.list(PROGRESS, limit=1, project=project["id"])
    progress: dict[str, Any] = (
        found[0]
        if found
        else {"agreement_sum": 0.0, "honeypots": 0, "honeypots_passed": 0, "completed_at": None}
    )
    rated = progress["honeypots"]
    metrics = {
        "average_agreement": round(progress["agreement_sum"] / rated, 4) if rated else 0.0,
        "honeypot_accuracy": round(progress["honeypots_passed"] / rated, 4) if rated else 0.0,
    }
    speed = request.app[WORKFLOW].simulator.speed
    estimate: str | None = None
    if project["state"] == "completed":
        estimate = progress["completed_at"]
    elif project["state"] in ("active", "review") and speed > 0:
        eta = datetime.now(timezone.utc) + timedelta(seconds=(total - done) / speed)
        estimate = eta.isoformat().replace("+00:00", "Z")
    return {
        "project": project["id"],
        "state": project["state"],
        "progress": round(100.0 * done / total, 2) if total else 0.0,
        "total_tasks": total,
        "completed_tasks": done,
        "quality_metrics": metrics,
        "estimated_completion": estimate,
        "is_complete": project["state"] == "completed",
    }


async def get_status(request: web.Request) -> web.Response:
    """``GET projects/{id}/status/``."""
    return web.json_response(project_status(request, _project(request)))


def setup(app: web.Application, store: Store) -> None:
    """Register the routes of this module and install the workflow runtime."""
    install(app, store)
    r = app.router
    r.add_post("/projects/{id}/tasks/import/", import_tasks)
    r.add_get("/projects/{id}/deposit/", get_deposit)
    r.add_post("/projects/{id}/deposit/pay/", pay_deposit)
    r.add_post("/projects/{id}/start/", start_project)
    r.add_post("/projects/{id}/pause/", pause_project)
    r.add_post("/projects/{id}/cancel/", cancel_project)
    r.add_get("/projects/{id}/status/", get_status)
