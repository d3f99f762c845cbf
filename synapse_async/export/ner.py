"""Named-entity alignment for spaCy: a simple tokenizer and the checks entities must pass."""

from __future__ import annotations

import re

import attrs

from .report import MisalignedEntity
from .schema import ImageRecord, NamedEntity

__all__ = ["AlignedDoc", "align_entities", "token_boundaries", "tokenize"]

_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def tokenize(text: str) -> list[tuple[int, int]]:
    """Token spans ``(start, end)`` of a simple, predictable tokenizer.

    Tokens are runs of word characters, and each other non-space character on its own (so
    ``"U.S.,"`` is ``U . S . ,``). Whitespace separates tokens.
    """
    return [m.span() for m in _TOKEN.finditer(text)]


def token_boundaries(text: str) -> tuple[frozenset[int], frozenset[int]]:
    """The sets of token start offsets and token end offsets of :func:`tokenize`."""
    spans = tokenize(text)
    return frozenset(s for s, _ in spans), frozenset(e for _, e in spans)


@attrs.frozen
class AlignedDoc:
    """A text with the entities that passed the checks, as ``(start, end, label, ann_id)``."""

    text: str
    entities: tuple[tuple[int, int, str, str], ...]


def align_entities(rec: ImageRecord) -> tuple[AlignedDoc | None, list[MisalignedEntity]]:
    """Check the record's named entities against its text.

    An entity is kept when ``0 <= start < end <= len(text)``, its annotated text (if any)
    equals ``text[start:end]``, ``start`` is a token start and ``end`` a token end of
    :func:`tokenize`, and it does not overlap an entity kept before it (entities are taken
    in ``(start, -end)`` order, so the longer of two with the same start wins). Everything
    else is returned as misaligned, with the reason. Returns ``(None, [])`` for a record
    without text.
    """
    if rec.text is None:
        return None, []
    text = rec.text
    starts, ends = token_boundaries(text)
    spans = [(a, a.geometry) for a in rec.annotations if isinstance(a.geometry, NamedEntity)]
    spans.sort(key=lambda pair: (pair[1].start, -pair[1].end))
    kept: list[tuple[int, int, str, str]] = []
    bad: list[MisalignedEntity] = []
    last_end = 0
    for ann, ent in spans:
        if ent.end > len(text):
            reason = "out_of_range"
        elif ent.text is not None and text[ent.start : ent.end] != ent.text:
            reason = "text_mismatch"
        elif ent.start not in starts or ent.end not in ends:
            reason = "token_boundary"
        elif ent.start < last_end:
            reason = "overlap"
        else:
            kept.append((ent.start, ent.end, ann.label, ann.id))
            last_end = ent.end
            continue
        bad.append(MisalignedEntity(rec.item_id, ann.id, ent.start, ent.end, ann.label, reason))
    return AlignedDoc(text, tuple(kept)), bad
