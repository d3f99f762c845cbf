"""``synapse_sync.errors`` offers every SDK error as the same class, plus the facade's own."""

from __future__ import annotations

import synapse_async
import synapse_async.errors
import synapse_sync.errors


def _exception_names(module: object) -> set[str]:
    return {
        name
        for name in getattr(module, "__all__", ())
        if isinstance(obj := getattr(module, name), type) and issubclass(obj, BaseException)
    }


def test_every_async_error_is_importable_from_synapse_sync_errors() -> None:
    sdk = _exception_names(synapse_async) | _exception_names(synapse_async.errors)
    assert {"SynapseError", "WaitTimeoutError", "ClientClosedError"} <= sdk
    missing = sorted(sdk - set(synapse_sync.errors.__all__))
    assert missing == [], f"synapse_sync.errors lacks {missing}"
    for name in sdk:  # the same class, so `except` clauses work with either import
        assert getattr(synapse_sync.errors, name) is getattr(synapse_async.errors, name)


def test_facade_errors_are_sdk_errors() -> None:
    for name in _exception_names(synapse_sync.errors) - _exception_names(synapse_async.errors):
        assert name.startswith("Facade")
        obj = getattr(synapse_sync.errors, name)
        assert issubclass(obj, (synapse_async.errors.SynapseError, RuntimeWarning))
