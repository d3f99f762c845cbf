"""A local Synapse backend for tests and benchmarks (aiohttp.web, SQLite, files on disk).

In-process::

    async with Emulator(faults=Faults(latency=0.02)) as emu:
        emu.url, emu.access_token, emu.seed.tasks(project_id, 1000)

Out of process: ``python -m synapse_async.emulator --port 8765 --data-dir DIR``.
"""

from __future__ import annotations

from .faults import Faults
from .seed import Seeder
from .server import Emulator
from .store import Store

__all__ = ["Emulator", "Faults", "Seeder", "Store"]
