"""A driver in its own process for the driver-crash test: connects to the test session's Ray,
runs upload_on_ray and prints a line once an item is done (the test then SIGKILLs it).

Args: RAY_ADDRESS URL COLLECTION PROJECT FILES_DIR JOURNAL_DIR; the token comes on stdin.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ray

from synapse_async import ClientConfig
from synapse_async.bulk.ray import upload_on_ray


def main() -> None:
    address, url, collection, project, files, journals = sys.argv[1:7]
    config = ClientConfig.resolve(url, access_token=sys.stdin.readline().strip())
    ray.init(address=address, log_to_driver=False)
    items = [{"files": {"image": p}} for p in sorted(Path(files).iterdir())]
    said = False

    def progress(p: object) -> None:
        nonlocal said
        if not said and getattr(p, "items_done", 0) >= 1:  # a unit batch is in the journal
            print("uploading", flush=True)
            said = True

    upload_on_ray(
        int(collection),
        items,
        config=config,
        project=int(project),
        shard_size=120,
        max_in_flight=1,
        per_worker_concurrency=4,
        journal_dir=journals,
        on_progress=progress,
    )
    print("finished", flush=True)


if __name__ == "__main__":
    main()
