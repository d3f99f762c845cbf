"""Synapse JSON writer: the raw records, lossless, as JSON Lines or a JSON array."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .base import Writer, WriterContext
from .files import AtomicFile
from .schema import Item

__all__ = ["JsonWriter", "dump_line", "dump_record"]


_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dump_line(value: Any) -> str:
    """Compact JSON on one physical line for every reader.

    UTF-8 text is kept as is, except U+0085, U+2028 and U+2029, which are escaped: some
    line splitters (``str.splitlines``, JavaScript) treat them as line breaks. Non-JSON values
    such as datetimes become strings.
    """
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                      default=str).translate(_LINE_BREAKS)


def dump_record(raw: Any) -> str:
    """One record as compact JSON (see :func:`dump_line`)."""
    return dump_line(raw)


class JsonWriter(Writer):
    r"""Writes ``synapse_<split>.jsonl`` (or ``synapse_<split>.json``), one file per split.

    Conventions: each record is written exactly as it came in (``id``, ``data`` in DM schema
    v1, file metadata, anything else the server sent): lossless, nothing parsed away, even
    annotations the reader rejected or does not know. JSON Lines (default): one compact
    JSON object per line, UTF-8, ``\n`` line ends. With ``json_lines=False``: one JSON array
    per split, streamed element by element (for small exports and tools that want a single
    document). Files are renamed into place at ``finish()``; a failed export leaves none.
    """

    format = "json"

    def __init__(self, output_dir: Path, ctx: WriterContext) -> None:
        super().__init__(output_dir, ctx)
        self.lines = ctx.options.json_lines
        self._files: dict[str, AtomicFile] = {}
        self._counts: dict[str, int] = {}

    def path(self, split: str) -> Path:
        """The output file of ``split``."""
        return self.output_dir / f"synapse_{split}.{'jsonl' if self.lines else 'json'}"

    def _file(self, split: str) -> AtomicFile:
        out = self._files.get(split)
        if out is None:
            out = self._files[split] = AtomicFile(self.path(split),
                                                  durable=self.ctx.options.durable)
            self._counts[split] = 0
            if not self.lines:
                out.handle.write("[")
        return out

    def begin(self) -> None:
        """Open one temp file per split."""
        super().begin()
        for split in self.ctx.splits:
            self._file(split)

    def write(self, item: Item) -> None:
        """Append the raw record."""
        out = self._file(item.split)
        text = dump_record(item.raw)
        if self.lines:
            out.handle.write(text + "\n")
        else:
            out.handle.write(("," if self._counts[item.split] else "") + "\n" + text)
        self._counts[item.split] += 1
        for rec in item.records:
            for ann in rec.annotations:
                if ann.label:
                    self.ctx.labels.id(ann.label)
        self.tally.written(item.split, item.annotation_count)

    def finish(self) -> None:
        """Close the arrays and rename every file into place."""
        for split, out in self._files.items():
            if not self.lines:
                out.handle.write("\n]\n")
            out.commit()
            self._record_file(self.path(split))

    def abort(self) -> None:
        """Delete the temp files."""
        for out in self._files.values():
            out.discard()
