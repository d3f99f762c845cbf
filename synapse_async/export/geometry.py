"""Pure geometry for the writers: bounds, clamping, areas, masks. No I/O."""

from __future__ import annotations

from collections.abc import Iterable

from .schema import (
    BoundingBox,
    Geometry,
    Keypoint,
    KeypointSet,
    Point,
    Polygon,
    Polyline,
    Segmentation,
    points_bounds,
)

__all__ = [
    "NEGLIGIBLE_AREA",
    "Bounds",
    "clamp_bounds",
    "clamp_points",
    "geometry_bounds",
    "mask_bounds",
    "mask_rle",
    "polygon_area",
]

Bounds = tuple[float, float, float, float]
"""``(x0, y0, x1, y1)`` with ``x0 <= x1`` and ``y0 <= y1``."""


def _clip(v: float, hi: float) -> float:
    # "+ 0.0" turns -0.0 into 0.0 so that nothing prints as "-0.000000".
    return min(max(v, 0.0), hi) + 0.0


def clamp_bounds(bounds: Bounds, width: float, height: float) -> tuple[Bounds, bool] | None:
    """Clip ``bounds`` to the image ``[0, width] x [0, height]``.

    Returns ``(clipped, changed)``, or None when the clipped box has no area (the box lies
    outside the image, or only touches its edge). ``changed`` is True when any side moved.
    """
    x0, y0, x1, y1 = bounds
    c = (_clip(x0, width), _clip(y0, height), _clip(x1, width), _clip(y1, height))
    if not (c[0] < c[2] and c[1] < c[3]):
        return None
    return c, c != (x0, y0, x1, y1)


def clamp_points(
    points: Iterable[Point], width: float, height: float
) -> tuple[tuple[Point, ...], bool]:
    """Clip every point into the image; returns the points and whether any moved."""
    src = tuple(points)
    out = tuple((_clip(x, width), _clip(y, height)) for x, y in src)
    changed = out != src
    return out, changed


NEGLIGIBLE_AREA = 1e-9
"""Square pixels below which a polygon counts as having no area (float noise, not a shape)."""


def polygon_area(points: tuple[Point, ...]) -> float:
    """Area of a simple polygon (shoelace formula, absolute value)."""
    n = len(points)
    twice = 0.0
    for i in range(n):
        x0, y0 = points[i]
        x1, y1 = points[(i + 1) % n]
        twice += x0 * y1 - x1 * y0
    return abs(twice) / 2


def mask_bounds(indices: tuple[int, ...], width: int) -> Bounds:
    """Pixel-edge bounds of a row-major mask (a pixel ``(x, y)`` spans ``[x, x + 1)``)."""
    xs = [i % width for i in indices]
    ys = [i // width for i in indices]
    return float(min(xs)), float(min(ys)), float(max(xs) + 1), float(max(ys) + 1)


def mask_rle(indices: tuple[int, ...], width: int, height: int) -> tuple[list[int], int]:
    """COCO uncompressed RLE ``counts`` of a row-major pixel mask, and its pixel count.

    COCO's RLE runs over the image in column-major order (down each column, then right),
    alternating background and foreground runs, starting with background. Raises ValueError
    when an index lies outside ``width * height``.
    """
    total = width * height
    cols = set()
    for i in indices:
        if not 0 <= i < total:
            raise ValueError("pixel_out_of_range")
        cols.add((i % width) * height + i // width)
    counts: list[int] = []
    pos = 0
    for j in sorted(cols):
        if counts and j == pos:  # extends the current foreground run
            counts[-1] += 1
        else:
            counts.extend((j - pos, 1))
        pos = j + 1
    counts.append(total - pos)
    return counts, len(cols)


def geometry_bounds(geometry: Geometry, width: int | None) -> Bounds | None:
    """Axis-aligned bounds of any spatial geometry, or None when it has none.

    Keypoints: of the labeled points (``visible > 0``). Masks need ``width``.
    """
    if isinstance(geometry, BoundingBox):
        return geometry.bounds()
    if isinstance(geometry, (Polygon, Polyline)):
        return points_bounds(geometry.points)
    if isinstance(geometry, Keypoint):
        return (geometry.x, geometry.y, geometry.x, geometry.y) if geometry.visible else None
    if isinstance(geometry, KeypointSet):
        labeled = geometry.labeled()
        return points_bounds(labeled) if labeled else None
    if isinstance(geometry, Segmentation) and geometry.pixel_indices and width:
        return mask_bounds(geometry.pixel_indices, width)
    return None
