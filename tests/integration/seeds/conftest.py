"""Harness of the seed tests: the seeds' code runs as written against a real emulator.

Only the environment is arranged, never the seeds' code: an emulator on its own thread that
accepts the seeds' token ``sk_live_xxxx`` (``SYNAPSE_HOST`` points the client at it), buckets
in its S3 stand-in, a compressed clock (``time.sleep`` and the SDK's poll sleeps return at
once and advance the annotation simulator by one task per project instead), and stand-ins
for third-party packages the seeds import but this SDK does not ship (scikit-learn,
ultralytics, Flask): tiny modules with the few names the seeds call.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from synapse_async import _retry
from tests.fixtures import ThreadedEmulator, running_emulator

SEED_TOKEN = "sk_live_xxxx"
SEEDS = Path(__file__).resolve().parents[4] / "shared" / "seeds"


@dataclass
class SeedEmulator(ThreadedEmulator):
    """The seeds' emulator on a background thread; ``run`` calls into its loop."""

    s3_root: Path
    steps: list[int] = field(default_factory=list)

    def run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a plain function on the emulator's loop thread and return its result."""

        async def call() -> Any:
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(30)

    def step(self) -> int:
        """One unit of annotation work: one task in every active project (review ends)."""

        def advance() -> int:
            sim = self.emu.workflow.simulator
            sim.speed = 1.0
            try:
                return sim.advance(1.0)
            finally:
                sim.speed = 0.0

        done = int(self.run(advance))
        self.steps.append(done)
        return done

    def bucket(self, name: str, files: dict[str, bytes]) -> None:
        """Create bucket ``name`` in the S3 stand-in holding ``files`` (key -> bytes)."""
        root = self.s3_root / name
        root.mkdir(parents=True, exist_ok=True)
        for key, body in files.items():
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)


@pytest.fixture
def seed_emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeedEmulator]:
    """The emulator the seeds talk to, with a compressed clock, in ``tmp_path`` as cwd."""
    s3_root = tmp_path / "s3"
    with running_emulator(
        access_token=SEED_TOKEN,
        annotation_speed=0,
        s3_root=s3_root,
        webhook_retry_delay=0.02,
        webhook_max_attempts=3,
    ) as threaded:
        seed = SeedEmulator(threaded.emu, threaded.loop, s3_root)
        monkeypatch.setenv("SYNAPSE_HOST", seed.url)
        monkeypatch.chdir(tmp_path)
        real_sleep = time.sleep
        test_thread = threading.current_thread()

        def fast_sleep(seconds: float) -> None:
            if threading.current_thread() is not test_thread:  # library threads: real time
                real_sleep(seconds)
                return
            seed.step()
            real_sleep(0.005)

        async def fast_poll_sleep(_seconds: float) -> None:
            await asyncio.to_thread(seed.step)

        monkeypatch.setattr(time, "sleep", fast_sleep)
        monkeypatch.setattr(_retry, "pause", fast_poll_sleep)
        yield seed


def _module(name: str, **attrs_: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs_)
    return module


def train_test_split(
    data: list[Any], test_size: float, random_state: int
) -> tuple[list[Any], list[Any]]:
    """scikit-learn's split, reduced to what the seed calls (deterministic, no shuffle)."""
    n_test = max(1, round(len(data) * test_size)) if len(data) > 1 else 0
    return data[: len(data) - n_test], data[len(data) - n_test :]


class FakeYOLO:
    """ultralytics' ``YOLO``: records the dataset it was asked to train on."""

    trained: list[dict[str, Any]] = []

    def __init__(self, weights: str) -> None:
        self.weights = weights

    def train(self, **kwargs: Any) -> Any:
        FakeYOLO.trained.append(kwargs)
        return types.SimpleNamespace(results_dict={"metrics/mAP50(B)": 0.5})


@pytest.fixture
def third_party(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Stand-ins for scikit-learn and ultralytics (the seeds' training steps)."""
    FakeYOLO.trained = []
    sklearn = _module("sklearn")
    selection = _module("sklearn.model_selection", train_test_split=train_test_split)
    sklearn.model_selection = selection  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sklearn", sklearn)
    monkeypatch.setitem(sys.modules, "sklearn.model_selection", selection)
    monkeypatch.setitem(sys.modules, "ultralytics", _module("ultralytics", YOLO=FakeYOLO))
    return {"YOLO": FakeYOLO}
