"""``projects/{id}/imports/`` (EXT): server-side import of files from an S3 bucket.

The emulator stands a local directory in for S3: bucket ``b`` is ``<s3_root>/b`` and a key is
a file's path below it (``/``-separated). A POST checks the request (400: bad bucket name,
missing bucket, bad prefix; 409: the project no longer takes tasks), stores an import job
(202) and runs it in the background: every regular file whose key starts with ``prefix`` and
whose extension is in ``file_types`` (any, when empty) becomes a data file (bytes copied,
MD5 computed in a worker thread) and a task with data
``{"file_name": key, "url": <file URL>, "<data_type>_url": <the same URL>, "source":
"s3://b/key", "data_file": id}`` (``image_url`` for image projects, ``video_url`` for video).
The job ends ``completed`` (event ``import.completed``) or ``failed`` with ``error``, e.g.
when no file matched (event ``import.failed``).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from ..clock import now_iso
from ..errors import read_json
from ..keys import FILES_DIR, STORE
from ..store import Doc, Store
from ..workflow_runtime import WORKFLOW, Workflow
from . import data, projects, tasks
from .params import body_object, field_error, get_or_404, path_id
from .workflow import mark_has_tasks, require_uploadable

__all__ = ["TABLE", "register_tables", "setup"]

TABLE = "imports"
BATCH = 200
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def register_tables(store: Store) -> None:
    """Create the tables this module owns."""
    store.register_table(TABLE, indexed=("project",))


def _validate(body: Any, s3_root: Path) -> tuple[str, str, list[str], Path]:
    payload = body_object(body)
    if payload.get("source", "s3") != "s3":
        raise field_error("source", "Only 's3' is supported.")
    bucket = payload.get("bucket")
    if not isinstance(bucket, str) or not _BUCKET.match(bucket) or ".." in bucket:
        raise field_error(
            "bucket", "Enter a valid bucket name (3-63 lowercase letters, digits, dots, hyphens)."
        )
    prefix = payload.get("prefix", "") or ""
    if (
        not isinstance(prefix, str)
        or prefix.startswith("/")
        or "\\" in prefix
        or ".." in prefix.split("/")
    ):
        raise field_error("prefix", "Enter a key prefix without a leading '/' or '..'.")
    types = payload.get("file_types") or []
    if not isinstance(types, list) or not all(isinstance(t, str) and t.strip(". ") for t in types):
        raise field_error("file_types", "Expected a list of file extensions.")
    root = s3_root / bucket
    if not root.is_dir():
        raise field_error("bucket", f"The bucket {bucket!r} does not exist.")
    return bucket, prefix, sorted({t.strip().lstrip(".").lower() for t in types}), root


def _matching_keys(root: Path, prefix: str, types: list[str]) -> list[str]:
    keys = []
    for dirpath, dirnames, filenames in os.walk(root):  # does not follow symlinked dirs
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath, name)
            if path.is_symlink() or not path.is_file():
                continue
            key = path.relative_to(root).as_posix()
            ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
            if key.startswith(prefix) and (not types or ext in types):
                keys.append(key)
    return keys


def _ingest(src: Path, dest: Path) -> tuple[str, int]:
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    with src.open("rb") as fin, dest.open("wb") as fout:
        while chunk := fin.read(1 << 20):
            digest.update(chunk)
            fout.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


async def _run_import(
    workflow: Workflow, store: Store, files_dir: Path, job: Doc, root: Path, file_url: str
) -> None:
    pid, job_id = job["project"], job["id"]
    store.update(TABLE, job_id, {"status": "running"})
    try:
        keys = await asyncio.to_thread(_matching_keys, root, job["prefix"], job["file_types"])
        if not keys:
            kinds = ", ".join(job["file_types"]) or "any"
            raise LookupError(
                f"no file under s3://{job['bucket']}/{job['prefix']} matches "
                f"the file types ({kinds})"
            )
        files = 0
        owner = store.get(projects.TABLE, pid) or {}
        media = str(owner.get("data_type") or "image")
        for start in range(0, len(keys), BATCH):
            batch = keys[start : start + BATCH]
            docs = []
            for key in batch:
                storage = uuid.uuid4().hex
                md5, size = await asyncio.to_thread(_ingest, root / key, files_dir / storage)
                docs.append(
                    {
                        "checksum": md5,
                        "size": size,
                        "filename": key.rsplit("/", 1)[-1],
                        "created": now_iso(),
                        "_storage": storage,
                    }
                )
            created = store.insert_many(data.FILES, docs)
            now = now_iso()
            store.insert_many(
                tasks.TABLE,
                [
                    tasks.new_task(
                        pid,
                        now=now,
                        data={
                            "file_name": key,
                            "url": (url := file_url.replace("{id}", str(f["id"]))),
                            f"{media}_url": url,
                            "source": f"s3://{job['bucket']}/{key}",
                            "data_file": f["id"],
                        },
                    )
                    for key, f in zip(batch, created, strict=True)
                ],
            )
            files += len(created)
            store.update(TABLE, job_id, {"file_count": files, "task_count": files})
        project = store.get(projects.TABLE, pid)
        if project is not None:
            mark_has_tasks(store, project)
        store.update(TABLE, job_id, {"status": "completed", "finished": now_iso()})
        workflow.dispatcher.emit(
            "import.completed", pid, {"project_id": pid, "import_id": job_id, "task_count": files}
        )
    except (OSError, LookupError) as exc:
        message = str(exc) if isinstance(exc, LookupError) else f"{type(exc).__name__}: {exc}"
        store.update(TABLE, job_id, {"status": "failed", "error": message, "finished": now_iso()})
        workflow.dispatcher.emit(
            "import.failed", pid, {"project_id": pid, "import_id": job_id, "error": message}
        )


async def create_import(request: web.Request) -> web.Response:
    """``POST projects/{id}/imports/`` -> 202 the job.

    Body: ``{"source": "s3", "bucket", "prefix", "file_types"}``.
    """
    store = request.app[STORE]
    workflow = request.app[WORKFLOW]
    project = get_or_404(store, projects.TABLE, path_id(request))
    bucket, prefix, types, root = _validate(await read_json(request), workflow.s3_root)
    require_uploadable(project)
    job = store.insert(
        TABLE,
        {
            "project": project["id"],
            "source": "s3",
            "bucket": bucket,
            "prefix": prefix,
            "file_types": types,
            "status": "pending",
            "file_count": 0,
            "task_count": 0,
            "error": None,
            "created": now_iso(),
            "finished": None,
        },
    )
    file_url = str(
        request.url.origin().join(request.app.router["emulator_file"].url_for(id="0"))
    ).replace("/0/", "/{id}/")
    workflow.spawn(
        _run_import(workflow, store, request.app[FILES_DIR], job, root, file_url),
        name=f"s3-import-{job['id']}",
    )
    return web.json_response(job, status=202)


async def get_import(request: web.Request) -> web.Response:
    """``GET projects/{id}/imports/{import_id}/``."""
    store = request.app[STORE]
    job = get_or_404(store, TABLE, path_id(request, "import_id"))
    if job["project"] != path_id(request):
        raise web.HTTPNotFound()
    return web.json_response(job)


def setup(app: web.Application, store: Store) -> None:
    """Register the tables and routes of this module (after ``workflow``)."""
    register_tables(store)
    app.router.add_post("/projects/{id}/imports/", create_import)
    app.router.add_get("/projects/{id}/imports/{import_id}/", get_import)
