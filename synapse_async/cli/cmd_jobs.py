"""``synapse jobs tail JOB``: follow a job's console log until it finishes."""

from __future__ import annotations

import sys

import click

from synapse_async.cli._runtime import EXIT_FAILED, State, err_console, run, state_of

__all__ = ["jobs"]


@click.group()
def jobs() -> None:
    """Work with jobs (plugin runs and other background work)."""


async def _tail(state: State, job_id: int, max_wait: float | None) -> str:
    async with state.client() as client:
        async for line in client.jobs.tail_console_logs(job_id, max_wait=max_wait):
            click.echo(line)
        return (await client.jobs.get(job_id)).status


@jobs.command("tail")
@click.argument("job_id", type=int, metavar="JOB")
@click.option(
    "--max-wait",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop following after this many seconds (default: until the job ends).",
)
@click.pass_context
def tail(ctx: click.Context, job_id: int, max_wait: float | None) -> None:
    """Print the job's console log so far, then each new line, until the job finishes.

    Exits 1 when the job ended failed or stopped.
    """
    status = run(_tail(state_of(ctx), job_id, max_wait))
    err_console.print(f"job {job_id}: {status}", style="bold" if status == "completed" else "red")
    if status != "completed":
        sys.exit(EXIT_FAILED)
