"""Image sizes from file headers, real image extensions, image-only formats, failed records."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from synapse_async.export import Exporter, write_export
from synapse_async.export.imagesize import image_info
from tests.integration.export_consumers._data import png_bytes
from tests.unit.export._records import bbox_record, ner_record


def _jpeg(width: int, height: int, *, exif: int = 0) -> bytes:
    """SOI, an APP1 of ``exif`` bytes (metadata before the frame), SOF2, EOI."""
    app1 = b"\xff\xe1" + struct.pack(">H", exif + 2) + b"\x00" * exif
    sof = b"\xff\xc2" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + app1
        + sof
        + b"\xff\xd9"
    )


def _gif(w: int, h: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", w, h) + b"\x00" * 8


def _bmp(w: int, h: int) -> bytes:
    return b"BM" + b"\x00" * 12 + struct.pack("<Iii", 40, w, -h) + b"\x00" * 30


def _webp_vp8x(w: int, h: int) -> bytes:
    body = (
        b"VP8X"
        + struct.pack("<I", 10)
        + b"\x00" * 4
        + (w - 1).to_bytes(3, "little")
        + (h - 1).to_bytes(3, "little")
    )
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def _webp_vp8l(w: int, h: int) -> bytes:
    bits = (w - 1) | ((h - 1) << 14)
    body = b"VP8L" + struct.pack("<I", 5) + b"\x2f" + bits.to_bytes(4, "little")
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def _tiff(w: int, h: int, order: str = "<") -> bytes:
    head = (b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(order + "I", 8)
    entries = struct.pack(order + "H", 2)
    entries += struct.pack(order + "HHI", 256, 3, 1) + struct.pack(order + "HH", w, 0)
    entries += struct.pack(order + "HHII", 257, 4, 1, h)
    return head + entries + b"\x00" * 4


@pytest.mark.parametrize(
    ("data", "kind", "size"),
    [
        (png_bytes(37, 21), "png", (37, 21)),
        (_jpeg(1920, 1080, exif=30_000), "jpeg", (1920, 1080)),
        (_gif(300, 7), "gif", (300, 7)),
        (_bmp(640, 480), "bmp", (640, 480)),
        (_webp_vp8x(4000, 3000), "webp", (4000, 3000)),
        (_webp_vp8l(17, 9), "webp", (17, 9)),
        (_tiff(800, 600), "tiff", (800, 600)),
        (_tiff(81, 65, ">"), "tiff", (81, 65)),
    ],
)
def test_header_sizes(data: bytes, kind: str, size: tuple[int, int]) -> None:
    info = image_info(io.BytesIO(data))
    assert info is not None and (info.kind, info.width, info.height) == (kind, *size)


def test_not_an_image_and_truncated() -> None:
    assert image_info(io.BytesIO(b"hello world, this is text")) is None
    truncated = image_info(io.BytesIO(_jpeg(10, 10)[:25]))
    assert truncated is not None and truncated.kind == "jpeg" and not truncated.has_size


def _unsized(ident: int, name: str, boxes: int = 2) -> dict[str, Any]:
    raw = bbox_record(ident, [(1, 1, 5, 5, "car")] * boxes, name=name)
    del raw["width"], raw["height"]
    return raw


@pytest.mark.parametrize("fmt", ["yolo", "voc", "coco"])
def test_unsized_media_without_a_file_fail_loudly(tmp_path: Path, fmt: str) -> None:
    records = [bbox_record(1, [(1, 1, 5, 5, "car")]), _unsized(2, "b.jpg"), _unsized(3, "c.jpg")]
    report = write_export(records, format=fmt, output_dir=tmp_path / fmt)
    assert not report.complete
    assert report.failed == {"missing_image_size": 2} and report.failed_items == ("2", "3")
    assert report.annotations_written == 1 and report.images_without_size == 2
    saved = json.loads((tmp_path / fmt / "export_report.json").read_text())
    assert saved["complete"] is False and saved["failed"] == {"missing_image_size": 2}


@pytest.mark.parametrize("fmt", ["yolo", "voc", "coco"])
def test_unsized_media_take_the_size_and_suffix_of_their_file(tmp_path: Path, fmt: str) -> None:
    records = [_unsized(1, "2"), _unsized(2, "scan_0004"), _unsized(3, "b.png", 3)]
    out = tmp_path / fmt
    with Exporter(fmt, out) as exporter:
        for raw in records:
            item = exporter.place(raw)
            path = exporter.image_path(item.records[0])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(png_bytes(64, 48))
            exporter.write(exporter.complete_from_file(item))
    report = exporter.report
    assert report.complete and report.annotations_written == 7 and not report.failed
    images = out / ("JPEGImages" if fmt == "voc" else "images/default")
    assert sorted(p.name for p in images.iterdir()) == ["2.png", "b.png", "scan_0004.png"]
    if fmt == "yolo":
        assert sorted(p.name for p in (out / "labels" / "default").iterdir()) == [
            "2.txt",
            "b.txt",
            "scan_0004.txt",
        ]
    if fmt == "coco":
        doc = json.loads((out / "annotations" / "instances_default.json").read_text())
        assert {(i["file_name"], i["width"], i["height"]) for i in doc["images"]} == {
            ("2.png", 64, 48),
            ("scan_0004.png", 64, 48),
            ("b.png", 64, 48),
        }


def test_mime_type_gives_the_extension(tmp_path: Path) -> None:
    raw = bbox_record(1, [(1, 1, 5, 5, "car")], name="photo")
    raw["mime_type"] = "image/jpeg"
    report = write_export([raw], format="yolo", output_dir=tmp_path / "y")
    assert report.complete
    with Exporter("yolo", tmp_path / "z") as exporter:
        item = exporter.add(raw)
        assert item.records[0].file_name == "photo.jpg"


@pytest.mark.parametrize("fmt", ["yolo", "voc", "coco"])
def test_image_formats_skip_text_media(tmp_path: Path, fmt: str) -> None:
    text = ner_record(2, "John lives here", [(0, 4, "PERSON")])
    doc = bbox_record(3, [(1, 1, 5, 5, "car")], name="doc.txt")
    records = [bbox_record(1, [(1, 1, 5, 5, "car")]), text, doc]
    out = tmp_path / fmt
    report = write_export(records, format=fmt, output_dir=out)
    assert report.complete and report.skipped_media == 2
    assert report.annotations_written == 1 and report.skipped == {
        "named_entity": 1,
        "bounding_box": 1,
    }
    files = sorted(p.name for p in out.rglob("*") if p.is_file())
    assert not any(name.startswith(("doc", "2")) for name in files), files
    if fmt == "coco":
        doc_json = json.loads((out / "annotations" / "instances_default.json").read_text())
        assert [i["file_name"] for i in doc_json["images"]] == ["img_1.jpg"]
