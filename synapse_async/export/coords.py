"""Parse and validate one annotation's coordinates into a geometry (see :mod:`.reader`).

Every parser takes the annotation's merged fields (the ``annotationsData`` entry overlaid by
the ``annotations`` entry) and returns a geometry or raises :class:`InvalidAnnotation` with a
short reason. Numbers must be JSON numbers (not strings, not booleans) and finite.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from synapse_async._validation import is_number

from .geometry import NEGLIGIBLE_AREA
from .schema import (
    BoundingBox,
    Classification,
    Geometry,
    Keypoint,
    KeypointSet,
    NamedEntity,
    Point,
    Polygon,
    Polyline,
    Segmentation,
)

__all__ = ["PARSERS", "TOOL_ALIASES", "InvalidAnnotation", "canonical_tool"]

TOOL_ALIASES: Mapping[str, str] = {
    "bounding_box": "bounding_box",
    "bbox": "bounding_box",
    "box": "bounding_box",
    "rbox": "bounding_box",
    "rotated_bbox": "bounding_box",
    "polygon": "polygon",
    "poly": "polygon",
    "polyline": "polyline",
    "line": "polyline",
    "keypoint": "keypoint",
    "keypoints": "keypoint",
    "point": "keypoint",
    "classification": "classification",
    "class": "classification",
    "named_entity": "named_entity",
    "ner": "named_entity",
    "entity": "named_entity",
    "segmentation": "segmentation",
    "mask": "segmentation",
}
"""Accepted tool spellings (``tool`` in the full shape, ``type`` in the compact one)."""


class InvalidAnnotation(ValueError):
    """An annotation the reader rejects; ``reason`` is the report key."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def canonical_tool(name: object) -> str | None:
    """The canonical tool name for ``name``, or None when unknown."""
    if not isinstance(name, str):
        return None
    found = TOOL_ALIASES.get(name)  # the usual spelling, without normalizing
    if found is not None:
        return found
    return TOOL_ALIASES.get(name.strip().lower().replace("-", "_").replace(" ", "_"))


_isfinite = math.isfinite


def _num(value: Any) -> float:
    kind = type(value)
    if kind is float:  # the common cases first, without isinstance chains
        if _isfinite(value):
            return value  # type: ignore[no-any-return]
        raise InvalidAnnotation("non_finite")
    if kind is int:
        return float(value)
    if not is_number(value):
        raise InvalidAnnotation("not_a_number")
    if not math.isfinite(value):
        raise InvalidAnnotation("non_finite")
    return float(value)


def _int(value: Any) -> int:
    if not is_number(value):
        raise InvalidAnnotation("not_a_number")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise InvalidAnnotation("not_an_integer")
    return int(value)


def _first(fields: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = fields.get(key)
        if value is not None:
            return value
    return None


def _payload(fields: Mapping[str, Any]) -> Any:
    value = fields.get("coordinate")
    if value is not None:
        return value
    value = _first(fields, "coordinates", "data")
    if value is None:
        raise InvalidAnnotation("missing_coordinates")
    return value


def _point(value: Any) -> Point:
    if isinstance(value, Mapping):
        return _num(value.get("x")), _num(value.get("y"))
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) >= 2:
        if len(value) != 2:
            raise InvalidAnnotation("arity")
        return _num(value[0]), _num(value[1])
    raise InvalidAnnotation("arity")


def _points(value: Any, minimum: int) -> tuple[Point, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidAnnotation("arity")
    if value and all(is_number(v) for v in value):
        if len(value) % 2:  # flat [x1, y1, x2, y2, ...]
            raise InvalidAnnotation("arity")
        pts = tuple((_num(value[i]), _num(value[i + 1])) for i in range(0, len(value), 2))
    else:
        pts = tuple(_point(v) for v in value)
    if len(pts) < minimum:
        raise InvalidAnnotation("too_few_points")
    return pts


def parse_bounding_box(fields: Mapping[str, Any]) -> BoundingBox:
    """``{x, y, width, height, rotation?}`` or ``[x, y, w, h]`` / ``[x, y, w, h, rotation]``."""
    value = _payload(fields)
    rotation: Any = fields.get("rotation")
    if type(value) is dict or isinstance(value, Mapping):
        x, y = _num(value.get("x")), _num(value.get("y"))
        w = value.get("width")
        w = _num(value.get("w") if w is None else w)
        h = value.get("height")
        h = _num(value.get("h") if h is None else h)
        rotation = value.get("rotation", rotation)
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) in (4, 5):
        x, y, w, h = (_num(v) for v in value[:4])
        if len(value) == 5:
            rotation = value[4]
    else:
        raise InvalidAnnotation("arity")
    if w < 0 or h < 0:
        raise InvalidAnnotation("negative_size")
    if w == 0 or h == 0:
        raise InvalidAnnotation("zero_area")
    rot = None if rotation is None else _num(rotation)
    return BoundingBox(x, y, w, h, rot or None)


def _twice_area(points: tuple[Point, ...]) -> float:
    n = len(points)
    return abs(
        sum(
            points[i][0] * points[(i + 1) % n][1] - points[(i + 1) % n][0] * points[i][1]
            for i in range(n)
        )
    )


def parse_polygon(fields: Mapping[str, Any]) -> Polygon:
    """``[{x, y, id?}, ...]``, ``[[x, y], ...]`` or flat ``[x1, y1, ...]``; 3+ points.

    A polygon without area (all points on one line, or repeated) is rejected as
    ``zero_area``, like a box of zero width or height.
    """
    points = _points(_payload(fields), 3)
    if _twice_area(points) <= 2 * NEGLIGIBLE_AREA:
        raise InvalidAnnotation("zero_area")
    return Polygon(points)


def parse_polyline(fields: Mapping[str, Any]) -> Polyline:
    """Same shapes as a polygon; 2+ points."""
    return Polyline(_points(_payload(fields), 2))


def _visibility(value: Any, default: int = 2) -> int:
    if value is None:
        return default
    if isinstance(value, bool):
        return 2 if value else 1
    v = _int(value)
    if v not in (0, 1, 2):
        raise InvalidAnnotation("visibility")
    return v


def _keypoint(value: Any) -> Keypoint:
    if isinstance(value, Mapping):
        occluded = value.get("occluded")
        default = 1 if occluded is True else 2
        flag = _first(value, "visible", "visibility", "v")
        return Keypoint(_num(value.get("x")), _num(value.get("y")), _visibility(flag, default))
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) in (2, 3):
        v = _visibility(value[2]) if len(value) == 3 else 2
        return Keypoint(_num(value[0]), _num(value[1]), v)
    raise InvalidAnnotation("arity")


def _skeleton(value: Any, n: int) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise InvalidAnnotation("skeleton")
    edges = []
    for edge in value:
        if not isinstance(edge, Sequence) or isinstance(edge, str) or len(edge) != 2:
            raise InvalidAnnotation("skeleton")
        a, b = _int(edge[0]), _int(edge[1])
        if not (0 <= a < n and 0 <= b < n):
            raise InvalidAnnotation("skeleton")
        edges.append((a, b))
    return tuple(edges)


def parse_keypoint(fields: Mapping[str, Any]) -> Keypoint | KeypointSet:
    """One point or a set.

    One point: ``{x, y, visible?}`` or ``[x, y]`` / ``[x, y, v]``. A set: a list of those,
    with optional ``names`` (point names) and ``skeleton`` (0-based index pairs) beside it.
    Visibility: ``v``/``visible``/``visibility`` as 0/1/2, or ``visible`` as a boolean
    (False = occluded, 1), or ``occluded: true`` (1); absent = 2.
    """
    value = _payload(fields)
    nested = (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and bool(value)
        and not isinstance(value[0], (int, float))
    )
    if not nested:
        return _keypoint(value)
    points = tuple(_keypoint(v) for v in value)
    names_raw = _first(fields, "names", "keypoint_names")
    names: tuple[str, ...] = ()
    if names_raw is not None:
        if (
            not isinstance(names_raw, Sequence)
            or isinstance(names_raw, str)
            or len(names_raw) != len(points)
            or not all(isinstance(n, str) for n in names_raw)
        ):
            raise InvalidAnnotation("keypoint_names")
        names = tuple(names_raw)
    return KeypointSet(points, names, _skeleton(fields.get("skeleton"), len(points)))


def parse_named_entity(fields: Mapping[str, Any]) -> NamedEntity:
    """A character span.

    ``{start, end}`` or ``[start, end]`` (in ``coordinate``/``data``), or top-level
    ``start``/``end``, or ``ranges: [{start, end}]`` with exactly one range; text from
    ``text``/``content``/``value`` when present.
    """
    ranges = fields.get("ranges")
    if ranges is not None:
        if not isinstance(ranges, Sequence) or isinstance(ranges, str) or len(ranges) != 1:
            raise InvalidAnnotation(
                "multi_range" if isinstance(ranges, Sequence) and ranges else "arity"
            )
        value: Any = ranges[0]
    elif "start" in fields and "end" in fields:
        value = fields
    else:
        value = _payload(fields)
    if isinstance(value, Mapping):
        start, end = _int(value.get("start")), _int(value.get("end"))
    elif isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2:
        start, end = _int(value[0]), _int(value[1])
    else:
        raise InvalidAnnotation("arity")
    if start < 0 or end <= start:
        raise InvalidAnnotation("empty_span" if end == start else "negative_span")
    text = _first(fields, "text", "content", "value")
    if isinstance(value, Mapping):
        text = _first(value, "text", "content", "value") or text
    return NamedEntity(start, end, text if isinstance(text, str) else None)


def parse_segmentation(fields: Mapping[str, Any]) -> Segmentation:
    """A pixel mask or a video section.

    ``pixel_indices: [int, ...]`` (row-major ``y * width + x``) or ``section``/``data``
    ``{startFrame, endFrame}`` (video); a compact ``data`` list means pixel indices.
    """
    value = _first(fields, "pixel_indices", "section", "data", "coordinate")
    if value is None:
        raise InvalidAnnotation("missing_coordinates")
    if isinstance(value, Mapping):
        start = _int(_first(value, "startFrame", "start_frame", "start"))
        end = _int(_first(value, "endFrame", "end_frame", "end"))
        if start < 0 or end < start:
            raise InvalidAnnotation("negative_span")
        return Segmentation(frames=(start, end))
    if not isinstance(value, Sequence) or isinstance(value, str) or not value:
        raise InvalidAnnotation("empty_mask" if isinstance(value, Sequence) else "arity")
    indices = tuple(_int(v) for v in value)
    if min(indices) < 0:
        raise InvalidAnnotation("negative_index")
    return Segmentation(pixel_indices=indices)


def parse_classification(fields: Mapping[str, Any]) -> Classification:
    """No coordinates."""
    return Classification()


PARSERS: Mapping[str, Callable[[Mapping[str, Any]], Geometry]] = {
    "bounding_box": parse_bounding_box,
    "polygon": parse_polygon,
    "polyline": parse_polyline,
    "keypoint": parse_keypoint,
    "classification": parse_classification,
    "named_entity": parse_named_entity,
    "segmentation": parse_segmentation,
}
"""Canonical tool name -> coordinate parser."""
