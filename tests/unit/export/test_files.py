"""Safe names, unique names, atomic writes, and exports that fail midway."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from synapse_async.export import (
    REPORT_FILE,
    AtomicFile,
    UniqueNamer,
    atomic_write,
    safe_filename,
    write_export,
)
from tests.unit.export._records import bbox_record, ner_record

TRAVERSAL = [
    ("../../etc/passwd", "passwd"),
    ("/abs/x.jpg", "x.jpg"),
    ("a/../../b.png", "b.png"),
    ("C:\\x.png", "x.png"),
    ("C:x.png", "C_x.png"),
    ("\\\\server\\share\\y.jpg", "y.jpg"),
    ("..", "fallback"),
    ("../", "fallback"),
    ("", "fallback"),
    ("   ", "fallback"),
    (".hidden", "hidden"),
    ("trailing. . ", "trailing"),
    ("nul\x00byte.png", "nul_byte.png"),
    ("tab\tand\nnewline.jpg", "tab_and_newline.jpg"),
    ("CON", "_CON"),
    ("con.txt", "_con.txt"),
    ("LPT1.jpg", "_LPT1.jpg"),
    ('a<b>c:d"e|f?g*h.png', "a_b_c_d_e_f_g_h.png"),
    ("ok name (1).jpg", "ok name (1).jpg"),
    ("émoji 🐈.png", "émoji 🐈.png"),
]


@pytest.mark.parametrize(("raw", "expected"), TRAVERSAL)
def test_safe_filename(raw: str, expected: str) -> None:
    assert safe_filename(raw, fallback="fallback") == expected


def test_safe_filename_non_strings_and_bad_fallback() -> None:
    assert safe_filename(None, fallback="7") == "7"
    assert safe_filename(123, fallback="x") == "x"
    assert safe_filename("..", fallback="../..") == "file"


def test_long_names_keep_extension() -> None:
    name = safe_filename("é" * 300 + ".jpeg")
    assert name.endswith(".jpeg") and len(name.encode()) <= 200


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_any_name_stays_inside_the_directory(name: str) -> None:
    base = Path("/srv/export/images")
    safe = safe_filename(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in (".", "..")
    resolved = (base / safe).resolve()
    assert resolved.parent == base.resolve()


def test_traversal_names_in_a_real_export(tmp_path: Path) -> None:
    names = [raw for raw, _ in TRAVERSAL]
    records = [bbox_record(i, [(1, 1, 5, 5, "car")], name=n) for i, n in enumerate(names)]
    report = write_export(records, format="yolo", output_dir=tmp_path / "out")
    assert report.images == len(names)
    root = (tmp_path / "out").resolve()
    written = [p for p in root.rglob("*") if p.is_file()]
    assert all(root in p.resolve().parents for p in written)
    labels = sorted(p.name for p in (root / "labels" / "default").iterdir())
    assert report.skipped_media == 1  # "con.txt" is a text file: image formats skip it
    assert len(labels) == len(names) - 1  # unique, nothing overwritten
    assert not (tmp_path / "etc").exists()


def test_unique_namer() -> None:
    namer = UniqueNamer()
    assert [namer.claim(n) for n in ["a.jpg", "a.jpg", "A.png", "a (2).jpg", "b"]] == [
        "a.jpg",
        "a (2).jpg",
        "A (3).png",
        "a (2) (2).jpg",
        "b",
    ]
    assert namer.claim("a.jpg", scope="val") == "a.jpg"
    assert len(namer) == 6


def test_atomic_write_success_and_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    with atomic_write(target) as fh:
        fh.write("v1")
    assert target.read_text() == "v1"
    with pytest.raises(RuntimeError), atomic_write(target) as fh:
        fh.write("half of v2")
        raise RuntimeError("boom")
    assert target.read_text() == "v1"
    fresh = tmp_path / "fresh.bin"
    with pytest.raises(RuntimeError), atomic_write(fresh, "wb") as fb:
        fb.write(b"half")
        raise RuntimeError("boom")
    assert not fresh.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_atomic_file(tmp_path: Path) -> None:
    f = AtomicFile(tmp_path / "a.jsonl")
    f.handle.write("x\n")
    assert not (tmp_path / "a.jsonl").exists()
    f.commit()
    f.discard()  # no-op after commit
    assert (tmp_path / "a.jsonl").read_text() == "x\n"
    g = AtomicFile(tmp_path / "b.jsonl")
    g.handle.write("y")
    g.discard()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsonl"]


def _failing(records: list[dict[str, Any]], after: int) -> Iterator[dict[str, Any]]:
    for i, raw in enumerate(records):
        if i == after:
            raise RuntimeError("connection lost")
        yield raw


def _hidden(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".")]


FINAL_FILES = {
    "json": ["synapse_default.jsonl"],
    "coco": ["annotations/instances_default.json"],
    "yolo": ["data.yaml", "classes.txt"],
    "voc": ["ImageSets/Main/default.txt", "labels.txt"],
    "csv": ["annotations.csv"],
    "spacy": ["default.jsonl"],
}


@pytest.mark.parametrize("fmt", sorted(FINAL_FILES))
def test_failure_midway_leaves_nothing_complete_looking(tmp_path: Path, fmt: str) -> None:
    records = [bbox_record(i, [(1, 1, 5, 5, "car")]) for i in range(5)]
    records += [ner_record(10 + i, "John lives here", [(0, 4, "PERSON")]) for i in range(3)]
    out = tmp_path / fmt
    with pytest.raises(RuntimeError, match="connection lost"):
        write_export(_failing(records, after=6), format=fmt, output_dir=out)
    assert not (out / REPORT_FILE).exists()
    for name in FINAL_FILES[fmt]:
        assert not (out / name).exists(), name
    assert _hidden(out) == []


def test_a_failed_overwrite_leaves_the_previous_export_whole(tmp_path: Path) -> None:
    out = tmp_path / "o"
    write_export([bbox_record(1, [(1, 1, 5, 5, "car")])], format="coco", output_dir=out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(RuntimeError):
        write_export(
            _failing([bbox_record(1, [(1, 1, 5, 5, "car")])], after=0),
            format="coco",
            output_dir=out,
            overwrite=True,
        )
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before and (out / REPORT_FILE).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no staging folder left


def test_files_get_umask_permissions(tmp_path: Path) -> None:
    with atomic_write(tmp_path / "p.txt") as fh:
        fh.write("x")
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "p.txt").stat().st_mode & 0o777 == 0o666 & ~mask


def test_unique_namer_grows_and_stays_exact() -> None:
    namer = UniqueNamer()
    names = [namer.claim(f"img_{i % 3000}.jpg") for i in range(6000)]
    assert len(set(names)) == 6000 == len(namer)
    assert names[3000] == "img_0 (2).jpg"
