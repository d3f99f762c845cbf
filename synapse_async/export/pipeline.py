"""The export pipeline: raw records in, one format's files and an :class:`ExportReport` out.

Pure apart from local file writes: no HTTP. The client integration feeds it records as pages
arrive (``awrite_export`` takes an async iterator) and downloads original files to
:meth:`Exporter.image_path`.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
import attrs

from .base import FormatOptions, Writer, WriterContext
from .coco import CocoWriter
from .files import UniqueNamer, atomic_write
from .labels import LabelMap
from .reader import read_item
from .report import ExportReport, Tally
from .schema import ImageRecord, Item
from .spacy_out import SpacyWriter
from .split import SplitPlan
from .synapse_json import JsonWriter
from .tabular import CsvWriter
from .voc import VocWriter
from .yolo import YoloWriter

__all__ = ["FORMATS", "REPORT_FILE", "Exporter", "awrite_export", "canonical_format",
           "write_export"]

FORMATS: Mapping[str, type[Writer]] = {
    "json": JsonWriter, "coco": CocoWriter, "yolo": YoloWriter, "voc": VocWriter,
    "csv": CsvWriter, "spacy": SpacyWriter,
}
"""Format name -> writer class."""

_ALIASES = {"synapse": "json", "jsonl": "json", "synapse_json": "json", "pascal_voc": "voc",
            "pascalvoc": "voc", "ner": "spacy"}
_SIZED = ("coco", "yolo", "voc")
_PER_EXPORT_NAMES = ("voc",)  # one image folder for all splits

REPORT_FILE = "export_report.json"
"""Written last by every export: its presence marks a finished export."""

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
    exception aborts (scratch and temp files are removed, no report file is written).

    Args:
        format: ``json``, ``coco``, ``yolo``, ``voc``, ``csv`` or ``spacy`` (aliases:
            ``jsonl``, ``synapse``, ``pascal_voc``, ``ner``).
        output_dir: created if missing. Files of a previous export there are overwritten
            (each atomically); its ``export_report.json`` is removed at the start.
        split: None (every record in ``default``, or in its own ``split`` field) or ratios
            such as ``{"train": 0.8, "val": 0.1, "test": 0.1}`` (see :class:`SplitPlan`).
        seed: the split seed.
        labels: the label list, in class-id order; None = first-seen order.
        options: format switches (:class:`FormatOptions`).
    """

    def __init__(self, format: str, output_dir: str | os.PathLike[str], *,
                 split: Mapping[str, float] | None = None, seed: int = 0,
                 labels: Sequence[str] | None = None,
                 options: FormatOptions | None = None) -> None:
        self.format = canonical_format(format)
        self.output_dir = Path(output_dir)
        self.plan = SplitPlan(split, seed)
        self.labels = LabelMap(labels)
        self.tally = Tally()
        ctx = WriterContext(self.tally, self.labels, self.plan.names,
                            options or FormatOptions())
        self.writer: Writer = FORMATS[self.format](self.output_dir, ctx)
        self._namer = UniqueNamer()
        self._state = "new"
        self._report: ExportReport | None = None

    def begin(self) -> None:
        """Create the layout (called by the first ``add`` if not called before)."""
        if self._state != "new":
            return
        self.output_dir.mkdir(parents=True, exist_ok=True)
        (self.output_dir / REPORT_FILE).unlink(missing_ok=True)
        self._state = "open"
        try:
            self.writer.begin()
        except BaseException:
            self.abort()
            raise

    def add(self, raw: Mapping[str, Any]) -> Item:
        """Parse, place and write one raw record; returns it with final names and split."""
        if self._state == "new":
            self.begin()
        if self._state != "open":
            raise RuntimeError(f"export is {self._state}")
        if not isinstance(raw, Mapping):
            raise TypeError(f"an export record must be a mapping, not {type(raw).__name__}")
        tally = self.tally
        raw_id = raw.get("id")
        ident = str(raw_id) if raw_id is not None and raw_id != "" else f"item-{tally.items + 1}"
        split = self.plan.assign(ident, raw.get("split"))
        item = read_item(raw, split=split, fallback_id=ident)
        scope = "" if self.format in _PER_EXPORT_NAMES else split
        records = tuple(attrs.evolve(r, file_name=self._namer.claim(r.file_name, scope))
                        for r in item.records)
        item = attrs.evolve(item, records=records)
        tally.items += 1
        tally.split_items[split] += 1
        tally.images += len(records)
        tally.split_images[split] += len(records)
        tally.annotations_read += item.annotation_count
        tally.unknown_tools.update(item.unknown_tools)
        tally.invalid.update(item.invalid)
        if self.format in _SIZED:
            tally.images_without_size += sum(1 for r in records if not r.has_size)
        self.writer.write(item)
        return item

    def add_many(self, raws: Iterable[Mapping[str, Any]]) -> int:
        """``add`` each record; returns how many."""
        n = 0
        for raw in raws:
            self.add(raw)
            n += 1
        return n

    def image_path(self, record: ImageRecord) -> Path:
        """Where ``record``'s original file belongs (inside ``output_dir``)."""
        return self.writer.image_dir(record.split) / record.file_name

    def finish(self) -> ExportReport:
        """Complete the files, write ``export_report.json``, return the report."""
        if self._state == "done":
            assert self._report is not None
            return self._report
        if self._state == "new":
            self.begin()
        if self._state != "open":
            raise RuntimeError(f"export is {self._state}")
        try:
            self.writer.finish()
            self.tally.unlisted_labels.update(self.labels.unlisted)
            self.tally.files.append(REPORT_FILE)
            report = self._freeze(complete=True)
            with atomic_write(self.output_dir / REPORT_FILE,
                              durable=self.writer.ctx.options.durable) as fh:
                json.dump(report.to_dict(), fh, indent=2, ensure_ascii=False, default=str)
                fh.write("\n")
        except BaseException:
            self.abort()
            raise
        self._state = "done"
        self._report = report
        return report

    def abort(self) -> None:
        """Remove scratch files; the export stays unfinished (no report file)."""
        if self._state in ("done", "failed"):
            return
        self._state = "failed"
        self.writer.abort()

    @property
    def report(self) -> ExportReport:
        """The final report, or a snapshot (``complete=False``) before or after a failure."""
        if self._report is not None:
            return self._report
        return self._freeze(complete=False)

    def _freeze(self, *, complete: bool) -> ExportReport:
        return self.tally.freeze(format=self.format, output_dir=str(self.output_dir),
                                 labels=self.labels.names, splits=self.plan.names,
                                 complete=complete)

    def __enter__(self) -> Exporter:
        self.begin()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.abort()


def write_export(items: Iterable[Mapping[str, Any]], *, format: str,
                 output_dir: str | os.PathLike[str], split: Mapping[str, float] | None = None,
                 seed: int = 0, labels: Sequence[str] | None = None,
                 options: FormatOptions | None = None,
                 on_progress: Progress | None = None) -> ExportReport:
    """Export raw records to ``format`` under ``output_dir``; returns the report.

    ``items`` is any iterable of raw records (see :func:`~.reader.read_item` for their
    shape); it is consumed once, one record at a time, so memory does not grow with it.
    ``on_progress(n)`` is called after each record with the number done. Other arguments as
    for :class:`Exporter`. On an exception nothing complete-looking is left: scratch and temp
    files are removed and no ``export_report.json`` is written.
    """
    exporter = Exporter(format, output_dir, split=split, seed=seed, labels=labels,
                        options=options)
    with exporter:
        for n, raw in enumerate(items, 1):
            exporter.add(raw)
            if on_progress is not None:
                on_progress(n)
    return exporter.report


async def awrite_export(items: AsyncIterable[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
                        *, format: str, output_dir: str | os.PathLike[str],
                        split: Mapping[str, float] | None = None, seed: int = 0,
                        labels: Sequence[str] | None = None,
                        options: FormatOptions | None = None, batch_size: int = 256,
                        on_progress: Progress | None = None) -> ExportReport:
    """:func:`write_export` for an async (or sync) iterator of records.

    Records are collected in batches of ``batch_size`` and converted in a worker thread
    (``anyio.to_thread``), so file writes never block the event loop and the next pages keep
    arriving meanwhile; one batch is in flight at a time (bounded memory). ``on_progress(n)``
    runs in the event loop after each batch. Cancellation waits for the running batch, then
    aborts the export like an exception does.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    exporter = Exporter(format, output_dir, split=split, seed=seed, labels=labels,
                        options=options)
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
