"""Exports: DM schema v1 annotation records -> Synapse JSON, COCO, YOLO, Pascal VOC, CSV, spaCy.

Pure and synchronous apart from local file writes (``awrite_export`` adds an async front
end); no HTTP. Imports need only the SDK's runtime dependencies; spaCy is optional.

Typical use::

    from synapse_async.export import write_export

    report = write_export(records, format="yolo", output_dir="out",
                          split={"train": 0.8, "val": 0.1, "test": 0.1}, seed=0)
    print(report.annotations_written, report.clamped, report.unknown_tools)

See ``docs/exports.md`` for each format's conventions.
"""

from .base import FormatOptions, Writer, WriterContext
from .coco import CocoWriter
from .converters import (
    DMtoCOCOConverter,
    DMtoCSVConverter,
    DMtoPascalConverter,
    DMtoVOCConverter,
    DMtoYOLOConverter,
)
from .files import AtomicFile, UniqueNamer, atomic_write, safe_filename
from .ner import tokenize
from .pipeline import FORMATS, REPORT_FILE, Exporter, awrite_export, canonical_format, write_export
from .reader import ParsedDocument, read_document, read_item
from .report import ExportReport, MisalignedEntity, SplitCounts
from .schema import (
    TOOLS,
    Annotation,
    BoundingBox,
    Classification,
    Geometry,
    ImageRecord,
    Item,
    Keypoint,
    KeypointSet,
    NamedEntity,
    Polygon,
    Polyline,
    Segmentation,
)
from .small import (
    export_coco,
    export_csv,
    export_json,
    export_small,
    export_spacy,
    export_voc,
    export_yolo,
)
from .spacy_out import SpacyWriter
from .split import DEFAULT_SPLIT, SplitPlan
from .synapse_json import JsonWriter
from .synthetic import convert_synthetic, synthetic_items
from .tabular import CSV_COLUMNS, CsvWriter
from .voc import VocWriter
from .yolo import YoloWriter

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_SPLIT",
    "FORMATS",
    "REPORT_FILE",
    "TOOLS",
    "Annotation",
    "AtomicFile",
    "BoundingBox",
    "Classification",
    "CocoWriter",
    "CsvWriter",
    "DMtoCOCOConverter",
    "DMtoCSVConverter",
    "DMtoPascalConverter",
    "DMtoVOCConverter",
    "DMtoYOLOConverter",
    "ExportReport",
    "Exporter",
    "FormatOptions",
    "Geometry",
    "ImageRecord",
    "Item",
    "JsonWriter",
    "Keypoint",
    "KeypointSet",
    "MisalignedEntity",
    "NamedEntity",
    "ParsedDocument",
    "Polygon",
    "Polyline",
    "Segmentation",
    "SpacyWriter",
    "SplitCounts",
    "SplitPlan",
    "UniqueNamer",
    "VocWriter",
    "Writer",
    "WriterContext",
    "YoloWriter",
    "atomic_write",
    "awrite_export",
    "canonical_format",
    "convert_synthetic",
    "export_coco",
    "export_csv",
    "export_json",
    "export_small",
    "export_spacy",
    "export_voc",
    "export_yolo",
    "read_document",
    "read_item",
    "safe_filename",
    "synthetic_items",
    "tokenize",
    "write_export",
]
