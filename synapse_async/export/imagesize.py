"""Image type and size from a file's first bytes: JPEG, PNG, WebP, GIF, BMP, TIFF.

Pure header parsing with the standard library (no Pillow): :func:`sniff` reads at most a few
hundred kilobytes (JPEG may need to skip metadata segments before its frame header) and
returns the type, the size and the usual extension. Used to size media whose metadata
carries no width/height, and to give an image file a real extension.
"""

from __future__ import annotations

import os
import struct
from typing import IO

import attrs

__all__ = ["EXTENSIONS", "MIME_EXTENSIONS", "ImageInfo", "image_info", "kind_of", "sniff"]

EXTENSIONS: dict[str, str] = {
    "jpeg": ".jpg",
    "png": ".png",
    "webp": ".webp",
    "gif": ".gif",
    "bmp": ".bmp",
    "tiff": ".tif",
}
"""Image type -> the extension written for it."""

MIME_EXTENSIONS: dict[str, str] = {
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/pjpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/x-ms-bmp": ".bmp",
    "image/tiff": ".tif",
}
"""MIME type -> extension, for media whose metadata names a type."""

_HEAD = 64
_JPEG_LIMIT = 1 << 20  # segments before the frame header (EXIF, ICC) rarely exceed this


@attrs.frozen
class ImageInfo:
    """What a file's header says: ``kind`` (``jpeg``, ``png``, ...), and the pixel size.

    ``width``/``height`` are None when the type is known but its header holds no usable
    size (a truncated file, an unusual TIFF).
    """

    kind: str
    width: int | None
    height: int | None

    @property
    def extension(self) -> str:
        """The usual extension for ``kind`` (``.jpg``, ``.png``, ...)."""
        return EXTENSIONS[self.kind]

    @property
    def has_size(self) -> bool:
        """True when both dimensions are known and positive."""
        return bool(self.width and self.height and self.width > 0 and self.height > 0)


def kind_of(head: bytes) -> str | None:
    """The image type from the first bytes of a file, or None when not an image we know."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:2] == b"BM":
        return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def _png(head: bytes) -> tuple[int, int] | None:
    if head[12:16] != b"IHDR" or len(head) < 24:
        return None
    w, h = struct.unpack(">II", head[16:24])
    return w, h


def _gif(head: bytes) -> tuple[int, int] | None:
    if len(head) < 10:
        return None
    w, h = struct.unpack("<HH", head[6:10])
    return w, h


def _bmp(head: bytes) -> tuple[int, int] | None:
    if len(head) < 26:
        return None
    header = struct.unpack("<I", head[14:18])[0]
    if header == 12:  # OS/2 BITMAPCOREHEADER
        w, h = struct.unpack("<HH", head[18:22])
        return w, h
    w, h = struct.unpack("<ii", head[18:26])
    return abs(w), abs(h)  # negative height = top-down rows


def _webp(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h
    return None


def _jpeg(fh: IO[bytes]) -> tuple[int, int] | None:
    fh.seek(2)
    read = 2
    while read < _JPEG_LIMIT:
        marker = fh.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        code = marker[1]
        while code == 0xFF:  # fill bytes
            nxt = fh.read(1)
            if not nxt:
                return None
            code = nxt[0]
        if code in (0xD8, 0x01) or 0xD0 <= code <= 0xD7:  # no length
            continue
        raw = fh.read(2)
        if len(raw) < 2:
            return None
        length = struct.unpack(">H", raw)[0]
        if length < 2:
            return None
        # SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
        if 0xC0 <= code <= 0xCF and code not in (0xC4, 0xC8, 0xCC):
            body = fh.read(5)
            if len(body) < 5:
                return None
            h, w = struct.unpack(">HH", body[1:5])
            return w, h
        fh.seek(length - 2, os.SEEK_CUR)
        read += length + 2
    return None


def _tiff(fh: IO[bytes], head: bytes) -> tuple[int, int] | None:
    order = "<" if head[:2] == b"II" else ">"
    fh.seek(4)
    raw = fh.read(4)
    if len(raw) < 4:
        return None
    offset = struct.unpack(order + "I", raw)[0]
    fh.seek(offset)
    raw = fh.read(2)
    if len(raw) < 2:
        return None
    count = struct.unpack(order + "H", raw)[0]
    entries = fh.read(12 * min(count, 4096))
    size: dict[int, int] = {}
    for i in range(0, len(entries) - 11, 12):
        tag, typ = struct.unpack(order + "HH", entries[i : i + 4])
        if tag not in (256, 257):
            continue
        if typ == 3:  # SHORT
            size[tag] = struct.unpack(order + "H", entries[i + 8 : i + 10])[0]
        elif typ == 4:  # LONG
            size[tag] = struct.unpack(order + "I", entries[i + 8 : i + 12])[0]
    if 256 in size and 257 in size:
        return size[256], size[257]
    return None


def image_info(fh: IO[bytes]) -> ImageInfo | None:
    """:func:`sniff` for an open binary file (read from its start)."""
    fh.seek(0)
    head = fh.read(_HEAD)
    kind = kind_of(head)
    if kind is None:
        return None
    size: tuple[int, int] | None
    if kind == "jpeg":
        size = _jpeg(fh)
    elif kind == "tiff":
        size = _tiff(fh, head)
    else:
        size = {"png": _png, "gif": _gif, "bmp": _bmp, "webp": _webp}[kind](head)
    if size is None or size[0] <= 0 or size[1] <= 0:
        return ImageInfo(kind, None, None)
    return ImageInfo(kind, size[0], size[1])


def sniff(path: str | os.PathLike[str]) -> ImageInfo | None:
    """The image type and size of the file at ``path``, or None when it is not an image.

    Reads only the header (JPEG: up to 1 MiB of segments before the frame header).
    """
    with open(path, "rb") as fh:
        return image_info(fh)
