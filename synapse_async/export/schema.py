"""Normalized annotation types: what the DM schema v1 reader produces and the writers consume.

Every type is a frozen, slotted attrs class. Coordinates are absolute pixels in the image's
own frame: origin at the top-left corner, x to the right, y down; a pixel ``(i, j)`` covers
``[i, i + 1) x [j, j + 1)``. Text offsets are Python string indices (code points), end
exclusive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Union

import attrs

__all__ = [
    "TOOLS",
    "Annotation",
    "BoundingBox",
    "Classification",
    "Geometry",
    "ImageRecord",
    "Item",
    "Keypoint",
    "KeypointSet",
    "NamedEntity",
    "Point",
    "Polygon",
    "Polyline",
    "Segmentation",
    "points_bounds",
]

Point = tuple[float, float]
"""An ``(x, y)`` pair in pixels."""

Bounds = tuple[float, float, float, float]

_NON_IMAGE_EXTENSIONS = frozenset(
    (
        ".txt",
        ".md",
        ".json",
        ".jsonl",
        ".csv",
        ".tsv",
        ".html",
        ".htm",
        ".xml",
        ".pdf",
        ".doc",
        ".docx",
        ".mp3",
        ".wav",
        ".mp4",
        ".mov",
        ".avi",
    )
)

TOOLS = (
    "bounding_box",
    "polygon",
    "polyline",
    "keypoint",
    "classification",
    "named_entity",
    "segmentation",
)
"""The annotation tools the reader understands (canonical names)."""


def points_bounds(points: tuple[Point, ...]) -> Bounds:
    """Axis-aligned bounds ``(x0, y0, x1, y1)`` of a non-empty point sequence."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


@attrs.frozen
class BoundingBox:
    """A box ``x, y`` (top-left corner), ``w, h`` (size), optionally rotated.

    ``rotation`` is in radians about the box centre, applied in image coordinates as
    ``x' = cx + dx*cos(r) - dy*sin(r)``, ``y' = cy + dx*sin(r) + dy*cos(r)``; with y pointing
    down a positive angle turns the box clockwise on screen. ``None`` and ``0`` both mean an
    axis-aligned box.
    """

    x: float
    y: float
    w: float
    h: float
    rotation: float | None = None

    @property
    def rotated(self) -> bool:
        """True when the box has a non-zero rotation."""
        return bool(self.rotation)

    def corners(self) -> tuple[Point, ...]:
        """The four corners, clockwise on screen from the (unrotated) top-left one."""
        raw = (
            (self.x, self.y),
            (self.x + self.w, self.y),
            (self.x + self.w, self.y + self.h),
            (self.x, self.y + self.h),
        )
        if not self.rotation:
            return raw
        cx, cy = self.x + self.w / 2, self.y + self.h / 2
        cos, sin = math.cos(self.rotation), math.sin(self.rotation)
        return tuple(
            (cx + (px - cx) * cos - (py - cy) * sin, cy + (px - cx) * sin + (py - cy) * cos)
            for px, py in raw
        )

    def bounds(self) -> Bounds:
        """Axis-aligned bounds ``(x0, y0, x1, y1)``; for a rotated box, of its corners."""
        if not self.rotation:
            return self.x, self.y, self.x + self.w, self.y + self.h
        return points_bounds(self.corners())


@attrs.frozen
class Polygon:
    """A closed polygon: three or more vertices, in drawing order."""

    points: tuple[Point, ...]


@attrs.frozen
class Polyline:
    """An open line through two or more points, in drawing order."""

    points: tuple[Point, ...]


@attrs.frozen
class Keypoint:
    """One point with a COCO visibility flag.

    ``visible``: 0 not labeled (coordinates meaningless), 1 labeled but occluded,
    2 labeled and visible.
    """

    x: float
    y: float
    visible: int = 2


@attrs.frozen
class KeypointSet:
    """An ordered set of keypoints (a pose), with optional point names and skeleton.

    ``skeleton`` holds 0-based index pairs into ``points``.
    """

    points: tuple[Keypoint, ...]
    names: tuple[str, ...] = ()
    skeleton: tuple[tuple[int, int], ...] = ()

    def labeled(self) -> tuple[Point, ...]:
        """Coordinates of the points whose ``visible`` flag is 1 or 2."""
        return tuple((p.x, p.y) for p in self.points if p.visible > 0)


@attrs.frozen
class Classification:
    """A label on the whole item (no geometry); details live in the annotation attributes."""


@attrs.frozen
class NamedEntity:
    """A text span ``[start, end)`` in the item's text; ``text`` is the span as annotated."""

    start: int
    end: int
    text: str | None = None


@attrs.frozen
class Segmentation:
    """A pixel mask or a video section.

    ``pixel_indices``: row-major indices ``y * width + x`` of the mask's pixels (image
    segmentation). ``frames``: ``(start_frame, end_frame)`` inclusive (video segmentation).
    Exactly one of the two is set.
    """

    pixel_indices: tuple[int, ...] = ()
    frames: tuple[int, int] | None = None


Geometry = Union[
    BoundingBox, Polygon, Polyline, Keypoint, KeypointSet, Classification, NamedEntity, Segmentation
]
"""Any of the geometry types."""


@attrs.frozen
class Annotation:
    """One validated annotation.

    Attributes:
        id: the annotation id from the document (stringified).
        tool: canonical tool name, one of :data:`TOOLS`.
        label: the class name (``classification.class`` or the compact ``classification``);
            may be empty only for the ``classification`` tool.
        geometry: the tool's geometry.
        attributes: the other classification properties (everything but ``class``).
    """

    id: str
    tool: str
    label: str
    geometry: Geometry
    attributes: Mapping[str, Any] = attrs.field(factory=dict)


@attrs.frozen
class ImageRecord:
    """One media of an item (an image, or a text for NER) with its annotations.

    Attributes:
        item_id: the record id (assignment, ground truth event or task), stringified.
        media_id: the DM media key (``image_1``, ...), or None for a document without keys.
        file_name: a safe file name (see :func:`synapse_async.export.safe_filename`); the
            export pipeline makes it unique per export.
        width: image width in pixels, or None when unknown.
        height: image height in pixels, or None when unknown.
        text: the text NER offsets refer to, or None.
        annotations: the valid annotations, in document order.
        split: the split the item was assigned to (``default`` when not split).
        media_type: the MIME type the metadata gives, or None.
    """

    item_id: str
    media_id: str | None
    file_name: str
    width: int | None = None
    height: int | None = None
    text: str | None = None
    annotations: tuple[Annotation, ...] = ()
    split: str = "default"
    media_type: str | None = None

    @property
    def has_size(self) -> bool:
        """True when both width and height are known."""
        return self.width is not None and self.height is not None

    @property
    def is_image(self) -> bool:
        """False for text (and other non-image) media.

        That is: a record with a ``text``, a non-image MIME type, or a non-image file
        extension (``.txt``, ``.pdf``, ``.mp4``...).

        Image formats (COCO, YOLO, VOC) take image media only and count the rest as
        ``skipped_media``.
        """
        if self.text is not None:
            return False
        if self.media_type is not None and not (
            self.media_type.startswith("image/") or self.media_type == "application/octet-stream"
        ):
            return False
        dot = self.file_name.rfind(".")
        return dot <= 0 or self.file_name[dot:].lower() not in _NON_IMAGE_EXTENSIONS


@attrs.frozen
class Item:
    """One raw export record, parsed.

    Attributes:
        id: the record id, stringified.
        raw: the input mapping, untouched (the Synapse JSON writer writes it verbatim).
        records: one :class:`ImageRecord` per media.
        unknown_tools: tool name -> count of annotations with a tool the reader does not know.
        invalid: reason -> count of annotations rejected as invalid.
        split: the split the item was assigned to.
    """

    id: str
    raw: Mapping[str, Any]
    records: tuple[ImageRecord, ...]
    unknown_tools: Mapping[str, int] = attrs.field(factory=dict)
    invalid: Mapping[str, int] = attrs.field(factory=dict)
    split: str = "default"

    @property
    def annotation_count(self) -> int:
        """Number of valid annotations across the records."""
        return sum(len(r.annotations) for r in self.records)
