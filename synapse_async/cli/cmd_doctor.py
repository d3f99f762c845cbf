"""``synapse doctor``: is everything in place to use the service? One line per check."""

from __future__ import annotations

import contextlib
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata

import anyio.to_thread
import attrs
import click
from rich.markup import escape
from rich.table import Table

from synapse_async import (
    APIError,
    AsyncClient,
    AuthenticationError,
    ClientConfig,
    ConfigurationError,
    PermissionDeniedError,
    RetryPolicy,
    SynapseError,
    TransportError,
    __version__,
)
from synapse_async.cli import _probe
from synapse_async.cli._runtime import EXIT_FAILED, State, out_console, run, state_of

__all__ = ["MAX_SKEW_SECONDS", "Check", "diagnose", "doctor"]

MAX_SKEW_SECONDS = 30.0
"""A clock further off than this from the server's is a problem."""


@attrs.frozen
class Check:
    """One line of the report: ``ok`` True (ok), False (problem) or None (information)."""

    name: str
    ok: bool | None
    detail: str
    advice: str = ""


def _versions() -> str:
    parts = [f"synapse-async {__version__}", f"python {platform.python_version()}"]
    for dist in ("aiohttp", "anyio", "attrs", "cattrs"):
        try:
            parts.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{dist} missing")
    return ", ".join(parts) + f" on {platform.system()} {platform.machine()}"


async def diagnose(state: State) -> list[Check]:
    """Run every check against the configured server; never raises for a failed check."""
    checks = [Check("versions", None, _versions())]
    try:
        config = ClientConfig.resolve(state.host, retry=RetryPolicy(max_retries=1))
    except ConfigurationError as exc:
        checks.append(
            Check("settings", False, str(exc), "run `synapse login` or set SYNAPSE_ACCESS_TOKEN")
        )
        return checks
    url = config.base_url
    checks.append(Check("settings", True, f"base URL {url}"))
    try:
        answer = await anyio.to_thread.run_sync(_probe.fetch, url)
    except OSError as exc:
        reason = getattr(exc, "reason", exc)
        checks.append(
            Check(
                "reachable",
                False,
                f"no answer from {url}: {reason}",
                "check --host / SYNAPSE_HOST, the network and any proxy",
            )
        )
        return checks
    server = answer.headers.get("Server", "unknown server")
    checks.append(Check("reachable", True, f"{url} answered HTTP {answer.status} ({server})"))
    checks.append(_clock(answer))
    async with AsyncClient(config=config) as client:
        checks.append(await _credentials(client))
        if checks[-1].ok:
            checks.append(await _upload_protocol(client, config))
    return checks


def _clock(answer: _probe.Answer) -> Check:
    when = _probe.server_time(answer)
    if when is None:
        return Check("clock", None, "the server sent no Date header: skew unknown")
    skew = (datetime.now(timezone.utc) - when).total_seconds()
    if abs(skew) > MAX_SKEW_SECONDS:
        return Check(
            "clock",
            False,
            f"this machine's clock is {skew:+.0f} s off the server's",
            "sync the clock (NTP): webhook freshness checks and expiries depend on it",
        )
    return Check("clock", True, f"skew {skew:+.1f} s (Date has 1 s resolution)")


async def _credentials(client: AsyncClient) -> Check:
    try:
        page = await client.projects.list(page_size=1).page(1)
    except AuthenticationError as exc:
        return Check(
            "credentials",
            False,
            f"refused: {exc.detail or exc}",
            "run `synapse login` with a valid token",
        )
    except PermissionDeniedError as exc:
        return Check(
            "credentials",
            False,
            f"valid but not allowed to list projects: {exc.detail or exc}",
            "ask for access",
        )
    except (APIError, TransportError) as exc:
        return Check(
            "credentials",
            False,
            f"{type(exc).__name__}: {exc}",
            "retry later; run with --debug for details",
        )
    return Check("credentials", True, f"accepted ({page.count} projects visible)")


async def _upload_protocol(client: AsyncClient, config: ClientConfig) -> Check:
    try:
        offered, upload_id = await anyio.to_thread.run_sync(
            _probe.parallel_upload_probe, config.base_url, config.auth_headers()
        )
    except OSError as exc:
        return Check("uploads", False, f"probe failed: {exc}", "retry; run with --debug")
    if upload_id is not None:
        with contextlib.suppress(SynapseError):  # else the probe's upload expires on its own
            await client.uploads.abort(upload_id)
    if offered:
        return Check("uploads", True, "parallel chunked upload (parts sent concurrently)")
    return Check("uploads", True, "sequential v1 chunked upload only (the SDK falls back to it)")


@click.command()
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check settings, reachability, credentials, clock skew, upload protocol and versions.

    Exits 1 when a check finds a problem.
    """
    checks = run(diagnose(state_of(ctx)))
    table = Table(box=None, show_header=False, pad_edge=False)
    for _ in range(3):
        table.add_column()
    problems = 0
    for check in checks:
        mark = {True: "[green]ok[/]", False: "[red]problem[/]", None: "[cyan]info[/]"}[check.ok]
        problems += check.ok is False
        detail = escape(check.detail) + (
            f"\n[yellow]→ {escape(check.advice)}[/]" if check.advice else ""
        )
        table.add_row(mark, check.name, detail)
    out_console.print(table)
    if problems:
        out_console.print(f"{problems} problem(s) found")
        sys.exit(EXIT_FAILED)
