"""Ctrl-C, fork and interpreter exit, each in a fresh interpreter."""

from __future__ import annotations

import os
import sys

import pytest

from tests.sync.runtime.scripts import run_py

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and fork")

SIGINT_SCRIPT = """
    import asyncio, json, os, signal, threading, time
    from synapse_sync import Portal
    p = Portal()
    events = []

    async def long_call():
        try:
            await asyncio.Event().wait()  # never ends by itself: only Ctrl-C ends the call
        except asyncio.CancelledError:
            events.append("cancelled")
            await asyncio.sleep(0.05)  # cleanup that takes a while
            events.append("cleanup done")
            raise

    async def leftover():
        return len(asyncio.all_tasks() - {asyncio.current_task()})

    p.call(leftover)  # warm up
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        p.call(long_call)
        outcome = "returned"
    except KeyboardInterrupt:
        outcome = "KeyboardInterrupt"
        seen = list(events)  # what had happened when the caller saw the interrupt
    print(json.dumps({"outcome": outcome, "events": seen, "leftover": p.call(leftover)}))
"""


def test_sigint_during_a_call_cancels_the_task_before_reraising() -> None:
    result = run_py(SIGINT_SCRIPT)
    out = result.last_json()
    assert out["outcome"] == "KeyboardInterrupt", result.stderr
    assert out["events"] == ["cancelled", "cleanup done"]
    assert out["leftover"] == 0


def test_sigint_before_the_task_exists_cancels_it_without_running_it() -> None:
    """The loop is busy when Ctrl-C lands, so the task is not created yet: it never runs."""
    result = run_py("""
        import asyncio, json, os, signal, threading, time
        from synapse_sync import Portal
        p = Portal()
        ran = []

        async def body():
            ran.append("body ran")

        async def leftover():
            return len(asyncio.all_tasks() - {asyncio.current_task()})

        p.call(leftover)
        p.loop.call_soon_threadsafe(time.sleep, 0.4)  # keep the loop busy
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            p.call(body)
            outcome = "returned"
        except KeyboardInterrupt:
            outcome = "KeyboardInterrupt"
        print(json.dumps({"outcome": outcome, "ran": ran, "leftover": p.call(leftover)}))
    """)
    assert result.last_json() == {"outcome": "KeyboardInterrupt", "ran": [], "leftover": 0}


def test_sigint_while_waiting_for_an_iterator_batch() -> None:
    result = run_py("""
        import asyncio, json, os, signal, threading
        from synapse_sync import Portal
        p = Portal()
        events = []

        async def trickle():
            try:
                yield 1
                await asyncio.sleep(10)
                yield 2
            finally:
                events.append("finally")

        it = p.iterate(trickle)
        next(it)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        try:
            next(it)
        except KeyboardInterrupt:
            events.append("KeyboardInterrupt")
        it.close()
        print(json.dumps({"events": events}))
    """)
    assert result.last_json() == {"events": ["KeyboardInterrupt", "finally"]}


FORK_SCRIPT = """
    import asyncio, json, os, sys, threading, warnings
    warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
    from synapse_sync import FacadeClosedError, Portal, get_portal

    async def info(x):
        await asyncio.sleep(0)
        return [x, os.getpid(), threading.get_native_id()]

    async def count():
        for i in range(1000):
            yield i

    p = get_portal()
    parent = p.call(info, 1)
    it = p.iterate_batched(1, count)  # one item per hop: the child's next() must hop
    next(it)
    pid = os.fork()
    if pid == 0:
        try:
            child = p.call(info, 2)
            ok = child[1] == os.getpid() and child[2] != parent[2] and p.generation == 2
            try:
                next(iter(it))  # an iterator of the parent's loop: refused, no hang
                ok = False
            except FacadeClosedError:
                pass
            ok = ok and p.map(info, [1, 2, 3])[2][0] == 3
            sys.stdout.flush()
        except BaseException as exc:
            print("child failed", repr(exc), file=sys.stderr)
            ok = False
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    again = p.call(info, 3)
    print(json.dumps({"child_exit": os.waitstatus_to_exitcode(status),
                      "parent_ok": again[2] == parent[2], "rest": sum(it)}))
"""


def test_fork_then_call_in_the_child() -> None:
    result = run_py(FORK_SCRIPT)
    out = result.last_json()
    assert out == {"child_exit": 0, "parent_ok": True, "rest": sum(range(1, 1000))}, result.stderr


@pytest.mark.slow
def test_fork_while_another_thread_starts_the_loop_never_hangs() -> None:
    iterations = int(os.environ.get("SYNAPSE_SYNC_FORK_STRESS", "1000"))
    result = run_py(
        f"""
        import json, os, signal, sys, threading, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        from synapse_sync import Portal

        async def noop():
            return 1

        failures = 0
        for i in range({iterations}):
            p = Portal()
            starter = threading.Thread(target=p.call, args=(noop,))
            starter.start()  # races the fork below into the start critical section
            pid = os.fork()
            if pid == 0:
                signal.alarm(10)  # a hang kills the child with SIGALRM
                os._exit(0 if p.call(noop) == 1 else 1)
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                failures += 1
            starter.join()
            p.close()
        print(json.dumps({{"failures": failures}}))
    """,
        timeout=600,
    )
    assert result.last_json() == {"failures": 0}, result.stderr[-2000:]


EXIT_STUCK_SCRIPT = """
    import asyncio, sys, time
    from synapse_sync import get_portal

    async def ignores_cancellation():
        while True:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                pass

    get_portal().submit(ignores_cancellation)
    time.sleep(0.1)
    if "--hook-now" in sys.argv:  # run the exit hook itself, in-process
        import synapse_sync._lifecycle as lifecycle
        lifecycle.at_exit()
        print("SHUTDOWN returned", flush=True)
"""


@pytest.mark.parametrize("blocking", [False, True], ids=["ignores-cancel", "blocks-loop"])
def test_exit_is_bounded_when_a_task_ignores_cancellation(blocking: bool) -> None:
    script = EXIT_STUCK_SCRIPT
    if blocking:
        # blocks the loop thread for good (a daemon thread: exit may abandon it)
        script = script.replace("await asyncio.sleep(10)", "while True: time.sleep(1)")
    env = {"SYNAPSE_SYNC_SHUTDOWN_TIMEOUT": "1"}
    # The task never ends, so exiting at all shows the bound; run_py's timeout is the hang
    # guard (the speed of shutdown is not what this checks).
    result = run_py(script, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "FacadeShutdownWarning" in result.stderr
    assert "ignores_cancellation" in result.stderr
    hook = run_py(script.replace('"--hook-now" in sys.argv', "True"), env=env, timeout=60)
    assert "SHUTDOWN returned" in hook.stdout, hook.stderr


def test_first_call_from_an_atexit_handler_gets_closed_error() -> None:
    result = run_py("""
        import atexit, sys
        import synapse_sync
        from synapse_sync import get_portal, FacadeClosedError

        async def answer():
            return 42

        def late():
            try:
                print("late call returned", get_portal().call(answer), flush=True)
            except FacadeClosedError as exc:
                print("FacadeClosedError:", exc, flush=True)

        atexit.register(late)  # registered after synapse_sync: runs before its hook
    """)
    assert result.returncode == 0, result.stderr
    assert "FacadeClosedError" in result.stdout
    assert "RuntimeError" not in result.stderr


def test_call_from_an_atexit_handler_after_use_works() -> None:
    result = run_py("""
        import atexit
        from synapse_sync import get_portal

        async def answer():
            return 42

        get_portal().call(answer)
        atexit.register(lambda: print("late call returned", get_portal().call(answer),
                                      flush=True))
    """)
    assert result.returncode == 0, result.stderr
    assert "late call returned 42" in result.stdout


def test_clean_exit_prints_nothing() -> None:
    result = run_py(
        """
        import asyncio
        from synapse_sync import get_portal

        async def gen():
            try:
                yield 1
                yield 2
            finally:
                pass

        p = get_portal()
        it = p.iterate(gen)
        next(it)
        p.submit(asyncio.sleep, 30)  # still pending at exit: cancelled quietly
    """,
        args=("-W", "error::ResourceWarning"),
    )
    assert result.returncode == 0
    assert result.stderr == ""
