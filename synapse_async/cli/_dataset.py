"""A generated dataset for ``synapse demo``: small PNG images plus one large video-like file."""

from __future__ import annotations

import functools
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

__all__ = ["IMAGE_SIZE", "make_dataset", "png_bytes"]

IMAGE_SIZE = (64, 48)
"""Width and height of the generated images (a few KB each)."""


@functools.lru_cache(maxsize=4)
def _gradient(width: int, height: int) -> bytes:
    """Raw PNG scanlines (filter byte + RGB) of a colour gradient."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter: none
        for x in range(width):
            rows += bytes(((4 * x) & 0xFF, (5 * y) & 0xFF, (2 * (x + y)) & 0xFF))
    return bytes(rows)


def png_bytes(width: int, height: int, rng: random.Random) -> bytes:
    """A valid RGB PNG: the gradient through a random colour table, so every image differs."""
    table = bytearray(rng.sample(range(256), 256))
    table[0] = 0  # keep the scanlines' filter byte (0) valid
    rows = _gradient(width, height).translate(table)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


def make_dataset(
    root: Path, images: int, big_bytes: int, seed: int = 0
) -> tuple[list[Path], Path | None]:
    """Write ``images`` PNGs under ``root/images`` and one ``big_bytes`` file (0: none).

    Returns the image paths and the large file's path.
    """
    rng = random.Random(seed)
    image_dir = root / "images"
    image_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for n in range(images):
        path = image_dir / f"frame_{n:05d}.png"
        path.write_bytes(png_bytes(*IMAGE_SIZE, rng))
        paths.append(path)
    if big_bytes <= 0:
        return paths, None
    big = root / "drive" / "drive_0001.mp4"
    big.parent.mkdir(parents=True, exist_ok=True)
    with big.open("wb") as fh:
        for block in _blocks(big_bytes, rng):
            fh.write(block)
    return paths, big


def _blocks(total: int, rng: random.Random, size: int = 1 << 20) -> Iterator[bytes]:
    """``total`` bytes in 1 MiB blocks: one random block, each copy stamped with its number."""
    pattern = rng.randbytes(size)
    for n in range(0, total, size):
        block = struct.pack(">Q", n) + pattern[8:]
        yield block[: min(size, total - n)]
