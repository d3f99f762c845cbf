"""One run of the official ``synapse-sdk`` client, in its own Python 3.12 venv (no imports
from this repository): prints one JSON line with elapsed seconds, peak RSS and CPU.

    <venv>/bin/python benchmarks/official_client.py list --url U --token T --project P
    <venv>/bin/python benchmarks/official_client.py upload --url U --token T --file F

``list``: ``BackendClient.list_tasks({"project": P}, list_all=True)`` (follows ``next`` links,
100 per page), every task consumed. ``upload``: ``BackendClient.create_chunked_upload(F)``
(v1 chunked upload, 50 MiB chunks); ``bytes_sent_s`` is when the last chunk's reply arrived
(its progress callback reached the file size), ``elapsed_s`` includes the finalize request.
``finalize_ok`` is False when the client rejected the finalize reply (it requires an integer
``status``); the error is then reported in ``finalize_error``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from importlib.metadata import version
from typing import Any


def usage() -> dict[str, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"peak_rss_mb": ru.ru_maxrss / 1024, "cpu_s": ru.ru_utime + ru.ru_stime}


def listing(client: Any, project: int) -> dict[str, Any]:
    started = time.perf_counter()
    tasks, count = client.list_tasks({"project": project}, list_all=True)
    last, items = -1, 0
    for task in tasks:
        if task["id"] <= last:
            raise SystemExit("out of order")
        last = task["id"]
        items += 1
    return {"elapsed_s": time.perf_counter() - started, "items": items, "count": count}


def upload(client: Any, path: str) -> dict[str, Any]:
    sent: list[float] = []
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done >= total:
            sent.append(time.perf_counter() - started)

    out: dict[str, Any] = {"finalize_ok": True}
    try:
        result = client.create_chunked_upload(path, on_progress=progress)
        out["checksum"] = result.get("checksum")
    except Exception as exc:  # the finalize reply's validation (see the module docstring)
        if not sent or not type(exc).__module__.startswith("pydantic"):
            raise
        out["finalize_ok"] = False
        out["finalize_error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    out["elapsed_s"] = time.perf_counter() - started
    out["bytes_sent_s"] = sent[0]
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["list", "upload"])
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--project", type=int)
    p.add_argument("--file")
    a = p.parse_args()
    from synapse_sdk.clients.backend import BackendClient  # type: ignore[import-not-found]

    client = BackendClient(a.url.rstrip("/"), access_token=a.token)
    result = listing(client, a.project) if a.mode == "list" else upload(client, a.file)
    print(json.dumps({**result, **usage(), "synapse_sdk": version("synapse-sdk")}))


if __name__ == "__main__":
    main()
