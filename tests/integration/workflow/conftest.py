"""Fixtures of the workflow tests: an emulator annotating fast, retrying webhooks quickly.

(``manual_emu`` and ``manual_client``, also used by the emulator's simulator tests, are in
tests/fixtures.py.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synapse_async import AsyncClient
from synapse_async.emulator import Emulator
from tests.helpers import make_client


@pytest.fixture
async def fast_emu(tmp_path: Path) -> AsyncIterator[Emulator]:
    """An emulator annotating 2,000 tasks a second per project, retrying webhooks quickly."""
    async with Emulator(
        annotation_speed=2000,
        s3_root=tmp_path / "s3",
        webhook_retry_delay=0.02,
        webhook_max_attempts=4,
    ) as emu:
        yield emu


@pytest.fixture
async def fast_client(fast_emu: Emulator) -> AsyncIterator[AsyncClient]:
    """A strict client of ``fast_emu``."""
    async with make_client(fast_emu) as c:
        yield c
