"""The ``synapse`` group: global options, error handling and the command list."""

from __future__ import annotations

import logging
import sys
import traceback
from typing import Any

import click

from synapse_async import (
    AuthenticationError,
    ConfigurationError,
    InvalidInputError,
    SynapseError,
    __version__,
)
from synapse_async._logging import setup_logging
from synapse_async.cli import (
    cmd_config,
    cmd_demo,
    cmd_doctor,
    cmd_emulator,
    cmd_export,
    cmd_jobs,
    cmd_ls,
    cmd_upload,
)
from synapse_async.cli._runtime import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    State,
    err_console,
    fail,
)

__all__ = ["cli", "main"]

_HINTS: tuple[tuple[type[SynapseError], str], ...] = (
    (ConfigurationError, "run `synapse login`, or set SYNAPSE_HOST and SYNAPSE_ACCESS_TOKEN"),
    (AuthenticationError, "the token was refused: run `synapse login` with a valid token"),
)


def exit_code_for(exc: SynapseError) -> int:
    """2 for bad usage (a bad argument, unusable settings), else 1."""
    return EXIT_USAGE if isinstance(exc, (InvalidInputError, ConfigurationError)) else EXIT_FAILED


class SynapseGroup(click.Group):
    """A group that prints an SDK error (or a local file error) as one line.

    The traceback is printed only with ``--debug``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; map SDK errors and Ctrl-C to a message and an exit code."""
        try:
            return super().invoke(ctx)
        except SynapseError as exc:
            if _debug(ctx):
                traceback.print_exc()
            hint = next((h for cls, h in _HINTS if isinstance(exc, cls)), None)
            message = f"{exc}" + (f"\nhint: {hint}" if hint else "")
            fail(f"{type(exc).__name__}: {message}", exit_code_for(exc))
        except OSError as exc:  # a local file or directory the command could not use
            if _debug(ctx):
                traceback.print_exc()
            fail(f"{type(exc).__name__}: {exc}", EXIT_FAILED)
        except KeyboardInterrupt:
            err_console.print("interrupted", style="yellow")
            sys.exit(EXIT_INTERRUPTED)


def _debug(ctx: click.Context) -> bool:
    obj = ctx.find_object(State)
    return bool(obj and obj.debug)


@click.group(cls=SynapseGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--host",
    metavar="URL",
    default=None,
    help="API base URL (default: SYNAPSE_HOST, then the config file, then https://api.synapse.sh).",
)
@click.option(
    "--debug",
    is_flag=True,
    default=False,
    help="Show tracebacks and the SDK's debug log (requests with their queries).",
)
@click.version_option(__version__, "-V", "--version", prog_name="synapse")
@click.pass_context
def cli(ctx: click.Context, host: str | None, debug: bool) -> None:
    """The Synapse command line: upload datasets, list, export, and run a local emulator.

    Credentials come from SYNAPSE_ACCESS_TOKEN or ~/.synapse/config.json (`synapse login`).
    Exit codes: 0 done, 1 failed, 2 bad usage, 130 interrupted.
    """
    ctx.obj = State(host=host, debug=debug)
    if debug:
        setup_logging(logging.DEBUG)


for _command in (
    cmd_demo.demo,
    cmd_config.login,
    cmd_config.config,
    cmd_doctor.doctor,
    cmd_emulator.emulator,
    cmd_upload.upload,
    cmd_ls.ls,
    cmd_export.export,
    cmd_jobs.jobs,
):
    cli.add_command(_command)


def main() -> None:
    """The console script ``synapse``."""
    cli(prog_name="synapse")
