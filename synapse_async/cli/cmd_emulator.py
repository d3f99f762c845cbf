"""``synapse emulator``: run the local Synapse backend until Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import signal
from pathlib import Path

import click

from synapse_async import InvalidInputError
from synapse_async.cli._runtime import EXIT_FAILED, fail, run
from synapse_async.emulator import Emulator, Faults

__all__ = ["emulator"]


async def serve(emu: Emulator, seed_tasks: int, ready: asyncio.Event | None = None) -> None:
    """Start ``emu``, print how to reach it, serve until SIGINT/SIGTERM (or cancellation)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await emu.start()
    except OSError as exc:
        where = f"{emu.host}:{emu.port}"
        if exc.errno == errno.EADDRINUSE:
            fail(
                f"port {emu.port} on {emu.host} is already in use: stop what runs there, "
                "or choose another with --port (0 picks a free one)",
                EXIT_FAILED,
            )
        fail(f"cannot serve on {where}: {exc.strerror or exc}", EXIT_FAILED)
    try:
        if seed_tasks:
            project = emu.seed.project(name="Seeded project")
            emu.seed.tasks(project["id"], seed_tasks)
        click.echo(f"SYNAPSE_EMULATOR url={emu.url} token={emu.access_token}")
        click.echo(
            f"emulator ready at {emu.url} (data in {emu.data_dir}); in another shell:\n"
            f"  export SYNAPSE_HOST={emu.url} SYNAPSE_ACCESS_TOKEN={emu.access_token}\n"
            "Ctrl-C stops it.",
            err=True,
        )
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        await emu.close()


@click.command()
@click.option("--bind", "host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8765,
    show_default=True,
    help="Port (0: a free one).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep data here across restarts (default: a temporary directory).",
)
@click.option("--token", default=None, help="The access token to accept (default: random).")
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Latency added to every request.",
)
@click.option(
    "--error-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of requests answered 502/503.",
)
@click.option(
    "--rate-limit-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of requests answered 429.",
)
@click.option(
    "--drop-rate",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fraction of request bodies whose connection is dropped.",
)
@click.option(
    "--bandwidth",
    type=click.FloatRange(min=1),
    default=None,
    help="Bytes/s cap per connection on upload bodies.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Fault RNG seed.")
@click.option(
    "--annotation-speed",
    type=click.FloatRange(min=0),
    default=10.0,
    show_default=True,
    help="Tasks per second the annotation simulator completes.",
)
@click.option(
    "--seed-tasks",
    type=click.IntRange(min=0),
    default=0,
    help="Create one project with this many tasks at start.",
)
def emulator(
    host: str,
    port: int,
    data_dir: Path | None,
    token: str | None,
    latency_ms: float,
    error_rate: float,
    rate_limit_rate: float,
    drop_rate: float,
    bandwidth: float | None,
    seed: int,
    annotation_speed: float,
    seed_tasks: int,
) -> None:
    """Run the local Synapse backend (for development and tests) until Ctrl-C.

    Prints `SYNAPSE_EMULATOR url=... token=...` on stdout once it is ready.
    """
    try:
        faults = Faults(
            latency=latency_ms / 1000,
            error_rate=error_rate,
            rate_limit_rate=rate_limit_rate,
            drop_rate=drop_rate,
            bandwidth=bandwidth,
            seed=seed,
        )
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from None
    emu = Emulator(
        data_dir,
        host=host,
        port=port,
        faults=faults,
        access_token=token,
        annotation_speed=annotation_speed,
    )
    run(serve(emu, seed_tasks))
