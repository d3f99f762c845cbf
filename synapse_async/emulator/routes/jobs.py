"""``jobs/`` (get, list, PATCH, ``console_logs/``, ``tail_console_logs/`` SSE) and ``logs/``.

A job's console log is the ``logs/`` entries attached to it. Jobs made by plugin runs (and
seeded ones with a ``step_seconds``) carry a schedule: log lines due at offsets from the job's
start, then a final status. Jobs advance lazily: a request that reads a job first writes the
lines that are due and moves its status on, so no background task exists and a restarted
emulator picks up where the clock is. ``PATCH``-ing a job to a final status ends its schedule.

The tail stream sends each line as an SSE event (``data: <line>``, a line with newlines as
several ``data:`` lines), starting with the lines written so far, a ``: keepalive`` comment
when quiet, and ends with ``event: end`` / ``data: <final status>`` once the job is finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..errors import bad_request, read_json
from ..keys import STORE
from ..pagination import paginate
from ..store import Doc, Store
from .params import body_object, field_error, get_or_404, path_id, query_filters

__all__ = [
    "FINISHED",
    "JOBS",
    "LOGS",
    "STATUSES",
    "advance",
    "new_job",
    "public",
    "register_tables",
    "seed_job",
    "setup",
]

JOBS = "jobs"
LOGS = "logs"
STATUSES = ("pending", "running", "completed", "failed", "stopped")
FINISHED = frozenset({"completed", "failed", "stopped"})
LEVELS = ("debug", "info", "warning", "error", "critical")
MAX_LOGS_PER_REQUEST = 1000
TAIL_POLL_SECONDS = 0.05
KEEPALIVE_SECONDS = 15.0


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(JOBS, indexed=("status", "plugin"))
    store.register_table(LOGS, indexed=("job", "level"))


def public(doc: Doc) -> Doc:
    """The wire form of a doc: internal ``_fields`` dropped."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def new_log(
    message: str,
    *,
    level: str = "info",
    job: int | None = None,
    data: dict[str, Any] | None = None,
    now: str | None = None,
) -> Doc:
    """A log entry doc (no id yet)."""
    return {
        "message": message,
        "level": level,
        "job": job,
        "data": data,
        "created": now or now_iso(),
    }


def new_job(
    *,
    plugin: int | None = None,
    plugin_release: int | None = None,
    action: str | None = None,
    agent: int | None = None,
    params: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    lines: Iterable[str] = (),
    step_seconds: float | None = None,
    outcome: str = "completed",
    result: Any = None,
) -> Doc:
    """A job doc (no id yet) whose ``lines`` come one per ``step_seconds``, then ``outcome``.

    With ``step_seconds=None`` there is no schedule: the job is ``running`` until PATCHed.
    """
    now = now_iso()
    schedule = (
        [[round(i * step_seconds, 6), str(line)] for i, line in enumerate(lines)]
        if step_seconds is not None
        else []
    )
    return {
        "status": "running",
        "plugin": plugin,
        "plugin_release": plugin_release,
        "action": action,
        "agent": agent,
        "params": dict(params or {}),
        "context": dict(context or {}),
        "progress_record": None,
        "metrics_record": None,
        "result": None,
        "created": now,
        "modified": now,
        "finished": None,
        "_t0": time.time(),
        "_schedule": schedule,
        "_emitted": 0,
        "_outcome": outcome,
        "_result": result,
        "_end": None if step_seconds is None else round(len(schedule) * step_seconds, 6),
    }


def seed_job(
    store: Store,
    *,
    lines: Iterable[str] = (),
    status: str = "running",
    step_seconds: float | None = None,
    outcome: str = "completed",
    **fields: Any,
) -> Doc:
    """Create a job with console lines; returns its wire form.

    Without ``step_seconds`` the lines are written at once and the job has ``status``; with
    it they come one per step and the job ends with ``outcome`` (see :func:`new_job`).
    """
    register_tables(store)
    if status not in STATUSES or outcome not in FINISHED:
        raise ValueError(f"status must be one of {STATUSES} and outcome one of {sorted(FINISHED)}")
    lines = [str(line) for line in lines]
    doc = new_job(lines=lines, step_seconds=step_seconds, outcome=outcome, **fields)
    if step_seconds is None:
        doc["status"] = status
        if status in FINISHED:
            doc["finished"] = doc["created"]
    with store.transaction():
        job = store.insert(JOBS, doc)
        if step_seconds is None and lines:
            store.insert_many(LOGS, [new_log(line, job=job["id"]) for line in lines])
    return public(advance(store, job))


def advance(store: Store, job: Doc) -> Doc:
    """Write the lines of ``job`` that are due and move its status on; returns the new doc."""
    schedule = job.get("_schedule") or []
    if job["status"] in FINISHED or job.get("_end") is None:
        return job
    elapsed = time.time() - float(job["_t0"])
    emitted = int(job["_emitted"])
    due: list[str] = []
    while emitted + len(due) < len(schedule) and schedule[emitted + len(due)][0] <= elapsed:
        due.append(schedule[emitted + len(due)][1])
    changes: dict[str, Any] = {}
    now = now_iso()
    with store.transaction():
        if due:
            store.insert_many(LOGS, [new_log(line, job=job["id"], now=now) for line in due])
            emitted += len(due)
            changes.update(
                _emitted=emitted,
                modified=now,
                progress_record={"step": emitted, "total": len(schedule)},
            )
        if emitted >= len(schedule) and elapsed >= float(job["_end"]):
            changes.update(
                status=job["_outcome"],
                finished=now,
                modified=now,
                _end=None,
                result=job.get("_result"),
            )
        if changes:
            job = store.update(JOBS, job["id"], changes) or job
    return job


def _advance_unfinished(store: Store) -> None:
    for job in store.list(JOBS, limit=None, status=["pending", "running"]):
        advance(store, job)


# -- jobs ------------------------------------------------------------------------------------


async def list_jobs(request: web.Request) -> web.Response:
    """``GET jobs/`` (paginated; filters ``status``, ``plugin``)."""
    store = request.app[STORE]
    _advance_unfinished(store)
    filters = query_filters(request, ints=("plugin",), strings=("status",))
    return paginate(request, store, JOBS, filters, serialize=public)


async def get_job(request: web.Request) -> web.Response:
    """``GET jobs/{id}/``."""
    store = request.app[STORE]
    return web.json_response(public(advance(store, get_or_404(store, JOBS, path_id(request)))))


def _record(body: dict[str, Any], key: str) -> Any:
    value = body[key]
    if value is not None and not isinstance(value, dict):
        raise field_error(key, "Expected an object or null.")
    return value


async def patch_job(request: web.Request) -> web.Response:
    """``PATCH jobs/{id}/`` (``status``, ``progress_record``, ``metrics_record``, ``result``)."""
    store = request.app[STORE]
    job = advance(store, get_or_404(store, JOBS, path_id(request)))
    body = body_object(await read_json(request))
    now = now_iso()
    changes: dict[str, Any] = {"modified": now}
    if "status" in body:
        if body["status"] not in STATUSES:
            raise field_error("status", f'"{body["status"]}" is not a valid choice.')
        changes["status"] = body["status"]
        if body["status"] in FINISHED:
            changes.update(finished=job.get("finished") or now, _end=None)
    for key in ("progress_record", "metrics_record"):
        if key in body:
            changes[key] = _record(body, key)
    if "result" in body:
        changes["result"] = body["result"]
    return web.json_response(public(store.update(JOBS, job["id"], changes) or job))


async def console_logs(request: web.Request) -> web.Response:
    """``GET jobs/{id}/console_logs/`` -> ``{"job", "status", "lines": [...]}``."""
    store = request.app[STORE]
    job = advance(store, get_or_404(store, JOBS, path_id(request)))
    lines = [d["message"] for d in store.list(LOGS, limit=None, job=job["id"])]
    return web.json_response({"job": job["id"], "status": job["status"], "lines": lines})


def sse_event(data: str, event: str | None = None) -> bytes:
    """One server-sent event (each line of ``data`` its own ``data:`` field)."""
    text = data.replace("\r\n", "\n").replace("\r", "\n")
    head = f"event: {event}\n" if event else ""
    return (head + "".join(f"data: {line}\n" for line in text.split("\n")) + "\n").encode()


async def tail_console_logs(request: web.Request) -> web.StreamResponse:
    """``GET jobs/{id}/tail_console_logs/``: the console log as server-sent events."""
    store = request.app[STORE]
    job_id = path_id(request)
    get_or_404(store, JOBS, job_id)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    last_id, quiet_since = 0, time.monotonic()
    while True:
        job = store.get(JOBS, job_id)
        transport = request.transport
        if transport is None or transport.is_closing():  # the client left
            return response
        if job is None:  # deleted while tailed
            break
        job = advance(store, job)  # status read before the lines: none is missed at the end
        entries = store.list(LOGS, limit=None, id_gt=last_id, job=job_id)
        for entry in entries:
            await response.write(sse_event(entry["message"]))
            last_id = entry["id"]
        if job["status"] in FINISHED:
            await response.write(sse_event(job["status"], event="end"))
            break
        if entries:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= KEEPALIVE_SECONDS:
            await response.write(b": keepalive\n\n")
            quiet_since = time.monotonic()
        await asyncio.sleep(TAIL_POLL_SECONDS)
    await response.write_eof()
    return response


# -- logs ------------------------------------------------------------------------------------


def _check_log(store: Store, item: Any, where: str) -> Doc:
    if not isinstance(item, dict):
        raise bad_request(f"{where}: expected an object.")
    message = item.get("message")
    if not isinstance(message, str):
        raise field_error("message", f"{where}: This field is required.")
    level = item.get("level", "info")
    if level not in LEVELS:
        raise field_error("level", f'{where}: "{level}" is not a valid choice.')
    job = item.get("job")
    if job is not None and (
        not isinstance(job, int) or isinstance(job, bool) or store.get(JOBS, job) is None
    ):
        raise field_error("job", f'{where}: Invalid pk "{job}" - object does not exist.')
    data = item.get("data")
    if data is not None and not isinstance(data, dict):
        raise field_error("data", f"{where}: Expected an object or null.")
    return new_log(message, level=level, job=job, data=data)


async def list_logs(request: web.Request) -> web.Response:
    """``GET logs/`` (paginated; filters ``job``, ``level``)."""
    store = request.app[STORE]
    _advance_unfinished(store)
    filters = query_filters(request, ints=("job",), strings=("level",))
    return paginate(request, store, LOGS, filters)


async def create_logs(request: web.Request) -> web.Response:
    """``POST logs/`` one entry (-> the entry) or a list of 1..1000 (-> the list)."""
    store = request.app[STORE]
    body = await read_json(request)
    items = body if isinstance(body, list) else [body_object(body)]
    if not 1 <= len(items) <= MAX_LOGS_PER_REQUEST:
        raise bad_request(
            f"Send between 1 and {MAX_LOGS_PER_REQUEST} log entries per request, got {len(items)}."
        )
    docs = [_check_log(store, item, f"item {n}") for n, item in enumerate(items)]
    created = store.insert_many(LOGS, docs)
    return web.json_response(created if isinstance(body, list) else created[0], status=201)


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    r = app.router
    r.add_get("/jobs/", list_jobs)
    r.add_get("/jobs/{id}/", get_job)
    r.add_patch("/jobs/{id}/", patch_job)
    r.add_get("/jobs/{id}/console_logs/", console_logs)
    r.add_get("/jobs/{id}/tail_console_logs/", tail_console_logs)
    r.add_get("/logs/", list_logs)
    r.add_post("/logs/", create_logs)
