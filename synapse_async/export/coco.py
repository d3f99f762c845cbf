"""COCO instances writer."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from .base import Writer, WriterContext
from .files import ScratchFile, atomic_write
from .geometry import mask_bounds, mask_rle, polygon_area
from .schema import Annotation, BoundingBox, ImageRecord, Item, Keypoint, KeypointSet, Polygon
from .schema import Segmentation as Mask

__all__ = ["CocoWriter"]

_SEP = (",", ":")
_encode = json.JSONEncoder(separators=_SEP, ensure_ascii=False).encode


def _n(v: float) -> str:
    """A coordinate as JSON text, as :func:`_r` then ``json`` would write it."""
    if v.is_integer() and abs(v) < 2**53:
        return str(int(v))
    return repr(v)


def _r(v: float) -> float | int:
    """Plain JSON numbers: integral floats as ints (``10`` not ``10.0``)."""
    return int(v) if float(v).is_integer() and abs(v) < 2**53 else v


def _at_least_one(lo: float, hi: float) -> tuple[float, float]:
    """Widen ``[lo, hi]`` to at least 1 px about its centre."""
    if hi - lo >= 1:
        return lo, hi
    mid = (lo + hi) / 2
    return mid - 0.5, mid + 0.5


class CocoWriter(Writer):
    """Writes ``annotations/instances_<split>.json``, one COCO file per split.

    Conventions:

    - ``images``: ``{"id", "file_name", "width", "height"}``; ids are 1-based, unique across
      the splits, in stream order. Every image record is listed, annotated or not; an image
      of unknown size is left out with its annotations (the record counts as failed, the
      report is not ``complete``; with ``include_files`` the size comes from the file).
      Non-image media are left out (``skipped_media``).
    - ``categories``: one per label, ``id`` = label position + 1 (stable, the same in every
      split), ``supercategory`` ``""``; categories with keypoints carry ``keypoints`` (point
      names, ``kp1..kpN`` when the data names none) and ``skeleton`` (1-based pairs).
    - ``annotations``: absolute pixels, *not* clamped (COCO keeps what was drawn); ids 1-based
      across the export; ``iscrowd`` 0.

      - bounding_box: ``bbox [x, y, w, h]``, ``area = w * h``, and its four corners as a
        polygon ``segmentation`` (never ``[]``, which breaks ``annToMask`` and segm
        evaluation). A rotated box gets the axis-aligned box around its corners as
        ``bbox``, its corners as ``segmentation``, and ``attributes.rotation`` (radians).
      - polygon: ``segmentation [[x1, y1, ...]]``, ``bbox`` of the points, ``area`` by the
        shoelace formula.
      - keypoint / keypoint set: ``keypoints [x, y, v, ...]`` with ``0, 0, 0`` for unlabeled
        points (``v = 0``, as the COCO spec requires), ``num_keypoints`` = points with
        ``v > 0``; ``bbox`` is the box of the labeled points, widened to at least 1 px each
        way about its centre (a single point or a line of points still has an area), and
        ``area`` its ``w * h``.
      - segmentation (pixel mask): uncompressed RLE ``{"size": [h, w], "counts": [...]}``,
        ``area`` = pixel count, ``bbox`` of the pixels; needs the image size.
      - polyline, classification, named_entity and video sections are skipped (counted).
      - other classification properties go to ``attributes`` (CVAT's convention).

    Streaming: each split's images and annotations are appended to hidden scratch files as
    JSON fragments; ``finish()`` writes each final file (categories first, then the two
    arrays copied from the scratch files) through a temp file and a rename, then deletes the
    scratch files. Memory stays O(labels) whatever the number of boxes.
    """

    format = "coco"

    def __init__(self, output_dir: Path, ctx: WriterContext) -> None:
        super().__init__(output_dir, ctx)
        self.ann_dir = output_dir / "annotations"
        self._images: dict[str, ScratchFile] = {}
        self._anns: dict[str, ScratchFile] = {}
        self._image_id = 0
        self._ann_id = 0
        self._kp_names: dict[int, tuple[str, ...]] = {}
        self._kp_count: dict[int, int] = {}
        self._skeleton: dict[int, tuple[tuple[int, int], ...]] = {}

    def begin(self) -> None:
        """Create ``annotations/`` and the scratch files of every split."""
        self.ann_dir.mkdir(parents=True, exist_ok=True)
        for split in self.ctx.splits:
            self._scratch(split)

    def _scratch(self, split: str) -> tuple[ScratchFile, ScratchFile]:
        if split not in self._images:
            self._images[split] = ScratchFile(self.ann_dir, f"instances_{split}.images")
            self._anns[split] = ScratchFile(self.ann_dir, f"instances_{split}.annotations")
        return self._images[split], self._anns[split]

    def write(self, item: Item) -> None:
        """Append the record's images and annotations to its split's scratch files."""
        images, anns = self._scratch(item.split)
        for rec in item.records:
            if not rec.has_size:
                for ann in rec.annotations:
                    if ann.tool not in ("classification", "named_entity"):
                        self.tally.reject("missing_image_size")
                continue
            self._image_id += 1
            image_id = self._image_id
            images.write(
                f'{"," if images.count else ""}{{"id":{image_id},"file_name":'
                f'{_encode(rec.file_name)},"width":{rec.width},'
                f'"height":{rec.height}}}'
            )
            parts = []
            ids = self.ctx.labels.id
            for ann in rec.annotations:
                g = ann.geometry
                if type(g) is BoundingBox and not g.rotation and not ann.attributes:
                    # The common case as one string: the same JSON the general path makes.
                    self._ann_id += 1
                    x0, y0 = g.x, g.y
                    x1, y1 = x0 + g.w, y0 + g.h
                    a, b, c, d = _n(x0), _n(y0), _n(x1), _n(y1)
                    parts.append(
                        f'{{"id":{self._ann_id},"image_id":{image_id},'
                        f'"category_id":{ids(ann.label) + 1},"bbox":[{a},{b},{_n(x1 - x0)},'
                        f'{_n(y1 - y0)}],"area":{_n(g.w * g.h)},"iscrowd":0,'
                        f'"segmentation":[[{a},{b},{c},{b},{c},{d},{a},{d}]]}}'
                    )
                    continue
                out = self._convert(ann, rec)
                if out is None:
                    continue
                self._ann_id += 1
                out = {"id": self._ann_id, "image_id": image_id, **out}
                parts.append(_encode(out))
            if parts:
                anns.write(("," if anns.count else "") + ",".join(parts))
                self.tally.written(item.split, len(parts))

    def _convert(self, ann: Annotation, rec: ImageRecord) -> dict[str, Any] | None:
        g = ann.geometry
        attributes = dict(ann.attributes)
        segmentation: Any = None
        extra: dict[str, Any] = {}
        pose: tuple[Keypoint | KeypointSet, int] | None = None
        if isinstance(g, BoundingBox):
            x0, y0, x1, y1 = g.bounds()
            area = g.w * g.h
            segmentation = [[_r(c) for p in g.corners() for c in p]]
            if g.rotated:
                attributes["rotation"] = g.rotation
        elif isinstance(g, Polygon):
            xs, ys = [p[0] for p in g.points], [p[1] for p in g.points]
            x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
            segmentation = [[_r(c) for p in g.points for c in p]]
            area = polygon_area(g.points)
        elif isinstance(g, (Keypoint, KeypointSet)):
            points = g.points if isinstance(g, KeypointSet) else (g,)
            labeled = [p for p in points if p.visible > 0]
            if not labeled:
                self.tally.reject("no_labeled_keypoint")
                return None
            x0, y0 = min(p.x for p in labeled), min(p.y for p in labeled)
            x1, y1 = max(p.x for p in labeled), max(p.y for p in labeled)
            x0, x1 = _at_least_one(x0, x1)
            y0, y1 = _at_least_one(y0, y1)
            area = (x1 - x0) * (y1 - y0)
            extra = {
                "keypoints": [
                    _r(v)
                    for p in points
                    for v in ((p.x, p.y, p.visible) if p.visible > 0 else (0, 0, 0))
                ],
                "num_keypoints": len(labeled),
            }
            pose = (g, len(points))
        elif isinstance(g, Mask) and g.pixel_indices:
            if not rec.has_size:
                self.tally.reject("missing_image_size")
                return None
            assert rec.width is not None and rec.height is not None
            try:
                counts, pixels = mask_rle(g.pixel_indices, rec.width, rec.height)
            except ValueError as exc:
                self.tally.reject(str(exc))
                return None
            x0, y0, x1, y1 = mask_bounds(g.pixel_indices, rec.width)
            segmentation = {"size": [rec.height, rec.width], "counts": counts}
            area = pixels
        else:
            self.tally.skip(ann.tool)
            return None
        cid = self.ctx.labels.id(ann.label) + 1
        if pose is not None:
            self._note_keypoints(cid, *pose)
        out: dict[str, Any] = {
            "category_id": cid,
            "bbox": [_r(x0), _r(y0), _r(x1 - x0), _r(y1 - y0)],
            "area": _r(area),
            "iscrowd": 0,
            **extra,
        }
        if segmentation is not None:
            out["segmentation"] = segmentation
        if attributes:
            out["attributes"] = attributes
        return out

    def _note_keypoints(self, cid: int, g: Keypoint | KeypointSet, n: int) -> None:
        self._kp_count[cid] = max(self._kp_count.get(cid, 0), n)
        if isinstance(g, KeypointSet):
            if g.names and cid not in self._kp_names:
                self._kp_names[cid] = g.names
            if g.skeleton and cid not in self._skeleton:
                self._skeleton[cid] = g.skeleton

    def _categories(self) -> list[dict[str, Any]]:
        cats = []
        for index, name in enumerate(self.ctx.labels.names):
            cid = index + 1
            cat: dict[str, Any] = {"id": cid, "name": name, "supercategory": ""}
            if cid in self._kp_count:
                names = list(self._kp_names.get(cid, ()))
                names += [f"kp{i + 1}" for i in range(len(names), self._kp_count[cid])]
                cat["keypoints"] = names
                cat["skeleton"] = [[a + 1, b + 1] for a, b in self._skeleton.get(cid, ())]
            cats.append(cat)
        return cats

    def finish(self) -> None:
        """Assemble ``instances_<split>.json`` for every split, atomically."""
        head = {
            "info": {"description": "synapse-async export", "version": "1.0"},
            "licenses": [],
            "categories": self._categories(),
        }
        prefix = json.dumps(head, separators=_SEP, ensure_ascii=False)[:-1]
        if not self._images:  # nothing exported and no split configured: one empty file
            self._scratch("default")
        for split in list(self._images):
            images, anns = self._images[split], self._anns[split]
            images.close()
            anns.close()
            path = self.ann_dir / f"instances_{split}.json"
            with atomic_write(path, durable=self.ctx.options.durable) as out:
                out.write(prefix + ',"images":[')
                with open(images.path, encoding="utf-8") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                out.write('],"annotations":[')
                with open(anns.path, encoding="utf-8") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
                out.write("]}\n")
            self._record_file(path)
            images.discard()
            anns.discard()

    def abort(self) -> None:
        """Delete the scratch files."""
        for scratch in (*self._images.values(), *self._anns.values()):
            scratch.discard()
