"""A realistic export dataset with real image files, and what each consumer should read back.

Images are tiny real PNGs (written with zlib, no imaging library) of varied sizes. Half
the records carry their size, half do not (it must come from the file's header); some
names have no image suffix (the export must give them one). Labels are unicode and
hostile. Boxes and polygons lie inside their image with integer corners, so every
consumer, whatever its pixel convention, must read back exactly what was drawn.
"""

from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from synapse_async.export import Exporter, ExportReport, FormatOptions

LABELS = ["car", "보행자", 'with "quotes"', "colon: yes", "#hash", "- dash", "émoji 🚗"]


def png_bytes(width: int, height: int, shade: int = 128) -> bytes:
    """A valid grey PNG of ``width`` x ``height``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@attrs.frozen
class Box:
    """A source box in pixels (x, y, w, h) and its label."""

    file_stem: str
    x: int
    y: int
    w: int
    h: int
    label: str


@attrs.frozen
class Source:
    """The records, their image bytes (per record id) and the boxes drawn on them."""

    records: list[dict[str, Any]]
    images: dict[str, bytes]
    boxes: list[Box]
    polygons: int


def dataset(n: int = 40, *, seed: int = 5, polygons: bool = True) -> Source:
    """``n`` image records with 0-4 boxes each (and a polygon on every third)."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    images: dict[str, bytes] = {}
    boxes: list[Box] = []
    n_poly = 0
    for i in range(n):
        width, height = rng.randrange(40, 160), rng.randrange(30, 120)
        stem = f"scan_{i:04d}"
        name = stem if i % 5 == 0 else f"{stem}.png"  # every fifth has no suffix
        entries = []
        for k in range(rng.randrange(0, 5)):
            w, h = rng.randrange(2, width // 2), rng.randrange(2, height // 2)
            x, y = rng.randrange(0, width - w), rng.randrange(0, height - h)
            label = rng.choice(LABELS)
            entries.append(
                {"id": f"b{i}_{k}", "type": "bbox", "data": [x, y, w, h], "classification": label}
            )
            boxes.append(Box(stem, x, y, w, h, label))
        if polygons and i % 3 == 0:
            cx, cy = width // 2, height // 2
            pts = [[cx - 8, cy - 6], [cx + 9, cy - 5], [cx + 4, cy + 7], [cx - 6, cy + 5]]
            entries.append({"id": f"p{i}", "type": "polygon", "data": pts, "classification": "car"})
            n_poly += 1
        media: dict[str, Any] = {"file_name": name}
        if i % 2 == 0:
            media.update(width=width, height=height)
        records.append(
            {
                "id": f"r{i}",
                "files": {"image_1": media},
                "data": {"annotations": {"image_1": entries}},
            }
        )
        images[f"r{i}"] = png_bytes(width, height, shade=i % 250)
    return Source(records, images, boxes, n_poly)


def export_with_files(
    source: Source,
    format: str,
    out: Path,
    *,
    split: Mapping[str, float] | None = None,
    labels: Sequence[str] | None = LABELS,
    options: FormatOptions | None = None,
) -> ExportReport:
    """Export as the client does with ``include_files``: place, put the file, size, write."""
    with Exporter(format, out, split=split, labels=labels, options=options) as exporter:
        for raw in source.records:
            item = exporter.place(raw)
            for rec in item.records:
                path = exporter.image_path(rec)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(source.images[item.id])
            exporter.write(exporter.complete_from_file(item))
    return exporter.report
