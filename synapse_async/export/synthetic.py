"""Synthetic export records for benchmarks and tests (no network, deterministic)."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from .base import FormatOptions
from .pipeline import write_export
from .report import ExportReport

__all__ = ["SYNTHETIC_LABELS", "convert_synthetic", "synthetic_items"]

SYNTHETIC_LABELS = ("car", "truck", "motorcycle", "bicycle", "bus", "pedestrian")
"""The labels synthetic boxes are drawn from (the seeds' YOLO example)."""


def synthetic_items(
    n_images: int,
    boxes_per_image: int = 5,
    *,
    seed: int = 0,
    width: int = 1280,
    height: int = 720,
    compact: bool = False,
    overflow: float = 0.02,
) -> Iterator[dict[str, Any]]:
    """Yield ``n_images`` raw records with ``boxes_per_image`` bounding boxes each.

    Records look like assignments: ``{"id", "file_name", "width", "height", "data"}`` with
    ``data`` in the full DM shape (``annotations`` + ``annotationsData``), or the compact
    shape with ``compact=True``. A fraction ``overflow`` of the boxes crosses the image edge
    (to exercise clamping). Generated lazily: memory does not depend on ``n_images``.
    """
    rng = random.Random(seed)
    for i in range(n_images):
        metas, datas, compacts = [], [], []
        for j in range(boxes_per_image):
            w = rng.uniform(4, width / 4)
            h = rng.uniform(4, height / 4)
            x = rng.uniform(0, width - w)
            y = rng.uniform(0, height - h)
            if rng.random() < overflow:
                x, y = x + rng.choice((-1, 1)) * w / 2, y - h / 3
            x, y, w, h = round(x, 2), round(y, 2), round(w, 2), round(h, 2)
            label = SYNTHETIC_LABELS[rng.randrange(len(SYNTHETIC_LABELS))]
            ident = f"a{i}_{j}"
            if compact:
                compacts.append(
                    {"id": ident, "type": "bbox", "data": [x, y, w, h], "classification": label}
                )
            else:
                metas.append(
                    {"id": ident, "tool": "bounding_box", "classification": {"class": label}}
                )
                datas.append({"id": ident, "coordinate": {"x": x, "y": y, "width": w, "height": h}})
        data: dict[str, Any] = (
            {"annotations": {"image_1": compacts}}
            if compact
            else {"annotations": {"image_1": metas}, "annotationsData": {"image_1": datas}}
        )
        yield {
            "id": i + 1,
            "file_name": f"img_{i + 1:07d}.jpg",
            "width": width,
            "height": height,
            "data": data,
        }


def convert_synthetic(
    n_boxes: int,
    *,
    format: str,
    output_dir: str | os.PathLike[str],
    boxes_per_image: int = 5,
    seed: int = 0,
    split: Mapping[str, float] | None = None,
    labels: Sequence[str] | None = SYNTHETIC_LABELS,
    options: FormatOptions | None = None,
) -> ExportReport:
    """Export ``n_boxes`` synthetic bounding boxes (``n_boxes / boxes_per_image`` images).

    The benchmark entry point: the records are generated on the fly and streamed through
    :func:`~.pipeline.write_export`, with no network and no server.
    """
    n_images = -(-n_boxes // boxes_per_image)
    items = synthetic_items(n_images, boxes_per_image, seed=seed)
    return write_export(
        items,
        format=format,
        output_dir=output_dir,
        split=split,
        seed=seed,
        labels=labels,
        options=options,
    )
