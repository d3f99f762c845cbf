"""``python -m synapse_async.emulator``: run the emulator until SIGINT/SIGTERM.

Prints one line ``SYNAPSE_EMULATOR url=<url> token=<token>`` to stdout once it is ready.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from .faults import Faults
from .server import Emulator

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command-line options."""
    p = argparse.ArgumentParser(
        prog="python -m synapse_async.emulator", description="Run the local Synapse emulator."
    )
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default loopback)")
    p.add_argument("--port", type=int, default=8765, help="port (0: a free one)")
    p.add_argument(
        "--data-dir",
        default=None,
        help="data directory (default: a temporary one, removed on exit)",
    )
    p.add_argument("--token", default=None, help="access token (default: random)")
    p.add_argument("--user-token", default=None)
    p.add_argument("--tenant", default=None)
    p.add_argument("--agent-token", default=None)
    p.add_argument("--latency-ms", type=float, default=0.0, help="latency added per request")
    p.add_argument("--error-rate", type=float, default=0.0, help="fraction answered 502/503")
    p.add_argument(
        "--html-error-rate", type=float, default=0.0, help="fraction answered 502 with an HTML body"
    )
    p.add_argument("--rate-limit-rate", type=float, default=0.0, help="fraction answered 429")
    p.add_argument("--retry-after", type=float, default=0.05, help="Retry-After seconds")
    p.add_argument("--fault-paths", default=None, help="regex: fault only matching paths")
    p.add_argument("--seed", type=int, default=0, help="fault RNG seed")
    p.add_argument(
        "--bandwidth",
        type=float,
        default=None,
        help="bytes/s cap per connection on upload bodies (default: none)",
    )
    p.add_argument(
        "--drop-rate",
        type=float,
        default=0.0,
        help="fraction of request bodies whose connection is dropped mid-body",
    )
    p.add_argument(
        "--corrupt-rate",
        type=float,
        default=0.0,
        help="fraction of request bodies with one byte flipped",
    )
    p.add_argument(
        "--no-parallel-uploads",
        action="store_true",
        help="serve only the v1 sequential chunked upload (405 on POST chunked_upload/)",
    )
    p.add_argument(
        "--upload-ttl",
        type=float,
        default=None,
        help="seconds before an incomplete chunked upload expires (default 1 day)",
    )
    p.add_argument(
        "--seed-tasks", type=int, default=0, help="create one project with this many tasks at start"
    )
    p.add_argument(
        "--seed-boxes",
        type=int,
        default=0,
        help="create one project of completed assignments holding this many bounding "
        "boxes at start (--boxes-per-item per assignment)",
    )
    p.add_argument(
        "--boxes-per-item",
        type=int,
        default=5,
        help="bounding boxes per seeded assignment (default 5)",
    )
    p.add_argument(
        "--annotation-speed",
        type=float,
        default=10.0,
        help="tasks per second the annotation simulator completes (0: only on demand)",
    )
    p.add_argument(
        "--s3-root",
        default=None,
        help="directory standing in for S3 (buckets are subdirectories; default DATA_DIR/s3)",
    )
    return p.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    faults = Faults(
        latency=args.latency_ms / 1000.0,
        error_rate=args.error_rate,
        html_error_rate=args.html_error_rate,
        rate_limit_rate=args.rate_limit_rate,
        retry_after=args.retry_after,
        seed=args.seed,
        paths=args.fault_paths,
        bandwidth=args.bandwidth,
        drop_rate=args.drop_rate,
        corrupt_rate=args.corrupt_rate,
    )
    if args.upload_ttl is not None and not args.upload_ttl > 0:
        raise ValueError("--upload-ttl must be > 0")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # e.g. Windows
            loop.add_signal_handler(sig, stop.set)
    async with Emulator(
        args.data_dir,
        host=args.host,
        port=args.port,
        faults=faults,
        access_token=args.token,
        user_token=args.user_token,
        tenant=args.tenant,
        agent_token=args.agent_token,
        annotation_speed=args.annotation_speed,
        s3_root=args.s3_root,
    ) as emu:
        if args.seed_tasks > 0:
            project = emu.seed.project(name="Seeded project")
            emu.seed.tasks(project["id"], args.seed_tasks)
        if args.seed_boxes > 0:
            per_item = max(1, args.boxes_per_item)
            boxes = emu.seed.project(name="Seeded boxes", annotation_type="bounding_box")
            emu.seed.annotated_assignments(boxes["id"], -(-args.seed_boxes // per_item), per_item)
        emu.uploads.settings.parallel = not args.no_parallel_uploads
        if args.upload_ttl is not None:
            emu.uploads.settings.ttl = args.upload_ttl
        print(f"SYNAPSE_EMULATOR url={emu.url} token={emu.access_token}", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator; returns the exit status."""
    args = parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except KeyboardInterrupt:
        pass
    except ValueError as exc:  # invalid fault settings
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
