"""The export report: what was read, written, clamped, rejected and where it went."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import attrs

__all__ = ["ExportReport", "MisalignedEntity", "SplitCounts", "Tally"]

MAX_SAMPLES = 100
"""How many misaligned entities the report lists individually (all are counted)."""


@attrs.frozen
class MisalignedEntity:
    """A named entity left out of the spaCy output, and why.

    ``reason``: ``out_of_range`` (offsets outside the text), ``text_mismatch`` (the annotated
    text differs from ``text[start:end]``), ``token_boundary`` (not on the simple tokenizer's
    token boundaries), ``overlap`` (overlaps an earlier kept entity), ``spacy_tokenizer``
    (``Doc.char_span(..., alignment_mode="strict")`` found no span; DocBin output only).
    """

    item_id: str
    annotation_id: str
    start: int
    end: int
    label: str
    reason: str


@attrs.frozen
class SplitCounts:
    """Per-split counts: records, media (images or texts) and annotations written."""

    items: int = 0
    images: int = 0
    annotations: int = 0


@attrs.frozen
class ExportReport:
    """The outcome of one export.

    Attributes:
        format: the format written (``json``, ``coco``, ``yolo``, ``voc``, ``csv``, ``spacy``).
        output_dir: the directory everything was written under.
        complete: True when the export finished and every record was written; False in a
            report built after a failure, or when records failed (see ``failed``).
        items: records consumed.
        images: media records (images, or texts) among them.
        annotations_read: valid annotations the reader produced.
        annotations_written: annotations present in the output (a row, an object, ...).
        splits: split name -> :class:`SplitCounts`.
        clamped: annotations moved into the image by clamping and written (YOLO, VOC).
        outside: annotations dropped because nothing of them lies inside the image.
        invalid: reason -> count of annotations rejected (reader and writer).
        unknown_tools: tool name -> count of annotations whose tool the reader does not know.
        skipped: tool name -> count of valid annotations the format cannot represent.
        unlisted_labels: label -> count of annotations whose label was not in ``labels``
            (they are appended to the label list, after the given ones).
        images_without_size: media without a usable width/height (from their metadata or,
            with ``include_files``, their file's header).
        failed: reason -> number of records whose labels could not be written (e.g.
            ``missing_image_size``: spatial annotations on an image of unknown size, which
            YOLO/VOC cannot normalize or clamp and a trainer would read as a background
            image). Any failed record makes ``complete`` False.
        failed_items: the ids of the first 100 failed records.
        skipped_media: media left out because the format takes images only (texts, audio,
            video in a COCO/YOLO/VOC export); their annotations are counted in ``skipped``.
        misaligned_entities: named entities left out of the spaCy output.
        misaligned_samples: the first 100 of them, with reasons.
        labels: the final label list; class ids are positions in it (COCO: position + 1).
        files: files written, relative to ``output_dir`` (per-image files are counted in
            ``per_image_files`` instead, so the report stays small for big exports).
        per_image_files: directory (relative) -> number of per-image files written there.
        notes: human-readable remarks (e.g. DocBin skipped because spaCy is not installed).
    """

    format: str
    output_dir: str
    complete: bool = True
    items: int = 0
    images: int = 0
    annotations_read: int = 0
    annotations_written: int = 0
    splits: Mapping[str, SplitCounts] = attrs.field(factory=dict)
    clamped: int = 0
    outside: int = 0
    invalid: Mapping[str, int] = attrs.field(factory=dict)
    unknown_tools: Mapping[str, int] = attrs.field(factory=dict)
    skipped: Mapping[str, int] = attrs.field(factory=dict)
    unlisted_labels: Mapping[str, int] = attrs.field(factory=dict)
    images_without_size: int = 0
    failed: Mapping[str, int] = attrs.field(factory=dict)
    failed_items: tuple[str, ...] = ()
    skipped_media: int = 0
    misaligned_entities: int = 0
    misaligned_samples: tuple[MisalignedEntity, ...] = ()
    labels: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    per_image_files: Mapping[str, int] = attrs.field(factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def invalid_total(self) -> int:
        """All invalid annotations, whatever the reason."""
        return sum(self.invalid.values())

    @property
    def unknown_total(self) -> int:
        """All annotations with an unknown tool."""
        return sum(self.unknown_tools.values())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``export_report.json`` holds)."""
        return attrs.asdict(
            self,
            recurse=True,
            value_serializer=lambda _i, _a, v: list(v) if isinstance(v, tuple) else v,
        )


@attrs.define
class Tally:
    """The mutable counters an export accumulates; :meth:`freeze` makes the report.

    Writers and the pipeline call the ``add_*`` methods; nothing here does I/O.
    """

    items: int = 0
    images: int = 0
    annotations_read: int = 0
    annotations_written: int = 0
    clamped: int = 0
    outside: int = 0
    images_without_size: int = 0
    skipped_media: int = 0
    failed: Counter[str] = attrs.field(factory=Counter)
    failed_items: list[str] = attrs.field(factory=list)
    split_items: Counter[str] = attrs.field(factory=Counter)
    split_images: Counter[str] = attrs.field(factory=Counter)
    split_annotations: Counter[str] = attrs.field(factory=Counter)
    invalid: Counter[str] = attrs.field(factory=Counter)
    unknown_tools: Counter[str] = attrs.field(factory=Counter)
    skipped: Counter[str] = attrs.field(factory=Counter)
    unlisted_labels: Counter[str] = attrs.field(factory=Counter)
    misaligned: int = 0
    misaligned_samples: list[MisalignedEntity] = attrs.field(factory=list)
    files: list[str] = attrs.field(factory=list)
    per_image_files: Counter[str] = attrs.field(factory=Counter)
    notes: list[str] = attrs.field(factory=list)

    def written(self, split: str, n: int = 1) -> None:
        """Count ``n`` annotations written to ``split``."""
        self.annotations_written += n
        self.split_annotations[split] += n

    def skip(self, tool: str) -> None:
        """Count a valid annotation the format cannot represent."""
        self.skipped[tool] += 1

    def reject(self, reason: str) -> None:
        """Count an annotation rejected as invalid by a writer."""
        self.invalid[reason] += 1

    def fail(self, item_id: str, reason: str) -> None:
        """Count a record whose labels could not be written (the export is not complete)."""
        self.failed[reason] += 1
        if len(self.failed_items) < MAX_SAMPLES:
            self.failed_items.append(item_id)

    def misalign(self, entity: MisalignedEntity) -> None:
        """Count a misaligned entity, keeping the first few as samples."""
        self.misaligned += 1
        if len(self.misaligned_samples) < MAX_SAMPLES:
            self.misaligned_samples.append(entity)

    def note(self, text: str) -> None:
        """Add a remark once."""
        if text not in self.notes:
            self.notes.append(text)

    def freeze(
        self,
        *,
        format: str,
        output_dir: str,
        labels: tuple[str, ...],
        splits: tuple[str, ...],
        complete: bool = True,
    ) -> ExportReport:
        """Snapshot the counters as an :class:`ExportReport`."""
        names = list(splits) + sorted(set(self.split_items) - set(splits))
        return ExportReport(
            format=format,
            output_dir=output_dir,
            complete=complete,
            items=self.items,
            images=self.images,
            annotations_read=self.annotations_read,
            annotations_written=self.annotations_written,
            splits={
                s: SplitCounts(self.split_items[s], self.split_images[s], self.split_annotations[s])
                for s in names
            },
            clamped=self.clamped,
            outside=self.outside,
            invalid=dict(self.invalid),
            unknown_tools=dict(self.unknown_tools),
            skipped=dict(self.skipped),
            unlisted_labels=dict(self.unlisted_labels),
            images_without_size=self.images_without_size,
            failed=dict(self.failed),
            failed_items=tuple(self.failed_items),
            skipped_media=self.skipped_media,
            misaligned_entities=self.misaligned,
            misaligned_samples=tuple(self.misaligned_samples),
            labels=labels,
            files=tuple(self.files),
            per_image_files=dict(self.per_image_files),
            notes=tuple(self.notes),
        )
