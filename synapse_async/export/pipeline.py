"""The export pipeline: raw records in, one format's files and an :class:`ExportReport` out.

Pure apart from local file writes: no HTTP. The client integration feeds it records as pages
arrive (``awrite_export`` takes an async iterator) and downloads original files to
:meth:`Exporter.image_path`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
import attrs

from synapse_async.errors import InvalidInputError

from .base import FormatOptions, Writer, WriterContext
from .coco import CocoWriter
from .files import UniqueNamer, fsync_dir, fsync_tree
from .imagesize import sniff
from .labels import LabelMap
from .reader import has_image_extension, read_item
from .report import ExportReport, Tally
from .schema import ImageRecord, Item
from .spacy_out import SpacyWriter
from .split import SplitPlan
from .synapse_json import JsonWriter
from .tabular import CsvWriter
from .voc import VocWriter
from .yolo import YoloWriter

__all__ = [
    "FORMATS",
    "REPORT_FILE",
    "STAGING_MARK",
    "Exporter",
    "awrite_export",
    "canonical_format",
    "remove_stale_staging",
    "write_export",
]

FORMATS: Mapping[str, type[Writer]] = {
    "json": JsonWriter,
    "coco": CocoWriter,
    "yolo": YoloWriter,
    "voc": VocWriter,
    "csv": CsvWriter,
    "spacy": SpacyWriter,
}
"""Format name -> writer class."""

_ALIASES = {
    "synapse": "json",
    "jsonl": "json",
    "synapse_json": "json",
    "pascal_voc": "voc",
    "pascalvoc": "voc",
    "ner": "spacy",
}
_SIZED = ("coco", "yolo", "voc")
_NON_SPATIAL = ("classification", "named_entity")
_PER_EXPORT_NAMES = ("voc",)  # one image folder for all splits

REPORT_FILE = "export_report.json"
"""Written last by every export: its presence marks a finished export."""

STAGING_MARK = ".export-"
"""Staging folders are ``.<output name>.export-<pid>-<random>`` beside the output folder."""

_log = logging.getLogger("synapse_async.export")

Progress = Callable[[int], object]


def canonical_format(name: str) -> str:
    """``"Pascal-VOC"`` -> ``"voc"``; raises ValueError for an unknown format."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in FORMATS:
        raise ValueError(f"unknown export format {name!r}; choose from {sorted(FORMATS)}")
    return key


class Exporter:
    """An export in progress: ``add`` records one by one, then ``finish``.

    Usable as a context manager: entering begins, leaving normally finishes, leaving by an
    exception aborts (the staging folder is removed, nothing appears at ``output_dir``).

    The whole export is the atomic unit: every file is written into a hidden staging folder
    beside ``output_dir`` (``.<name>.export-<pid>-<random>``), the report file is written into
    it last, and ``finish`` renames the folder into place in one step. A crash or a kill
    leaves nothing visible at ``output_dir`` (no empty label file a trainer would read as a
    background image); the next export into the same place removes staging folders whose
    process is gone, with any half-downloaded file in them.

    Args:
        format: ``json``, ``coco``, ``yolo``, ``voc``, ``csv`` or ``spacy`` (aliases:
            ``jsonl``, ``synapse``, ``pascal_voc``, ``ner``).
        output_dir: must be missing or an empty directory, unless ``overwrite``.
        split: None (every record in ``default``, or in its own ``split`` field) or ratios
            such as ``{"train": 0.8, "val": 0.1, "test": 0.1}`` (see :class:`SplitPlan`).
        seed: the split seed.
        labels: the label list, in class-id order; None = first-seen order.
        options: format switches (:class:`FormatOptions`).
        overwrite: replace a non-empty ``output_dir`` (the old folder is swapped out and
            deleted once the new one is in place; a reader sees the old export or the new
            one, never a mix). Without it a non-empty ``output_dir`` is refused.

    Raises:
        InvalidInputError: ``output_dir`` is a file, or is not empty and ``overwrite`` is
            False (at ``begin`` and again before the final rename).
    """

    def __init__(
        self,
        format: str,
        output_dir: str | os.PathLike[str],
        *,
        split: Mapping[str, float] | None = None,
        seed: int = 0,
        labels: Sequence[str] | None = None,
        options: FormatOptions | None = None,
        overwrite: bool = False,
    ) -> None:
        self.format = canonical_format(format)
        self.output_dir = Path(output_dir)
        self.overwrite = bool(overwrite)
        name = self.output_dir.resolve().name or "export"
        self.staging_dir = self.output_dir.resolve().parent / (
            f".{name}{STAGING_MARK}{os.getpid()}-{secrets.token_hex(4)}"
        )
        self.plan = SplitPlan(split, seed)
        self.labels = LabelMap(labels)
        self.tally = Tally()
        self.options = options or FormatOptions()
        ctx = WriterContext(self.tally, self.labels, self.plan.names if split else (), self.options)
        self.writer: Writer = FORMATS[self.format](self.staging_dir, ctx)
        self._namer = UniqueNamer()
        self._state = "new"
        self._report: ExportReport | None = None

    def _check_target(self) -> None:
        out = self.output_dir
        if out.exists() and not out.is_dir():
            raise InvalidInputError(f"output_dir {str(out)!r} exists and is not a directory")
        if not self.overwrite and out.is_dir() and any(os.scandir(out)):
            raise InvalidInputError(
                f"output_dir {str(out)!r} is not empty; pass overwrite=True to replace it, "
                "or choose a new or empty directory"
            )

    def begin(self) -> None:
        """Check ``output_dir``, clear stale staging folders, create the staging layout."""
        if self._state != "new":
            return
        self._check_target()
        self.staging_dir.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(self.output_dir)
        self.staging_dir.mkdir()
        self._state = "open"
        try:
            self.writer.begin()
        except BaseException:
            self.abort()
            raise

    def place(self, raw: Mapping[str, Any]) -> Item:
        """Parse ``raw`` and give it its split and final (unique) file names; writes nothing.

        Follow with :meth:`write` (possibly after downloading files to :meth:`image_path`
        and filling sizes with :meth:`complete_from_file`). :meth:`add` does both.
        """
        if self._state == "new":
            self.begin()
        if self._state != "open":
            raise RuntimeError(f"export is {self._state}")
        if not isinstance(raw, Mapping):
            raise TypeError(f"an export record must be a mapping, not {type(raw).__name__}")
        raw_id = raw.get("id")
        self._placed = getattr(self, "_placed", 0) + 1
        ident = str(raw_id) if raw_id is not None and raw_id != "" else f"item-{self._placed}"
        split = self.plan.assign(ident, raw.get("split"))
        scope = "" if self.format in _PER_EXPORT_NAMES else split
        return read_item(
            raw, split=split, fallback_id=ident, namer=lambda n: self._namer.claim(n, scope)
        )

    def write(self, item: Item) -> Item:
        """Count and write one placed record (see :meth:`place`); returns it."""
        if self._state != "open":
            raise RuntimeError(f"export is {self._state}")
        tally = self.tally
        records = item.records
        split = item.split
        tally.items += 1
        tally.split_items[split] += 1
        tally.images += len(records)
        tally.split_images[split] += len(records)
        tally.annotations_read += item.annotation_count
        if item.unknown_tools:
            tally.unknown_tools.update(item.unknown_tools)
        if item.invalid:
            tally.invalid.update(item.invalid)
        if self.format in _SIZED:
            item = self._image_media_only(item)
            unsized = [r for r in item.records if not r.has_size]
            if unsized:
                tally.images_without_size += len(unsized)
                if any(_spatial(r) for r in unsized):
                    tally.fail(item.id, "missing_image_size")
                    _log.warning(
                        "export record %s: media without width/height and no file "
                        "to read them from; its labels are not written",
                        item.id,
                    )
        self.writer.write(item)
        return item

    def _image_media_only(self, item: Item) -> Item:
        images = tuple(r for r in item.records if r.is_image)
        if len(images) == len(item.records):
            return item
        for rec in item.records:
            if not rec.is_image:
                self.tally.skipped_media += 1
                for ann in rec.annotations:
                    self.tally.skip(ann.tool)
        return attrs.evolve(item, records=images)

    def add(self, raw: Mapping[str, Any]) -> Item:
        """Parse, place and write one raw record; returns it with final names and split."""
        return self.write(self.place(raw))

    def add_many(self, raws: Iterable[Mapping[str, Any]]) -> int:
        """``add`` each record; returns how many."""
        n = 0
        for raw in raws:
            self.add(raw)
            n += 1
        return n

    def image_path(self, record: ImageRecord) -> Path:
        """Where ``record``'s original file belongs (inside the staging folder until finish)."""
        return self.writer.image_dir(record.split) / record.file_name

    def complete_from_file(self, item: Item) -> Item:
        """Fill ``item``'s missing image sizes and extensions from its downloaded files.

        For each media whose file is at :meth:`image_path`: the header gives the type and
        size (:func:`~.imagesize.sniff`); a media without width/height takes the file's, and
        a file whose name has no image extension is renamed with the real one (so that
        YOLO and VOC readers, which find images by extension, see it).
        """
        records = []
        changed = False
        for rec in item.records:
            new = rec
            path = self.image_path(rec)
            info = sniff(path) if rec.is_image and path.is_file() else None
            if info is not None:
                if not rec.has_size and info.has_size:
                    new = attrs.evolve(new, width=info.width, height=info.height)
                if not has_image_extension(rec.file_name):
                    named = attrs.evolve(new, file_name=rec.file_name + info.extension)
                    os.replace(path, self.image_path(named))
                    new = named
            changed = changed or new is not rec
            records.append(new)
        return attrs.evolve(item, records=tuple(records)) if changed else item

    def finish(self) -> ExportReport:
        """Complete the files, write the report, move the export into place, return the report."""
        if self._state == "done":
            assert self._report is not None
            return self._report
        if self._state == "new":
            self.begin()
        if self._state != "open":
            raise RuntimeError(f"export is {self._state}")
        try:
            if not self.writer.ctx.splits and not self.tally.items:
                # Nothing exported and no split configured: the empty "default" split's
                # files (records that name their own splits never get an empty default).
                self.writer.ctx.splits = ("default",)
                self.writer.begin()
            self.writer.finish()
            self.tally.unlisted_labels.update(self.labels.unlisted)
            self.tally.files.append(REPORT_FILE)
            report = self._freeze(complete=not self.tally.failed)
            with open(self.staging_dir / REPORT_FILE, "w", encoding="utf-8") as fh:
                json.dump(report.to_dict(), fh, indent=2, ensure_ascii=False, default=str)
                fh.write("\n")
            if self.options.durable:
                fsync_tree(self.staging_dir)
            self._swap_into_place()
        except BaseException:
            self.abort()
            raise
        self._state = "done"
        self._report = report
        return report

    def _swap_into_place(self) -> None:
        out = self.output_dir
        self._check_target()
        old: Path | None = None
        if out.is_dir() and any(os.scandir(out)):
            old = self.staging_dir.with_name(self.staging_dir.name + "-old")
            os.rename(out, old)
        os.rename(self.staging_dir, out)  # replaces an empty directory
        if self.options.durable:
            fsync_dir(out.resolve().parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        """Remove the staging folder; ``output_dir`` is left as it was."""
        if self._state in ("done", "failed"):
            return
        started = self._state != "new"
        self._state = "failed"
        with contextlib.suppress(Exception):
            self.writer.abort()
        if started:
            shutil.rmtree(self.staging_dir, ignore_errors=True)

    @property
    def report(self) -> ExportReport:
        """The final report, or a snapshot (``complete=False``) before or after a failure."""
        if self._report is not None:
            return self._report
        return self._freeze(complete=False)

    def _freeze(self, *, complete: bool) -> ExportReport:
        splits = self.plan.names if self.plan.ratios or not self.tally.items else ()
        return self.tally.freeze(
            format=self.format,
            output_dir=str(self.output_dir),
            labels=self.labels.names,
            splits=splits,
            complete=complete,
        )

    def __enter__(self) -> Exporter:
        self.begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.abort()


def _spatial(rec: ImageRecord) -> bool:
    return any(a.tool not in _NON_SPATIAL for a in rec.annotations)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_staging(output_dir: str | os.PathLike[str]) -> int:
    """Delete staging folders of ``output_dir`` left by exports whose process is gone.

    A killed export leaves its hidden ``.<name>.export-<pid>-<random>`` folder (with any
    partial download or temp file in it) beside ``output_dir``; this removes those whose
    process no longer runs (live exports' folders are kept). Returns how many were removed.
    """
    out = Path(output_dir).resolve()
    prefix = f".{out.name}{STAGING_MARK}"
    removed = 0
    try:
        entries = list(os.scandir(out.parent))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not entry.name.startswith(prefix) or not entry.is_dir(follow_symlinks=False):
            continue
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        if pid_text.isdigit() and _alive(int(pid_text)):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed += 1
    return removed


def write_export(
    items: Iterable[Mapping[str, Any]],
    *,
    format: str,
    output_dir: str | os.PathLike[str],
    split: Mapping[str, float] | None = None,
    seed: int = 0,
    labels: Sequence[str] | None = None,
    options: FormatOptions | None = None,
    overwrite: bool = False,
    on_progress: Progress | None = None,
) -> ExportReport:
    """Export raw records to ``format`` under ``output_dir``; returns the report.

    ``items`` is any iterable of raw records (see :func:`~.reader.read_item` for their
    shape); it is consumed once, one record at a time, so memory does not grow with it.
    ``on_progress(n)`` is called after each record with the number done. Other arguments as
    for :class:`Exporter`. On an exception nothing appears at ``output_dir``: the staging
    folder is removed.
    """
    exporter = Exporter(
        format,
        output_dir,
        split=split,
        seed=seed,
        labels=labels,
        options=options,
        overwrite=overwrite,
    )
    with exporter:
        for n, raw in enumerate(items, 1):
            exporter.add(raw)
            if on_progress is not None:
                on_progress(n)
    return exporter.report


async def awrite_export(
    items: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    *,
    format: str,
    output_dir: str | os.PathLike[str],
    split: Mapping[str, float] | None = None,
    seed: int = 0,
    labels: Sequence[str] | None = None,
    options: FormatOptions | None = None,
    overwrite: bool = False,
    batch_size: int = 256,
    on_progress: Progress | None = None,
) -> ExportReport:
    """:func:`write_export` for an async (or sync) iterator of records.

    Records are collected in batches of ``batch_size`` and converted in a worker thread
    (``anyio.to_thread``), so file writes never block the event loop and the next pages keep
    arriving meanwhile; one batch is in flight at a time (bounded memory). ``on_progress(n)``
    runs in the event loop after each batch. Cancellation waits for the running batch, then
    aborts the export like an exception does.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    exporter = Exporter(
        format,
        output_dir,
        split=split,
        seed=seed,
        labels=labels,
        options=options,
        overwrite=overwrite,
    )
    done = 0

    async def flush(batch: list[Mapping[str, Any]]) -> None:
        nonlocal done
        done += await anyio.to_thread.run_sync(exporter.add_many, batch)
        if on_progress is not None:
            on_progress(done)

    try:
        await anyio.to_thread.run_sync(exporter.begin)
        batch: list[Mapping[str, Any]] = []
        if isinstance(items, AsyncIterable):
            async for raw in items:
                batch.append(raw)
                if len(batch) >= batch_size:
                    await flush(batch)
                    batch = []
        else:
            for raw in items:
                batch.append(raw)
                if len(batch) >= batch_size:
                    await flush(batch)
                    batch = []
        if batch:
            await flush(batch)
        return await anyio.to_thread.run_sync(exporter.finish)
    except BaseException:
        exporter.abort()
        raise
