"""Exports (EXT): a project's annotations written to the S3 stand-in, and faultable downloads.

``POST projects/{id}/exports/`` with ``{"destination": "s3", "bucket", "key", "format"}``
exports every assignment of the project (``json``: the records ``project.export("json")``
returns, task data included; other formats: the records ``client.exports.export`` builds,
each assignment's wire form) with the SDK's pure converters (``synapse_async.export``) and writes
the result to ``<s3_root>/<bucket>/<key>`` atomically (temp file + rename). ``json`` writes a
JSON array, ``coco`` the COCO document, ``csv`` the CSV file; ``yolo``, ``voc`` and ``spacy``
(several files) a zip of the export folder. The emulator answers once the file is in place:
201 with the export record ``{"id", "project", "destination", "bucket", "key", "uri",
"format", "status": "completed", "items", "annotations", "size", "created", "finished"}``
(``GET projects/{id}/exports/{export_id}/`` reads it again). 400: unknown format, bad bucket
name or key (no leading ``/``, no ``.``/``..`` segments, no backslash), or a bucket that
does not exist (as for imports, buckets are the S3 root's subdirectories).

``GET data_files/{id}/download/`` serves a data file's bytes under the API root, so that the
fault injector reaches downloads (``_emulator/files/`` is never faulted): latency, 5xx and
429 come from the middleware; with ``drop_rate`` the connection is closed part-way through the
body (drawn like request-body drops); ``bandwidth`` paces the body. ``Range: bytes=N-`` (or
``N-M``) is honoured with 206 and ``Content-Range``, so clients can resume; an unsatisfiable
range gets 416.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aiohttp import web

from ...export import FormatOptions, canonical_format, write_export
from ...export.files import AtomicFile
from ...export.synapse_json import dump_line, project_record
from ..clock import now_iso
from ..errors import read_json
from ..keys import FAULTS, FILES_DIR, STORE
from ..store import Doc, Store
from ..workflow_runtime import WORKFLOW
from . import assignments, data, projects, tasks
from .params import body_object, field_error, get_or_404, path_id

__all__ = ["TABLE", "register_tables", "setup"]

TABLE = "exports"
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SINGLE = {
    "json": "synapse_default.json",
    "coco": "annotations/instances_default.json",
    "csv": "annotations.csv",
}
_CHUNK = 1 << 16
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(TABLE, indexed=("project",))


def _check_key(key: Any) -> str:
    if (
        not isinstance(key, str)
        or not key
        or len(key) > 1024
        or key.startswith("/")
        or "\\" in key
        or "\0" in key
        or any(p in ("", ".", "..") for p in key.split("/"))
    ):
        raise field_error(
            "key",
            "Enter an object key without a leading '/', empty, '.' or "
            "'..' segments, or backslashes.",
        )
    return key


def _validate(body: Any, s3_root: Path) -> tuple[str, str, str, Path]:
    payload = body_object(body)
    if payload.get("destination", "s3") != "s3":
        raise field_error("destination", "Only 's3' is supported.")
    bucket = payload.get("bucket")
    if not isinstance(bucket, str) or not _BUCKET.match(bucket) or ".." in bucket:
        raise field_error(
            "bucket", "Enter a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)."
        )
    key = _check_key(payload.get("key"))
    fmt = payload.get("format", "json")
    try:
        fmt = canonical_format(fmt) if isinstance(fmt, str) else canonical_format("?")
    except ValueError as exc:
        raise field_error("format", str(exc)) from None
    root = s3_root / bucket
    if not root.is_dir():
        raise field_error("bucket", f"The bucket {bucket!r} does not exist.")
    return bucket, key, fmt, root / key


def _records(store: Store, project_id: int) -> Iterator[Doc]:
    """The project's assignments in id order, read 1000 at a time (bounded memory)."""
    last = 0
    while True:
        page = store.list(assignments.TABLE, limit=1000, id_gt=last, project=project_id)
        if not page:
            return
        yield from page
        last = page[-1]["id"]


def _zip_dir(folder: Path, dest: Path) -> None:
    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder).as_posix())


def _write_json(store: Store, project_id: int, dest: Path) -> dict[str, Any]:
    """``json``: the records ``project.export("json")`` returns, as one JSON array."""
    items = annotations = 0
    out = AtomicFile(dest, durable=False)
    try:
        out.handle.write("[")
        for assignment in _records(store, project_id):
            record = project_record(assignment, store.get(tasks.TABLE, assignment["task"]))
            out.handle.write(("," if items else "") + "\n" + dump_line(record))
            items += 1
            annotations += len(record["annotations"])
        out.handle.write("\n]\n")
        out.commit()
    except BaseException:
        out.discard()
        raise
    return {"items": items, "annotations": annotations, "size": dest.stat().st_size}


def run_export(store: Store, project_id: int, fmt: str, dest: Path) -> dict[str, Any]:
    """Export ``project_id`` as ``fmt`` into ``dest`` atomically; returns the counts.

    Runs in a worker thread (the store is thread-safe). The export is built in a scratch
    folder outside the bucket, then copied next to ``dest`` under a hidden temp name and
    renamed over it, so the key never holds a partial object.
    """
    if fmt == "json":
        dest.parent.mkdir(parents=True, exist_ok=True)
        return _write_json(store, project_id, dest)
    scratch = Path(tempfile.mkdtemp(prefix="synapse-emulator-export-"))
    tmp = dest.parent / f".{dest.name}.{secrets.token_hex(6)}.tmp"
    try:
        report = write_export(
            _records(store, project_id),
            format=fmt,
            output_dir=scratch / "out",
            options=FormatOptions(json_lines=False, spacy_docbin=False),
        )
        dest.parent.mkdir(parents=True, exist_ok=True)
        if fmt in _SINGLE:
            shutil.copyfile(scratch / "out" / _SINGLE[fmt], tmp)
        else:
            _zip_dir(scratch / "out", tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "items": report.items,
        "annotations": report.annotations_written,
        "size": dest.stat().st_size,
    }


async def create_export(request: web.Request) -> web.Response:
    """``POST projects/{id}/exports/`` -> 201 the completed export record."""
    store = request.app[STORE]
    project = get_or_404(store, projects.TABLE, path_id(request))
    workflow = request.app[WORKFLOW]
    bucket, key, fmt, dest = _validate(await read_json(request), workflow.s3_root)
    created = now_iso()
    counts = await asyncio.to_thread(run_export, store, project["id"], fmt, dest)
    doc = store.insert(
        TABLE,
        {
            "project": project["id"],
            "destination": "s3",
            "bucket": bucket,
            "key": key,
            "uri": f"s3://{bucket}/{key}",
            "format": fmt,
            "status": "completed",
            **counts,
            "created": created,
            "finished": now_iso(),
        },
    )
    return web.json_response(doc, status=201)


async def get_export(request: web.Request) -> web.Response:
    """``GET projects/{id}/exports/{export_id}/``."""
    doc = get_or_404(request.app[STORE], TABLE, path_id(request, "export_id"))
    if doc["project"] != path_id(request):
        raise web.HTTPNotFound()
    return web.json_response(doc)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end exclusive)`` for a ``Range`` header; None: the whole file."""
    match = _RANGE.match(header.strip()) if header else None
    if match is None:
        return None
    start = int(match.group(1))
    end = min(int(match.group(2)) + 1, size) if match.group(2) else size
    if start >= size or end <= start:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, end


async def download_data_file(request: web.Request) -> web.StreamResponse:
    """``GET data_files/{id}/download/``: the bytes, with Range and response-body faults."""
    doc = get_or_404(request.app[STORE], data.FILES, path_id(request))
    path = request.app[FILES_DIR] / str(doc["_storage"])
    if not path.is_file():
        raise web.HTTPNotFound()
    size = path.stat().st_size
    span = _byte_range(request.headers.get("Range"), size)
    start, end = span or (0, size)
    headers = {
        "Content-Type": "application/octet-stream",
        "Accept-Ranges": "bytes",
        "Content-Length": str(end - start),
    }
    if span is not None:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    injector = request.app[FAULTS]
    faults = injector.faults
    fault = None
    if injector.applies_to(request.path) and (faults.drop_rate > 0 or faults.bandwidth):
        fault = injector.decide_body(end - start)
    response = web.StreamResponse(status=206 if span else 200, headers=headers)
    await response.prepare(request)
    began = asyncio.get_running_loop().time()
    sent = 0
    with path.open("rb") as fh:
        fh.seek(start)
        while sent < end - start:
            chunk = await asyncio.to_thread(fh.read, min(_CHUNK, end - start - sent))
            if not chunk:
                break
            if (
                fault is not None
                and fault.drop_after is not None
                and sent + len(chunk) >= fault.drop_after
            ):
                await response.write(chunk[: fault.drop_after - sent])
                injector.dropped_connections += 1
                if request.transport is not None:
                    request.transport.close()
                return response
            await response.write(chunk)
            sent += len(chunk)
            if fault is not None and fault.bandwidth:
                delay = began + sent / fault.bandwidth - asyncio.get_running_loop().time()
                if delay > 0:
                    await asyncio.sleep(delay)
    await response.write_eof()
    return response


def setup(app: web.Application, store: Store) -> None:
    """Register the table and routes of this module (after ``workflow``)."""
    register_tables(store)
    r = app.router
    r.add_post("/projects/{id}/exports/", create_export)
    r.add_get("/projects/{id}/exports/{export_id}/", get_export)
    r.add_get("/data_files/{id}/download/", download_data_file)
