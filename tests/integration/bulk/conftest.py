"""Fixtures of the bulk upload tests: a collection (and project) on the emulator, files."""

from __future__ import annotations

from pathlib import Path

import pytest

from synapse_async import AsyncClient


@pytest.fixture
async def collection(client: AsyncClient) -> int:
    """A collection with one required image slot and an optional json slot."""
    coll = await client.data_collections.create(
        "bulk",
        file_specifications=[
            {"name": "image", "file_type": "image", "is_required": True},
            {"name": "label", "file_type": "json"},
        ],
    )
    return coll.id


@pytest.fixture
async def project(client: AsyncClient) -> int:
    """A project to create tasks in."""
    handle = await client.projects.create("bulk tasks")
    return handle.id


def make_files(root: Path, n: int, *, size: int = 1000, suffix: str = ".jpg") -> list[Path]:
    """``n`` files with distinct content under ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = root / f"{i:04d}{suffix}"
        p.write_bytes(f"file {i} ".encode() + bytes([i % 251]) * size)
        out.append(p)
    return out
