"""One bulk upload with the official client's ``upload_data_collection``; prints one JSON line.

Run with the official ``synapse-sdk``'s own Python (3.12 venv) and the repository as working
directory: ``/path/to/venv/bin/python -m benchmarks.bulk_official --url ... --dir ...``.
Default ``max_workers`` (10), as a user would call it. Imports only the standard library and
``synapse_sdk``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from synapse_sdk.clients.backend import BackendClient  # type: ignore[import-not-found]


def main(a: argparse.Namespace) -> None:
    client = BackendClient(a.url, access_token=a.token)
    files = sorted(p for p in Path(a.dir).rglob("*") if p.is_file())
    data = [{"files": {"image": p}, "meta": {}} for p in files]
    started = time.perf_counter()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = ru.ru_utime + ru.ru_stime
    error = None
    try:
        client.upload_data_collection(a.collection, data, project_id=a.project or None)
    except Exception as exc:  # measured and reported, not hidden
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
    seconds = time.perf_counter() - started
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "seconds": seconds,
                "items": len(data),
                "error": error,
                "bytes_total": sum(p.stat().st_size for p in files),
                "peak_rss_mb": ru.ru_maxrss / 1024,
                "cpu_s": ru.ru_utime + ru.ru_stime,
                "upload_cpu_s": ru.ru_utime + ru.ru_stime - cpu_before,
            }
        )
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--collection", type=int, required=True)
    p.add_argument("--project", type=int, default=0)
    main(p.parse_args())
