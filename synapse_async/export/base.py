"""What every format writer shares: options, context, the write/finish/abort protocol."""

from __future__ import annotations

import abc
from pathlib import Path
from typing import ClassVar

import attrs

from .labels import LabelMap
from .report import Tally
from .schema import Item

__all__ = ["FormatOptions", "Writer", "WriterContext"]


@attrs.frozen
class FormatOptions:
    """Format-specific switches (each writer reads only its own).

    Attributes:
        json_lines: Synapse JSON as JSON Lines (True) or as one JSON array (False).
        yolo_task: ``detect`` (boxes), ``segment`` (polygons), ``obb`` (rotated boxes as four
            corners) or ``pose`` (keypoint sets); see :class:`~.yolo.YoloWriter`.
        keypoint_count: YOLO pose ``kpt_shape[0]``; None = the size of the first keypoint set.
        spacy_lang: the language of the blank spaCy pipeline used for DocBin tokenization.
        spacy_docbin: also write DocBin ``.spacy`` files when spaCy is importable.
        docbin_shard_size: documents per ``.spacy`` file (bounds memory).
        durable: fsync every file and folder of the export before the staging folder is
            renamed into place, and the parent folder after (slower; survives power loss).
        csv_escape_formulas: CSV text cells that start with ``=``, ``+``, ``-``, ``@``, a tab
            or a carriage return get a leading ``'`` so spreadsheets show them as text instead
            of running them as formulas (the OWASP rule); numeric cells are never changed.
            False writes every cell verbatim.
    """

    json_lines: bool = True
    yolo_task: str = attrs.field(
        default="detect", validator=attrs.validators.in_(("detect", "segment", "obb", "pose"))
    )
    keypoint_count: int | None = None
    spacy_lang: str = "en"
    spacy_docbin: bool = True
    docbin_shard_size: int = attrs.field(default=10_000, validator=attrs.validators.gt(0))
    durable: bool = False
    csv_escape_formulas: bool = True


@attrs.define
class WriterContext:
    """Shared state handed to a writer: counters, label ids, split names, options."""

    tally: Tally
    labels: LabelMap
    splits: tuple[str, ...]
    options: FormatOptions = attrs.field(factory=FormatOptions)


class Writer(abc.ABC):
    """A streaming writer for one format.

    Protocol: ``begin()`` once, ``write(item)`` per record (records carry their split and
    final file names), then ``finish()`` on success or ``abort()`` on failure. Memory is
    bounded by one record plus O(labels); per-record output is written as it comes, and
    outputs that need the whole export (COCO's arrays, index files) are assembled from
    scratch parts at ``finish()``. Every final file is written atomically.
    """

    format: ClassVar[str]

    def __init__(self, output_dir: Path, ctx: WriterContext) -> None:
        self.output_dir = output_dir
        self.ctx = ctx
        self.tally = ctx.tally
        self._per_image_keys: dict[Path, str] = {}

    def begin(self) -> None:
        """Create directories and scratch files."""
        self.output_dir.mkdir(parents=True, exist_ok=True)

    @abc.abstractmethod
    def write(self, item: Item) -> None:
        """Convert and write one record."""

    def finish(self) -> None:  # noqa: B027 - optional hook
        """Write whatever needs the whole export; record files in the tally."""

    def abort(self) -> None:  # noqa: B027 - optional hook
        """Remove scratch files after a failure (files already renamed into place stay)."""

    def image_dir(self, split: str) -> Path:
        """Where the original files of ``split`` belong in this format's layout."""
        return self.output_dir / "images" / split

    def _record_file(self, path: Path) -> None:
        self.tally.files.append(path.relative_to(self.output_dir).as_posix())

    def _record_per_image(self, directory: Path) -> None:
        keys = self._per_image_keys
        key = keys.get(directory)
        if key is None:
            key = keys[directory] = directory.relative_to(self.output_dir).as_posix()
        self.tally.per_image_files[key] += 1
