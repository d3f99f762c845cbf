"""``chunked_upload/``: the v1 sequential protocol and the parallel extension (DESIGN 5.3, 5.4).

v1: ``PUT chunked_upload/`` (multipart ``filename`` + ``file``, ``Content-Range``) creates an
upload from its first chunk; ``PUT chunked_upload/{id}/`` appends the next one (its start must
be the upload's offset); ``POST chunked_upload/{id}/`` ``{"md5"}`` completes it.

EXT: ``POST chunked_upload/`` ``{"filename", "size", "part_size"}`` creates a parallel upload;
``PUT chunked_upload/{id}/parts/{n}/`` stores part n (raw body of the part's exact length, its
``Content-MD5`` checked, written at (n-1)*part_size; a repeated part replaces the earlier one);
the same ``POST`` completes it once every part is there and the whole-file MD5 matches.

Both: ``GET chunked_upload/{id}/`` (offset, status; parts for parallel uploads), ``DELETE``
aborts, and an upload not completed within the TTL expires (410). Bytes go to a sparse file
``files/upload-<id>``, written with ``os.pwrite`` in worker threads as the body streams in
(1 MiB batches). The whole-file MD5 is advanced over the contiguous prefix of stored parts by
a background task, so completing a large upload does not re-read all of it.

Control: ``GET _emulator/uploads/`` (settings, counters per upload and in total, body-fault
counters); ``PUT _emulator/uploads/`` ``{"parallel": bool, "ttl": seconds, "reset_counters":
true}``. With ``parallel`` off the server is like the real backend: ``POST chunked_upload/`` is
405 and the parts routes are 404.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import re
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from ..clock import now_iso
from ..errors import ApiError, bad_request, not_found, read_json
from ..faults import body_tap, reply_lies
from ..keys import FAULTS, FILES_DIR
from ..store import Doc, Store
from ..upload_service import BATCH, TABLE, UPLOADS, UploadService
from .params import body_object, field_error

__all__ = [
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "UPLOADS",
    "completed_upload",
    "setup",
]

MIN_PART_SIZE = 5 * 2**20
MAX_PART_SIZE = 5 * 2**30
MAX_PARTS = 10_000
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_MD5_HEX = re.compile(r"^[0-9a-f]{32}$")


def _url(request: web.Request, upload_id: str) -> str:
    return f"{request.url.origin()}/chunked_upload/{upload_id}/"


WIRE_STATUS = {"uploading": 1, "complete": 2, "failed": 3}
"""The ``status`` integers the real backend sends (drf-chunked-upload's enum: 2 = complete)."""


def wire_status(doc: Doc) -> int:
    """The upload's ``status`` as the real backend spells it on the wire (an integer)."""
    return WIRE_STATUS[doc["status"]]


def _result(doc: Doc) -> Doc:
    return {
        "id": doc["upload_id"],
        "checksum": doc["checksum"],
        "size": doc["size"],
        "filename": doc["filename"],
        "completed_at": doc["completed_at"],
        "status": wire_status(doc),
    }


# -- request bodies ---------------------------------------------------------------------------


def body_lost(exc: BaseException) -> ApiError:
    """The 400 for a body that ended before its declared length (the client went away)."""
    return bad_request(
        f"The request body ended early ({type(exc).__name__}).", code="incomplete_body"
    )


async def tapped(chunks: AsyncIterator[bytes], request: web.Request) -> AsyncIterator[bytes]:
    """The body chunks through the request's fault tap; a lost connection becomes a 400."""
    tap = body_tap(request)
    while True:
        try:
            chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except (ConnectionError, HttpProcessingError, asyncio.IncompleteReadError) as exc:
            raise body_lost(exc) from None
        try:
            chunk = await tap.feed(chunk)
        except ConnectionError as exc:
            raise body_lost(exc) from None
        yield chunk


async def body_chunks(request: web.Request) -> AsyncIterator[bytes]:
    """The request body as it arrives, one received buffer at a time.

    Unlike ``content.iter_chunked(n)``, which joins received buffers into ``n``-byte pieces
    (a copy of every byte), this hands over aiohttp's buffers as they are; the writer batches
    them into one ``pwritev`` per ~1 MiB.
    """
    while True:
        data, end_of_http_chunk = await request.content.readchunk()
        if not data and not end_of_http_chunk:
            return
        if data:
            yield data


async def field_chunks(field: BodyPartReader) -> AsyncIterator[bytes]:
    """The bytes of one multipart field, in chunks of up to ``BATCH``."""
    while True:
        chunk = await field.read_chunk(BATCH)
        if not chunk:
            return
        yield chunk


def _int_field(data: Doc, name: str, low: int, high: int) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise field_error(name, f"Expected an integer between {low} and {high}.")
    return value


# -- parallel (EXT) ----------------------------------------------------------------------------


async def create_parallel(request: web.Request) -> web.Response:
    """``POST chunked_upload/`` ``{"filename", "size", "part_size"}`` -> 201."""
    svc = request.app[UPLOADS]
    if not svc.settings.parallel:
        raise web.HTTPMethodNotAllowed("POST", ["PUT"])
    data = body_object(await read_json(request))
    filename = data.get("filename")
    if not isinstance(filename, str) or not filename.strip():
        raise field_error("filename", "This field is required.")
    size = _int_field(data, "size", 1, MAX_PARTS * MAX_PART_SIZE)
    part_size = _int_field(data, "part_size", MIN_PART_SIZE, MAX_PART_SIZE)
    if math.ceil(size / part_size) > MAX_PARTS:
        raise field_error("part_size", f"At most {MAX_PARTS} parts; use larger parts.")
    doc = svc.create(filename=filename, size=size, part_size=part_size, parallel=True)
    return web.json_response(
        {
            "id": doc["upload_id"],
            "url": _url(request, doc["upload_id"]),
            "part_size": part_size,
            "part_count": doc["part_count"],
            "expires": doc["expires"],
            "parallel": True,
        },
        status=201,
    )


def _content_md5(request: web.Request) -> bytes:
    raw = request.headers.get("Content-MD5", "")
    try:
        digest = base64.b64decode(raw, validate=True)
    except ValueError:
        digest = b""
    if len(digest) != 16:
        raise bad_request(
            "Content-MD5 must be the base64 of the part's 16-byte MD5.", code="invalid_digest"
        )
    return digest


async def put_part(request: web.Request) -> web.Response:
    """``PUT chunked_upload/{id}/parts/{n}/``: raw part bytes with ``Content-MD5``."""
    svc = request.app[UPLOADS]
    if not svc.settings.parallel:
        raise not_found()
    upload_id = request.match_info["id"]
    doc = svc.find_open(upload_id)
    if not doc["parallel"]:
        raise bad_request("This upload uses the sequential protocol; PUT chunks to its url.")
    try:
        n = int(request.match_info["n"])
    except ValueError:
        raise not_found() from None
    if not 1 <= n <= doc["part_count"]:
        raise not_found()
    offset = (n - 1) * doc["part_size"]
    expected = min(doc["part_size"], doc["size"] - offset)
    if request.content_length != expected:
        raise bad_request(
            f"Part {n} must be {expected} bytes, got {request.content_length}.",
            code="size_mismatch",
        )
    claimed = _content_md5(request)
    live, counter = svc.live(doc), svc.counter(upload_id)
    counter.part_puts += 1
    resend = n in live.attempted
    live.attempted.add(n)
    counter.resends += resend
    async with live.part_locks.setdefault(n, asyncio.Lock()):
        svc.forget_part(upload_id, n)
        digest = hashlib.md5(usedforsecurity=False)
        try:
            size = await svc.receive(
                tapped(body_chunks(request), request),
                doc,
                offset,
                expected,
                [digest],
                counter,
                resend,
                on_written=lambda w: svc.part_written(upload_id, n, w),
            )
            if size != expected:
                raise body_lost(EOFError())
            if digest.digest() != claimed:
                counter.checksum_mismatches += 1
                raise bad_request(
                    f"Part {n}: the MD5 of the received bytes ({digest.hexdigest()}) does not "
                    f"match Content-MD5 ({claimed.hex()}).",
                    code="checksum_mismatch",
                )
        except BaseException:
            svc.part_failed(upload_id, n)
            raise
        svc.record_part(upload_id, n, size, digest.hexdigest())
        counter.parts_stored += 1
    return web.json_response(
        reply_lies(request.app[FAULTS], request, {"n": n, "size": size, "md5": digest.hexdigest()})
    )


# -- v1 (sequential) ---------------------------------------------------------------------------


def _content_range(request: web.Request) -> tuple[int, int, int]:
    match = _RANGE.match(request.headers.get("Content-Range", "").strip())
    if match is None:
        raise bad_request("Content-Range header must be 'bytes {start}-{end}/{total}'.")
    start, end, total = (int(g) for g in match.groups())
    if not start <= end < total:
        raise bad_request("Content-Range is not a valid range.")
    return start, end, total


async def put_chunk(request: web.Request) -> web.Response:
    """``PUT chunked_upload/`` (first chunk) or ``PUT chunked_upload/{id}/`` (the next)."""
    svc = request.app[UPLOADS]
    upload_id: str | None = request.match_info.get("id")
    start, end, total = _content_range(request)
    filename: str | None = None
    doc: Doc | None = None
    try:
        reader = await request.multipart()
        while (field := await reader.next()) is not None:
            if not isinstance(field, BodyPartReader):
                raise bad_request("Nested multipart bodies are not supported.")
            if field.name == "filename":
                filename = (await field.text()).strip() or None
            elif field.name == "file" and doc is None:
                if upload_id is None:
                    if start != 0:
                        raise bad_request("Offsets do not match.", offset=0)
                    doc = svc.create(
                        filename=filename or field.filename or "upload",
                        size=total,
                        part_size=end + 1,
                        parallel=False,
                    )
                    upload_id = doc["upload_id"]
                doc = await _receive_chunk(request, svc, upload_id, field, start, end, total)
            else:
                await field.release()
    except (ConnectionError, HttpProcessingError, asyncio.IncompleteReadError) as exc:
        raise body_lost(exc) from None  # the client went away mid-body
    if doc is None:
        raise field_error("file", "No file was submitted.")
    if start == 0 and filename and filename != doc["filename"]:  # the field came after the file
        doc = svc.store.update(TABLE, doc["id"], {"filename": filename}) or doc
    return web.json_response(
        {
            "id": doc["upload_id"],
            "url": _url(request, doc["upload_id"]),
            "offset": doc["offset"],
            "expires": doc["expires"],
        }
    )


async def _receive_chunk(
    request: web.Request,
    svc: UploadService,
    upload_id: str,
    field: BodyPartReader,
    start: int,
    end: int,
    total: int,
) -> Doc:
    live, counter = svc.live(svc.find_open(upload_id)), svc.counter(upload_id)
    async with live.lock:
        doc = svc.find_open(upload_id)
        if doc["parallel"]:
            raise bad_request("This upload uses the parallel protocol; PUT its parts.")
        if total != doc["size"]:
            raise bad_request(f"Content-Range total must be {doc['size']}.")
        if start != doc["offset"]:
            raise bad_request("Offsets do not match.", offset=doc["offset"])
        counter.chunk_puts += 1
        await svc.rehash_prefix(doc, live, start)
        h = live.md5.copy()
        size = await svc.receive(
            tapped(field_chunks(field), request), doc, start, end - start + 1, [h], counter
        )
        if size != end - start + 1:
            raise bad_request("File size doesn't match headers.")
        doc = svc.find_open(upload_id)
        live.md5, live.hashed = h, end + 1
        counter.parts_stored += 1
        updated = svc.store.update(TABLE, doc["id"], {"offset": end + 1})
        assert updated is not None
        return updated


# -- both --------------------------------------------------------------------------------------


async def complete(request: web.Request) -> web.Response:
    """``POST chunked_upload/{id}/`` ``{"md5"}``: check every byte arrived and the MD5."""
    svc = request.app[UPLOADS]
    doc = svc.find(request.match_info["id"])
    md5 = body_object(await read_json(request)).get("md5")
    if not isinstance(md5, str) or not _MD5_HEX.match(md5.lower()):
        raise field_error("md5", "Expected the hex MD5 of the whole file.")
    md5 = md5.lower()
    if doc["status"] == "complete":
        if md5 == doc["checksum"]:
            return web.json_response(reply_lies(request.app[FAULTS], request, _result(doc)))
        raise bad_request("Upload has already been marked as complete.")
    if doc["parallel"]:
        missing = [n for n in range(1, doc["part_count"] + 1) if str(n) not in doc["parts"]]
        if missing:
            raise bad_request(
                f"The upload is incomplete: {len(missing)} parts missing.",
                code="incomplete",
                missing=missing[:100],
            )
    elif doc["offset"] != doc["size"]:
        raise bad_request(
            f"The upload is incomplete: {doc['offset']} of {doc['size']} bytes.",
            code="incomplete",
            offset=doc["offset"],
        )
    whole = await svc.whole_md5(doc)
    if whole is None:
        raise bad_request("The upload is incomplete.", code="incomplete", missing=[])
    if whole != md5:
        raise bad_request(
            f"The MD5 of the stored file is {whole}, not {md5}.", code="checksum_mismatch"
        )
    doc = svc.find_open(doc["upload_id"])
    done = svc.store.update(
        TABLE, doc["id"], {"status": "complete", "checksum": whole, "completed_at": now_iso()}
    )
    assert done is not None
    svc.drop_live(doc["upload_id"])
    return web.json_response(reply_lies(request.app[FAULTS], request, _result(done)))


async def get_upload(request: web.Request) -> web.Response:
    """``GET chunked_upload/{id}/``: offset, status, expiry; parts of a parallel upload."""
    doc = request.app[UPLOADS].find(request.match_info["id"])
    out: Doc = {
        "id": doc["upload_id"],
        "offset": doc["offset"],
        "status": wire_status(doc),
        "completed_at": doc["completed_at"],
        "expires": doc["expires"],
    }
    if doc["parallel"]:
        out["part_size"], out["part_count"] = doc["part_size"], doc["part_count"]
        out["parts"] = [
            {"n": int(n), **p} for n, p in sorted(doc["parts"].items(), key=lambda kv: int(kv[0]))
        ]
    return web.json_response(out)


async def abort(request: web.Request) -> web.Response:
    """``DELETE chunked_upload/{id}/`` -> 204 (an incomplete upload and its bytes are gone)."""
    svc = request.app[UPLOADS]
    doc = svc.get(request.match_info["id"])
    if doc is None:
        raise not_found()
    if doc["status"] == "complete":
        raise bad_request("A completed upload cannot be aborted.")
    svc.delete(doc)
    return web.Response(status=204)


def completed_upload(app: web.Application, upload_id: Any) -> Doc | None:
    """The record of a completed upload (for ``POST data_files/ {"chunked_upload": id}``)."""
    doc = app[UPLOADS].get(str(upload_id))
    return doc if doc is not None and doc["status"] == "complete" else None


# -- control -----------------------------------------------------------------------------------


async def get_control(request: web.Request) -> web.Response:
    """``GET _emulator/uploads/``: settings and counters."""
    return web.json_response(request.app[UPLOADS].counters_json())


async def put_control(request: web.Request) -> web.Response:
    """``PUT _emulator/uploads/`` ``{"parallel"?, "ttl"?, "reset_counters"?}``."""
    svc = request.app[UPLOADS]
    data = body_object(await read_json(request))
    unknown = sorted(set(data) - {"parallel", "ttl", "reset_counters"})
    if unknown:
        raise bad_request(f"unknown fields: {', '.join(unknown)}")
    if "parallel" in data:
        if not isinstance(data["parallel"], bool):
            raise field_error("parallel", "Must be a boolean.")
        svc.settings.parallel = data["parallel"]
    if "ttl" in data:
        ttl = data["ttl"]
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not ttl > 0:
            raise field_error("ttl", "Must be a positive number of seconds.")
        svc.settings.ttl = float(ttl)
    if data.get("reset_counters"):
        svc.counters.clear()
        svc.injector.dropped_connections = svc.injector.corrupted_bodies = 0
    return web.json_response(svc.counters_json())


def setup(app: web.Application, store: Store) -> None:
    """Register the table, the service and the routes of this module."""
    svc = UploadService(store, app[FILES_DIR], app[FAULTS])
    svc.register()
    app[UPLOADS] = svc
    app.on_cleanup.append(svc.close)
    r = app.router
    r.add_post("/chunked_upload/", create_parallel)
    r.add_put("/chunked_upload/", put_chunk)
    r.add_get("/chunked_upload/{id}/", get_upload)
    r.add_put("/chunked_upload/{id}/", put_chunk)
    r.add_post("/chunked_upload/{id}/", complete)
    r.add_delete("/chunked_upload/{id}/", abort)
    r.add_put("/chunked_upload/{id}/parts/{n}/", put_part)
    r.add_get("/_emulator/uploads/", get_control)
    r.add_put("/_emulator/uploads/", put_control)
