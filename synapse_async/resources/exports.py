"""``client.exports``: annotations to files (Synapse JSON, COCO, YOLO, Pascal VOC, CSV, spaCy).

How ``await client.exports.export(...)`` runs:

1. Every argument is checked first: a bad target, filter, format, split, label list or an
   ``output_dir`` that is a file raises ``InvalidInputError`` before any request.
2. The target is listed page by page (``sdk/assignments/``, ``sdk/ground_truth_events/``, or
   ``sdk/tasks/`` joined with ``sdk/assignments/?task=<ids of the page>``) with up to
   ``page_concurrency`` pages in flight. Each arrived page becomes export records
   (``_export_sources``) that the pure :class:`~synapse_async.export.Exporter` converts in a
   worker thread while the next pages download. Memory holds a few pages, however big the
   project.
3. With ``include_files=True`` each media record's original file downloads into
   ``Exporter.image_path(...)`` (its name made safe and unique by the exporter, never outside
   ``output_dir``) through ``HTTPClient.download``: at most ``max_concurrency`` at once, each
   retried and resumed with ``Range`` after a dropped connection, written to a temp file,
   checked against the server's MD5 when one is known, and renamed. URLs come from the
   record's file metadata, else from its task, data file or data unit (``FileLocator``).
4. ``export_report.json`` is written last. On an error or cancellation, downloads stop,
   scratch and temp files are removed and no report is written, so nothing half-done looks
   complete.

``on_progress(done, total)`` counts records: one is done when converted and its files (if
any) are on disk; ``total`` is the server's count (at least ``done``). Both only grow.

Project-level helpers for ``AsyncProjectHandle``: :func:`export_project` (the in-memory
values the workflow examples use) and :func:`export_project_to_s3` (EXT
``POST projects/{id}/exports/``: the server writes the export into a bucket).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async._tasks import first_error
from synapse_async._validation import is_int
from synapse_async.errors import InvalidInputError
from synapse_async.export import (
    DEFAULT_SPLIT,
    Exporter,
    ExportReport,
    FormatOptions,
    Item,
    YoloWriter,
    canonical_format,
    export_small,
)
from synapse_async.export.synapse_json import project_record
from synapse_async.http import HTTPClient, build_path
from synapse_async.models import Assignment, ExportResult
from synapse_async.models._converter import structure
from synapse_async.pagination import check_page_size
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources._export_sources import (
    Fetcher,
    Progress,
    Tracker,
    assignment_record,
    event_record,
    task_record,
)
from synapse_async.resources.assignments import AsyncAssignments
from synapse_async.resources.ground_truths import AsyncGroundTruthEvents
from synapse_async.resources.tasks import AsyncTasks

__all__ = ["TARGETS", "AsyncExports", "ExportResult", "export_project", "export_project_to_s3"]

TARGETS = ("assignment", "ground_truth", "task")
"""What an export reads: assignments, ground truth events or tasks."""

_TARGET_ALIASES = {
    "assignments": "assignment",
    "ground_truths": "ground_truth",
    "ground_truth_event": "ground_truth",
    "ground_truth_events": "ground_truth",
    "tasks": "task",
}


def _invalid(exc: Exception) -> InvalidInputError:
    return InvalidInputError(str(exc))


def _check_target(target: Any) -> str:
    key = target.strip().lower().replace("-", "_") if isinstance(target, str) else None
    key = _TARGET_ALIASES.get(key, key) if key is not None else None
    if key not in TARGETS:
        raise InvalidInputError(f"unknown export target {target!r}; choose from {TARGETS}")
    return key


def _check_filter(target: str, filter: Any) -> dict[str, Any]:
    if filter is None:
        return {}
    if not isinstance(filter, Mapping) or not all(isinstance(k, str) for k in filter):
        raise InvalidInputError(
            f"filter must be a dict of query filters such as {{'project': 12}}, got {filter!r}"
        )
    out = dict(filter)
    if "page_size" in out:
        raise InvalidInputError("pass page_size as an argument, not in filter")
    if target == "ground_truth" and "ground_truth_dataset_version" in out:
        out["ground_truth_dataset_versions"] = out.pop("ground_truth_dataset_version")
    return out


def _check_output_dir(output_dir: Any) -> Path:
    if not isinstance(output_dir, (str, os.PathLike)) or not os.fspath(output_dir):
        raise InvalidInputError(f"output_dir must be a directory path, got {output_dir!r}")
    path = Path(output_dir)
    if path.exists() and not path.is_dir():
        raise InvalidInputError(f"output_dir {str(path)!r} exists and is not a directory")
    return path


def _check_labels(labels: Any) -> list[str] | None:
    if labels is None:
        return None
    if (
        isinstance(labels, (str, bytes))
        or not isinstance(labels, Sequence)
        or not all(isinstance(lb, str) and lb for lb in labels)
    ):
        raise InvalidInputError(f"labels must be a list of non-empty names, got {labels!r}")
    return list(labels)


def _check_count(value: Any, name: str, low: int = 1) -> int:
    if not is_int(value) or value < low:
        raise InvalidInputError(f"{name} must be an integer >= {low}, got {value!r}")
    return value


def _check_format(format: Any) -> str:
    if not isinstance(format, str):
        raise InvalidInputError(f"format must be a string such as 'coco', got {format!r}")
    try:
        return canonical_format(format)
    except ValueError as exc:
        raise _invalid(exc) from None


def _make_exporter(
    format: Any,
    out: Path,
    split: Any,
    seed: int,
    labels: list[str] | None,
    options: Any,
    overwrite: bool = False,
) -> Exporter:
    """The pure exporter; its ValueError/TypeError become ``InvalidInputError`` here."""
    _check_format(format)
    if split is not None and not isinstance(split, Mapping):
        raise InvalidInputError(
            f"split must be a dict of ratios such as {{'train': 0.8, 'val': 0.2}}, got {split!r}"
        )
    if options is not None and not isinstance(options, FormatOptions):
        raise InvalidInputError(f"options must be a FormatOptions, got {options!r}")
    try:
        return Exporter(
            format, out, split=split, seed=seed, labels=labels, options=options, overwrite=overwrite
        )
    except (ValueError, TypeError) as exc:
        raise _invalid(exc) from None


def _add_all(exporter: Exporter, records: list[dict[str, Any]]) -> list[Item]:
    return [exporter.add(raw) for raw in records]


def _place_all(exporter: Exporter, records: list[dict[str, Any]]) -> list[Item]:
    return [exporter.place(raw) for raw in records]


class AsyncExports(AsyncResource):
    """``client.exports``: export annotations of assignments, ground truth or tasks to files.

    Args:
        http: the client's HTTP layer.
        assignments, tasks, ground_truth_events: the client's listing resources the export
            reads through (``AsyncClient`` passes its own; omitted, one is made on ``http``).
    """

    def __init__(
        self,
        http: HTTPClient,
        *,
        assignments: AsyncAssignments | None = None,
        tasks: AsyncTasks | None = None,
        ground_truth_events: AsyncGroundTruthEvents | None = None,
    ) -> None:
        super().__init__(http)
        self._assignments = self._sibling(assignments, AsyncAssignments)
        self._tasks = self._sibling(tasks, AsyncTasks)
        self._ground_truth_events = self._sibling(ground_truth_events, AsyncGroundTruthEvents)

    async def export(
        self,
        *,
        target: str = "assignment",
        filter: Mapping[str, Any] | None = None,
        format: str = "json",
        output_dir: str | os.PathLike[str],
        split: Mapping[str, float] | None = None,
        include_files: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
        seed: int = 0,
        labels: Sequence[str] | None = None,
        options: FormatOptions | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_concurrency: int = 8,
        overwrite: bool = False,
    ) -> ExportReport:
        """Export every record of ``target`` matching ``filter`` to ``format`` in ``output_dir``.

        Streams: pages are converted as they arrive, so memory does not grow with the
        project. Every file is written atomically and ``export_report.json`` last; see
        ``docs/exports.md`` for each format's layout and conventions.

        Args:
            target: ``assignment`` (annotators' work), ``ground_truth`` (ground truth events)
                or ``task`` (tasks with their latest assignment's annotation).
            filter: query filters of the listing, e.g. ``{"project": 12}``,
                ``{"ground_truth_dataset_version": 3}``, ``{"project": 12, "status":
                "completed"}``.
            format: ``json``, ``coco``, ``yolo``, ``voc``, ``csv`` or ``spacy``.
            output_dir: created if missing; must be missing or empty unless ``overwrite``.
                The export is built in a hidden staging folder beside it and renamed into
                place when complete, so nothing appears there before the end.
            split: ratios such as ``{"train": 0.8, "val": 0.1, "test": 0.1}`` (seeded by
                record id); None keeps records' own split (ground truth categories) or
                ``default``.
            include_files: also download the original files into the export's image folders.
            on_progress: called as ``on_progress(done, total)`` (records) in the event loop.
            seed: the split seed.
            labels: class order (ids); labels met later are appended and reported.
            options: format switches (``FormatOptions``: YOLO task, JSON array, ...).
            page_size: items per listing page (1-1000).
            max_concurrency: downloads at once (``include_files``).
            overwrite: replace a non-empty ``output_dir`` atomically (the old export is
                swapped out only once the new one is complete).

        Returns:
            the ``ExportReport`` (counts per split, clamped/invalid/unknown-tool counts,
            files written; notes on downloaded files).

        Raises:
            InvalidInputError: a bad argument (before any request).
            APIError, TransportError, PageFetchError: the listing or a download failed for
                good; the export is then aborted (no report file).
        """
        report, _ = await self._run(
            target=target,
            filter=filter,
            format=format,
            output_dir=output_dir,
            split=split,
            include_files=include_files,
            on_progress=on_progress,
            seed=seed,
            labels=labels,
            options=options,
            page_size=page_size,
            max_concurrency=max_concurrency,
            overwrite=overwrite,
        )
        return report

    def _pages(
        self, target: str, filters: dict[str, Any], page_size: int
    ) -> AsyncGenerator[tuple[int | None, list[dict[str, Any]]], None]:
        """The listing as ``(count, records)`` pages; builds the paginator (checks) now."""
        assignments = self._assignments
        if target == "assignment":
            listing: Any = assignments.list(page_size=page_size, **filters)
            build: Any = assignment_record
        elif target == "ground_truth":
            listing = self._ground_truth_events.list(page_size=page_size, **filters)
            build = event_record
        else:
            listing = self._tasks.list(page_size=page_size, **filters)
            build = None

        async def pages() -> AsyncGenerator[tuple[int | None, list[dict[str, Any]]], None]:
            async for page in listing.pages():
                if build is not None:
                    yield page.count, [build(obj) for obj in page.items]
                    continue
                latest: dict[int, Assignment] = {}
                if page.items:
                    ids = ",".join(str(t.id) for t in page.items)
                    async for a in assignments.list(task=ids, page_size=1000):
                        if a.task is not None:
                            latest[a.task] = a
                yield page.count, [task_record(t, latest.get(t.id)) for t in page.items]

        return pages()

    async def _run(
        self,
        *,
        target: str,
        filter: Mapping[str, Any] | None,
        format: str,
        output_dir: str | os.PathLike[str],
        split: Mapping[str, float] | None,
        include_files: bool,
        on_progress: Progress | None,
        seed: int,
        labels: Sequence[str] | None,
        options: FormatOptions | None,
        page_size: int,
        max_concurrency: int,
        same_origin_only: bool = False,
        overwrite: bool = False,
    ) -> tuple[ExportReport, Exporter]:
        kind = _check_target(target)
        filters = _check_filter(kind, filter)
        if on_progress is not None and not callable(on_progress):
            raise InvalidInputError(f"on_progress must be callable, got {on_progress!r}")
        if not isinstance(include_files, bool):
            raise InvalidInputError(f"include_files must be True or False, got {include_files!r}")
        if not is_int(seed):
            raise InvalidInputError(f"seed must be an integer, got {seed!r}")
        limit = _check_count(max_concurrency, "max_concurrency")
        check_page_size(page_size)
        out = _check_output_dir(output_dir)
        if not isinstance(overwrite, bool):
            raise InvalidInputError(f"overwrite must be True or False, got {overwrite!r}")
        exporter = _make_exporter(
            format, out, split, seed, _check_labels(labels), options, overwrite
        )
        pages = self._pages(kind, filters, page_size)
        tracker = Tracker(on_progress)
        fetched: Fetcher | None = None
        try:
            await anyio.to_thread.run_sync(exporter.begin)
            async with first_error() as group:
                if include_files:
                    fetched = Fetcher(
                        self._http,
                        group,
                        limit,
                        exporter.staging_dir,
                        tracker,
                        same_origin_only=same_origin_only,
                    )
                async for count, records in pages:
                    tracker.total = max(tracker.total, count or 0)
                    items = await anyio.to_thread.run_sync(
                        _add_all if fetched is None else _place_all, exporter, records
                    )
                    if fetched is None:
                        tracker.advance(len(items))
                        continue
                    for raw, item in zip(records, items, strict=True):
                        await fetched.fetch_item(raw, item, exporter)
            if fetched is not None:
                tally = exporter.tally
                tally.per_image_files.update(fetched.per_dir)
                tally.note(
                    f"include_files: {fetched.files} original files downloaded "
                    f"({fetched.bytes} bytes)"
                )
                if fetched.missing:
                    tally.note(
                        f"include_files: {fetched.missing} media without a file URL "
                        "(not downloaded)"
                    )
            report = await anyio.to_thread.run_sync(exporter.finish)
        except BaseException:
            exporter.abort()
            raise
        finally:
            await pages.aclose()
        return report, exporter


async def export_project(
    exports: AsyncExports,
    project_id: int,
    format: str,
    *,
    output_dir: str | os.PathLike[str] | None,
    split: Mapping[str, float] | None,
    seed: int,
    labels: Sequence[str] | None,
    include_files: bool | None,
) -> list[dict[str, Any]] | dict[str, Any] | bytes | str:
    """``AsyncProjectHandle.export``: a project's assignments as the examples use them.

    ``yolo`` streams into ``output_dir`` (default: a new ``synapse_export_*`` temp folder the
    caller owns) through :meth:`AsyncExports.export` (splits default to 80/10/10) and returns
    ``{"images_dir", "labels_dir", "classes", "data_yaml", "output_dir", "report"}``. The
    other formats collect the records and return ``export_small``'s value: json -> list of
    records, coco -> dict, voc -> ``{file name: xml}``, csv -> str, spacy -> DocBin bytes
    (needs spaCy).
    """
    check_id(project_id, "project")
    fmt = _check_format(format)
    if include_files is not None and not isinstance(include_files, bool):
        raise InvalidInputError(
            f"include_files must be True, False or None (auto), got {include_files!r}"
        )
    if fmt != "yolo" and (output_dir is not None or include_files):
        raise InvalidInputError(
            f"output_dir and include_files apply to format='yolo' only; "
            f"use client.exports.export(format={fmt!r}, ...) for files"
        )
    if fmt == "yolo":
        out = (
            Path(output_dir)
            if output_dir is not None
            else Path(tempfile.mkdtemp(prefix="synapse_export_"))
        )
        report, exporter = await exports._run(
            target="assignment",
            filter={"project": project_id},
            format="yolo",
            output_dir=out,
            split=DEFAULT_SPLIT if split is None else split,
            include_files=include_files is not False,
            on_progress=None,
            seed=seed,
            labels=labels,
            options=None,
            page_size=DEFAULT_PAGE_SIZE,
            max_concurrency=8,
            same_origin_only=include_files is None,
        )
        writer = exporter.writer
        assert isinstance(writer, YoloWriter)
        return {
            "images_dir": str(out / "images") + os.sep,
            "labels_dir": str(out / "labels") + os.sep,
            "classes": list(report.labels),
            "data_yaml": {"path": str(out.resolve()), **writer.data_yaml()},
            "output_dir": str(out),
            "report": report,
        }
    kwargs: dict[str, Any] = {}
    if fmt == "coco":
        kwargs = {"split": split, "seed": seed, "labels": _check_labels(labels)}
    records = [
        assignment_record(a)
        async for a in exports._assignments.list(project=project_id, page_size=1000)
    ]
    if fmt == "json":
        tasks = {
            t.id: task_record(t, None)["task"]
            async for t in exports._tasks.list(project=project_id, page_size=1000)
        }
        return [project_record(r, tasks.get(r["task"])) for r in records]
    result: list[dict[str, Any]] | dict[str, Any] | bytes | str = await anyio.to_thread.run_sync(
        lambda: export_small(records, fmt, **kwargs)
    )
    return result


async def export_project_to_s3(
    http: HTTPClient, project_id: int, bucket: str, key: str, format: str
) -> ExportResult:
    """``AsyncProjectHandle.export_to_s3``: ``POST projects/{id}/exports/`` (EXT)."""
    check_id(project_id, "project")
    if not isinstance(bucket, str) or not bucket.strip():
        raise InvalidInputError(f"bucket must be a non-empty string, got {bucket!r}")
    if (
        not isinstance(key, str)
        or not key.strip()
        or key.startswith("/")
        or any(part in ("", ".", "..") for part in key.split("/"))
    ):
        raise InvalidInputError(
            f"key must be an object key like 'exports/run1.json' (no "
            f"leading '/', no empty, '.' or '..' parts), got {key!r}"
        )
    fmt = _check_format(format)
    data = await http.request(
        "POST",
        build_path("projects", project_id, "exports"),
        json_body={"destination": "s3", "bucket": bucket.strip(), "key": key, "format": fmt},
    )
    return structure(data, ExportResult, strict=http.config.strict_decoding)
