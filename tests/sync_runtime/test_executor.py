"""CPU work goes to the facade's executor, so one caller cannot stall the others."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time

from synapse_sync import Portal


async def noop() -> None:
    return None


def test_hashing_in_the_executor_keeps_trivial_calls_fast(portal: Portal) -> None:
    data = b"x" * (32 * 1024 * 1024)
    workers: list[str] = []

    def md5(buf: bytes) -> str:
        workers.append(threading.current_thread().name)
        return hashlib.md5(buf).hexdigest()  # releases the GIL on large buffers

    async def hash_off_loop(rounds: int) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(rounds):
            await loop.run_in_executor(None, md5, data)

    def p99_of_trivial_calls(busy: threading.Thread | None) -> float:
        latencies: list[float] = []
        while (busy is None or busy.is_alive()) and len(latencies) < 2000:
            start = time.perf_counter()
            portal.call(noop)
            latencies.append(time.perf_counter() - start)
        assert len(latencies) >= 50
        return sorted(latencies)[int(len(latencies) * 0.99)]

    idle = p99_of_trivial_calls(None)  # the machine's own noise (CI boxes are shared)
    hasher = threading.Thread(target=portal.call, args=(hash_off_loop, 8))
    hasher.start()
    busy = p99_of_trivial_calls(hasher)
    hasher.join(30)
    assert busy < max(0.010, 2 * idle), (busy, idle)
    assert workers and all(n.startswith("synapse-sync-loop-worker") for n in workers)
