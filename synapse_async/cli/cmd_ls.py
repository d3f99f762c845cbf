"""``synapse ls projects|tasks|collections|jobs``: tables, or JSON lines for pipes."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import attrs
import click
from rich.table import Table

from synapse_async import AsyncClient, AsyncPaginator, InvalidInputError
from synapse_async.cli._runtime import State, err_console, out_console, run, state_of

__all__ = ["KINDS", "ls"]

ROWS_PER_TABLE = 100
"""A table is printed every this many rows, so a large listing streams."""


@attrs.frozen
class Column:
    """One table column: header, width and how to read the cell from an item."""

    header: str
    width: int
    cell: Callable[[Any], Any]


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def _slots(specs: list[dict[str, Any]]) -> str:
    return ", ".join(f"{s.get('name')}{'*' if s.get('is_required') else ''}" for s in specs)


KINDS: dict[str, tuple[Column, ...]] = {
    "projects": (
        Column("id", 8, lambda p: p.id),
        Column("name", 36, lambda p: p.name),
        Column("state", 16, lambda p: p.state),
        Column("annotation", 16, lambda p: p.annotation_type or ""),
        Column("data", 8, lambda p: p.data_type or ""),
    ),
    "tasks": (
        Column("id", 10, lambda t: t.id),
        Column("project", 8, lambda t: t.project),
        Column("status", 12, lambda t: t.status),
        Column("data unit", 10, lambda t: t.data_unit or ""),
        Column("created", 16, lambda t: _when(t.created)),
    ),
    "collections": (
        Column("id", 8, lambda c: c.id),
        Column("name", 36, lambda c: c.name),
        Column("slots (* required)", 32, lambda c: _slots(c.file_specifications)),
        Column("created", 16, lambda c: _when(c.created)),
    ),
    "jobs": (
        Column("id", 8, lambda j: j.id),
        Column("status", 10, lambda j: j.status),
        Column("action", 14, lambda j: j.action or ""),
        Column("plugin", 8, lambda j: j.plugin or ""),
        Column("created", 16, lambda j: _when(j.created)),
    ),
}
"""What ``ls`` lists, and the table columns of each."""


def listing(
    client: AsyncClient, kind: str, project: int | None, status: str | None, page_size: int
) -> AsyncPaginator[Any]:
    """The SDK listing behind ``synapse ls KIND``."""
    filters: dict[str, Any] = {} if status is None else {"status": status}
    if kind == "tasks":
        if project is None:
            raise InvalidInputError("`synapse ls tasks` needs --project ID")
        return client.tasks.list(project=project, page_size=page_size, **filters)
    if project is not None and kind != "jobs":
        filters["project"] = project
    if kind == "projects":
        return client.projects.list(page_size=page_size, **filters)
    if kind == "collections":
        return client.data_collections.list(page_size=page_size, **filters)
    return client.jobs.list(page_size=page_size, **filters)


def _table(columns: tuple[Column, ...], header: bool) -> Table:
    table = Table(box=None, show_header=header, header_style="bold", pad_edge=False)
    for col in columns:
        table.add_column(col.header, width=col.width, no_wrap=True, overflow="ellipsis")
    return table


async def _ls(
    state: State,
    kind: str,
    project: int | None,
    status: str | None,
    as_json: bool,
    limit: int | None,
    page_size: int,
) -> int:
    columns = KINDS[kind]
    shown = 0
    async with state.client() as client:
        table = _table(columns, header=True)
        async for item in listing(client, kind, project, status, page_size):
            if limit is not None and shown >= limit:
                break
            shown += 1
            if as_json:
                click.echo(json.dumps(item.to_dict(), default=str, ensure_ascii=False))
                continue
            table.add_row(*(str(col.cell(item)) for col in columns))
            if table.row_count == ROWS_PER_TABLE:
                out_console.print(table)
                table = _table(columns, header=False)
        if not as_json and (table.row_count or shown == 0):
            out_console.print(table)
    return shown


@click.command()
@click.argument("kind", type=click.Choice(sorted(KINDS)))
@click.option("--project", type=int, default=None, help="Project id (required for tasks).")
@click.option("--status", default=None, help="Only items with this status (tasks, jobs).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (for pipes).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Stop after N items.")
@click.option(
    "--page-size",
    type=click.IntRange(1, 1000),
    default=100,
    show_default=True,
    help="Items per request.",
)
@click.pass_context
def ls(
    ctx: click.Context,
    kind: str,
    project: int | None,
    status: str | None,
    as_json: bool,
    limit: int | None,
    page_size: int,
) -> None:
    """List projects, tasks, collections or jobs (pages fetched concurrently, streamed)."""
    shown = run(_ls(state_of(ctx), kind, project, status, as_json, limit, page_size))
    if not as_json:
        err_console.print(f"{shown} {kind}", style="dim")
