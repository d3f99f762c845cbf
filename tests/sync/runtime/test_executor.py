"""CPU work goes to the facade's executor, so one caller cannot stall the others."""

from __future__ import annotations

import asyncio
import hashlib
import threading

from synapse_sync import Portal


async def noop() -> None:
    return None


def test_work_in_the_executor_leaves_the_loop_free_for_other_calls(portal: Portal) -> None:
    # Behaviour, not speed: while a hash runs in the executor, other callers' calls complete
    # (the hash waits for them, so they can only complete if it is off the loop thread).
    data = b"x" * (1024 * 1024)
    workers: list[str] = []
    hashing, others_done = threading.Event(), threading.Event()

    def md5(buf: bytes) -> str:
        workers.append(threading.current_thread().name)
        hashing.set()
        assert others_done.wait(30), "no other call completed while the hash ran"
        return hashlib.md5(buf).hexdigest()

    async def hash_off_loop() -> str:
        return await asyncio.get_running_loop().run_in_executor(None, md5, data)

    hasher = portal.submit(hash_off_loop)
    assert hashing.wait(30)
    for _ in range(50):  # 50 calls, each a full hop, all made while the hash is running
        portal.call_with_timeout(30, noop)  # a hang guard, not a speed claim
    others_done.set()
    assert hasher.result(30) == hashlib.md5(data).hexdigest()
    assert workers and all(n.startswith("synapse-sync-loop-worker") for n in workers)
