"""Pascal VOC writer: one XML per image, image-set lists per split."""

from __future__ import annotations

import math
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .base import Writer, WriterContext
from .files import ScratchFile, atomic_write, split_ext, write_atomic
from .geometry import clamp_bounds, geometry_bounds
from .schema import BoundingBox, ImageRecord, Item, Polygon, Segmentation

__all__ = ["VocWriter", "voc_box"]

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NON_SPATIAL = ("classification", "named_entity")


def _text(value: object) -> str:
    """Text XML 1.0 can carry (control characters and lone surrogates become U+FFFD)."""
    return _NOT_XML.sub("\ufffd", str(value))


def voc_box(x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
    """VOC's 1-based inclusive pixel box for the continuous box ``[x0, x1) x [y0, y1)``.

    ``xmin = floor(x0) + 1``, ``xmax = ceil(x1)`` (the same for y): the smallest pixel
    rectangle covering the box. Readers that follow the devkit (detectron2, torchvision's
    references, Ultralytics' VOC script) read it back as ``[xmin - 1, xmax)``, within one
    pixel of the original.
    """
    return math.floor(x0) + 1, math.floor(y0) + 1, math.ceil(x1), math.ceil(y1)


class VocWriter(Writer):
    """Writes ``Annotations/<stem>.xml`` per image, ``ImageSets/Main/<split>.txt``, ``labels.txt``.

    Conventions:

    - One XML per media record (``annotation`` root, ``folder`` JPEGImages, ``filename``,
      ``source/database`` synapse, ``size`` with width, height and depth 3, ``segmented`` 0),
      written even when it has no objects. File names are unique across the whole export
      (VOC keeps all images in one folder; the split lives in the image-set lists).
    - ``object``: ``name`` (the label), ``pose`` Unspecified, ``truncated`` (1 when the box
      was clamped to the image), ``difficult`` 0, ``bndbox`` in integer pixels, 1-based and
      inclusive as in the VOC devkit (see :func:`voc_box`), clamped to ``[1, width]`` x
      ``[1, height]``. Boxes that lie wholly outside are dropped (``outside``); clamped ones
      are counted (``clamped``).
    - Bounding boxes (rotated: the box around their corners), polygons and pixel masks (their
      bounding box) become objects; other tools are skipped (counted).
    - Records without a known width/height cannot be clamped: their spatial annotations are
      rejected (``missing_image_size``) and no XML is written for them.
    - ``ImageSets/Main/<split>.txt`` lists the stems of each split; it and ``labels.txt``
      are written last, so their absence marks an unfinished export. Original files belong
      in ``JPEGImages/``.
    """

    format = "voc"

    def __init__(self, output_dir: Path, ctx: WriterContext) -> None:
        super().__init__(output_dir, ctx)
        self.ann_dir = output_dir / "Annotations"
        self.sets_dir = output_dir / "ImageSets" / "Main"
        self._sets: dict[str, ScratchFile] = {}

    def image_dir(self, split: str) -> Path:
        """``JPEGImages/`` for every split."""
        return self.output_dir / "JPEGImages"

    def begin(self) -> None:
        """Create the VOC folders and one image-set scratch file per split."""
        for d in (self.ann_dir, self.sets_dir, self.image_dir("")):
            d.mkdir(parents=True, exist_ok=True)
        for split in self.ctx.splits:
            self._set(split)

    def _set(self, split: str) -> ScratchFile:
        if split not in self._sets:
            self._sets[split] = ScratchFile(self.sets_dir, f"{split}.txt")
        return self._sets[split]

    def write(self, item: Item) -> None:
        """Write one XML per media record of ``item``."""
        image_set = self._set(item.split)
        for rec in item.records:
            if not rec.has_size:
                spatial = [a for a in rec.annotations if a.tool not in _NON_SPATIAL]
                for _ in spatial:
                    self.tally.reject("missing_image_size")
                if spatial:
                    continue
            root, objects = self._xml(rec)
            stem = split_ext(rec.file_name)[0]
            ET.indent(root)
            write_atomic(os.path.join(self.ann_dir, f"{stem}.xml"),
                         ET.tostring(root, encoding="utf-8", xml_declaration=True),
                         durable=self.ctx.options.durable)
            self._record_per_image(self.ann_dir)
            image_set.write(stem + "\n")
            self.tally.written(item.split, objects)

    def _xml(self, rec: ImageRecord) -> tuple[ET.Element, int]:
        width, height = rec.width or 0, rec.height or 0
        root = ET.Element("annotation")
        ET.SubElement(root, "folder").text = "JPEGImages"
        ET.SubElement(root, "filename").text = _text(rec.file_name)
        ET.SubElement(ET.SubElement(root, "source"), "database").text = "synapse"
        size = ET.SubElement(root, "size")
        for tag, value in (("width", width), ("height", height), ("depth", 3)):
            ET.SubElement(size, tag).text = str(value)
        ET.SubElement(root, "segmented").text = "0"
        objects = 0
        for ann in rec.annotations:
            g = ann.geometry
            bounds = geometry_bounds(g, rec.width) if isinstance(
                g, (BoundingBox, Polygon, Segmentation)) else None
            if bounds is None:
                self.tally.skip(ann.tool)
                continue
            clamped = clamp_bounds(bounds, width, height)
            if clamped is None:
                self.tally.outside += 1
                continue
            box, changed = clamped
            self.tally.clamped += changed
            self.ctx.labels.id(ann.label)
            obj = ET.SubElement(root, "object")
            ET.SubElement(obj, "name").text = _text(ann.label)
            ET.SubElement(obj, "pose").text = "Unspecified"
            ET.SubElement(obj, "truncated").text = "1" if changed else "0"
            ET.SubElement(obj, "difficult").text = "0"
            bndbox = ET.SubElement(obj, "bndbox")
            for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), voc_box(*box), strict=True):
                ET.SubElement(bndbox, tag).text = str(value)
            objects += 1
        return root, objects

    def finish(self) -> None:
        """Write the image-set lists and ``labels.txt``."""
        durable = self.ctx.options.durable
        for split, scratch in self._sets.items():
            scratch.close()
            path = self.sets_dir / f"{split}.txt"
            with atomic_write(path, durable=durable) as out, \
                    open(scratch.path, encoding="utf-8") as src:
                for line in src:
                    out.write(line)
            self._record_file(path)
            scratch.discard()
        labels = self.output_dir / "labels.txt"
        with atomic_write(labels, durable=durable) as fh:
            fh.write("".join(_text(n).replace("\n", " ").replace("\r", " ") + "\n"
                             for n in self.ctx.labels.names))
        self._record_file(labels)

    def abort(self) -> None:
        """Delete the image-set scratch files."""
        for scratch in self._sets.values():
            scratch.discard()
