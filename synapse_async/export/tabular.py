"""CSV writer: one row per annotation, stable columns."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import Writer, WriterContext
from .files import AtomicFile
from .geometry import geometry_bounds
from .schema import (
    Annotation,
    BoundingBox,
    ImageRecord,
    Item,
    Keypoint,
    KeypointSet,
    NamedEntity,
    Polygon,
    Polyline,
    Segmentation,
)

__all__ = ["CSV_COLUMNS", "CsvWriter", "csv_row", "escape_formula"]

CSV_COLUMNS = (
    "item_id",
    "media_id",
    "file_name",
    "split",
    "image_width",
    "image_height",
    "annotation_id",
    "tool",
    "label",
    "x",
    "y",
    "width",
    "height",
    "rotation",
    "points",
    "start",
    "end",
    "text",
    "attributes",
)
"""The CSV header, in order. New columns are only ever appended."""


_TEXT_COLUMNS = tuple(
    i
    for i, c in enumerate(CSV_COLUMNS)
    if c in ("item_id", "media_id", "file_name", "split", "annotation_id", "tool", "label", "text")
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(cell: str) -> str:
    """``cell`` with a leading ``'`` when a spreadsheet would read it as a formula.

    The OWASP CSV-injection rule: a cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
    a carriage return is prefixed with a single quote.
    """
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _num(v: float | int | None) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def csv_row(ann: Annotation, rec: ImageRecord) -> list[str]:
    """The CSV cells of one annotation, in :data:`CSV_COLUMNS` order.

    ``x, y, width, height``: the box as drawn for bounding boxes (``rotation`` in radians
    beside it), otherwise the bounding box of the points / labeled keypoints / mask pixels.
    ``points``: JSON ``[[x, y], ...]`` for polygons and polylines, ``[[x, y, v], ...]`` for
    keypoints. ``start, end``: character offsets (named entities) or the frame range (video
    segmentation). ``text``: the entity text (as annotated, else the slice of the item's
    text). ``attributes``: JSON object, ``{}`` when none. Coordinates are absolute pixels,
    never clamped. Empty cells mean "not applicable".
    """
    g = ann.geometry
    cells: dict[str, str] = {}
    bounds = geometry_bounds(g, rec.width)
    if isinstance(g, BoundingBox):
        cells.update(
            x=_num(g.x), y=_num(g.y), width=_num(g.w), height=_num(g.h), rotation=_num(g.rotation)
        )
    elif bounds is not None:
        x0, y0, x1, y1 = bounds
        cells.update(x=_num(x0), y=_num(y0), width=_num(x1 - x0), height=_num(y1 - y0))
    if isinstance(g, (Polygon, Polyline)):
        cells["points"] = _json([[x, y] for x, y in g.points])
    elif isinstance(g, (Keypoint, KeypointSet)):
        pts = g.points if isinstance(g, KeypointSet) else (g,)
        cells["points"] = _json([[p.x, p.y, p.visible] for p in pts])
    elif isinstance(g, NamedEntity):
        text = g.text
        if text is None and rec.text is not None and g.end <= len(rec.text):
            text = rec.text[g.start : g.end]
        cells.update(start=str(g.start), end=str(g.end), text=text or "")
    elif isinstance(g, Segmentation) and g.frames is not None:
        cells.update(start=str(g.frames[0]), end=str(g.frames[1]))
    base = {
        "item_id": rec.item_id,
        "media_id": rec.media_id or "",
        "file_name": rec.file_name,
        "split": rec.split,
        "image_width": _num(rec.width),
        "image_height": _num(rec.height),
        "annotation_id": ann.id,
        "tool": ann.tool,
        "label": ann.label,
        "attributes": _json(dict(ann.attributes)),
    }
    base.update(cells)
    return [base.get(col, "") for col in CSV_COLUMNS]


class CsvWriter(Writer):
    """Writes ``annotations.csv``: a header, then one row per annotation.

    Conventions: the columns of :data:`CSV_COLUMNS` in that order (see :func:`csv_row` for
    their meaning); UTF-8 without BOM; RFC 4180 (CRLF line ends, fields with commas, quotes
    or line breaks quoted, quotes doubled), via the ``csv`` module. All splits share the file
    (``split`` column). Media without annotations produce no row. Every tool has a row,
    so nothing is skipped. Text cells (ids, names, label, tool, split, entity text) that
    start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are prefixed with
    ``'`` (see :func:`escape_formula`), so a spreadsheet never runs them; numbers and the
    JSON columns are never changed. ``FormatOptions(csv_escape_formulas=False)`` writes
    every cell verbatim.
    """

    format = "csv"

    def __init__(self, output_dir: Path, ctx: WriterContext) -> None:
        super().__init__(output_dir, ctx)
        self.path = output_dir / "annotations.csv"
        self._out: AtomicFile | None = None
        self._writer: Any = None
        self._escape = ctx.options.csv_escape_formulas

    def begin(self) -> None:
        """Open the atomic output and write the header."""
        super().begin()
        self._out = AtomicFile(self.path, durable=self.ctx.options.durable)
        self._writer = csv.writer(self._out.handle, lineterminator="\r\n")
        self._writer.writerow(CSV_COLUMNS)

    def write(self, item: Item) -> None:
        """Write the rows of one record."""
        rows: list[Sequence[str]] = []
        for rec in item.records:
            for ann in rec.annotations:
                if ann.label:
                    self.ctx.labels.id(ann.label)
                row = csv_row(ann, rec)
                if self._escape:
                    for i in _TEXT_COLUMNS:
                        if row[i].startswith(_FORMULA_START):
                            row[i] = "'" + row[i]
                rows.append(row)
        self._writer.writerows(rows)
        self.tally.written(item.split, len(rows))

    def finish(self) -> None:
        """Close the file (rename into place)."""
        assert self._out is not None
        self._out.commit()
        self._record_file(self.path)

    def abort(self) -> None:
        """Drop the temp file."""
        if self._out is not None:
            self._out.discard()
