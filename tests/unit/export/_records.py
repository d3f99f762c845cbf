"""Builders of raw export records (DM schema v1, both shapes) for the export tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def full_doc(
    entries: list[tuple[dict[str, Any], dict[str, Any]]], media: str = "image_1"
) -> dict[str, Any]:
    """The full shape: ``annotations`` (meta) + ``annotationsData`` (coordinates)."""
    return {
        "annotations": {media: [m for m, _ in entries]},
        "annotationsData": {media: [d for _, d in entries]},
    }


def compact_doc(entries: list[dict[str, Any]], media: str = "image_1") -> dict[str, Any]:
    """The compact shape: ``{"type", "data", "classification"}`` entries."""
    return {"annotations": {media: entries}}


def bbox_record(
    ident: int,
    boxes: Sequence[tuple[float, float, float, float, str]],
    *,
    width: int = 640,
    height: int = 480,
    name: str | None = None,
    compact: bool = True,
) -> dict[str, Any]:
    """A record with bounding boxes ``(x, y, w, h, label)``."""
    if compact:
        doc = compact_doc(
            [
                {
                    "id": f"b{ident}_{i}",
                    "type": "bbox",
                    "data": [x, y, w, h],
                    "classification": label,
                }
                for i, (x, y, w, h, label) in enumerate(boxes)
            ]
        )
    else:
        doc = full_doc(
            [
                (
                    {
                        "id": f"b{ident}_{i}",
                        "tool": "bounding_box",
                        "classification": {"class": label},
                    },
                    {
                        "id": f"b{ident}_{i}",
                        "coordinate": {"x": x, "y": y, "width": w, "height": h},
                    },
                )
                for i, (x, y, w, h, label) in enumerate(boxes)
            ]
        )
    return {
        "id": ident,
        "file_name": name or f"img_{ident}.jpg",
        "width": width,
        "height": height,
        "data": doc,
    }


def polygon_record(
    ident: int,
    polygons: Sequence[tuple[Sequence[tuple[float, float]], str]],
    *,
    width: int = 640,
    height: int = 480,
) -> dict[str, Any]:
    """A record with polygons ``([(x, y), ...], label)``."""
    doc = compact_doc(
        [
            {
                "id": f"p{ident}_{i}",
                "type": "polygon",
                "data": [list(p) for p in pts],
                "classification": label,
            }
            for i, (pts, label) in enumerate(polygons)
        ]
    )
    return {
        "id": ident,
        "file_name": f"poly_{ident}.png",
        "width": width,
        "height": height,
        "data": doc,
    }


def ner_record(
    ident: int, text: str, spans: list[tuple[int, int, str]], with_text: bool = False
) -> dict[str, Any]:
    """A text record with named entities ``(start, end, label)``."""
    entries = []
    for i, (s, e, label) in enumerate(spans):
        entry: dict[str, Any] = {
            "id": f"n{ident}_{i}",
            "type": "named_entity",
            "data": {"start": s, "end": e},
            "classification": label,
        }
        if with_text:
            entry["text"] = text[s:e]
        entries.append(entry)
    return {"id": ident, "text": text, "data": compact_doc(entries, media="text_1")}
