"""``synapse upload PATH... --collection ID``: bulk-upload files into a data collection."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from synapse_async import AsyncClient
from synapse_async import _constants as C
from synapse_async.bulk import BulkUploadReport
from synapse_async.cli._bulk import items_from_paths
from synapse_async.cli._progress import TransferBars, megabytes
from synapse_async.cli._runtime import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    State,
    err_console,
    out_console,
    run,
    state_of,
)

__all__ = ["default_journal", "summary_table", "upload", "upload_with_progress"]

SHOWN_FAILURES = 10
"""Failed items listed on the terminal (all of them are in the JSON report)."""


def default_journal(base_url: str, collection: int, project: int | None, paths: list[Path]) -> Path:
    """Where the same command's journal lives, so rerunning it resumes.

    ``$SYNAPSE_CACHE_DIR/bulk`` (default ``~/.cache/synapse-async/bulk``), named by a hash of
    the server, collection, project and the resolved paths.
    """
    key = json.dumps([base_url, collection, project, sorted(str(p.resolve()) for p in paths)])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    cache = Path(os.environ.get("SYNAPSE_CACHE_DIR") or "~/.cache/synapse-async").expanduser()
    return cache / "bulk" / f"upload-{collection}-{digest}.sqlite3"


async def upload_with_progress(
    client: AsyncClient,
    collection: int,
    items: Any,
    *,
    project: int | None,
    journal: Path | None,
    concurrency: int,
    fail_fast: bool = False,
    label: str = "upload",
) -> BulkUploadReport:
    """Run the bulk upload under a two-line progress bar (files and bytes)."""
    with TransferBars(label) as bars:
        return await client.data_collections.upload(
            collection,
            items,
            project=project,
            journal=journal,
            max_concurrency=concurrency,
            on_progress=bars.update,
            fail_fast=fail_fast,
        )


def summary_table(summary: BulkUploadReport) -> Table:
    """Counts, bytes, time and rate of an upload."""
    table = Table(title=f"upload into collection {summary.collection}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rate = summary.bytes_sent / summary.seconds if summary.seconds > 0 else 0.0
    rows = [
        ("items", f"{summary.items:,}"),
        ("sent", f"{summary.sent:,}"),
        ("already on server", f"{summary.already_on_server:,}"),
        ("done in an earlier run", f"{summary.skipped:,}"),
        ("failed", f"{summary.failed:,}"),
        ("bytes sent", f"{megabytes(summary.bytes_sent)} of {megabytes(summary.bytes_total)}"),
        ("time", f"{summary.seconds:.1f} s ({rate / 1e6:,.1f} MB/s)"),
        ("data units", f"{len(summary.data_unit_ids):,}"),
    ]
    if summary.project is not None:
        rows.append((f"tasks in project {summary.project}", f"{len(summary.task_ids):,}"))
    for name, value in rows:
        table.add_row(name, value)
    return table


def _failures_table(summary: BulkUploadReport) -> Table:
    table = Table(title=f"failed items (first {SHOWN_FAILURES}; all in the JSON report)")
    for header in ("#", "paths", "error"):
        table.add_column(header)
    for failure in summary.failures[:SHOWN_FAILURES]:
        table.add_row(
            str(failure.index),
            escape(", ".join(failure.paths.values())),
            escape(f"{failure.error_type}: {failure.message}"),
        )
    return table


async def _upload(
    state: State,
    paths: list[Path],
    collection: int,
    project: int | None,
    journal: Path | None,
    concurrency: int,
    pattern: str,
    fail_fast: bool,
) -> BulkUploadReport:
    async with state.client() as client:
        coll = await client.data_collections.get(collection)
        items = items_from_paths(paths, coll.file_specifications, pattern)
        if journal is not None:
            journal.parent.mkdir(parents=True, exist_ok=True)
            err_console.print(
                f"journal: {journal} (rerun the same command to resume)",
                style="dim",
                highlight=False,
            )
        return await upload_with_progress(
            client,
            collection,
            items,
            project=project,
            journal=journal,
            concurrency=concurrency,
            fail_fast=fail_fast,
        )


def _upload_on_ray(
    state: State,
    paths: list[Path],
    collection: int,
    project: int | None,
    journal: Path | None,
    concurrency: int,
    pattern: str,
    fail_fast: bool,
    address: str | None,
) -> BulkUploadReport:
    """The same upload sharded over a Ray cluster (the ``[ray]`` extra)."""
    try:
        from synapse_async.bulk.ray import upload_on_ray
    except ImportError as exc:
        raise click.UsageError(f"--ray needs the [ray] extra: {exc}") from None

    async def prepare() -> tuple[Any, list[dict[str, Any]]]:
        async with state.client() as client:
            coll = await client.data_collections.get(collection)
            return client.config, coll.file_specifications

    config, specs = run(prepare())
    if journal is None:
        raise click.UsageError("--ray keeps one journal per shard: drop --no-journal")
    journal_dir = journal.with_suffix(".ray")
    err_console.print(
        f"journals: {journal_dir} (rerun the same command to resume)", style="dim", highlight=False
    )
    with TransferBars("upload (ray)") as bars:
        return upload_on_ray(
            collection,
            items_from_paths(paths, specs, pattern),
            journal_dir=journal_dir,
            config=config,
            project=project,
            per_worker_concurrency=concurrency,
            on_progress=bars.update,
            fail_fast=fail_fast,
            address=address,
        )


@click.command()
@click.argument(
    "paths",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH...",
)
@click.option(
    "--collection", type=click.IntRange(min=1), required=True, help="The data collection to fill."
)
@click.option(
    "--project",
    type=click.IntRange(min=1),
    default=None,
    help="Also create one task per data unit in this project.",
)
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Resume journal (default: one per command under ~/.cache/synapse-async).",
)
@click.option("--no-journal", is_flag=True, help="Do not keep a journal (no resume).")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=C.DEFAULT_BULK_CONCURRENCY,
    show_default=True,
    help="Requests in flight.",
)
@click.option(
    "--pattern", default="*", show_default=True, help="Only files whose names match this glob."
)
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed item.")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report as JSON to this file.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the report as JSON on stdout instead of the table.",
)
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="local",
    default=None,
    metavar="[ADDRESS]",
    help="Shard the upload over Ray: a local Ray when no ADDRESS is given, 'auto' "
    "for the cluster this machine joined, or ray://host:port ([ray] extra).",
)
@click.pass_context
def upload(
    ctx: click.Context,
    paths: tuple[Path, ...],
    collection: int,
    project: int | None,
    journal: Path | None,
    no_journal: bool,
    concurrency: int,
    pattern: str,
    fail_fast: bool,
    report: Path | None,
    as_json: bool,
    ray_address: str | None,
) -> None:
    """Upload files and directories into a data collection, with a progress bar.

    One data unit per file (and one task per unit with --project). Exits 0 when every item
    is done, 1 when some failed (listed, and all in the report), 2 on bad usage. Ctrl-C stops
    cleanly; running the same command again resumes from the journal.
    """
    state = state_of(ctx)
    if no_journal:
        journal = None
    elif journal is None:
        host = state.host or os.environ.get("SYNAPSE_HOST") or ""
        journal = default_journal(host, collection, project, list(paths))
    try:
        if ray_address is not None:
            summary = _upload_on_ray(
                state,
                list(paths),
                collection,
                project,
                journal,
                concurrency,
                pattern,
                fail_fast,
                None if ray_address == "local" else ray_address,
            )
        else:
            summary = run(
                _upload(
                    state,
                    list(paths),
                    collection,
                    project,
                    journal,
                    concurrency,
                    pattern,
                    fail_fast,
                )
            )
    except KeyboardInterrupt:
        err_console.print("stopped; run the same command again to resume", style="yellow")
        sys.exit(EXIT_INTERRUPTED)
    if report is not None:
        summary.to_json(report)
    if as_json:
        click.echo(json.dumps(summary.to_dict(), default=str))
    else:
        out_console.print(summary_table(summary))
        if summary.failures:
            out_console.print(_failures_table(summary))
    if not summary.ok:
        sys.exit(EXIT_FAILED)
