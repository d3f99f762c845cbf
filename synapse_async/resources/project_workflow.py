"""``AsyncProjectHandle``: a project plus its managed-annotation workflow (EXT, DESIGN 5.6).

``client.projects.create(...)`` and ``client.projects.get(id)`` return a handle: the project's
fields read through (``project.id``, ``project.state``, ...; the model itself is
``project.data``) and the workflow is its methods::

    project = await client.projects.create("Vehicles", annotation_type="bounding_box",
                                           labels=["car", "bus"], pricing_tier="standard")
    await project.upload_tasks([{"image_url": url} for url in urls])
    deposit = await project.calculate_deposit()
    await project.pay_deposit(payment_method="credits")    # the project becomes active
    status = await project.wait_for_completion(poll_interval=30, callback=print)

The handle keeps the last project snapshot it saw: ``start()``, ``pause()`` and ``refresh()``
update it; other methods leave it as it was.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from synapse_async._retry import poll
from synapse_async._validation import check_seconds, is_int
from synapse_async.errors import (
    ImportFailedError,
    InvalidInputError,
    ProjectStateError,
)
from synapse_async.http import build_path
from synapse_async.models import (
    Deposit,
    ExportResult,
    ImportJob,
    Payment,
    Project,
    ProjectStatus,
    TaskUploadResult,
)
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.exports import AsyncExports, export_project, export_project_to_s3

if TYPE_CHECKING:
    from synapse_async.http import HTTPClient

__all__ = ["TASK_IMPORT_BATCH_SIZE", "AsyncProjectHandle"]

TASK_IMPORT_BATCH_SIZE = 1000
"""Most tasks one ``POST projects/{id}/tasks/import/`` carries (the server's limit)."""

_NOT_STARTED = ("draft", "pending_deposit")
_DEAD_ENDS = ("cancelled",)


def _check_tasks(tasks: Any) -> list[dict[str, Any]]:
    if isinstance(tasks, (str, bytes, Mapping)) or not isinstance(tasks, Sequence):
        raise InvalidInputError(
            f"tasks must be a list of dicts (one per task), got {type(tasks).__name__}"
        )
    if not tasks:
        raise InvalidInputError("tasks is empty: pass at least one task")
    checked = []
    for index, task in enumerate(tasks):
        if not isinstance(task, Mapping) or not all(isinstance(k, str) for k in task):
            raise InvalidInputError(
                f"task #{index} must be a dict with string keys, got {task!r:.80}"
            )
        checked.append(dict(task))
    return checked


def _check_file_types(file_types: Sequence[str] | None) -> list[str]:
    if file_types is None:
        return []
    if isinstance(file_types, str) or not isinstance(file_types, Sequence):
        raise InvalidInputError(
            f"file_types must be a list of extensions such as ['jpg', 'png'], got {file_types!r}"
        )
    out = []
    for ext in file_types:
        if not isinstance(ext, str) or not ext.strip(". ") or "/" in ext:
            raise InvalidInputError(f"invalid file type {ext!r}: use extensions like 'jpg'")
        out.append(ext.strip().lstrip(".").lower())
    return out


class AsyncProjectHandle(AsyncResource):
    """A project with its workflow methods; fields read through to the snapshot ``data``.

    Args:
        http: the client's HTTP layer.
        project: the project snapshot.
        exports: the client's exports resource ``export()`` runs through (``AsyncClient``
            passes its own; omitted, one is made on ``http``).
    """

    def __init__(
        self, http: HTTPClient, project: Project, *, exports: AsyncExports | None = None
    ) -> None:
        super().__init__(http)
        self._project = project
        self._exports = self._sibling(exports, AsyncExports)

    def __repr__(self) -> str:
        p = self._project
        return f"<AsyncProjectHandle id={p.id} name={p.name!r} state={p.state!r}>"

    # -- the snapshot ----------------------------------------------------------------------

    @property
    def data(self) -> Project:
        """The last project snapshot this handle saw (a frozen ``Project``)."""
        return self._project

    @property
    def id(self) -> int:
        """The project id."""
        return self._project.id

    @property
    def name(self) -> str:
        """The display name."""
        return self._project.name

    @property
    def description(self) -> str:
        """Free text."""
        return self._project.description

    @property
    def state(self) -> str:
        """The state when the snapshot was taken (``refresh()`` or ``get_status()`` for now)."""
        return self._project.state

    @property
    def annotation_type(self) -> str | list[str] | None:
        """E.g. ``bounding_box``, ``classification``; a list for a multi-type project."""
        return self._project.annotation_type

    @property
    def data_type(self) -> str | None:
        """E.g. ``image``, ``text``, ``video``."""
        return self._project.data_type

    @property
    def labels(self) -> list[str] | dict[str, list[str]]:
        """The label names (``{annotation type: [labels]}`` for a multi-type project)."""
        return self._project.labels

    @property
    def metadata(self) -> dict[str, Any]:
        """The caller's own key/value data."""
        return self._project.metadata

    @property
    def instructions(self) -> str | None:
        """Guidelines for annotators."""
        return self._project.instructions

    @property
    def quality_settings(self) -> dict[str, Any]:
        """Quality settings (``min_annotators``, ``consensus_threshold``, ...)."""
        return self._project.quality_settings

    @property
    def pricing_tier(self) -> str | None:
        """``basic``, ``standard`` or ``premium``."""
        return self._project.pricing_tier

    @property
    def priority(self) -> int | str | None:
        """The priority, as given at creation."""
        return self._project.priority

    @property
    def created(self) -> datetime | None:
        """When it was created."""
        return self._project.created

    @property
    def modified(self) -> datetime | None:
        """When the snapshot's project last changed."""
        return self._project.modified

    def to_dict(self) -> dict[str, Any]:
        """The snapshot as JSON-ready data (as ``Project.to_dict``)."""
        return self._project.to_dict()

    def _path(self, *segments: object) -> str:
        return build_path("projects", self._project.id, *segments)

    def _update(self, data: Any) -> Project:
        self._project = self._decode(data, Project)
        return self._project

    # -- workflow ---------------------------------------------------------------------------

    async def refresh(self) -> AsyncProjectHandle:
        """Fetch the project again; returns this handle with its snapshot updated."""
        self._update(await self._http.request("GET", self._path()))
        return self

    async def upload_tasks(
        self, tasks: Sequence[Mapping[str, Any]], *, batch_size: int = TASK_IMPORT_BATCH_SIZE
    ) -> TaskUploadResult:
        """Add tasks from inline data, one dict per task (e.g. ``{"image_url": ...}``).

        Every task is checked before anything is sent; then batches of ``batch_size`` go in
        order, each retried safely (it carries an idempotency key). If a batch fails for
        good, the batches before it stay imported and the error propagates.
        Allowed while the project is ``draft`` or ``pending_deposit``.

        Returns:
            the totals over all batches (``task_count``, ``task_ids``, ...).
        """
        checked = _check_tasks(tasks)
        if not is_int(batch_size) or not 1 <= batch_size <= TASK_IMPORT_BATCH_SIZE:
            raise InvalidInputError(
                f"batch_size must be an integer from 1 to {TASK_IMPORT_BATCH_SIZE}, "
                f"got {batch_size!r}"
            )
        total: TaskUploadResult | None = None
        for start in range(0, len(checked), batch_size):
            data = await self._http.request(
                "POST",
                self._path("tasks", "import"),
                json_body={"tasks": checked[start : start + batch_size]},
            )
            part = self._decode(data, TaskUploadResult)
            total = (
                part
                if total is None
                else attrs.evolve(
                    part,
                    task_count=total.task_count + part.task_count,
                    task_ids=total.task_ids + part.task_ids,
                )
            )
        assert total is not None
        return total

    async def upload_from_s3(
        self,
        bucket: str,
        prefix: str = "",
        file_types: Sequence[str] | None = None,
        *,
        wait: bool = True,
        poll_interval: float = 1.0,
        max_wait: float | None = None,
    ) -> ImportJob:
        """Import the files under ``s3://bucket/prefix`` as tasks (a server-side job).

        Args:
            bucket: the bucket name.
            prefix: the key prefix (``""``: the whole bucket).
            file_types: extensions to import (``["jpg", "png"]``); None: every file.
            wait: wait until the job finished (default); False returns the job as created.
            poll_interval: seconds between job polls while waiting.
            max_wait: give up waiting after this many seconds (the job
                keeps running on the server; ``WaitTimeoutError``). None: as long as it takes.

        Returns:
            the job; once finished, ``task_count`` is the number of tasks created.

        Raises:
            ImportFailedError: the job failed (e.g. no file matched); ``exc.job.error`` says why.
        """
        if not isinstance(bucket, str) or not bucket.strip():
            raise InvalidInputError(f"bucket must be a non-empty string, got {bucket!r}")
        if not isinstance(prefix, str):
            raise InvalidInputError(f"prefix must be a string, got {prefix!r}")
        types = _check_file_types(file_types)
        interval = _check_interval(poll_interval)
        limit = check_seconds(max_wait, "max_wait", optional=True)
        data = await self._http.request(
            "POST",
            self._path("imports"),
            json_body={
                "source": "s3",
                "bucket": bucket.strip(),
                "prefix": prefix,
                "file_types": types,
            },
        )
        job = self._decode(data, ImportJob)
        if not wait:
            return job
        if not job.is_finished:
            job = await poll(
                lambda: self.get_import(job.id),
                lambda polled: polled.is_finished,
                interval=interval,
                max_wait=limit,
                describe=lambda _: (
                    f"gave up waiting for import {job.id} of project {self.id} "
                    f"after {limit:g}s (max_wait)"
                ),
            )
        if job.status == "failed":
            raise ImportFailedError(
                f"import {job.id} of s3://{job.bucket}/{job.prefix} into project {self.id} "
                f"failed: {job.error or 'no reason given'}",
                job=job,
            )
        return job

    async def get_import(self, import_id: int) -> ImportJob:
        """One import job of this project, by id."""
        data = await self._http.request(
            "GET", self._path("imports", check_id(import_id, "import_id"))
        )
        return self._decode(data, ImportJob)

    async def calculate_deposit(self) -> Deposit:
        """The deposit the project's tasks need (amount, currency, breakdown)."""
        return self._decode(await self._http.request("GET", self._path("deposit")), Deposit)

    async def pay_deposit(self, payment_method: str = "credits") -> Payment:
        """Pay the deposit; the project then becomes ``active`` (annotation starts).

        ``credits`` pays from the account balance (``client.billing.get_balance()``).

        Raises:
            InsufficientCreditsError: the balance does not cover the deposit (402).
            ConflictError: no tasks yet, or the deposit was already paid (409).
        """
        if not isinstance(payment_method, str) or not payment_method.strip():
            raise InvalidInputError(
                f"payment_method must be a non-empty string such as 'credits', "
                f"got {payment_method!r}"
            )
        data = await self._http.request(
            "POST",
            self._path("deposit", "pay"),
            json_body={"payment_method": payment_method.strip()},
        )
        return self._decode(data, Payment)

    async def start(self) -> Project:
        """Make the project ``active``: resumes a paused one; no-op when already active.

        Raises:
            ConflictError: no tasks, deposit not paid, or the project is finished (409).
        """
        return self._update(await self._http.request("POST", self._path("start")))

    async def pause(self) -> Project:
        """Pause annotation of an active project (``start()`` resumes it)."""
        return self._update(await self._http.request("POST", self._path("pause")))

    async def cancel(self) -> Project:
        """Cancel the project (any state but ``completed``); its reserved credits return.

        Annotation stops; ``wait_for_completion`` then raises ``ProjectStateError``.

        Raises:
            ConflictError: the project is already completed or cancelled (409).
        """
        return self._update(await self._http.request("POST", self._path("cancel")))

    async def get_status(self) -> ProjectStatus:
        """The project's progress, quality metrics and estimated completion."""
        return self._decode(await self._http.request("GET", self._path("status")), ProjectStatus)

    async def is_complete(self) -> bool:
        """True once every task is annotated (the project is ``completed``)."""
        return (await self.get_status()).is_complete

    async def wait_for_completion(
        self,
        *,
        poll_interval: float = 5.0,
        callback: Callable[[ProjectStatus], None] | None = None,
        max_wait: float | None = None,
    ) -> ProjectStatus:
        """Poll the status until the project is complete; returns the final status.

        Args:
            poll_interval: seconds between polls (fixed, no jitter).
            callback: called with every polled status, the final one included (an exception
                it raises stops the wait and propagates).
            max_wait: give up after this many seconds (the issue's ``timeout``; named so
                that the sync facade's per-call ``timeout`` stays free). None: no limit.

        Raises:
            WaitTimeoutError: ``max_wait`` passed first.
            ProjectStateError: the project was never started (``draft``, ``pending_deposit``:
                pay the deposit first) or was cancelled, so it cannot complete.
        """
        interval = _check_interval(poll_interval)
        limit = check_seconds(max_wait, "max_wait", optional=True)
        if callback is not None and not callable(callback):
            raise InvalidInputError(f"callback must be callable, got {callback!r}")

        async def check() -> ProjectStatus:
            status = await self.get_status()
            if callback is not None:
                callback(status)
            if not status.is_complete and (
                status.state in _NOT_STARTED or status.state in _DEAD_ENDS
            ):
                hint = (
                    "pay the deposit (pay_deposit) to start it"
                    if status.state in _NOT_STARTED
                    else "it cannot complete"
                )
                raise ProjectStateError(
                    f"project {self.id} is {status.state}: {hint}", state=status.state
                )
            return status

        return await poll(
            check,
            lambda status: status.is_complete,
            interval=interval,
            max_wait=limit,
            describe=lambda _: (
                f"gave up waiting for project {self.id} to complete after {limit:g}s (max_wait)"
            ),
        )

    # -- exports ----------------------------------------------------------------------------

    async def export(
        self,
        format: str = "json",
        *,
        output_dir: str | os.PathLike[str] | None = None,
        split: Mapping[str, float] | None = None,
        seed: int = 0,
        labels: Sequence[str] | None = None,
        include_files: bool | None = None,
    ) -> list[dict[str, Any]] | dict[str, Any] | bytes | str:
        """The project's annotations (every assignment) in ``format``, for small projects.

        json -> a list of records, one per assignment: ``task`` (with all its ``data``, custom
        fields included), ``data`` (the task data), ``result`` (per type:
        ``classification`` label and confidence, ``boxes``, ``keypoints``, ``entities``),
        ``annotations`` (each with ``result.value``), ``file`` and the DM schema v1 document
        under ``dm_schema_v1`` (see ``synapse_async.export.synapse_json.project_record``);
        yolo -> a dict with ``images_dir``, ``labels_dir``, ``classes``, ``data_yaml`` (plus
        ``output_dir``, ``report``) of a dataset written to ``output_dir`` (default: a new
        temp folder the caller owns; splits 80/10/10 unless ``split`` is given). The images
        are downloaded by default when the API itself serves them (``include_files=None``:
        media elsewhere are counted in the report, not fetched); ``True`` downloads every
        reachable URL, ``False`` none;
        spacy -> DocBin bytes (needs spaCy); coco -> dict; voc -> ``{file name: xml}``;
        csv -> str. Class ids follow ``labels``, by default the project's labels. For big
        projects use ``client.exports.export`` (streams to files).

        Raises:
            InvalidInputError: unknown format, bad split or labels; ``output_dir`` or
                ``include_files`` with a format other than yolo.
            ImportError: ``spacy`` without spaCy installed.
        """
        return await export_project(
            self._exports,
            self.id,
            format,
            output_dir=output_dir,
            split=split,
            seed=seed,
            labels=self._project.label_names or None if labels is None else labels,
            include_files=include_files,
        )

    async def export_to_s3(self, bucket: str, key: str, format: str = "json") -> ExportResult:
        """Have the server export the project into ``s3://bucket/key`` (EXT).

        ``POST projects/{id}/exports/``: json (a JSON array), coco and csv are written as one
        object; yolo, voc and spacy as a zip of the export folder. Returns the export record
        (``uri``, ``items``, ``annotations``, ``size``).

        Raises:
            InvalidInputError: empty bucket, a key with a leading ``/`` or ``..`` parts, or
                an unknown format (before any request).
            ValidationError: the server rejects the bucket (e.g. it does not exist) or key.
        """
        return await export_project_to_s3(self._http, self.id, bucket, key, format)


def _check_interval(value: Any) -> float:
    interval = check_seconds(value, "poll_interval")
    assert interval is not None
    return interval
