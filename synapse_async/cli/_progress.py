"""Rich progress bars for the commands (drawn on stderr; plain lines when not a terminal)."""

from __future__ import annotations

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from synapse_async.bulk import BulkProgress
from synapse_async.cli._runtime import err_console

__all__ = ["TransferBars", "count_progress", "megabytes"]


def count_progress() -> Progress:
    """A bar counting items: ``label ━━━━ 40% 400/1000 0:00:03 ETA 0:00:05``."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err_console,
    )


def megabytes(n: float) -> str:
    """``12.3 MB`` (decimal megabytes, as network rates are quoted)."""
    return f"{n / 1e6:,.1f} MB"


class TransferBars:
    """Two bars for an upload: files (n/N, files/s) and bytes (MB/MB, MB/s), each with ETA.

    Use as a context manager; pass :meth:`update` as the upload's ``on_progress``.
    """

    def __init__(self, label: str = "upload") -> None:
        self.progress = Progress(
            TextColumn("{task.description:<12}"),
            BarColumn(bar_width=32),
            TaskProgressColumn(),
            TextColumn("{task.fields[detail]:>24}"),
            TextColumn("{task.fields[speed]:>12}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err_console,
            refresh_per_second=8,
        )
        self._files: TaskID = self.progress.add_task(
            f"{label} files", total=None, detail="", speed=""
        )
        self._bytes: TaskID = self.progress.add_task(
            f"{label} bytes", total=None, detail="", speed=""
        )

    def __enter__(self) -> TransferBars:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def update(self, snap: BulkProgress) -> None:
        """Show ``snap`` (called from the event loop; Rich redraws from its own thread)."""
        elapsed = self.progress.tasks[0].elapsed or 0.0
        files_rate = snap.files_done / elapsed if elapsed > 0 else 0.0
        more = "" if snap.scan_complete else "+"  # the input is still being read
        self.progress.update(
            self._files,
            completed=snap.files_done,
            total=snap.files_total,
            detail=f"{snap.files_done:,}/{snap.files_total:,}{more} files",
            speed=f"{files_rate:,.0f} files/s",
        )
        self.progress.update(
            self._bytes,
            completed=snap.bytes_done,
            total=snap.bytes_total,
            detail=f"{megabytes(snap.bytes_done)}/{megabytes(snap.bytes_total)}{more}",
            speed=f"{snap.rate / 1e6:,.1f} MB/s",
        )
