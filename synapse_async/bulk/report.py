"""The result of a bulk upload and the progress snapshots sent while it runs."""

from __future__ import annotations

import json
import os
from typing import Any

import attrs

from synapse_async.export.files import write_atomic

__all__ = ["BulkFailure", "BulkProgress", "BulkUploadReport"]


@attrs.frozen
class BulkProgress:
    """A snapshot of a running bulk upload, passed to ``on_progress``.

    Attributes:
        files_done: files finished (sent, already on the server, or done in an earlier run).
        files_total: files seen so far (final once ``scan_complete``).
        bytes_done: bytes of the finished files, plus confirmed bytes of large files in flight.
        bytes_total: bytes of the files seen so far.
        items_done: items whose data unit (and task, with a project) exists.
        items_failed: items that failed.
        rate: bytes per second over the last few seconds.
        scan_complete: every item has been read from the input.
    """

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    items_done: int
    items_failed: int
    rate: float
    scan_complete: bool


@attrs.frozen
class BulkFailure:
    """One item that could not be uploaded.

    Attributes:
        index: the item's position in the input (0-based).
        paths: slot -> local path of the item's files.
        error_type: the exception class name (e.g. ``"InvalidInputError"``).
        message: what went wrong and what to do.
    """

    index: int
    paths: dict[str, str]
    error_type: str
    message: str


@attrs.define
class BulkUploadReport:
    """What a bulk upload did.

    Attributes:
        collection: the data collection id.
        project: the project tasks were created in, or None.
        items: items read from the input.
        sent: files sent to the server in this run.
        already_on_server: files not sent because the server held their content (by MD5).
        skipped: items finished by an earlier run with the same journal.
        failed: items that failed (see ``failures``).
        bytes_sent: bytes sent in this run.
        bytes_total: bytes of every file of every item.
        seconds: wall time of the run.
        data_unit_ids: ids of the items' data units (this run's and the journal's), input order
            not guaranteed.
        task_ids: ids of the items' tasks, when a project was given.
        failures: one entry per failed item.
    """

    collection: int
    project: int | None = None
    items: int = 0
    sent: int = 0
    already_on_server: int = 0
    skipped: int = 0
    failed: int = 0
    bytes_sent: int = 0
    bytes_total: int = 0
    seconds: float = 0.0
    data_unit_ids: list[int] = attrs.field(factory=list)
    task_ids: list[int] = attrs.field(factory=list)
    failures: list[BulkFailure] = attrs.field(factory=list)

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-serializable data."""
        return attrs.asdict(self)

    def to_json(self, path: str | os.PathLike[str]) -> None:
        """Write the report as JSON to ``path`` atomically (a temp file renamed over it)."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        write_atomic(os.fspath(path), text.encode("utf-8"), durable=True)
