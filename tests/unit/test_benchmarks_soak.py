"""The soak benchmark's verdicts: a growing RSS, growing open files or a surfaced error each miss
their target; the soak is run by name only (``--smoke`` of the main runner never starts it)."""

from __future__ import annotations

from typing import Any

import pytest

import benchmarks.__main__ as cli
from benchmarks import common, soak

SERVER: dict[str, Any] = {"counters": {"requests": 10}, "replies": {"lost_replies": 0}}


def _out(
    rss_mb: list[float], fds: list[int], errors: dict[str, int] | None = None
) -> dict[str, Any]:
    pairs = enumerate(zip(rss_mb, fds, strict=True))
    samples = [
        {
            "t": 10.0 * i,
            "rss_kb": int(r * 1024),
            "fds": f,
            "ops": 100 * i,
            "errors": 0,
            "retries": i,
        }
        for i, (r, f) in pairs
    ]
    examples = [
        {
            "operation": k.split(":")[0],
            "type": k.split(": ")[1],
            "message": "boom",
            "traceback": "Traceback ...\nServerError: boom",
        }
        for k in (errors or {})
    ]
    return {
        "seconds": samples[-1]["t"],
        "samples": samples,
        "ops": {"list": 5},
        "errors": errors or {},
        "examples": examples,
        "retries": {"ServerError": 3},
    }


@pytest.fixture(autouse=True)
def _own_targets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(common, "TARGETS", [])


def _verdicts(out: dict[str, Any]) -> list[bool]:
    text = soak.report(out, SERVER, soak.FAULTS, smoke=False)
    assert text.count("Target (soak)") == 3
    return [t.met for t in common.TARGETS]


FLAT_RSS = [40.0] + [50.0] * 30  # t = 0 (before the workers) then 5 minutes flat
FLAT_FDS = [8] + [20, 24, 21] * 10


def test_flat_run_meets_every_target() -> None:
    assert _verdicts(_out(FLAT_RSS, FLAT_FDS)) == [True, True, True]


def test_rss_growing_after_the_first_minute_misses() -> None:
    growing = [40.0] + [50.0 + 0.5 * i for i in range(30)]  # +12 MB from t=60 s to the end
    assert _verdicts(_out(growing, FLAT_FDS)) == [False, True, True]


def test_open_files_growing_miss() -> None:
    leaking = [8] + [20 + i // 3 for i in range(30)]  # one more fd every 30 s
    assert _verdicts(_out(FLAT_RSS, leaking)) == [True, False, True]


def test_a_surfaced_error_misses_and_is_shown() -> None:
    out = _out(FLAT_RSS, FLAT_FDS, {"list: synapse_async.errors.ServerError": 1})
    assert _verdicts(out) == [True, True, False]
    text = soak.report(out, SERVER, soak.FAULTS, smoke=False)
    assert "- list: synapse_async.errors.ServerError: 1" in text and "boom" in text


def test_soak_runs_by_name_only() -> None:
    assert "soak" in cli.EXTRA and "soak" not in cli.BENCHMARKS
