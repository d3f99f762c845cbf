"""``data_collections/``, ``data_files/`` (multipart upload, checksum dedupe), ``data_units/``.

Uploaded bytes live in ``<data_dir>/files/<uuid>``; a data file's ``file`` field is the
absolute URL ``<base>/_emulator/files/<id>/`` where the emulator serves them.
"""

from __future__ import annotations

import asyncio
import email.policy
import hashlib
import os
import re
from email.parser import BytesParser
from pathlib import Path
from typing import Any, BinaryIO

from aiohttp import BodyPartReader, web

from ..clock import now_iso
from ..errors import bad_request, not_found, read_json
from ..faults import BodyTap, body_tap
from ..keys import FILES_DIR, STORE
from ..pagination import paginate
from ..store import Doc, Store
from .params import body_object, field_error, get_or_404, path_id, query_expand, query_filters

__all__ = [
    "COLLECTIONS",
    "FILES",
    "MAX_UNITS_PER_REQUEST",
    "UNITS",
    "register_tables",
    "serialize_data_file",
    "setup",
]

COLLECTIONS = "data_collections"
FILES = "data_files"
UNITS = "data_units"
MAX_UNITS_PER_REQUEST = 1000
_CHUNK = 1 << 20
_FILE_ROUTE = "/_emulator/files/"  # + "{id}/": a data file's bytes


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(COLLECTIONS)
    store.register_table(FILES, indexed=("checksum",))
    store.register_table(UNITS, indexed=("data_collection",))


# -- data collections -----------------------------------------------------------------------


def _file_specs(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise field_error("file_specifications", "Expected a list of items.")
    specs: list[dict[str, Any]] = []
    for spec in value:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            raise field_error("file_specifications", "Each item needs a non-empty 'name'.")
        specs.append(
            {
                "name": spec["name"],
                "file_type": spec.get("file_type", "file"),
                "is_required": bool(spec.get("is_required", False)),
                **{k: v for k, v in spec.items() if k not in ("name", "file_type", "is_required")},
            }
        )
    return specs


def _serialize_collection(doc: Doc, expand: set[str]) -> Doc:
    if "file_specifications" in expand:
        return doc
    return {k: v for k, v in doc.items() if k != "file_specifications"}


async def list_collections(request: web.Request) -> web.Response:
    """``GET data_collections/`` (paginated)."""
    expand = query_expand(request)
    return paginate(
        request,
        request.app[STORE],
        COLLECTIONS,
        {},
        serialize=lambda d: _serialize_collection(d, expand),
    )


async def create_collection(request: web.Request) -> web.Response:
    """``POST data_collections/`` -> 201 (``file_specifications`` included)."""
    data = body_object(await read_json(request))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise field_error("name", "This field is required.")
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise field_error("description", "Not a valid string.")
    doc = request.app[STORE].insert(
        COLLECTIONS,
        {
            "name": name,
            "description": description,
            "file_specifications": _file_specs(data.get("file_specifications")),
            "created": now_iso(),
        },
    )
    return web.json_response(doc, status=201)


async def get_collection(request: web.Request) -> web.Response:
    """``GET data_collections/{id}/`` (``?expand=file_specifications`` adds the specs)."""
    doc = get_or_404(request.app[STORE], COLLECTIONS, path_id(request))
    return web.json_response(_serialize_collection(doc, query_expand(request)))


# -- data files ------------------------------------------------------------------------------


_ORIGINS: dict[tuple[str, str], str] = {}


def _origin(request: web.Request) -> str:
    """``request.url.origin()`` as text, built once per scheme and host.

    ``request.url`` and a route's ``url_for`` cost about a tenth of a small upload's handling.
    """
    key = (request.scheme, request.host)
    origin = _ORIGINS.get(key)
    if origin is None:
        origin = _ORIGINS.setdefault(key, str(request.url.origin()))
    return origin


def serialize_data_file(request: web.Request, doc: Doc) -> Doc:
    """The wire form of a data file: internal fields dropped, ``file`` an absolute URL."""
    out = {k: v for k, v in doc.items() if not k.startswith("_")}
    out["file"] = f"{_origin(request)}{_FILE_ROUTE}{int(doc['id'])}/"
    return out


def _write_chunk(fh: BinaryIO, digest: Any, chunk: bytes) -> None:
    digest.update(chunk)
    fh.write(chunk)


_SIMPLE_DISPOSITION = re.compile(
    r'^form-data; name="([^"\\]*)"(?:; filename="([^"\\]*)")?$', re.IGNORECASE
)


def _disposition(part: BodyPartReader) -> tuple[str | None, str | None]:
    """A form part's ``name`` and ``filename``.

    The plain form every client sends is read with one regular expression; anything else
    (escapes, RFC 5987 ``filename*``) goes to aiohttp's full parser, which costs about as much
    as the rest of a small upload's handling, per call.
    """
    match = _SIMPLE_DISPOSITION.match(part.headers.get("Content-Disposition", ""))
    if match:
        return match.group(1), match.group(2)
    return part.name, part.filename


def _write_whole(dest: Path, content: bytes) -> None:
    with dest.open("wb") as fh:
        fh.write(content)


async def _receive_file(field: BodyPartReader, dest: Path, tap: BodyTap) -> tuple[str, int]:
    digest = hashlib.md5(usedforsecurity=False)
    first = await field.read_chunk(_CHUNK)
    await tap.pace(len(first))
    rest = await field.read_chunk(_CHUNK) if first else b""
    await tap.pace(len(rest))
    if not rest:  # a small file (most of a bulk upload): one write, no thread hop
        digest.update(first)
        _write_whole(dest, first)
        return digest.hexdigest(), len(first)
    size = 0
    with dest.open("wb") as fh:  # larger files: chunks are written in a worker thread
        chunk = first
        while chunk:
            size += len(chunk)
            await asyncio.to_thread(_write_chunk, fh, digest, chunk)
            chunk, rest = rest, (await field.read_chunk(_CHUNK) if rest else b"")
            await tap.pace(len(rest))
    return digest.hexdigest(), size


def _data_file_from_upload(request: web.Request, upload_id: Any) -> web.Response:
    """``POST data_files/ {"chunked_upload": id}``: a data file over a completed upload's bytes."""
    from .uploads import completed_upload

    upload = completed_upload(request.app, upload_id) if isinstance(upload_id, str) else None
    if upload is None:
        raise field_error("chunked_upload", f'Invalid pk "{upload_id}" - no completed upload.')
    doc = request.app[STORE].insert(
        FILES,
        {
            "checksum": upload["checksum"],
            "size": upload["size"],
            "filename": upload["filename"],
            "created": now_iso(),
            "_storage": upload["_storage"],
        },
    )
    return web.json_response(serialize_data_file(request, doc), status=201)


async def create_data_file(request: web.Request) -> web.Response:
    """``POST data_files/`` multipart (``file`` part, optional ``filename`` field) -> 201."""
    # The raw header: ``request.content_type`` runs the email header parser on every call.
    if not request.headers.get("Content-Type", "").lower().startswith("multipart/"):
        data = body_object(await read_json(request))
        if "chunked_upload" in data:
            return _data_file_from_upload(request, data["chunked_upload"])
        raise field_error("file", "No file was submitted.")
    files_dir = request.app[FILES_DIR]
    storage = os.urandom(16).hex()  # what uuid4().hex gives, at a fraction of its cost
    dest = files_dir / storage
    length = request.content_length
    if length is not None and length <= _SMALL_BODY:
        return await _create_small_data_file(request, dest, storage)
    reader = await request.multipart()
    filename: str | None = None
    received: tuple[str, int, str] | None = None  # md5, size, the part's filename
    try:
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise bad_request("Nested multipart bodies are not supported.")
            name, part_name = _disposition(part)
            if name == "file" and received is None:
                md5, size = await _receive_file(part, dest, body_tap(request))
                received = (md5, size, part_name or "")
            elif name == "filename":
                filename = (await part.text()).strip() or None
            else:
                await part.release()
        if received is None:
            raise field_error("file", "No file was submitted.")
    except BaseException:  # incl. cancellation by a dropped connection: no orphan bytes
        dest.unlink(missing_ok=True)
        raise
    md5, size, part_filename = received
    doc = request.app[STORE].insert(
        FILES,
        {
            "checksum": md5,
            "size": size,
            "filename": filename or part_filename or storage,
            "created": now_iso(),
            "_storage": storage,
        },
    )
    return web.json_response(serialize_data_file(request, doc), status=201)


_SMALL_BODY = 1 << 20  # multipart bodies up to this size are read whole and parsed here
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


def _plain_form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]] | None:
    """The parts of a plain ``multipart/form-data`` body: name -> (filename, content).

    Plain: CRLF framing, a ``Content-Disposition`` of the simple form on every part, no
    transfer encoding. None for anything else (read by the standard library's parser).
    A bulk upload sends thousands of these a second; aiohttp's streaming reader costs several
    times this per small file.
    """
    found = _BOUNDARY.search(content_type)
    if found is None:
        return None
    delim = b"--" + (found.group(1) or found.group(2)).encode("latin-1")
    if not body.startswith(delim):
        return None
    parts: dict[str, tuple[str | None, bytes]] = {}
    pos = len(delim)
    while not body.startswith(b"--", pos):
        if not body.startswith(b"\r\n", pos):
            return None
        head_end = body.find(b"\r\n\r\n", pos + 2)
        end = body.find(b"\r\n" + delim, head_end + 4) if head_end >= 0 else -1
        if end < 0:
            return None
        try:
            lines = body[pos + 2 : head_end].decode("utf-8").split("\r\n")
        except UnicodeDecodeError:
            return None
        match = None
        for line in lines:
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key == "content-disposition":
                match = _SIMPLE_DISPOSITION.match(value.strip())
            elif key == "content-transfer-encoding":
                return None
        if match is None:
            return None
        parts.setdefault(match.group(1), (match.group(2), body[head_end + 4 : end]))
        pos = end + 2 + len(delim)
    return parts


def _any_form(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Any ``multipart/form-data`` body (RFC 2231 file names, ...), by the stdlib parser."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    parts: dict[str, tuple[str | None, bytes]] = {}
    if not message.is_multipart():
        return parts
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts.setdefault(name, (part.get_filename(), payload))
    return parts


async def _create_small_data_file(request: web.Request, dest: Path, storage: str) -> web.Response:
    """``POST data_files/`` of a small multipart body: read whole, parsed, one write."""
    content_type = request.headers.get("Content-Type", "")
    body = await request.read()
    await body_tap(request).pace(len(body))
    parts = _plain_form(content_type, body)
    if parts is None:
        parts = _any_form(content_type, body)
    if "file" not in parts:
        raise field_error("file", "No file was submitted.")
    part_filename, content = parts["file"]
    named = parts.get("filename")
    filename = named[1].decode("utf-8", "replace").strip() if named else ""
    _write_whole(dest, content)
    doc = request.app[STORE].insert(
        FILES,
        {
            "checksum": hashlib.md5(content, usedforsecurity=False).hexdigest(),
            "size": len(content),
            "filename": filename or part_filename or storage,
            "created": now_iso(),
            "_storage": storage,
        },
    )
    return web.json_response(serialize_data_file(request, doc), status=201)


async def get_data_file(request: web.Request) -> web.Response:
    """``GET data_files/{id}/``."""
    doc = get_or_404(request.app[STORE], FILES, path_id(request))
    return web.json_response(serialize_data_file(request, doc))


async def serve_file_bytes(request: web.Request) -> web.FileResponse:
    """``GET _emulator/files/{id}/``: the uploaded bytes."""
    doc = get_or_404(request.app[STORE], FILES, path_id(request))
    path = request.app[FILES_DIR] / str(doc["_storage"])
    if not path.is_file():
        raise not_found()
    safe_name = str(doc["filename"]).replace('"', "")
    return web.FileResponse(
        path,
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{safe_name}"',
        },
    )


async def verify_checksums(request: web.Request) -> web.Response:
    """``POST data_files/verify_checksums/`` ``{"checksums": [...]}`` -> ``{"existing": ...}``."""
    data = body_object(await read_json(request))
    checksums = data.get("checksums")
    if not isinstance(checksums, list) or not all(isinstance(c, str) for c in checksums):
        raise field_error("checksums", "Expected a list of strings.")
    existing: dict[str, int] = {}
    for doc in request.app[STORE].list(FILES, limit=None, checksum=sorted(set(checksums))):
        existing.setdefault(doc["checksum"], doc["id"])
    return web.json_response({"existing": existing})


# -- data units ------------------------------------------------------------------------------


def _validate_unit(item: Any, index: int, collections: set[int]) -> Doc:
    where = f"item {index}"
    if not isinstance(item, dict):
        raise bad_request(f"{where}: expected an object.")
    collection = item.get("data_collection")
    if not isinstance(collection, int) or isinstance(collection, bool):
        raise bad_request({"data_collection": [f"{where}: This field is required."]})
    if collection not in collections:
        raise bad_request(
            {"data_collection": [f'{where}: Invalid pk "{collection}" - object does not exist.']}
        )
    files = item.get("files", {})
    if not isinstance(files, dict):
        raise bad_request({"files": [f"{where}: Expected an object of slot -> file."]})
    for slot, spec in files.items():
        if not isinstance(spec, dict):
            raise bad_request({"files": [f"{where}: slot {slot!r} must be an object."]})
        path = spec.get("path")
        if path is not None and not isinstance(path, str):
            # Any string is taken, a local absolute path included: the official client sends
            # ``str(path)`` of the local file, and the real API stores it as given.
            raise bad_request({"files": [f"{where}: slot {slot!r}: path must be a string."]})
    meta = item.get("meta", {})
    if not isinstance(meta, dict):
        raise bad_request({"meta": [f"{where}: Expected an object."]})
    groups = item.get("groups", [])
    if not isinstance(groups, list):
        raise bad_request({"groups": [f"{where}: Expected a list."]})
    return {
        "data_collection": collection,
        "files": files,
        "meta": meta,
        "groups": groups,
        "created": now_iso(),
    }


async def list_units(request: web.Request) -> web.Response:
    """``GET data_units/`` (paginated; ``?data_collection=`` filters)."""
    filters = query_filters(request, ints=("data_collection",))
    return paginate(request, request.app[STORE], UNITS, filters)


async def create_units(request: web.Request) -> web.Response:
    """``POST data_units/``: a list of 1..1000 units -> 201 ``{"count", "results"}``.

    That is how the real backend answers a batch (the official client reads
    ``reply.get("results", [reply])``). One unit object -> 201 the created unit.
    """
    body = await read_json(request)
    single = isinstance(body, dict)
    if single:
        body = [body]
    if not isinstance(body, list):
        raise bad_request("Expected a data unit object or a list of data units.")
    if not 1 <= len(body) <= MAX_UNITS_PER_REQUEST:
        raise bad_request(
            f"Send between 1 and {MAX_UNITS_PER_REQUEST} data units per request, got {len(body)}."
        )
    store = request.app[STORE]
    wanted = {
        i["data_collection"]
        for i in body
        if isinstance(i, dict) and isinstance(i.get("data_collection"), int)
    }
    known = {d["id"] for d in store.list(COLLECTIONS, limit=None, id=sorted(wanted))}
    docs = [_validate_unit(item, n, known) for n, item in enumerate(body)]
    created = store.insert_many(UNITS, docs)
    if single:
        return web.json_response(created[0], status=201)
    return web.json_response({"count": len(created), "results": created}, status=201)


async def get_unit(request: web.Request) -> web.Response:
    """``GET data_units/{id}/``."""
    return web.json_response(get_or_404(request.app[STORE], UNITS, path_id(request)))


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module."""
    register_tables(store)
    r = app.router
    r.add_get("/data_collections/", list_collections)
    r.add_post("/data_collections/", create_collection)
    r.add_get("/data_collections/{id}/", get_collection)
    r.add_post("/data_files/", create_data_file)
    r.add_post("/data_files/verify_checksums/", verify_checksums)
    r.add_get("/data_files/{id}/", get_data_file)
    r.add_get(_FILE_ROUTE + "{id}/", serve_file_bytes, name="emulator_file")
    r.add_get("/data_units/", list_units)
    r.add_post("/data_units/", create_units)
    r.add_get("/data_units/{id}/", get_unit)
