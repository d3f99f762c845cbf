"""``synapse login`` and ``synapse config show``."""

from __future__ import annotations

import os
import sys

import click
from rich.table import Table

from synapse_async import AsyncClient, ConfigurationError
from synapse_async._constants import DEFAULT_BASE_URL
from synapse_async.cli._runtime import err_console, out_console, run, state_of
from synapse_async.cli._settings import config_path, read_config, redact, sources, write_config

__all__ = ["config", "login"]


async def check_token(host: str, token: str) -> int:
    """Fail (AuthenticationError, TransportError, ...) unless ``token`` works on ``host``.

    Returns the number of projects the token sees.
    """
    async with AsyncClient(host, access_token=token, max_retries=1) as client:
        page = await client.projects.list(page_size=1).page(1)
        return page.count or 0


@click.command()
@click.option(
    "--token",
    default=None,
    metavar="TOKEN",
    help="The access token (prompted for, hidden, when not given; '-' reads stdin).",
)
@click.option(
    "--verify/--no-verify",
    default=True,
    show_default=True,
    help="Check the token against the server before saving it.",
)
@click.pass_context
def login(ctx: click.Context, token: str | None, verify: bool) -> None:
    """Check an access token and save it in ~/.synapse/config.json (mode 0600).

    The host is --host, else SYNAPSE_HOST, else the one already saved, else the default.
    """
    path = config_path()
    values = read_config(path)
    host = (
        state_of(ctx).host
        or os.environ.get("SYNAPSE_HOST")
        or values.get("host")
        or DEFAULT_BASE_URL
    )
    if token == "-":
        token = sys.stdin.readline().strip()
    if token is None:
        token = click.prompt(f"Access token for {host}", hide_input=True)
    token = token.strip()
    if not token:
        raise ConfigurationError("the access token is empty: pass --token TOKEN or paste it")
    if verify:
        projects = run(check_token(host, token))
        err_console.print(f"token accepted by {host} ({projects} projects visible)")
    values.update(host=host, access_token=token)
    write_config(path, values)
    err_console.print(f"saved to {path} (mode 0600)")


@click.group()
def config() -> None:
    """Inspect the CLI's settings."""


@config.command("show")
def show() -> None:
    """Show the effective settings and where each comes from (credentials redacted)."""
    path = config_path()
    values = read_config(path)
    table = Table(title=f"config file: {path}" + ("" if path.exists() else " (absent)"))
    table.add_column("setting")
    table.add_column("value")
    table.add_column("from")
    for key, (value, source) in sources(os.environ, values).items():
        if key == "host" and value is None:
            value, source = DEFAULT_BASE_URL, "default"
        table.add_row(key, redact(key, value), source)
    out_console.print(table)
