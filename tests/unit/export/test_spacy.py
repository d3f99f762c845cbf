"""spaCy: JSONL offsets match the text, misaligned entities reported, DocBin when installed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synapse_async.export import FormatOptions, export_spacy, tokenize, write_export
from synapse_async.export.spacy_out import spacy_available
from tests.unit.export._records import ner_record

TEXT = (
    "On January 15, 2024, Judge Sarah Thompson ruled that Acme Corporation must pay "
    "$2.5 million to John Smith."
)


def _span(text: str, part: str) -> tuple[int, int]:
    start = text.index(part)
    return start, start + len(part)


GOOD = [
    (*_span(TEXT, "January 15, 2024"), "DATE"),
    (*_span(TEXT, "Sarah Thompson"), "PERSON"),
    (*_span(TEXT, "Acme Corporation"), "ORG"),
    (*_span(TEXT, "John Smith"), "PERSON"),
]


def _lines(path: Path) -> list[dict[str, object]]:
    text = path.read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]  # splitlines: the strictest reader


def test_jsonl_offsets_match_the_text(tmp_path: Path) -> None:
    report = write_export(
        [ner_record(1, TEXT, GOOD, with_text=True), ner_record(2, "Nothing here.", [])],
        format="spacy",
        output_dir=tmp_path,
        options=None,
    )
    first, second = _lines(tmp_path / "default.jsonl")
    assert first["text"] == TEXT
    assert first["entities"] == [[s, e, label] for s, e, label in GOOD]
    assert [TEXT[s:e] for s, e, _ in first["entities"]] == [
        "January 15, 2024",
        "Sarah Thompson",
        "Acme Corporation",
        "John Smith",
    ]
    assert second == {"text": "Nothing here.", "entities": []}
    assert report.misaligned_entities == 0 and report.annotations_written == 4
    assert report.labels == ("DATE", "PERSON", "ORG")


def test_misaligned_entities_are_reported_not_written(tmp_path: Path) -> None:
    s, e = _span(TEXT, "Sarah Thompson")
    spans = [
        (s + 1, e, "PERSON"),  # starts inside a token
        (s, e + 1, "PERSON"),  # ends on a space
        (*_span(TEXT, "Acme"), "ORG"),  # fine
        (*_span(TEXT, "Acme Corporation"), "ORG"),  # same start, longer: wins
        (0, len(TEXT) + 5, "X"),
    ]  # past the end
    raw = ner_record(1, TEXT, spans)
    raw["data"]["annotations"]["text_1"].append(
        {
            "id": "bad-text",
            "type": "ner",
            "data": [s, e],
            "text": "Somebody Else",
            "classification": "PERSON",
        }
    )
    report = write_export([raw], format="spacy", output_dir=tmp_path)
    (line,) = _lines(tmp_path / "default.jsonl")
    assert line["entities"] == [[*_span(TEXT, "Acme Corporation"), "ORG"]]
    reasons = sorted(m.reason for m in report.misaligned_samples)
    assert reasons == [
        "out_of_range",
        "overlap",
        "text_mismatch",
        "token_boundary",
        "token_boundary",
    ]
    assert report.misaligned_entities == 5


def test_entities_without_text_and_other_tools(tmp_path: Path) -> None:
    raw = ner_record(1, "x", [(0, 1, "A")])
    del raw["text"]
    raw["data"]["annotations"]["text_1"].append(
        {"id": "b", "type": "bbox", "data": [0, 0, 1, 1], "classification": "car"}
    )
    report = write_export([raw], format="spacy", output_dir=tmp_path)
    assert report.invalid == {"missing_text": 1} and report.skipped == {"bounding_box": 1}
    assert (tmp_path / "default.jsonl").read_text() == ""


@given(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x24F), max_size=80),
    st.lists(st.tuples(st.integers(0, 90), st.integers(1, 30)), max_size=6),
)
@settings(max_examples=150, deadline=None)
def test_property_written_offsets_slice_whole_tokens(
    text: str, spans: list[tuple[int, int]]
) -> None:
    import tempfile

    entities = [(s, s + n, "L") for s, n in spans]
    with tempfile.TemporaryDirectory() as tmp:
        report = write_export(
            [ner_record(1, text, entities)],
            format="spacy",
            output_dir=tmp,
            options=FormatOptions(spacy_docbin=False),
        )
        lines = _lines(Path(tmp) / "default.jsonl")
    (line,) = lines
    tokens = tokenize(text)
    starts, ends = {a for a, _ in tokens}, {b for _, b in tokens}
    written = line["entities"]
    assert isinstance(written, list)
    assert len(written) + report.misaligned_entities == len(entities)
    last = 0
    for s, e, _ in written:
        assert 0 <= s < e <= len(text) and s in starts and e in ends and s >= last
        assert text[s:e] == text[s:e].strip() != ""
        last = e


needs_spacy = pytest.mark.skipif(not spacy_available(), reason="spaCy not installed")


@needs_spacy
def test_docbin_bytes_round_trip(tmp_path: Path) -> None:
    import spacy
    from spacy.tokens import DocBin

    data = export_spacy(
        [ner_record(1, TEXT, GOOD), ner_record(2, "Bob met Ann.", [(0, 3, "PERSON")])]
    )
    docs = list(DocBin().from_bytes(data).get_docs(spacy.blank("en").vocab))
    assert [d.text for d in docs] == [TEXT, "Bob met Ann."]
    assert [(ent.start_char, ent.end_char, ent.label_) for ent in docs[0].ents] == GOOD
    assert [ent.text for ent in docs[1].ents] == ["Bob"]


@needs_spacy
def test_docbin_shards_and_spacy_tokenizer_misses(tmp_path: Path) -> None:
    text = "See 1:24-cv-00123 now."
    s, e = _span(text, "24")  # a token for us, inside spaCy's "1:24" token
    records = [ner_record(i, text, [(s, e, "NUM")]) for i in range(5)]
    report = write_export(
        records, format="spacy", output_dir=tmp_path, options=FormatOptions(docbin_shard_size=2)
    )
    shards = sorted((tmp_path / "docbin" / "default").iterdir())
    assert [p.name for p in shards] == ["part-00000.spacy", "part-00001.spacy", "part-00002.spacy"]
    assert {m.reason for m in report.misaligned_samples} == {"spacy_tokenizer"}
    assert report.misaligned_entities == 5


def test_export_spacy_without_spacy(monkeypatch: pytest.MonkeyPatch) -> None:
    import synapse_async.export.small as small

    monkeypatch.setattr(small, "spacy_available", lambda: False)
    with pytest.raises(ImportError, match=r"synapse-async\[spacy\]"):
        export_spacy([ner_record(1, "x", [])])
