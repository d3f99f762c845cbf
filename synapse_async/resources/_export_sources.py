"""Where an export's inputs come from: listed objects -> records, original files -> disk.

Pure functions build one export record per listed object (the shape
``synapse_async.export.read_item`` reads); :class:`FileLocator` finds the URL of an original
file when the record's own metadata does not carry one (the extra requests it makes are
listed in its docstring); :class:`Fetcher` downloads the files (bounded, atomic, resumed) and
:class:`Tracker` reports progress.

Records:

- assignment: its wire form (``id, project, task, status, data, file, tags, created,
  modified`` and any field the SDK does not model): ``data`` is the DM schema v1 document,
  ``file`` the per-media metadata (``{"image_1": {"file_name", "width", "height"}}`` from the
  emulator's simulator, URLs too on servers that send them).
- ground_truth: the event's wire form (``files``, ``data``, ``meta``, ...); its own
  ``split`` is its ``category`` (or ``meta.category``) when it has one, so that without split
  ratios ground-truth splits are kept.
- task: ``{"id", "task": <the task's wire form>, "assignment": <id or None>, "data": <the
  latest assignment's document or None>, "file": <its file metadata>, "status"}`` plus
  ``file_name``/``width``/``height``/``text``/``url`` lifted from the task's inline data,
  so that ``record["task"]["data"]["image_url"]`` reads as in the workflow examples.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio
import anyio.to_thread
import attrs

from synapse_async._tasks import FirstError
from synapse_async._validation import is_int
from synapse_async.errors import InvalidInputError
from synapse_async.export import Exporter, Item
from synapse_async.http import build_path
from synapse_async.models import Assignment, Task
from synapse_async.models.ml import GroundTruthEvent
from synapse_async.transfer.download import download

if TYPE_CHECKING:
    from synapse_async.http import HTTPClient

__all__ = [
    "Fetcher",
    "FileLocator",
    "FileSource",
    "Tracker",
    "assignment_record",
    "event_record",
    "media_source",
    "task_record",
]

URL_KEYS = (
    "url",
    "file_url",
    "download_url",
    "image_url",
    "video_url",
    "audio_url",
    "file",
    "path",
)
"""Metadata keys that may hold a file's URL (only absolute http(s) values count)."""

Progress = Callable[[int, int], None]

_LIFTED = {
    "file_name": ("file_name", "filename", "name"),
    "width": ("width",),
    "height": ("height",),
    "text": ("text", "content"),
}


def _iso(value: datetime | None) -> str | None:
    """A timestamp as the API writes it (ISO 8601, ``Z`` for UTC)."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def assignment_record(a: Assignment) -> dict[str, Any]:
    """The export record of an assignment (its wire form)."""
    return {
        "id": a.id,
        "project": a.project,
        "task": a.task,
        "status": a.status,
        "data": a.data,
        "file": a.file,
        "tags": a.tags,
        "created": _iso(a.created),
        "modified": _iso(a.modified),
        **a.extra,
    }


def event_record(e: GroundTruthEvent) -> dict[str, Any]:
    """The export record of a ground truth event (its wire form, plus its split if any)."""
    record: dict[str, Any] = {
        "id": e.id,
        "ground_truth_dataset_version": e.ground_truth_dataset_version,
        "data_unit": e.data_unit,
        "files": e.files,
        "data": e.data,
        "meta": e.meta,
        "created": _iso(e.created),
        **e.extra,
    }
    category = e.extra.get("category", e.meta.get("category"))
    if isinstance(category, str) and "split" not in record:
        record["split"] = category
    return record


def task_record(t: Task, a: Assignment | None) -> dict[str, Any]:
    """The export record of a task and its latest assignment (None: not annotated)."""
    wire = {
        "id": t.id,
        "project": t.project,
        "data_unit": t.data_unit,
        "data": t.data,
        "status": t.status,
        "tags": t.tags,
        "created": _iso(t.created),
        "modified": _iso(t.modified),
        **t.extra,
    }
    record: dict[str, Any] = {
        "id": t.id,
        "task": wire,
        "status": t.status,
        "assignment": a.id if a else None,
        "data": a.data if a else None,
        "file": a.file if a else None,
    }
    inline = t.data or {}
    for field, keys in _LIFTED.items():
        value = next((inline[k] for k in keys if inline.get(k) is not None), None)
        if value is not None:
            record[field] = value
    url = _url_in(inline)
    if url is not None:
        record["url"] = url
    return record


def _url_in(meta: Any) -> str | None:
    if not isinstance(meta, Mapping):
        return None
    for key in URL_KEYS:
        value = meta.get(key)
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            return value
    return None


_HEX = frozenset("0123456789abcdef")


@attrs.frozen
class FileSource:
    """Where an original file downloads from, and its MD5 (hex) when the server gave one."""

    url: str
    md5: str | None = None


def _source_in(meta: Any) -> FileSource | None:
    """The URL in ``meta`` with the MD5 its ``checksum`` gives (32 hex digits), if any."""
    url = _url_in(meta)
    if url is None:
        return None
    checksum = meta.get("checksum")
    md5 = (
        checksum.lower()
        if isinstance(checksum, str) and len(checksum) == 32 and _HEX.issuperset(checksum.lower())
        else None
    )
    return FileSource(url, md5)


def _media_meta(raw: Mapping[str, Any], media_id: str | None) -> Mapping[str, Any] | None:
    files = raw.get("files", raw.get("file"))
    if not isinstance(files, Mapping) or not files:
        return None
    if media_id is None or media_id not in files:
        return next(iter(files.values())) if len(files) == 1 else None
    meta = files[media_id]
    return meta if isinstance(meta, Mapping) else None


def media_source(raw: Mapping[str, Any], media_id: str | None) -> FileSource | None:
    """The URL (and MD5) of a record's media file named in the record itself, if any.

    The media's own metadata (``files``/``file`` of the record) first, then a top-level URL
    (a task's inline ``url``/``image_url``/...). Only absolute http(s) URLs count.
    """
    return _source_in(_media_meta(raw, media_id)) or _source_in(raw)


def _int_id(value: Any) -> int | None:
    return value if is_int(value) and value > 0 else None


class FileLocator:
    """Finds an original file's URL when the export record does not name one.

    In order, for one media of a record: the task behind it (an assignment's ``task`` is
    fetched: ``GET tasks/{id}/``; a task record carries it) -> a URL in its inline data, or
    its ``data_file`` (``GET data_files/{id}/`` -> ``file``), or its data unit
    (``GET data_units/{id}/`` -> the media's slot); a ground truth event's data unit or its
    own file metadata. A slot (or metadata) gives a URL directly, a ``data_file`` id, or a
    ``checksum`` looked up with ``POST data_files/verify_checksums/``. The MD5 comes with
    the URL when the same object gives one (a data file's or a slot's ``checksum``). Each
    request goes through the client's retries; the answers are not cached (memory stays
    flat).
    """

    def __init__(self, http: HTTPClient) -> None:
        self._http = http

    async def locate(self, raw: Mapping[str, Any], media_id: str | None) -> FileSource | None:
        """Where ``raw``'s media ``media_id`` downloads from, or None when nothing names it."""
        task = raw.get("task")
        if _int_id(task) is not None:
            task = await self._http.request("GET", build_path("tasks", task))
        unit: Any = raw.get("data_unit")
        if isinstance(task, Mapping):
            inline = task.get("data")
            source = _source_in(inline)
            if source is not None:
                return source
            if isinstance(inline, Mapping) and _int_id(inline.get("data_file")) is not None:
                return await self._data_file_source(inline["data_file"])
            unit = task.get("data_unit")
        if isinstance(unit, Mapping):
            unit = unit.get("id")
        if _int_id(unit) is not None:
            doc = await self._http.request("GET", build_path("data_units", unit))
            slot = _media_meta(
                {"files": doc.get("files") if isinstance(doc, Mapping) else None}, media_id
            )
            if slot is not None:
                return await self._slot_source(slot)
        meta = _media_meta(raw, media_id)
        return await self._slot_source(meta) if meta is not None else None

    async def _slot_source(self, slot: Mapping[str, Any]) -> FileSource | None:
        source = _source_in(slot)
        if source is not None:
            return source
        if _int_id(slot.get("data_file")) is not None:
            return await self._data_file_source(slot["data_file"])
        checksum = slot.get("checksum")
        if isinstance(checksum, str) and checksum:
            found = await self._http.request(
                "POST", "data_files/verify_checksums/", json_body={"checksums": [checksum]}
            )
            existing = found.get("existing") if isinstance(found, Mapping) else None
            if isinstance(existing, Mapping) and _int_id(existing.get(checksum)) is not None:
                return await self._data_file_source(existing[checksum])
        return None

    async def _data_file_source(self, data_file: int) -> FileSource | None:
        doc = await self._http.request("GET", build_path("data_files", data_file))
        return _source_in(doc)


class Tracker:
    """``on_progress(done, total)``: monotonic, ``total >= done``."""

    def __init__(self, callback: Progress | None) -> None:
        self.callback = callback
        self.done = self.total = 0

    def advance(self, n: int) -> None:
        """Count ``n`` more records done and report."""
        if n and self.callback is not None:
            self.done += n
            self.callback(self.done, max(self.total, self.done))
        elif n:
            self.done += n


class Fetcher:
    """Downloads original files into the export, at most ``limit`` at once, then writes labels.

    Records come placed but unwritten (:meth:`Exporter.place`); once all the files of a
    record are down, its missing image sizes and extensions are read from the files
    (:meth:`Exporter.complete_from_file`) and the record is written, in the order the
    records came (so ids and files are the same on every run), one thread at a time.
    The first download that fails cancels the ``group`` (whose owner raises it, unwrapped);
    a media without a URL is counted in ``missing``, and so is one on another host when
    ``same_origin_only`` (the files the API itself serves).
    """

    def __init__(
        self,
        http: HTTPClient,
        group: FirstError,
        limit: int,
        root: Path,
        tracker: Tracker,
        *,
        same_origin_only: bool = False,
    ) -> None:
        self._http = http
        self._same_origin_only = same_origin_only
        self._group = group
        self._slots = anyio.Semaphore(limit)
        self._root = root.resolve()
        self._locator = FileLocator(http)
        self._tracker = tracker
        self.files = self.bytes = self.missing = 0
        self.per_dir: Counter[str] = Counter()
        self._pending: deque[tuple[Item, list[int]]] = deque()
        self._write_lock = anyio.Lock()

    async def fetch_item(self, raw: Mapping[str, Any], item: Item, exporter: Exporter) -> None:
        """Start the downloads of ``item``'s media; it is written when all are done."""
        records = item.records
        left = [len(records)]
        self._pending.append((item, left))

        async def one_done() -> None:
            left[0] -= 1
            if left[0] == 0:
                await self._write_ready(exporter)

        if not records:
            await self._write_ready(exporter)
        for rec in records:
            await self._slots.acquire()  # bounds the downloads (and records) in flight
            self._group.start_soon(
                self._fetch, raw, rec.media_id, exporter.image_path(rec), one_done
            )

    async def _write_ready(self, exporter: Exporter) -> None:
        """Write the records at the head of the queue whose files are all down."""
        async with self._write_lock:
            while self._pending and self._pending[0][1][0] == 0:
                item, _ = self._pending.popleft()
                await anyio.to_thread.run_sync(_write_downloaded, exporter, item)
                self._tracker.advance(1)

    async def _fetch(
        self,
        raw: Mapping[str, Any],
        media_id: str | None,
        dest: Path,
        done: Callable[[], Awaitable[None]],
    ) -> None:
        try:
            await self._download(raw, media_id, dest)
            await done()
        finally:
            self._slots.release()

    async def _download(self, raw: Mapping[str, Any], media_id: str | None, dest: Path) -> None:
        source = media_source(raw, media_id) or await self._locator.locate(raw, media_id)
        if source is None or (
            self._same_origin_only
            and (urlsplit(source.url).scheme, urlsplit(source.url).netloc)
            != self._http.config.origin
        ):
            self.missing += 1  # nothing names the file, or (auto mode) not the API's own
            return
        folder = dest.parent.resolve()
        if not folder.is_relative_to(self._root):  # names are safe already; a backstop
            raise InvalidInputError(f"refusing to write outside the export: {dest}")
        await anyio.to_thread.run_sync(lambda: folder.mkdir(parents=True, exist_ok=True))
        size = await download(self._http, source.url, dest, md5=source.md5)
        self.bytes += size  # after the await: concurrent downloads must not lose updates
        self.files += 1
        self.per_dir[folder.relative_to(self._root).as_posix()] += 1


def _write_downloaded(exporter: Exporter, item: Item) -> None:
    """Size and name ``item``'s media from their downloaded files, then write the record."""
    exporter.write(exporter.complete_from_file(item))
