"""YOLO (Ultralytics / darknet) writer: detect, segment, obb and pose label files."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .base import Writer, WriterContext
from .files import atomic_write
from .geometry import (
    NEGLIGIBLE_AREA,
    clamp_bounds,
    clamp_points,
    geometry_bounds,
    polygon_area,
)
from .schema import (
    Annotation,
    BoundingBox,
    ImageRecord,
    Item,
    Keypoint,
    KeypointSet,
    Point,
    Polygon,
    Segmentation,
    points_bounds,
)

__all__ = ["YoloWriter", "yaml_quote"]

_VAL_NAMES = ("val", "valid", "validation")
_NON_SPATIAL = ("classification", "named_entity")


def yaml_quote(text: str) -> str:
    """A YAML double-quoted scalar for ``text`` (backslash, quote, non-printables escaped)."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) <= 0xFFFF:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)


def _line_escape(name: str) -> str:
    r"""A label on one line: line feed and carriage return written as ``\n`` and ``\r``."""
    return name.replace("\n", "\\n").replace("\r", "\\r")


def _fmt(values: Sequence[float]) -> str:
    return " ".join(f"{v:.6f}" for v in values)


class YoloWriter(Writer):
    r"""Writes ``labels/<split>/<stem>.txt`` per media, ``data.yaml`` and ``classes.txt``.

    Conventions:

    - One label file per image record, named after the image's (unique) stem, even when it
      has no objects (an empty file marks a background image). Records without a known
      width/height cannot be normalized: their spatial annotations are rejected
      (``missing_image_size``), no label file is written for them and the record counts as
      failed (the report is not ``complete``). Non-image media are left out (see
      ``skipped_media``). Label files are plain writes inside the export's staging folder,
      which appears at ``output_dir`` in one rename (see :class:`~.pipeline.Exporter`).
    - Class ids are 0-based label positions (``classes.txt`` order, ``names`` in data.yaml).
    - Every coordinate is normalized by the image size and CLAMPED into [0, 1], printed with
      6 decimals. An annotation moved by clamping is counted in ``clamped``; one with no
      area inside the image is dropped and counted in ``outside``.
    - ``yolo_task="detect"`` (default): ``class cx cy w h`` for bounding boxes (rotated ones:
      the box around their corners), polygons and pixel masks (their bounding box), clamped
      as a box. ``segment``: ``class x1 y1 x2 y2 ...`` for polygons and boxes (as their four
      corners), each point clamped. ``obb``: ``class x1 y1 ... x4 y4`` for boxes (rotated
      corners), points clamped. ``pose``: ``class cx cy w h px1 py1 v1 ...`` for keypoint sets
      (and single keypoints); the box is that of the labeled points inside the image, points
      outside the image become ``0 0 0`` (counted as clamped), a set with no labeled point
      inside is ``outside``; ``kpt_shape`` is ``[K, 3]`` with K from ``keypoint_count`` or the
      first set; shorter sets are padded with ``0 0 0``, longer ones rejected
      (``keypoint_count``). Annotations the task cannot express are counted in ``skipped``.
    - ``data.yaml`` (hand-written YAML, no ``path`` key so paths resolve against the file's
      own folder): ``train``/``val``/``test`` image folders, ``nc``, ``names`` (id -> quoted
      name), and ``kpt_shape`` for pose. ``train`` is the split named train (else the
      first), ``val`` the one named val/valid/validation (else train's: Ultralytics requires
      one), ``test`` only when such a split exists.
    - ``images/<split>/`` is created empty; original files go there (see ``image_dir``).
    - ``classes.txt`` has one name per line; a line break or carriage return inside a name
      is written as the two characters ``\n`` / ``\r`` (the escapes data.yaml's quoted
      names use), not turned into a space; data.yaml holds the exact names.
    - Splits: the configured ones, or those the records name; an export with no class at
      all writes neither ``data.yaml`` nor ``classes.txt`` (Ultralytics rejects ``nc: 0``)
      and says so in the report's notes.
    """

    format = "yolo"

    def __init__(self, output_dir: Path, ctx: WriterContext) -> None:
        super().__init__(output_dir, ctx)
        self.task = ctx.options.yolo_task
        self.kpt_count = ctx.options.keypoint_count
        self._made: dict[str, tuple[str, str]] = {}

    def _dirs(self, split: str) -> tuple[str, str]:
        """The labels folder of ``split`` (absolute, with a trailing separator) and its key."""
        made = self._made.get(split)
        if made is None:
            path = self.output_dir / "labels" / split
            path.mkdir(parents=True, exist_ok=True)
            self.image_dir(split).mkdir(parents=True, exist_ok=True)
            made = self._made[split] = (str(path) + os.sep, f"labels/{split}")
        return made

    def begin(self) -> None:
        """Create ``images/<split>`` and ``labels/<split>`` for every split."""
        for split in self.ctx.splits:
            self._dirs(split)

    def write(self, item: Item) -> None:
        """Write one label file per media record of ``item``."""
        labels_dir, key = self._dirs(item.split)
        tally = self.tally
        for rec in item.records:
            if not rec.has_size:
                spatial = [a for a in rec.annotations if a.tool not in _NON_SPATIAL]
                for _ in spatial:
                    tally.reject("missing_image_size")
                if spatial:
                    continue
            text = self._rows(rec)
            name = rec.file_name
            dot = name.rfind(".")
            fd = os.open(
                labels_dir + (name[:dot] if dot > 0 else name) + ".txt", _OPEN_FLAGS, 0o666
            )
            try:
                if text:
                    os.write(fd, text.encode())
            finally:
                os.close(fd)
            tally.per_image_files[key] += 1
            tally.written(item.split, text.count("\n"))

    def _rows(self, rec: ImageRecord) -> str:
        """The label file's text for one sized image record."""
        rows = []
        width, height = float(rec.width or 0), float(rec.height or 0)
        detect = self.task == "detect"
        ids = self.ctx.labels.id
        tally = self.tally
        for ann in rec.annotations:
            g = ann.geometry
            if detect and type(g) is BoundingBox and not g.rotation:
                # The common case, inline: an axis-aligned box.
                x0, y0 = g.x, g.y
                x1, y1 = x0 + g.w, y0 + g.h
                cx0 = 0.0 if x0 < 0 else (width if x0 > width else x0)
                cy0 = 0.0 if y0 < 0 else (height if y0 > height else y0)
                cx1 = 0.0 if x1 < 0 else (width if x1 > width else x1)
                cy1 = 0.0 if y1 < 0 else (height if y1 > height else y1)
                if not (cx0 < cx1 and cy0 < cy1):
                    tally.outside += 1
                    continue
                if cx0 != x0 or cy0 != y0 or cx1 != x1 or cy1 != y1:
                    tally.clamped += 1
                rows.append(
                    f"{ids(ann.label)} {(cx0 + cx1) / 2 / width:.6f} "
                    f"{(cy0 + cy1) / 2 / height:.6f} {(cx1 - cx0) / width:.6f} "
                    f"{(cy1 - cy0) / height:.6f}\n"
                )
                continue
            row = self._row(ann, rec)
            if row is not None:
                rows.append(row + "\n")
        return "".join(rows)

    def _row(self, ann: Annotation, rec: ImageRecord) -> str | None:
        g = ann.geometry
        width, height = float(rec.width or 0), float(rec.height or 0)
        task = self.task
        if task == "detect" and isinstance(g, (BoundingBox, Polygon, Segmentation)):
            bounds = geometry_bounds(g, rec.width)
            if bounds is None:
                self.tally.skip(ann.tool)
                return None
            clamped = clamp_bounds(bounds, width, height)
            if clamped is None:
                self.tally.outside += 1
                return None
            (x0, y0, x1, y1), changed = clamped
            self.tally.clamped += changed
            return f"{self._cls(ann)} " + _fmt(
                (
                    (x0 + x1) / 2 / width,
                    (y0 + y1) / 2 / height,
                    (x1 - x0) / width,
                    (y1 - y0) / height,
                )
            )
        if (task == "segment" and isinstance(g, (BoundingBox, Polygon))) or (
            task == "obb" and isinstance(g, BoundingBox)
        ):
            points = g.corners() if isinstance(g, BoundingBox) else g.points
            return self._polygon_row(ann, points, width, height)
        if task == "pose" and isinstance(g, (Keypoint, KeypointSet)):
            return self._pose_row(ann, g, width, height)
        self.tally.skip(ann.tool)
        return None

    def _cls(self, ann: Annotation) -> int:
        return self.ctx.labels.id(ann.label)

    def _polygon_row(
        self, ann: Annotation, points: tuple[Point, ...], width: float, height: float
    ) -> str | None:
        if clamp_bounds(points_bounds(points), width, height) is None:
            self.tally.outside += 1
            return None
        inside, changed = clamp_points(points, width, height)
        if polygon_area(inside) <= NEGLIGIBLE_AREA:  # clamped onto an edge: nothing inside
            self.tally.outside += 1
            return None
        self.tally.clamped += changed
        return f"{self._cls(ann)} " + _fmt([c for x, y in inside for c in (x / width, y / height)])

    def _pose_row(
        self, ann: Annotation, g: Keypoint | KeypointSet, width: float, height: float
    ) -> str | None:
        points = g.points if isinstance(g, KeypointSet) else (g,)
        if self.kpt_count is None:
            self.kpt_count = len(points)
        if len(points) > self.kpt_count:
            self.tally.reject("keypoint_count")
            return None
        values: list[float] = []
        inside: list[Point] = []
        changed = False
        for p in points:
            if p.visible and 0 <= p.x <= width and 0 <= p.y <= height:
                values += (p.x / width, p.y / height, float(p.visible))
                inside.append((p.x, p.y))
            else:
                changed = changed or p.visible > 0
                values += (0.0, 0.0, 0.0)
        if not inside:
            self.tally.outside += 1
            return None
        values += (0.0, 0.0, 0.0) * (self.kpt_count - len(points))
        self.tally.clamped += changed
        x0, y0, x1, y1 = points_bounds(tuple(inside))
        box = ((x0 + x1) / 2 / width, (y0 + y1) / 2 / height, (x1 - x0) / width, (y1 - y0) / height)
        return f"{self._cls(ann)} {_fmt(box)} " + " ".join(
            f"{v:.6f}" if i % 3 != 2 else str(int(v)) for i, v in enumerate(values)
        )

    def data_yaml(self) -> dict[str, Any]:
        """The content of ``data.yaml`` as a dict (``names``: id -> name)."""
        splits = list(dict.fromkeys([*self.ctx.splits, *sorted(self._made)])) or ["default"]
        train = "train" if "train" in splits else splits[0]
        val = next((s for s in _VAL_NAMES if s in splits), train)
        data: dict[str, Any] = {"train": f"images/{train}", "val": f"images/{val}"}
        if "test" in splits:
            data["test"] = "images/test"
        names = self.ctx.labels.names
        data["nc"] = len(names)
        data["names"] = dict(enumerate(names))
        if self.task == "pose" and self.kpt_count:
            data["kpt_shape"] = [self.kpt_count, 3]
        return data

    def _yaml(self) -> str:
        data = self.data_yaml()
        lines = ["# YOLO dataset written by synapse-async; paths are relative to this file."]
        lines += [f"{key}: {data[key]}" for key in ("train", "val", "test", "nc") if key in data]
        names: dict[int, str] = data["names"]
        lines.append("names:" if names else "names: {}")
        lines += [f"  {i}: {yaml_quote(n)}" for i, n in names.items()]
        if "kpt_shape" in data:
            k, dims = data["kpt_shape"]
            lines.append(f"kpt_shape: [{k}, {dims}]")
        return "\n".join(lines) + "\n"

    def finish(self) -> None:
        """Write ``classes.txt`` then ``data.yaml`` (neither when there is no class)."""
        if not self.ctx.labels.names:
            self.tally.note(
                "yolo: no class in the export, so no data.yaml or classes.txt "
                "(Ultralytics rejects a dataset with nc: 0)"
            )
            return
        durable = self.ctx.options.durable
        classes = self.output_dir / "classes.txt"
        with atomic_write(classes, durable=durable) as fh:
            fh.write("".join(_line_escape(n) + "\n" for n in self.ctx.labels.names))
        self._record_file(classes)
        data_yaml = self.output_dir / "data.yaml"
        with atomic_write(data_yaml, durable=durable) as fh:
            fh.write(self._yaml())
        self._record_file(data_yaml)
