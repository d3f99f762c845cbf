"""Fixtures for the upload tests: an isolated cache dir and files of random bytes."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

FileMaker = Callable[..., Path]

MIB = 2**20


@pytest.fixture(autouse=True)
def _cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Upload resume state goes to a temporary directory, never ~/.cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("SYNAPSE_CACHE_DIR", str(cache))
    yield cache / "uploads"


@pytest.fixture
def make_file(tmp_path: Path) -> FileMaker:
    """``make_file(size, name=..., seed=...)``: a file of seeded random bytes."""

    def make(size: int, name: str = "data.bin", seed: int = 0) -> Path:
        path = tmp_path / name
        rng = random.Random(seed)
        with path.open("wb") as fh:
            left = size
            while left:
                n = min(left, 4 * MIB)
                fh.write(rng.randbytes(n))
                left -= n
        return path

    return make


def md5_of(path: Path) -> str:
    h = hashlib.md5()
    with path.open("rb") as fh:
        while chunk := fh.read(4 * MIB):
            h.update(chunk)
    return h.hexdigest()


def state_files(cache: Path) -> list[Path]:
    """The resume-state files in ``cache``."""
    return sorted(cache.glob("*.json"))
