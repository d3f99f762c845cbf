"""Helpers shared by the tests."""

from __future__ import annotations

from synapse_async import AsyncClient, ClientConfig, RetryPolicy
from synapse_async.emulator import Emulator


def make_client(emu: Emulator, **settings: object) -> AsyncClient:
    """A client for ``emu`` with strict decoding and fast retries (tests stay quick)."""
    settings.setdefault("retry", RetryPolicy(max_retries=6, initial_delay=0.01, max_delay=0.1))
    config = ClientConfig.resolve(emu.url, access_token=emu.access_token, strict_decoding=True,
                                  **settings)
    return AsyncClient(config=config)
