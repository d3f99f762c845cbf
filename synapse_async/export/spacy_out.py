"""spaCy writer: NER training JSON Lines, plus DocBin ``.spacy`` files when spaCy is installed.

spaCy is optional (``pip install 'synapse-async[spacy]'``); it is imported lazily, only here.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

from .base import Writer, WriterContext
from .files import AtomicFile, atomic_write
from .ner import AlignedDoc, align_entities
from .report import MisalignedEntity
from .schema import Item
from .synapse_json import dump_line

__all__ = ["DocBinBuilder", "SpacyWriter", "spacy_available"]


def spacy_available() -> bool:
    """True when ``import spacy`` works."""
    try:
        importlib.import_module("spacy")
    except ImportError:
        return False
    return True


@functools.lru_cache(maxsize=4)
def _blank(lang: str) -> Any:
    """``spacy.blank(lang)``, built once per language (it takes a good fraction of a second)."""
    spacy: Any = importlib.import_module("spacy")
    return spacy.blank(lang)


class DocBinBuilder:
    """Builds a spaCy ``DocBin`` from aligned documents (requires spaCy).

    Each text is tokenized by ``spacy.blank(lang)``; each entity becomes
    ``doc.char_span(start, end, label, alignment_mode="strict")``. Entities spaCy's tokenizer
    cannot align exactly are left out and returned as misaligned (``spacy_tokenizer``).
    """

    def __init__(self, lang: str = "en") -> None:
        tokens: Any = importlib.import_module("spacy.tokens")
        self._nlp = _blank(lang)
        self._doc_bin_cls = tokens.DocBin
        self._bin = self._doc_bin_cls(store_user_data=False)
        self.count = 0

    def add(self, doc: AlignedDoc, item_id: str) -> list[MisalignedEntity]:
        """Add one document; returns the entities spaCy could not align."""
        sp = self._nlp.make_doc(doc.text)
        spans, bad = [], []
        for start, end, label, ann_id in doc.entities:
            span = sp.char_span(start, end, label=label, alignment_mode="strict")
            if span is None:
                bad.append(MisalignedEntity(item_id, ann_id, start, end, label, "spacy_tokenizer"))
            else:
                spans.append(span)
        sp.ents = spans
        self._bin.add(sp)
        self.count += 1
        return bad

    def to_bytes(self) -> bytes:
        """The DocBin's serialized bytes (what a ``.spacy`` file holds)."""
        data: bytes = self._bin.to_bytes()
        return data

    def reset(self) -> None:
        """Start a new, empty DocBin (after a shard was written)."""
        self._bin = self._doc_bin_cls(store_user_data=False)
        self.count = 0


def jsonl_line(doc: AlignedDoc) -> str:
    """``{"text": ..., "entities": [[start, end, label], ...]}`` plus a newline."""
    entities = [[s, e, label] for s, e, label, _ in doc.entities]
    return dump_line({"text": doc.text, "entities": entities}) + "\n"


class SpacyWriter(Writer):
    """Writes ``<split>.jsonl`` and, with spaCy installed, ``docbin/<split>/part-NNNNN.spacy``.

    Conventions:

    - One line per media record that has a text: ``{"text", "entities": [[start, end,
      label], ...]}``; offsets are Python string indices (code points), end exclusive, sorted.
      Texts without entities are written too (negative examples).
    - Entities must align with token boundaries of the simple tokenizer
      (:func:`~.ner.tokenize`), match their annotated text and not overlap; the others are
      left out and reported (``misaligned_entities`` with reasons, see
      :class:`~.report.MisalignedEntity`). Named entities on a record without text are
      rejected (``missing_text``); other tools are skipped (counted).
    - DocBin (``spacy_docbin=True`` and spaCy importable): documents from
      ``spacy.blank(spacy_lang)``, entities via ``char_span(..., alignment_mode="strict")``
      (misses reported as ``spacy_tokenizer``), in shards of ``docbin_shard_size`` documents
      so memory stays bounded; ``spacy train`` accepts the folder as a corpus path. Without
      spaCy a note says the DocBin was skipped.
    """

    format = "spacy"

    def __init__(self, output_dir: Path, ctx: WriterContext) -> None:
        super().__init__(output_dir, ctx)
        self._files: dict[str, AtomicFile] = {}
        self._bins: dict[str, DocBinBuilder] = {}
        self._shards: dict[str, int] = {}
        self.docbin = ctx.options.spacy_docbin and spacy_available()
        if ctx.options.spacy_docbin and not self.docbin:
            self.tally.note(
                "spaCy is not installed: DocBin (.spacy) output skipped; "
                "install the 'spacy' extra to get it"
            )

    def _file(self, split: str) -> AtomicFile:
        if split not in self._files:
            self._files[split] = AtomicFile(
                self.output_dir / f"{split}.jsonl", durable=self.ctx.options.durable
            )
        return self._files[split]

    def begin(self) -> None:
        """Open one JSON Lines temp file per split."""
        super().begin()
        for split in self.ctx.splits:
            self._file(split)

    def write(self, item: Item) -> None:
        """Write the record's texts and their aligned entities."""
        out = self._file(item.split)
        for rec in item.records:
            doc, bad = align_entities(rec)
            for ann in rec.annotations:
                if ann.tool != "named_entity":
                    self.tally.skip(ann.tool)
                elif doc is None:
                    self.tally.reject("missing_text")
            if doc is None:
                continue
            for entity in bad:
                self.tally.misalign(entity)
            out.handle.write(jsonl_line(doc))
            for _, _, label, _ in doc.entities:
                self.ctx.labels.id(label)
            self.tally.written(item.split, len(doc.entities))
            if self.docbin:
                self._add_docbin(item.split, doc, rec.item_id)

    def _add_docbin(self, split: str, doc: AlignedDoc, item_id: str) -> None:
        builder = self._bins.get(split)
        if builder is None:
            builder = self._bins[split] = DocBinBuilder(self.ctx.options.spacy_lang)
        for entity in builder.add(doc, item_id):
            self.tally.misalign(entity)
        if builder.count >= self.ctx.options.docbin_shard_size:
            self._flush(split)

    def _flush(self, split: str, *, allow_empty: bool = False) -> None:
        builder = self._bins.get(split)
        if builder is None or (builder.count == 0 and not allow_empty):
            return
        shard = self._shards.get(split, 0)
        directory = self.output_dir / "docbin" / split
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"part-{shard:05d}.spacy"
        with atomic_write(path, "wb", durable=self.ctx.options.durable) as fh:
            fh.write(builder.to_bytes())
        self._record_file(path)
        self._shards[split] = shard + 1
        builder.reset()

    def finish(self) -> None:
        """Write the last DocBin shards, then rename the JSON Lines files into place.

        A split without any document still gets its (empty) JSON Lines file and, with
        DocBin output, one empty ``part-00000.spacy``; an export without any split writes
        ``default``.
        """
        if not self._files:
            self._file("default")
        for split in list(self._bins):
            self._flush(split)
        if self.docbin:
            for split in self._files:
                if not self._shards.get(split):
                    self._bins.setdefault(split, DocBinBuilder(self.ctx.options.spacy_lang))
                    self._flush(split, allow_empty=True)
        for out in self._files.values():
            out.commit()
            self._record_file(out.path)

    def abort(self) -> None:
        """Delete the JSON Lines temp files (DocBin shards already written stay)."""
        for out in self._files.values():
            out.discard()
