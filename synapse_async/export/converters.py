"""The export workflow guide's converter classes, over this package's exporters.

For scripts that follow the export guide::

    from synapse_async.export import DMtoCOCOConverter

    converter = DMtoCOCOConverter()
    coco_data = converter.convert(dm_v1_data, output_dir="/tmp/coco_output",
                                  original_file_dir="/tmp/images")

Each class is a thin layer over :class:`~.pipeline.Exporter`: the same writers, checks and
report as ``write_export``. ``dm_v1_data`` is one DM schema v1 document
(``{"annotations": {...}, "annotationsData": {...}}``), one export record
(``{"id", "data": <document>, "files" or "file": <media metadata>}``), or a list of either.
With ``original_file_dir``, each media's file (found there by its file name) is copied into
the export's image folder; a file that is not there is counted in the report's notes.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from .base import FormatOptions
from .pipeline import Exporter
from .report import ExportReport

__all__ = [
    "DMtoCOCOConverter",
    "DMtoCSVConverter",
    "DMtoPascalConverter",
    "DMtoVOCConverter",
    "DMtoYOLOConverter",
]


def _records(data: Any) -> list[Mapping[str, Any]]:
    """The export records in ``data`` (see the module docstring for the accepted shapes)."""
    items = data if isinstance(data, Sequence) and not isinstance(data, (str, bytes)) else [data]
    out: list[Mapping[str, Any]] = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, Mapping):
            raise TypeError(f"DM data item #{n} must be a dict, not {type(item).__name__}")
        if "data" in item:
            out.append(item)
        elif "annotations" in item or "annotationsData" in item:
            out.append({"id": str(n), "data": item})
        else:
            raise ValueError(
                f"DM data item #{n} is neither a DM schema v1 document "
                "(annotations, annotationsData) nor a record with 'data'"
            )
    return out


class _DMConverter:
    """Converts DM schema v1 data to :attr:`format` files in an output folder.

    Args:
        labels: the class names in id order (default: in order of first appearance).
        split: split ratios such as ``{"train": 0.8, "val": 0.2}`` (default: one split).
        seed: the seed of the split assignment.
        options: format options (:class:`~.base.FormatOptions`).
    """

    format: ClassVar[str] = ""

    def __init__(
        self,
        *,
        labels: Sequence[str] | None = None,
        split: Mapping[str, float] | None = None,
        seed: int = 0,
        options: FormatOptions | None = None,
    ) -> None:
        self.labels = labels
        self.split = split
        self.seed = seed
        self.options = options
        self.report: ExportReport | None = None

    def _run(
        self,
        data: Any,
        output_dir: str | os.PathLike[str],
        original_file_dir: str | os.PathLike[str] | None,
    ) -> ExportReport:
        source = Path(original_file_dir) if original_file_dir is not None else None
        if source is not None and not source.is_dir():
            raise FileNotFoundError(f"original_file_dir {source} is not a folder")
        exporter = Exporter(
            self.format,
            output_dir,
            split=self.split,
            seed=self.seed,
            labels=self.labels,
            options=self.options,
        )
        missing = copied = 0
        with exporter:
            for raw in _records(data):
                item = exporter.add(raw)
                if source is None:
                    continue
                for rec in item.records:
                    original = source / Path(rec.file_name).name
                    if not original.is_file():
                        missing += 1
                        continue
                    dest = exporter.image_path(rec)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(original, dest)
                    copied += 1
            if source is not None:
                exporter.tally.note(
                    f"original_file_dir: {copied} files copied, {missing} not found in {source}"
                )
        self.report = exporter.report
        return exporter.report

    def convert(
        self,
        dm_v1_data: Any,
        output_dir: str | os.PathLike[str],
        original_file_dir: str | os.PathLike[str] | None = None,
    ) -> Any:
        """Write ``dm_v1_data`` to ``output_dir``; returns the report (also ``self.report``)."""
        return self._run(dm_v1_data, output_dir, original_file_dir)


class DMtoCOCOConverter(_DMConverter):
    """DM schema v1 -> COCO (``annotations/instances_<split>.json``)."""

    format = "coco"

    def convert(
        self,
        dm_v1_data: Any,
        output_dir: str | os.PathLike[str],
        original_file_dir: str | os.PathLike[str] | None = None,
    ) -> Any:
        """Write the COCO files; returns the COCO document.

        With several splits: ``{split: document}``. The report is ``self.report``.
        """
        report = self._run(dm_v1_data, output_dir, original_file_dir)
        docs = {}
        for name in report.splits:
            path = Path(output_dir) / "annotations" / f"instances_{name}.json"
            docs[name] = json.loads(path.read_text(encoding="utf-8"))
        return docs["default"] if list(docs) == ["default"] else docs


class DMtoYOLOConverter(_DMConverter):
    """DM schema v1 -> YOLO (``labels/<split>/*.txt``, ``data.yaml``, ``classes.txt``)."""

    format = "yolo"


class DMtoVOCConverter(_DMConverter):
    """DM schema v1 -> Pascal VOC XML (one file per image)."""

    format = "voc"


DMtoPascalConverter = DMtoVOCConverter
"""Another name of :class:`DMtoVOCConverter` (the official client's "Pascal")."""


class DMtoCSVConverter(_DMConverter):
    """DM schema v1 -> CSV (one row per annotation)."""

    format = "csv"
