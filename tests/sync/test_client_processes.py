"""The generated ``synapse_sync.Client`` in its own interpreter: exit, GC, Ctrl-C, fork, threads.

Each script starts an emulator on a daemon thread of its own process (``EMULATOR``), so it can
read the emulator's request counters at the moment that matters.
"""

from __future__ import annotations

import sys

import pytest

from tests.sync.runtime.scripts import run_py

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and fork")

EMULATOR = """
import asyncio, json, os, signal, sys, threading, time
from synapse_async.emulator import Emulator, Faults

_box = {}
_ready = threading.Event()

async def _serve():
    # The emulator stands in for a remote server: it must keep serving while this process
    # exits, so its blocking file writes use a pool that does not stop at exit either.
    from synapse_sync._executor import LoopExecutor
    asyncio.get_running_loop().set_default_executor(LoopExecutor("emulator-worker"))
    async with Emulator() as emu:
        _box["emu"], _box["loop"] = emu, asyncio.get_running_loop()
        _ready.set()
        await asyncio.Event().wait()

threading.Thread(target=asyncio.run, args=(_serve(),), daemon=True, name="emulator").start()
assert _ready.wait(30)
emu = _box["emu"]
URL, TOKEN = emu.url, emu.access_token

def on_emu(fn, *args):
    async def call():
        return fn(*args)
    return asyncio.run_coroutine_threadsafe(call(), _box["loop"]).result(30)

def seed_tasks(n):
    project = on_emu(emu.seed.project, "p")
    on_emu(emu.seed.tasks, project["id"], n)
    return project["id"]

def requests():
    return on_emu(lambda: emu.counters["requests"])
"""

UNCLOSED = ("Unclosed client session", "Unclosed connector")


def _script(body: str) -> str:
    return EMULATOR + body


def test_never_closed_client_is_closed_at_exit_without_aiohttp_noise() -> None:
    result = run_py(
        """
import atexit, json

def report():  # registered before synapse_sync is imported: runs after its exit hook
    session = client._aio._http.transport._session
    print(json.dumps({"n": n, "closed_at_exit": session.closed}), flush=True)

atexit.register(report)
"""
        + _script("""
from synapse_sync import Client
client = Client(URL, access_token=TOKEN)  # never closed, as in a script or a notebook
pid = seed_tasks(30)
n = len(list(client.tasks.list(project=pid)))
"""),
        args=("-X", "dev"),
    )  # dev mode: ResourceWarnings are shown
    assert result.returncode == 0, result.stderr
    assert result.last_json() == {"n": 30, "closed_at_exit": True}
    assert not any(noise in result.stderr for noise in UNCLOSED), result.stderr
    assert "ResourceWarning" not in result.stderr, result.stderr


def test_garbage_collected_client_closes_its_session() -> None:
    result = run_py(
        _script("""
import gc
from synapse_async import ClientClosedError
from synapse_sync import Client, get_portal

client = Client(URL, access_token=TOKEN)
pid = seed_tasks(3)
tasks = client.tasks  # a sub-resource keeps its client alive ...
del client
gc.collect()
assert tasks.list(project=pid).page(1).count == 3  # ... and open
aio = tasks._aio
del tasks
gc.collect()

async def closed():
    return bool(aio._http.shared.get("closed"))

deadline = time.monotonic() + 30  # a hang guard: the close is normally immediate
while not get_portal().call(closed) and time.monotonic() < deadline:
    time.sleep(0.01)  # the session is closed on the loop, without blocking the collector
try:
    get_portal().call(aio.get, 1)
    outcome = "request sent"
except ClientClosedError as exc:
    outcome = "ClientClosedError"
print(json.dumps({"closed": get_portal().call(closed), "outcome": outcome}))
"""),
        args=("-X", "dev"),
    )
    assert result.returncode == 0, result.stderr
    assert result.last_json() == {"closed": True, "outcome": "ClientClosedError"}
    assert not any(noise in result.stderr for noise in UNCLOSED), result.stderr


def test_closed_client_raises_client_closed_error() -> None:
    result = run_py(
        _script("""
from synapse_async import ClientClosedError
from synapse_sync import Client

pid = seed_tasks(3)
with Client(URL, access_token=TOKEN) as client:
    client.tasks.list(project=pid).page(1)
before = requests()
try:
    client.tasks.list(project=pid).page(1)
    outcome = "request sent"
except ClientClosedError as exc:
    outcome = f"ClientClosedError: {exc}"
print(json.dumps({"outcome": outcome, "sent": requests() - before}))
""")
    )
    out = result.last_json()
    assert out["outcome"].startswith("ClientClosedError: "), result.stderr
    assert "make a new client" in out["outcome"]
    assert out["sent"] == 0  # no new connection pool, no request


def test_running_loop_warning_once_per_process_names_the_async_api() -> None:
    result = run_py(
        _script("""
from synapse_sync import Client

pid = seed_tasks(3)
first, second = Client(URL, access_token=TOKEN), Client(URL, access_token=TOKEN)

async def cell():  # a notebook cell: blocking calls under a running loop
    for _ in range(3):
        first.tasks.list(project=pid).page(1)
    second.projects.get(pid)
    return [t.id for t in first.tasks.list(project=pid)]

print(json.dumps({"n": len(asyncio.run(cell()))}))
"""),
        args=("-W", "default"),
    )
    assert result.last_json() == {"n": 3}, result.stderr
    assert result.stderr.count("FacadeRunningLoopWarning") == 1, result.stderr
    assert "async for task in client.tasks.list(...)" in result.stderr
    assert "(client.tasks.list" not in result.stderr  # the first call was Paginator.page
    assert "Feed" not in result.stderr and "AsyncPaginator" in result.stderr


def test_non_daemon_thread_upload_finishes_after_the_main_thread_ends(tmp_path: object) -> None:
    result = run_py(
        _script(f"""
from synapse_sync import Client

path = os.path.join({str(tmp_path)!r}, "big.bin")
with open(path, "wb") as fh:
    fh.write(os.urandom(12 * 2**20))
client = Client(URL, access_token=TOKEN)
client.projects.list().page(1)  # the facade loop is running before exit begins

def upload():
    threading.main_thread().join()  # the main thread has ended: interpreter exit began
    time.sleep(0.3)                 # concurrent.futures pools refuse work from here on
    try:
        done = client.uploads.upload_file(path, part_size=5 * 2**20, resume=False)
        print(json.dumps({{"size": done.size}}), flush=True)
    except BaseException as exc:
        print(json.dumps({{"error": repr(exc)}}), flush=True)

threading.Thread(target=upload).start()  # non-daemon: Python waits for it at exit
"""),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.last_json() == {"size": 12 * 2**20}, result.stdout + result.stderr
    assert not any(noise in result.stderr for noise in UNCLOSED), result.stderr


def test_daemon_thread_call_ends_with_facade_closed_at_exit() -> None:
    result = run_py("""
import atexit, json, threading, time
reported = threading.Event()
atexit.register(reported.wait, 30)  # runs after the facade's exit hook: lets the thread report
from synapse_sync import FacadeClosedError, get_portal

async def long_call():
    await asyncio.Event().wait()  # never ends by itself: only the exit hook ends the call

import asyncio
started = threading.Event()

def call():
    started.set()
    try:
        get_portal().call(long_call)
        print(json.dumps({"outcome": "returned"}), flush=True)
    except FacadeClosedError as exc:
        print(json.dumps({"outcome": type(exc).__name__}), flush=True)
    reported.set()

get_portal().call(asyncio.sleep, 0)
threading.Thread(target=call, daemon=True).start()
started.wait()
time.sleep(0.2)
""")
    assert result.returncode == 0, result.stderr
    assert result.last_json() == {"outcome": "FacadeClosedError"}


def test_ctrl_c_during_a_listing_stops_fetching_and_stays_responsive() -> None:
    result = run_py(
        _script("""
from synapse_sync import Client, get_portal

pid = seed_tasks(3000)
client = Client(URL, access_token=TOKEN, page_concurrency=2)
on_emu(emu.set_faults, Faults(latency=0.2))
threading.Timer(0.7, os.kill, (os.getpid(), signal.SIGINT)).start()
seen = 0
try:
    for task in client.tasks.list(project=pid, page_size=50):  # 60 pages: ~6 s
        seen += 1
    outcome = "finished"
except KeyboardInterrupt:
    outcome = "KeyboardInterrupt"
at_interrupt = requests()
time.sleep(1.0)  # pages in flight would have been answered by now, new ones counted
after = requests()

async def leftover():
    return len(asyncio.all_tasks() - {asyncio.current_task()})

on_emu(emu.set_faults, Faults())
project = client.projects.get(pid)  # a hang here would trip run_py's timeout
print(json.dumps({"outcome": outcome, "seen": seen, "new_requests": after - at_interrupt,
                  "leftover": get_portal().call(leftover), "next_call_ok": project.id == pid}))
""")
    )
    out = result.last_json()
    assert out["outcome"] == "KeyboardInterrupt", result.stderr
    assert 0 < out["seen"] < 3000
    assert out["new_requests"] == 0  # the listing's page fetching was cancelled
    assert out["leftover"] == 0
    assert out["next_call_ok"]


def test_client_made_before_fork_fails_in_the_child_with_a_typed_error() -> None:
    result = run_py(
        _script("""
import warnings
warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
from synapse_async import LoopMismatchError
from synapse_sync import Client

pid = seed_tasks(5)
client = Client(URL, access_token=TOKEN)
assert client.projects.get(pid).id == pid  # the session is open in the parent
child = os.fork()
if child == 0:
    signal.alarm(20)  # a hang would kill the child
    try:
        client.projects.get(pid)
        code = 1
    except LoopMismatchError as exc:
        code = 0 if "os.fork()" in str(exc) and "new client" in str(exc) else 2
    except BaseException as exc:
        print("child:", repr(exc), file=sys.stderr, flush=True)
        code = 3
    if code == 0:  # a client made in the child works
        fresh = Client(URL, access_token=TOKEN)
        code = 0 if fresh.projects.get(pid).id == pid else 4
        fresh.close()
    os._exit(code)
_, status = os.waitpid(child, 0)
print(json.dumps({"child": os.waitstatus_to_exitcode(status),
                  "parent_ok": client.projects.get(pid).id == pid}))
"""),
        timeout=60,
    )
    assert result.last_json() == {"child": 0, "parent_ok": True}, result.stderr
