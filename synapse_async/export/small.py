"""Small-export helpers: the values ``project.export(format=...)`` returns in the seeds.

These hold the whole result in memory (a list, a dict, bytes) and are meant for small
projects; use :func:`~.pipeline.write_export` for big ones.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .base import FormatOptions
from .ner import align_entities
from .pipeline import Exporter, canonical_format, write_export
from .reader import read_item
from .spacy_out import DocBinBuilder, spacy_available
from .split import DEFAULT_SPLIT
from .yolo import YoloWriter

__all__ = [
    "export_coco",
    "export_csv",
    "export_json",
    "export_small",
    "export_spacy",
    "export_voc",
    "export_yolo",
]

Records = Iterable[Mapping[str, Any]]


def export_json(items: Records) -> list[dict[str, Any]]:
    """The records as a list of plain JSON values (lossless; a deep copy of the input)."""
    return [json.loads(json.dumps(raw, ensure_ascii=False, default=str)) for raw in items]


def export_coco(
    items: Records,
    *,
    split: Mapping[str, float] | None = None,
    seed: int = 0,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The COCO document (a dict); with ``split``, ``{split name: COCO document}``."""
    with tempfile.TemporaryDirectory(prefix="synapse_export_") as tmp:
        report = write_export(
            items, format="coco", output_dir=tmp, split=split, seed=seed, labels=labels
        )
        docs = {}
        for name in report.splits:
            path = Path(tmp) / "annotations" / f"instances_{name}.json"
            with open(path, encoding="utf-8") as fh:
                docs[name] = json.load(fh)
    if split is None and list(docs) == ["default"]:
        return dict(docs["default"])
    return docs


def export_yolo(
    items: Records,
    *,
    output_dir: str | os.PathLike[str] | None = None,
    split: Mapping[str, float] | None = DEFAULT_SPLIT,
    seed: int = 0,
    labels: Sequence[str] | None = None,
    options: FormatOptions | None = None,
) -> dict[str, Any]:
    """Write a YOLO dataset and describe it as the seeds show.

    Returns ``{"images_dir", "labels_dir", "classes", "data_yaml", "output_dir", "report"}``:
    the images and labels folders (each with one subfolder per split), the class names in id
    order, ``data.yaml``'s content as a dict (plus ``path``: the absolute dataset root), the
    root, and the :class:`~.report.ExportReport`. ``output_dir`` defaults to a new
    ``synapse_export_*`` temp folder, which the caller owns. Splits default to 80/10/10.
    """
    out = (
        Path(output_dir)
        if output_dir is not None
        else Path(tempfile.mkdtemp(prefix="synapse_export_"))
    )
    exporter = Exporter("yolo", out, split=split, seed=seed, labels=labels, options=options)
    with exporter:
        exporter.add_many(items)
    writer = exporter.writer
    assert isinstance(writer, YoloWriter)
    data_yaml = {"path": str(out.resolve()), **writer.data_yaml()}
    return {
        "images_dir": str(out / "images") + os.sep,
        "labels_dir": str(out / "labels") + os.sep,
        "classes": list(exporter.report.labels),
        "data_yaml": data_yaml,
        "output_dir": str(out),
        "report": exporter.report,
    }


def export_spacy(items: Records, *, lang: str = "en") -> bytes:
    """A spaCy ``DocBin`` of every text record, as ``.spacy`` bytes (requires spaCy).

    Entities go through the same checks as :class:`~.spacy_out.SpacyWriter`; misaligned ones
    are left out (use :func:`~.pipeline.write_export` with ``format="spacy"`` to see them in
    the report). Raises ImportError when spaCy is not installed.
    """
    if not spacy_available():
        raise ImportError("export_spacy needs spaCy: pip install 'synapse-async[spacy]'")
    builder = DocBinBuilder(lang)
    for n, raw in enumerate(items, 1):
        for rec in read_item(raw, fallback_id=f"item-{n}").records:
            doc, _ = align_entities(rec)
            if doc is not None:
                builder.add(doc, rec.item_id)
    return builder.to_bytes()


def export_csv(items: Records) -> str:
    """The CSV export as text (header and one row per annotation, CRLF line ends)."""
    with tempfile.TemporaryDirectory(prefix="synapse_export_") as tmp:
        write_export(items, format="csv", output_dir=tmp)
        with open(Path(tmp) / "annotations.csv", encoding="utf-8", newline="") as fh:
            return fh.read()


def export_voc(items: Records) -> dict[str, str]:
    """Pascal VOC XML documents by file name (``<stem>.xml`` -> XML text)."""
    with tempfile.TemporaryDirectory(prefix="synapse_export_") as tmp:
        write_export(items, format="voc", output_dir=tmp)
        folder = Path(tmp) / "Annotations"
        return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.xml"))}


def export_small(items: Records, format: str, **kwargs: Any) -> Any:
    """Dispatch to the small-export helper for ``format``.

    json -> list, coco -> dict, yolo -> dict, voc -> dict, csv -> str, spacy -> bytes;
    ``kwargs`` go to the helper.
    """
    helpers: dict[str, Any] = {
        "json": export_json,
        "coco": export_coco,
        "yolo": export_yolo,
        "voc": export_voc,
        "csv": export_csv,
        "spacy": export_spacy,
    }
    return helpers[canonical_format(format)](items, **kwargs)
