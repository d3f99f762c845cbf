"""Rich progress bars for the commands (drawn on stderr; plain lines when not a terminal)."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from synapse_async.cli._runtime import err_console

__all__ = ["bytes_progress", "count_progress"]


def count_progress() -> Progress:
    """A bar counting items: ``label ━━━━ 40% 400/1000 0:00:03 ETA 0:00:05``."""
    return Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("ETA"),
                    TimeRemainingColumn(), console=err_console, transient=False)


def bytes_progress() -> Progress:
    """Two lines for an upload: files (``n/N``) and bytes (``MB/MB``, ``MB/s``, ETA)."""
    return Progress(TextColumn("{task.description:<6}"), BarColumn(), TaskProgressColumn(),
                    TextColumn("{task.fields[detail]}"), TransferSpeedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=err_console,
                    transient=False)


