"""Many calling threads, one loop thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest

from synapse_sync import Portal
from tests.sync.runtime.conftest import loop_threads
from tests.sync.runtime.scripts import run_py


async def add(a: int, b: int) -> int:
    return a + b


async def fail(n: int) -> None:
    raise ValueError(n)


async def count(n: int) -> AsyncIterator[int]:
    for i in range(n):
        yield i


async def tick(n: int) -> int:
    await asyncio.sleep(0)
    return n


def _mixed_calls(p: Portal, worker: int, calls: int, errors: list[str]) -> None:
    try:
        for i in range(calls):
            kind = i % 6
            if kind == 0:
                assert p.call(add, worker, i) == worker + i
            elif kind == 1:
                try:
                    p.call(fail, i)
                except ValueError as exc:
                    assert exc.args == (i,)
                else:
                    raise AssertionError("no error")
            elif kind == 2:
                assert p.call_with_timeout(10, tick, i) == i
            elif kind == 3:
                assert p.submit(add, i, 1).result(10) == i + 1
            elif kind == 4:
                assert list(p.iterate(count, 3)) == [0, 1, 2]
            else:
                assert p.map(tick, [i, i + 1]) == [i, i + 1]
    except BaseException as exc:  # reported by the main thread
        errors.append(f"worker {worker}: {exc!r}")


def _run_workers(p: Portal, threads: int, calls: int) -> list[str]:
    errors: list[str] = []
    workers = [
        threading.Thread(target=_mixed_calls, args=(p, w, calls, errors)) for w in range(threads)
    ]
    for t in workers:
        t.start()
    for t in workers:
        t.join(120)
    return errors


def test_32_threads_race_the_first_call_and_start_one_loop(portal: Portal) -> None:
    before = len(loop_threads())  # other portals (e.g. the process-wide one) may be running
    barrier = threading.Barrier(32)
    results: list[int] = []

    def first() -> None:
        barrier.wait()
        results.append(portal.call(add, 1, 1))

    threads = [threading.Thread(target=first) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [2] * 32
    assert portal.generation == 1
    assert len(loop_threads()) == before + 1


@pytest.mark.slow
def test_32_threads_x_1000_mixed_calls(portal: Portal) -> None:
    before = len(loop_threads())  # other portals (e.g. the process-wide one) may be running
    errors = _run_workers(portal, 32, 1000)
    assert errors == []
    assert portal.generation == 1
    assert len(loop_threads()) == before + 1
    assert portal._submitted == set()


@pytest.mark.slow
def test_mixed_calls_under_dev_mode() -> None:
    """The same mix in a ``python -X dev`` process (asyncio debug mode on the loop)."""
    result = run_py(
        """
        import json, threading
        from synapse_sync import Portal
        from tests.sync.runtime.test_threads import _run_workers
        p = Portal()
        errors = _run_workers(p, 32, 200)
        debug = p.loop.get_debug()
        names = [t.name for t in threading.enumerate() if t.name == "synapse-sync-loop"]
        p.close()
        print(json.dumps({"errors": errors, "debug": debug, "loops": len(names)}))
    """,
        args=("-X", "dev"),
        timeout=300,
    )
    out = result.last_json()
    assert out == {"errors": [], "debug": True, "loops": 1}, result.stderr[-3000:]
