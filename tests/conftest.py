"""Root of the test suite: the shared fixtures live in one plugin module, ``tests/fixtures.py``.

Layers: ``unit`` (no server), ``integration`` (the SDK against the emulator on loopback),
``sync`` (the sync facade and its runtime), ``emulator`` (the emulator itself); see
tests/README.md.
"""

pytest_plugins = ["tests.fixtures"]
