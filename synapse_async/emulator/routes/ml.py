"""``models/``, ``ground_truths/``, ``ground_truth_dataset_versions/``, ground truth events.

A model's weights come by chunked upload (JSON ``{..., "chunked_upload": id}``) or, as the
older official client sends them, as a multipart ``file``; they are stored as a data file.
Events are listed at ``sdk/ground_truth_events/`` with the filters
``ground_truth_dataset_versions`` (repeated or comma-separated ids), ``ground_truth`` and
``data_unit``; ``POST ground_truth_events/`` adds events (a list) to a version.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..errors import bad_request, read_json
from ..keys import FILES_DIR, STORE
from ..pagination import paginate
from ..store import Doc, Store
from . import data, projects
from .jobs import public
from .list_filters import DATE_PARAMS, check_known, paginate_filtered, post_filter
from .params import body_object, field_error, get_or_404, path_id, query_filters
from .plugins import PLUGINS, read_multipart
from .plugins import register_tables as register_plugin_tables
from .uploads_link import resolve_chunked_upload

__all__ = ["EVENTS", "GROUND_TRUTHS", "MODELS", "VERSIONS", "seed_ground_truth", "setup"]

MODELS = "models"
GROUND_TRUTHS = "ground_truths"
VERSIONS = "ground_truth_dataset_versions"
EVENTS = "ground_truth_events"
MAX_EVENTS_PER_REQUEST = 1000


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(MODELS, indexed=("project", "plugin"))
    store.register_table(GROUND_TRUTHS)
    store.register_table(VERSIONS, indexed=("ground_truth",))
    store.register_table(
        EVENTS, indexed=("ground_truth_dataset_version", "_ground_truth", "data_unit")
    )


def _pk(store: Store, body: dict[str, Any], key: str, table: str) -> int | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.isdigit():  # multipart form values are text
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or store.get(table, value) is None:
        raise field_error(key, f'Invalid pk "{value}" - object does not exist.')
    return value


def _text(body: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise field_error(key, "This field is required." if required else "Not a valid string.")
    return value


# -- models ----------------------------------------------------------------------------------


def _serialize_model(request: web.Request, doc: Doc) -> Doc:
    out = public(doc)
    out["file"] = data.serialize_data_file(request, {"id": doc["_data_file"]})["file"]
    return out


async def create_model(request: web.Request) -> web.Response:
    """``POST models/`` JSON with ``chunked_upload``, or multipart with ``file`` -> 201."""
    store = request.app[STORE]
    if request.content_type.startswith("multipart/"):
        fields, stored = await read_multipart(request)
        body: dict[str, Any] = dict(fields)
        if stored is None:
            raise field_error("file", "No file was submitted.")
    else:
        body = body_object(await read_json(request))
        if "chunked_upload" not in body:
            raise field_error("chunked_upload", "This field is required.")
        stored = resolve_chunked_upload(request, body["chunked_upload"])
    try:
        metrics = body.get("metrics") or {}
        if not isinstance(metrics, dict):
            raise field_error("metrics", "Expected an object.")
        doc = {
            "name": _text(body, "name", required=True),
            "description": _text(body, "description"),
            "project": _pk(store, body, "project", projects.TABLE),
            "plugin": _pk(store, body, "plugin", PLUGINS),
            "checksum": stored["checksum"],
            "size": stored["size"],
            "metrics": metrics,
        }
    except BaseException:
        if request.content_type.startswith("multipart/") and stored.get("_storage"):
            (request.app[FILES_DIR] / stored["_storage"]).unlink(missing_ok=True)
        raise
    now = now_iso()
    with store.transaction():
        file_doc = store.insert(data.FILES, {**stored, "created": now})
        model = store.insert(MODELS, {**doc, "created": now, "_data_file": file_doc["id"]})
    return web.json_response(_serialize_model(request, model), status=201)


async def list_models(request: web.Request) -> web.Response:
    """``GET models/`` (paginated; filters ``project``, ``plugin``)."""
    filters = query_filters(request, ints=("project", "plugin"))
    return paginate(
        request,
        request.app[STORE],
        MODELS,
        filters,
        serialize=lambda d: _serialize_model(request, d),
    )


async def get_model(request: web.Request) -> web.Response:
    """``GET models/{id}/``."""
    doc = get_or_404(request.app[STORE], MODELS, path_id(request))
    return web.json_response(_serialize_model(request, doc))


# -- ground truths ---------------------------------------------------------------------------


async def create_ground_truth(request: web.Request) -> web.Response:
    """``POST ground_truths/`` ``{"name", "description"?, "data_collection"?}`` -> 201."""
    store = request.app[STORE]
    body = body_object(await read_json(request))
    doc = {
        "name": _text(body, "name", required=True),
        "description": _text(body, "description"),
        "data_collection": _pk(store, body, "data_collection", data.COLLECTIONS),
        "created": now_iso(),
    }
    return web.json_response(store.insert(GROUND_TRUTHS, doc), status=201)


async def list_ground_truths(request: web.Request) -> web.Response:
    """``GET ground_truths/`` (paginated)."""
    return paginate(request, request.app[STORE], GROUND_TRUTHS, {})


async def get_ground_truth(request: web.Request) -> web.Response:
    """``GET ground_truths/{id}/``."""
    return web.json_response(get_or_404(request.app[STORE], GROUND_TRUTHS, path_id(request)))


def _serialize_versions(store: Store, docs: list[Doc]) -> list[Doc]:
    return [
        {**d, "event_count": store.count(EVENTS, ground_truth_dataset_version=d["id"])}
        for d in docs
    ]


async def create_version(request: web.Request) -> web.Response:
    """``POST ground_truth_dataset_versions/`` ``{"ground_truth", "version", ...}`` -> 201."""
    store = request.app[STORE]
    body = body_object(await read_json(request))
    ground_truth = _pk(store, body, "ground_truth", GROUND_TRUTHS)
    if ground_truth is None:
        raise field_error("ground_truth", "This field is required.")
    doc = store.insert(
        VERSIONS,
        {
            "ground_truth": ground_truth,
            "version": _text(body, "version", required=True),
            "description": _text(body, "description"),
            "created": now_iso(),
        },
    )
    return web.json_response(_serialize_versions(store, [doc])[0], status=201)


async def list_versions(request: web.Request) -> web.Response:
    """``GET ground_truth_dataset_versions/`` (paginated; filter ``ground_truth``)."""
    store = request.app[STORE]
    filters = query_filters(request, ints=("ground_truth",))
    return paginate(
        request,
        store,
        VERSIONS,
        filters,
        serialize_page=lambda docs: _serialize_versions(store, docs),
    )


async def get_version(request: web.Request) -> web.Response:
    """``GET ground_truth_dataset_versions/{id}/``."""
    store = request.app[STORE]
    return web.json_response(
        _serialize_versions(store, [get_or_404(store, VERSIONS, path_id(request))])[0]
    )


# -- events ----------------------------------------------------------------------------------


def _version_filter(request: web.Request) -> list[int] | None:
    raw = [
        p
        for v in request.query.getall("ground_truth_dataset_versions", [])
        for p in v.split(",")
        if p.strip()
    ]
    if not raw:
        return None
    try:
        return [int(v) for v in raw]
    except ValueError:
        raise bad_request(
            {"ground_truth_dataset_versions": ["Enter a list of integer ids."]}
        ) from None


async def list_events(request: web.Request) -> web.Response:
    """``GET sdk/ground_truth_events/``: one page.

    Filters: see the module doc, plus ``category`` and date ranges (``list_filters``); an
    unknown filter is a 400.
    """
    check_known(
        request,
        {
            "ground_truth",
            "data_unit",
            "ground_truth_dataset_versions",
            "ground_truth_dataset_version",
            "category",
            *DATE_PARAMS,
        },
    )
    filters = query_filters(request, ints=("ground_truth", "data_unit"))
    if "ground_truth" in filters:
        filters["_ground_truth"] = filters.pop("ground_truth")
    versions = _version_filter(request)
    if versions is not None:
        filters["ground_truth_dataset_version"] = versions
    keep = post_filter(request, tags=False, category=True)
    if keep is not None:
        return paginate_filtered(
            request,
            request.app[STORE],
            EVENTS,
            filters,
            keep,
            lambda docs: [public(d) for d in docs],
        )
    return paginate(request, request.app[STORE], EVENTS, filters, serialize=public)


def new_event(version: Doc, item: Any, where: str) -> Doc:
    """An event doc for ``version`` from a create item (400 on bad fields)."""
    if not isinstance(item, dict):
        raise bad_request(f"{where}: expected an object.")
    for key in ("files", "data", "meta"):
        if not isinstance(item.get(key, {}), dict):
            raise field_error(key, f"{where}: Expected an object.")
    unit = item.get("data_unit")
    if unit is not None and (not isinstance(unit, int) or isinstance(unit, bool)):
        raise field_error("data_unit", f"{where}: Incorrect type. Expected pk value.")
    return {
        "ground_truth_dataset_version": version["id"],
        "data_unit": unit,
        "files": item.get("files", {}),
        "data": item.get("data", {}),
        "meta": item.get("meta", {}),
        "created": now_iso(),
        "_ground_truth": version["ground_truth"],
    }


async def create_events(request: web.Request) -> web.Response:
    """``POST ground_truth_events/`` ``{"ground_truth_dataset_version", "events": [...]}``."""
    store = request.app[STORE]
    body = body_object(await read_json(request))
    version_id = _pk(store, body, "ground_truth_dataset_version", VERSIONS)
    if version_id is None:
        raise field_error("ground_truth_dataset_version", "This field is required.")
    items = body.get("events")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_EVENTS_PER_REQUEST:
        raise field_error("events", f"Send 1 to {MAX_EVENTS_PER_REQUEST} events.")
    version = get_or_404(store, VERSIONS, version_id)
    docs = [new_event(version, item, f"item {n}") for n, item in enumerate(items)]
    return web.json_response([public(d) for d in store.insert_many(EVENTS, docs)], status=201)


def _seed_event(version: Doc, i: int) -> Doc:
    """Seeded event ``i``: one box, a category, a file slot sized on even ``i`` only."""
    slot: Doc = {"path": f"gt/{version['version']}/{i}.jpg", "checksum": f"{i:032x}"}
    if i % 2 == 0:
        slot.update(width=640, height=480)
    box = {
        "x": 10 + 7 * (i % 50),
        "y": 20 + 3 * (i % 40),
        "width": 40 + i % 30,
        "height": 30 + i % 20,
    }
    return {
        "files": {"image_1": slot},
        "data": {
            "annotations": {
                "image_1": [
                    {
                        "id": f"gt{i}",
                        "tool": "bounding_box",
                        "classification": {"class": ("car", "person")[i % 2]},
                    }
                ]
            },
            "annotationsData": {"image_1": [{"id": f"gt{i}", "coordinate": box}]},
        },
        "meta": {"index": i, "category": "val" if i % 4 == 3 else "train"},
    }


def seed_ground_truth(
    store: Store, name: str = "Seeded ground truth", *, versions: int = 1, events: int = 0
) -> Doc:
    """A ground truth with ``versions`` versions (``v1``...) of ``events`` events each.

    Like real ground truth data: event ``i`` holds one bounding box (``car``/``person``),
    a ``category`` in its meta (``train``, every fourth ``val``) and a file slot
    ``{"path", "checksum"}``; only even events' slots carry ``width``/``height`` (640x480),
    odd ones have no size (a client must read it from the file).

    Returns ``{"ground_truth": doc, "versions": [doc...]}`` (wire forms).
    """
    register_tables(store)
    now = now_iso()
    with store.transaction():
        gt = store.insert(
            GROUND_TRUTHS,
            {"name": name, "description": "", "data_collection": None, "created": now},
        )
        made = store.insert_many(
            VERSIONS,
            [
                {
                    "ground_truth": gt["id"],
                    "version": f"v{n + 1}",
                    "description": "",
                    "created": now,
                }
                for n in range(versions)
            ],
        )
        for version in made:
            store.insert_many(
                EVENTS,
                [new_event(version, _seed_event(version, i), f"item {i}") for i in range(events)],
            )
    return {"ground_truth": gt, "versions": _serialize_versions(store, made)}


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    register_plugin_tables(store)
    r = app.router
    r.add_get("/models/", list_models)
    r.add_post("/models/", create_model)
    r.add_get("/models/{id}/", get_model)
    r.add_get("/ground_truths/", list_ground_truths)
    r.add_post("/ground_truths/", create_ground_truth)
    r.add_get("/ground_truths/{id}/", get_ground_truth)
    r.add_get("/ground_truth_dataset_versions/", list_versions)
    r.add_post("/ground_truth_dataset_versions/", create_version)
    r.add_get("/ground_truth_dataset_versions/{id}/", get_version)
    r.add_get("/sdk/ground_truth_events/", list_events)
    r.add_get("/ground_truth_events/", list_events)
    r.add_post("/ground_truth_events/", create_events)
