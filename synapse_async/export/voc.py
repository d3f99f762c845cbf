"""Pascal VOC writer: one XML per image, image-set lists per split."""

from __future__ import annotations

import colorsys
import math
import os
import re
from pathlib import Path

from .base import Writer, WriterContext
from .files import ScratchFile, atomic_write
from .geometry import clamp_bounds, geometry_bounds
from .schema import BoundingBox, ImageRecord, Item, Polygon, Segmentation

__all__ = ["VocWriter", "labelmap_line", "labelmap_safe", "voc_box"]

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NON_SPATIAL = ("classification", "named_entity")


def _text(value: object) -> str:
    """Text XML 1.0 can carry (control characters and lone surrogates become U+FFFD)."""
    return _NOT_XML.sub("\ufffd", str(value))


def _xml_text(value: object) -> str:
    """:func:`_text`, escaped for element content (``&``, ``<``, ``>``)."""
    return _text(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def labelmap_safe(name: str) -> bool:
    """True when Datumaro/CVAT can read ``name`` back from ``labelmap.txt`` unchanged.

    Their reader splits lines on ``:``, strips them, and skips those starting with ``#``.
    """
    return (
        ":" not in name
        and not name.startswith("#")
        and name == name.strip()
        and not re.search(r"[\x00-\x1f\x7f]", name)
    )


def labelmap_line(name: str, index: int) -> str:
    """One ``labelmap.txt`` line (Datumaro's and CVAT's VOC label map): ``name:r,g,b::``.

    Colors are spread over the hue circle by ``index`` (stable for a label list). ``:``,
    line breaks and control characters in ``name`` cannot be written in this format and
    become ``_`` (the XML files keep the real name; see :func:`labelmap_safe`).
    """
    r, g, b = colorsys.hsv_to_rgb((index * 0.618033988749895) % 1.0, 0.65, 0.95)
    clean = re.sub(r"[:\x00-\x1f\x7f]", "_", _text(name))
    return f"{clean}:{round(r * 255)},{round(g * 255)},{round(b * 255)}::"


def voc_box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    """VOC's 1-based inclusive pixel box for the continuous box ``[x0, x1) x [y0, y1)``.

    ``xmin = floor(x0) + 1``, ``xmax = ceil(x1)`` (the same for y): the smallest pixel
    rectangle covering the box. Readers that follow the devkit (detectron2, torchvision's
    references, Ultralytics' VOC script) read it back as ``[xmin - 1, xmax)``, within one
    pixel of the original.
    """
    return math.floor(x0) + 1, math.floor(y0) + 1, math.ceil(x1), math.ceil(y1)


class VocWriter(Writer):
    """Writes ``Annotations/<stem>.xml`` per image, image-set lists and label lists.

    Conventions:

    - One XML per image record (``annotation`` root, ``folder`` JPEGImages, ``filename``,
      ``source/database`` synapse, ``size`` with width, height and depth 3, ``segmented`` 0),
      written even when it has no objects. File names are unique across the whole export
      (VOC keeps all images in one folder; the split lives in the image-set lists).
      Non-image media are left out (``skipped_media``).
    - ``object``: ``name`` (the label), ``pose`` Unspecified, ``truncated`` (1 when the box
      was clamped to the image), ``difficult`` 0, ``bndbox`` in integer pixels, 1-based and
      inclusive as in the VOC devkit (see :func:`voc_box`), clamped to ``[1, width]`` x
      ``[1, height]``. Boxes that lie wholly outside are dropped (``outside``); clamped ones
      are counted (``clamped``).
    - Bounding boxes (rotated: the box around their corners), polygons and pixel masks (their
      bounding box) become objects; other tools are skipped (counted).
    - Records without a known width/height cannot be clamped: their spatial annotations are
      rejected (``missing_image_size``), no XML is written for them and the record counts as
      failed (the report is not ``complete``).
    - ``ImageSets/Main/<split>.txt`` lists the stems of each split (the configured splits,
      or those the records name). ``labels.txt`` lists the labels, one a line;
      ``labelmap.txt`` declares them for Datumaro and CVAT (see :func:`labelmap_line`;
      without it they reject every label outside VOC's 20 classes). Original files belong
      in ``JPEGImages/``.
    """

    format = "voc"

    def __init__(self, output_dir: Path, ctx: WriterContext) -> None:
        super().__init__(output_dir, ctx)
        self.ann_dir = output_dir / "Annotations"
        self.sets_dir = output_dir / "ImageSets" / "Main"
        self._ann_prefix = str(self.ann_dir) + os.sep
        self._sets: dict[str, ScratchFile] = {}
        self._escaped: dict[str, str] = {}  # label -> its XML text (labels repeat a lot)

    def image_dir(self, split: str) -> Path:
        """``JPEGImages/`` for every split."""
        return self.output_dir / "JPEGImages"

    def begin(self) -> None:
        """Create the VOC folders and one image-set scratch file per configured split."""
        for d in (self.ann_dir, self.sets_dir, self.image_dir("")):
            d.mkdir(parents=True, exist_ok=True)
        for split in self.ctx.splits:
            self._set(split)

    def _set(self, split: str) -> ScratchFile:
        if split not in self._sets:
            self._sets[split] = ScratchFile(self.sets_dir, f"{split}.txt")
        return self._sets[split]

    def write(self, item: Item) -> None:
        """Write one XML per image record of ``item``."""
        image_set = self._set(item.split)
        tally = self.tally
        for rec in item.records:
            if not rec.has_size:
                spatial = [a for a in rec.annotations if a.tool not in _NON_SPATIAL]
                for _ in spatial:
                    tally.reject("missing_image_size")
                if spatial:
                    continue
            xml, objects = self._xml(rec)
            name = rec.file_name
            dot = name.rfind(".")
            stem = name[:dot] if dot > 0 else name
            fd = os.open(self._ann_prefix + stem + ".xml", _OPEN_FLAGS, 0o666)
            try:
                os.write(fd, xml.encode())
            finally:
                os.close(fd)
            tally.per_image_files["Annotations"] += 1
            image_set.write(stem + "\n")
            tally.written(item.split, objects)

    def _xml(self, rec: ImageRecord) -> tuple[str, int]:
        width, height = rec.width or 0, rec.height or 0
        parts = [_HEAD.format(name=_xml_text(rec.file_name), width=width, height=height)]
        objects = 0
        tally = self.tally
        escaped = self._escaped
        ids = self.ctx.labels.id
        floor, ceil = math.floor, math.ceil
        for ann in rec.annotations:
            g = ann.geometry
            if type(g) is BoundingBox and not g.rotation:
                # The common case, inline: clamp an axis-aligned box, then voc_box().
                x0, y0 = g.x, g.y
                x1, y1 = x0 + g.w, y0 + g.h
                cx0 = 0.0 if x0 < 0 else (width if x0 > width else x0)
                cy0 = 0.0 if y0 < 0 else (height if y0 > height else y0)
                cx1 = 0.0 if x1 < 0 else (width if x1 > width else x1)
                cy1 = 0.0 if y1 < 0 else (height if y1 > height else y1)
                if not (cx0 < cx1 and cy0 < cy1):
                    tally.outside += 1
                    continue
                changed = cx0 != x0 or cy0 != y0 or cx1 != x1 or cy1 != y1
                tally.clamped += changed
                ids(ann.label)
                name = escaped.get(ann.label)
                if name is None:
                    name = escaped[ann.label] = _xml_text(ann.label)
                parts.append(
                    f"{_OBJECT_HEAD}{name}{_OBJECT_MID}{int(changed)}{_OBJECT_BOX}"
                    f"{floor(cx0) + 1}</xmin>\n      <ymin>{floor(cy0) + 1}</ymin>\n"
                    f"      <xmax>{ceil(cx1)}</xmax>\n      <ymax>{ceil(cy1)}"
                    f"{_OBJECT_END}"
                )
                objects += 1
                continue
            bounds = (
                geometry_bounds(g, rec.width)
                if isinstance(g, (BoundingBox, Polygon, Segmentation))
                else None
            )
            if bounds is None:
                tally.skip(ann.tool)
                continue
            clamped = clamp_bounds(bounds, width, height)
            if clamped is None:
                tally.outside += 1
                continue
            box, changed = clamped
            tally.clamped += changed
            self.ctx.labels.id(ann.label)
            xmin, ymin, xmax, ymax = voc_box(*box)
            parts.append(
                _OBJECT.format(
                    name=_xml_text(ann.label),
                    truncated=int(changed),
                    xmin=xmin,
                    ymin=ymin,
                    xmax=xmax,
                    ymax=ymax,
                )
            )
            objects += 1
        parts.append("</annotation>\n")
        return "".join(parts), objects

    def finish(self) -> None:
        """Write the image-set lists, ``labels.txt`` and ``labelmap.txt``."""
        durable = self.ctx.options.durable
        if not self._sets:
            self._set("default")
        for split, scratch in self._sets.items():
            scratch.close()
            path = self.sets_dir / f"{split}.txt"
            os.replace(scratch.path, path)
            self._record_file(path)
        names = self.ctx.labels.names
        labels = self.output_dir / "labels.txt"
        with atomic_write(labels, durable=durable) as fh:
            fh.write("".join(_text(n).replace("\n", " ").replace("\r", " ") + "\n" for n in names))
        self._record_file(labels)
        labelmap = self.output_dir / "labelmap.txt"
        with atomic_write(labelmap, durable=durable) as fh:
            fh.write("# label:color_rgb:parts:actions\n")
            fh.write("".join(labelmap_line(n, i) + "\n" for i, n in enumerate(names)))
        self._record_file(labelmap)
        unsafe = [n for n in names if not labelmap_safe(n)]
        if unsafe:
            self.tally.note(
                f"voc: {len(unsafe)} label(s) cannot be declared in labelmap.txt "
                f"as written (':', a leading '#', surrounding spaces or control "
                f"characters), so Datumaro/CVAT will reject them: {unsafe[:5]!r}"
            )

    def abort(self) -> None:
        """Delete the image-set scratch files."""
        for scratch in self._sets.values():
            scratch.discard()


_OPEN_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_HEAD = """<?xml version='1.0' encoding='utf-8'?>
<annotation>
  <folder>JPEGImages</folder>
  <filename>{name}</filename>
  <source>
    <database>synapse</database>
  </source>
  <size>
    <width>{width}</width>
    <height>{height}</height>
    <depth>3</depth>
  </size>
  <segmented>0</segmented>
"""
_OBJECT_HEAD = "  <object>\n    <name>"
_OBJECT_MID = "</name>\n    <pose>Unspecified</pose>\n    <truncated>"
_OBJECT_BOX = "</truncated>\n    <difficult>0</difficult>\n    <bndbox>\n      <xmin>"
_OBJECT_END = "</ymax>\n    </bndbox>\n  </object>\n"
_OBJECT = """  <object>
    <name>{name}</name>
    <pose>Unspecified</pose>
    <truncated>{truncated}</truncated>
    <difficult>0</difficult>
    <bndbox>
      <xmin>{xmin}</xmin>
      <ymin>{ymin}</ymin>
      <xmax>{xmax}</xmax>
      <ymax>{ymax}</ymax>
    </bndbox>
  </object>
"""
