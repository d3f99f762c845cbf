"""``plugins/`` (CRUD by id or code, ``run/``) and ``plugin_releases/`` (archive upload).

A run creates a job that progresses over time (see ``jobs``): a few console lines, one per
:data:`RUN_STEP_SECONDS`, then ``completed``. A release's archive comes in the create request
(multipart field ``file``; the other fields as form fields, ``config`` as JSON text) or by
chunked upload (JSON ``{"plugin", "version", "config", "chunked_upload": id}``); it is stored
as a data file, so ``file`` is its download URL.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from aiohttp import BodyPartReader, web

from ..clock import now_iso
from ..errors import ApiError, bad_request, not_found, read_json
from ..keys import FILES_DIR, STORE
from ..pagination import paginate
from ..store import Doc, Store
from . import data, jobs
from .params import body_object, field_error, get_or_404, query_filters
from .uploads_link import resolve_chunked_upload

__all__ = ["PLUGINS", "RELEASES", "RUN_STEP_SECONDS", "read_multipart", "register_tables", "setup"]

PLUGINS = "plugins"
RELEASES = "plugin_releases"
RUN_STEP_SECONDS = 0.05
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_FIELDS = {"name": str, "code": str, "category": str, "description": str, "is_active": bool}


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(PLUGINS, indexed=("code", "category"))
    store.register_table(RELEASES, indexed=("plugin", "version"))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "plugin"


def _plugin(store: Store, ref: str) -> Doc:
    """The plugin named by an id (digits) or a code in the URL (404 otherwise)."""
    if ref.isdigit():
        return get_or_404(store, PLUGINS, int(ref))
    found = store.list(PLUGINS, limit=1, code=ref)
    if not found:
        raise not_found()
    return found[0]


def _check_fields(store: Store, body: dict[str, Any], *, current: Doc | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, kind in _FIELDS.items():
        if key not in body:
            continue
        value = body[key]
        if key == "category" and value is None:
            out[key] = None
            continue
        if not isinstance(value, kind):
            raise field_error(key, f"Expected a {kind.__name__}.")
        out[key] = value
    if "name" in out and not out["name"].strip():
        raise field_error("name", "This field may not be blank.")
    if "code" in out:
        code = out["code"]
        if not _CODE.match(code) or code.isdigit():
            raise field_error("code", "Enter a valid code: letters, digits, '_', '-', '.'.")
        clash = store.list(PLUGINS, limit=1, code=code)
        if clash and (current is None or clash[0]["id"] != current["id"]):
            raise field_error("code", "plugin with this code already exists.")
    return out


async def list_plugins(request: web.Request) -> web.Response:
    """``GET plugins/`` (paginated; filter ``category``, ``code``)."""
    filters = query_filters(request, strings=("category", "code"))
    return paginate(request, request.app[STORE], PLUGINS, filters)


async def create_plugin(request: web.Request) -> web.Response:
    """``POST plugins/`` ``{"name", "code"?, "category"?, "description"?}`` -> 201."""
    store = request.app[STORE]
    body = body_object(await read_json(request))
    if not isinstance(body.get("name"), str):
        raise field_error("name", "This field is required.")
    if "code" not in body:
        base = code = _slug(body["name"])
        n = 1
        while store.count(PLUGINS, code=code):
            n += 1
            code = f"{base}-{n}"
        body = {**body, "code": code}
    fields = _check_fields(store, body, current=None)
    now = now_iso()
    doc = {
        "code": "",
        "name": "",
        "category": None,
        "description": "",
        "is_active": True,
        **fields,
        "created": now,
        "modified": now,
    }
    return web.json_response(store.insert(PLUGINS, doc), status=201)


async def get_plugin(request: web.Request) -> web.Response:
    """``GET plugins/{id_or_code}/``."""
    return web.json_response(_plugin(request.app[STORE], request.match_info["ref"]))


async def update_plugin(request: web.Request) -> web.Response:
    """``PUT``/``PATCH plugins/{id_or_code}/``: the given fields change (others are kept)."""
    store = request.app[STORE]
    plugin = _plugin(store, request.match_info["ref"])
    fields = _check_fields(store, body_object(await read_json(request)), current=plugin)
    return web.json_response(store.update(PLUGINS, plugin["id"], {**fields, "modified": now_iso()}))


def _release_for_run(store: Store, plugin: Doc, version: Any) -> Doc | None:
    if version is not None:
        found = store.list(RELEASES, limit=1, plugin=plugin["id"], version=str(version))
        if not found:
            raise field_error("version", f'Release "{version}" of {plugin["code"]} does not exist.')
        return found[0]
    latest = store.list(RELEASES, limit=1, plugin=plugin["id"], descending=True)
    return latest[0] if latest else None


DEFAULT_ACTION = "run"
"""The action of a run request that names none."""
_RUN_FIELDS = frozenset(
    {
        "action",
        "params",
        "parameters",
        "context",
        "agent",
        "version",
        "storage_id",
        "job_id",
        "debug",
        "language",
    }
)
"""What a run request may carry: the official client's ``PluginRunRequest`` fields
(``storage_id``, ``job_id``, ``debug`` and ``language`` are accepted and have no effect
here), plus ``parameters`` (another name of ``params``) and ``context``."""


async def run_plugin(request: web.Request) -> web.Response:
    """``POST plugins/{id_or_code}/run/`` -> 201 the job.

    Body: ``{"action"?, "params"? (or "parameters"), "context"?, "agent"?, "version"?}`` and
    the official client's other run fields (:data:`_RUN_FIELDS`).
    Answer: the job (plus ``job_id``, as the official client reads it). Without ``action``
    the plugin's default action (:data:`DEFAULT_ACTION`) runs; an unknown field is a 400.
    """
    store = request.app[STORE]
    plugin = _plugin(store, request.match_info["ref"])
    body = body_object(await read_json(request))
    unknown = sorted(set(body) - _RUN_FIELDS)
    if unknown:
        raise bad_request({k: ["Unknown field."] for k in unknown})
    if "params" in body and "parameters" in body:
        raise field_error("parameters", "Send params or parameters, not both.")
    action = body.get("action", DEFAULT_ACTION)
    if not isinstance(action, str) or not action.strip():
        raise field_error("action", "Expected a non-empty action name.")
    params = body.get("params", body.get("parameters")) or {}
    if not isinstance(params, dict):
        raise field_error("params", "Expected an object.")
    context = body.get("context") or {}
    if not isinstance(context, dict):
        raise field_error("context", "Expected an object.")
    agent = body.get("agent")
    if agent is not None and (not isinstance(agent, int) or isinstance(agent, bool)):
        raise field_error("agent", "Incorrect type. Expected pk value.")
    release = _release_for_run(store, plugin, body.get("version"))
    version = release["version"] if release else "unreleased"
    lines = [
        f"Starting {action} of {plugin['code']}@{version}",
        "Preparing the environment",
        f"Running {action}",
        f"{action} finished",
    ]
    doc = jobs.new_job(
        plugin=plugin["id"],
        plugin_release=release["id"] if release else None,
        action=action,
        agent=agent,
        params=params,
        context=context,
        lines=lines,
        step_seconds=RUN_STEP_SECONDS,
        result={"action": action},
    )
    job = jobs.public(jobs.advance(store, store.insert(jobs.JOBS, doc)))
    return web.json_response({**job, "job_id": job["id"]}, status=201)


# -- releases --------------------------------------------------------------------------------


def _release_ref(store: Store, ref: str) -> Doc:
    if ref.isdigit():
        return get_or_404(store, RELEASES, int(ref))
    code, sep, version = ref.partition("@")
    if not sep:
        raise not_found()
    found = store.list(PLUGINS, limit=1, code=code)
    if not found:
        raise not_found()
    releases = store.list(RELEASES, limit=1, plugin=found[0]["id"], version=version)
    if not releases:
        raise not_found()
    return releases[0]


def _serialize_release(request: web.Request, doc: Doc) -> Doc:
    out = jobs.public(doc)
    file_id = doc.get("_data_file")
    out["file"] = (
        data.serialize_data_file(request, {"id": file_id})["file"] if file_id is not None else None
    )
    return out


async def read_multipart(request: web.Request) -> tuple[dict[str, str], Doc | None]:
    """Form fields, and the ``file`` part stored as a data file (None if absent)."""
    reader = await request.multipart()
    fields: dict[str, str] = {}
    stored: Doc | None = None
    dest = request.app[FILES_DIR] / uuid.uuid4().hex
    try:
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise bad_request("Nested multipart bodies are not supported.")
            if part.name == "file" and stored is None:
                digest, size = hashlib.md5(usedforsecurity=False), 0
                with dest.open("wb") as fh:  # archives are small: written inline
                    while chunk := await part.read_chunk(1 << 20):
                        digest.update(chunk)
                        size += len(chunk)
                        fh.write(chunk)
                stored = {
                    "checksum": digest.hexdigest(),
                    "size": size,
                    "filename": part.filename or dest.name,
                    "_storage": dest.name,
                }
            elif part.name:
                fields[part.name] = await part.text()
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return fields, stored


def _release_body(store: Store, values: dict[str, Any]) -> tuple[Doc, str]:
    ref = values.get("plugin")
    if ref is None or str(ref) == "":
        raise field_error("plugin", "This field is required.")
    try:
        plugin = _plugin(store, str(ref))
    except ApiError:
        raise field_error("plugin", f'Invalid pk "{ref}" - object does not exist.') from None
    version = values.get("version")
    if not isinstance(version, str) or not version.strip() or "@" in version or "/" in version:
        raise field_error("version", "Enter a version without '@' or '/'.")
    if store.count(RELEASES, plugin=plugin["id"], version=version):
        raise field_error("version", f"{plugin['code']}@{version} already exists.")
    config = values.get("config") or {}
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except ValueError:
            raise field_error("config", "Expected JSON text of an object.") from None
    if not isinstance(config, dict):
        raise field_error("config", "Expected an object.")
    return {
        "plugin": plugin["id"],
        "code": plugin["code"],
        "version": version,
        "config": config,
    }, plugin["code"]


async def create_release(request: web.Request) -> web.Response:
    """``POST plugin_releases/`` multipart (``file``) or JSON with ``chunked_upload`` -> 201."""
    store = request.app[STORE]
    if request.content_type.startswith("multipart/"):
        values, stored = await read_multipart(request)
        if stored is None:
            raise field_error("file", "No file was submitted.")
        try:
            doc, _code = _release_body(store, dict(values))
        except BaseException:
            (request.app[FILES_DIR] / stored["_storage"]).unlink(missing_ok=True)
            raise
        file_doc = store.insert(data.FILES, {**stored, "created": now_iso()})
    else:
        body = body_object(await read_json(request))
        if "chunked_upload" not in body:
            raise field_error(
                "file", "Send the archive as 'file' (multipart) or a 'chunked_upload' id."
            )
        upload = resolve_chunked_upload(request, body["chunked_upload"])
        doc, _code = _release_body(store, body)
        file_doc = store.insert(data.FILES, {**upload, "created": now_iso()})
    doc.update(
        checksum=file_doc["checksum"],
        size=file_doc["size"],
        created=now_iso(),
        _data_file=file_doc["id"],
    )
    return web.json_response(_serialize_release(request, store.insert(RELEASES, doc)), status=201)


async def list_releases(request: web.Request) -> web.Response:
    """``GET plugin_releases/`` (paginated; filter ``plugin``)."""
    filters = query_filters(request, ints=("plugin",))
    return paginate(
        request,
        request.app[STORE],
        RELEASES,
        filters,
        serialize=lambda d: _serialize_release(request, d),
    )


async def get_release(request: web.Request) -> web.Response:
    """``GET plugin_releases/{id}/`` or ``plugin_releases/{code}@{version}/``."""
    doc = _release_ref(request.app[STORE], request.match_info["ref"])
    return web.json_response(_serialize_release(request, doc))


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    jobs.register_tables(store)
    r = app.router
    r.add_get("/plugins/", list_plugins)
    r.add_post("/plugins/", create_plugin)
    r.add_get("/plugins/{ref}/", get_plugin)
    r.add_put("/plugins/{ref}/", update_plugin)
    r.add_patch("/plugins/{ref}/", update_plugin)
    r.add_post("/plugins/{ref}/run/", run_plugin)
    r.add_get("/plugin_releases/", list_releases)
    r.add_post("/plugin_releases/", create_release)
    r.add_get("/plugin_releases/{ref}/", get_release)
