"""``AsyncBackendClient``: the official ``BackendClient``'s v1 methods, async, dict results.

For scripts written for the official client (``synapse-sdk``): same method names and
arguments, results as plain dicts (``Model.to_dict()``), errors from ``synapse_async.errors``.
Every method runs on the typed resources of an ``AsyncClient``: there is no second HTTP path.
The blocking twin ``synapse_sync.compat.BackendClient`` is generated from this class.

Listing methods take ``params`` (filters, plus ``page``/``page_size``) and ``list_all``:
without it they return one page ``{"count", "next", "previous", "results"}`` (``previous``
is always None); with it ``(iterator, count)``, the iterator yielding every item as a dict
(pages fetched concurrently). ``url_conversion`` maps a field name to a function applied to
that field's URLs (``{"files": lambda url: ...}``); the official client's download settings
(``files_fields``, ...) are refused: the SDK does not download listed files.

Also here: ``ClientError`` (the official client's error root: an ``APIError`` with
``status_code`` and ``response``), ``StorageCategory`` and ``StorageProvider``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from synapse_async.bulk.report import BulkProgress
from synapse_async.client import AsyncClient
from synapse_async.config import ClientConfig, Timeout
from synapse_async.errors import APIError, BulkUploadError, InvalidInputError, NotFoundError
from synapse_async.http import build_path
from synapse_async.resources._base import check_id
from synapse_async.resources._compat_support import (
    StorageCategory,
    StorageProvider,
    as_dict,
    convert_urls,
    dm_from_annotation_list,
    file_path,
    listing,
    plugin_run_fields,
    pop_field,
)

__all__ = ["AsyncBackendClient", "ClientError", "StorageCategory", "StorageProvider"]

ClientError = APIError
"""The official client's ``ClientError``: catch it to handle any error status the server
answers (``exc.status_code``, ``exc.response``)."""


class AsyncBackendClient:
    """The official client's flat v1 API (``get_project``, ``list_tasks``, ...), async.

    Example::

        async with AsyncBackendClient("https://api.synapse.sh", "token") as client:
            project = await client.get_project(123)
            tasks, count = await client.list_tasks(params={"project": 123}, list_all=True)
            async for task in tasks:
                ...

    Args:
        base_url: the API root (else ``SYNAPSE_HOST`` / the config file).
        access_token: the access token (else ``SYNAPSE_ACCESS_TOKEN`` / the config file).
        authorization_token: a user token (sent with ``tenant``).
        tenant: the tenant of ``authorization_token``.
        agent_token: an agent token.
        timeout: ``{"connect": s, "read": s}`` as the official client takes it, or seconds.
        api_token: an older name of ``access_token``.
        config: a complete ``ClientConfig`` (the other settings are then not allowed).
    """

    def __init__(
        self,
        base_url: str | None = None,
        access_token: str | None = None,
        *,
        authorization_token: str | None = None,
        tenant: str | None = None,
        agent_token: str | None = None,
        timeout: dict[str, float] | float | None = None,
        api_token: str | None = None,
        config: ClientConfig | None = None,
    ) -> None:
        if config is not None:
            self._client = AsyncClient(config=config)
            return
        tmo: Timeout | float | None = None
        if isinstance(timeout, Mapping):
            tmo = Timeout(connect=timeout.get("connect"), read=timeout.get("read"), total=None)
        elif timeout is not None:
            tmo = timeout
        self._client = AsyncClient(
            base_url,
            access_token=access_token or api_token,
            user_token=authorization_token,
            tenant=tenant,
            agent_token=agent_token,
            timeout=tmo,
        )

    @property
    def client(self) -> AsyncClient:
        """The typed client underneath (its resources return models, not dicts)."""
        return self._client

    def __repr__(self) -> str:
        return f"AsyncBackendClient(base_url={self._client.config.base_url!r})"

    async def __aenter__(self) -> AsyncBackendClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session (also done by ``async with``)."""
        await self._client.aclose()

    async def _list(
        self,
        resource: str,
        params: dict[str, Any] | None,
        list_all: bool,
        url_conversion: dict[str, Any] | None = None,
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        list_method = getattr(self._client, resource).list
        return await listing(
            lambda q, s: list_method(page_size=s, **q),
            params,
            list_all,
            convert=convert_urls(url_conversion),
        )

    # -- annotation ------------------------------------------------------------------------

    async def get_project(self, pk: int) -> dict[str, Any]:
        """``projects/{pk}/``."""
        project = await self._client.projects.get(pk)
        return as_dict(getattr(project, "data", project))  # a workflow handle: its snapshot

    async def list_projects(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``projects/`` (one page, or every project with ``list_all``)."""
        return await self._list("projects", params, list_all)

    async def get_task(self, pk: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """``tasks/{pk}/``; ``params={"expand": "data_unit"}`` embeds the data unit."""
        unknown = sorted(set(params or {}) - {"expand"})
        if unknown:
            raise InvalidInputError(
                f"get_task takes params={{'expand': 'data_unit'}} only, got {unknown}"
            )
        task = as_dict(await self._client.tasks.get(pk, expand=(params or {}).get("expand")))
        if task.get("expanded_data_unit") is not None:  # the wire shape: the unit embedded
            task["data_unit"] = task.pop("expanded_data_unit")
        return task

    async def annotate_task_data(self, pk: int, data: dict[str, Any]) -> dict[str, Any]:
        """Write annotation data (DM schema v1) to task ``pk``; returns its assignment.

        The list form ``{"annotations": [{"type": "bbox", "coordinates": [x, y, w, h],
        "label"?: ...}, ...]}`` is turned into a DM schema v1 document first.
        """
        return as_dict(
            await self._client.tasks.annotate_task_data(pk, dm_from_annotation_list(data))
        )

    async def get_task_tag(self, pk: int) -> dict[str, Any]:
        """``task_tags/{pk}/``."""
        return as_dict(await self._client.task_tags.get(pk))

    async def list_task_tags(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``task_tags/`` (one page, or every tag with ``list_all``)."""
        return await self._list("task_tags", params, list_all)

    async def list_tasks(
        self,
        params: dict[str, Any] | None = None,
        url_conversion: dict[str, Any] | None = None,
        list_all: bool = False,
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``sdk/tasks/`` filtered by ``params`` (``project``, ``status``, ...)."""
        return await self._list("tasks", params, list_all, url_conversion)

    async def create_tasks(
        self, data: list[dict[str, Any]] | dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Create tasks from ``[{"project", "data_unit"}...]`` (or ``{"project", "data": [...]}``).

        Sent in batches per project, in order; returns the created tasks.
        """
        if isinstance(data, Mapping):
            project, rest = pop_field(data, "project", "create_tasks")
            specs = [{**s} for s in rest.get("data", [])]
            return [as_dict(t) for t in await self._client.tasks.create(project, specs)]
        runs: list[tuple[Any, list[dict[str, Any]]]] = []
        for spec in data:
            project, rest = pop_field(spec, "project", "each task of create_tasks")
            if "data_unit" in rest and rest["data_unit"] is None:
                raise InvalidInputError(
                    "a task's data_unit is None: a data file alone has no data unit; pass "
                    "create_data_file(path, data_collection=ID) to get one (data_unit_id)"
                )
            if runs and runs[-1][0] == project:
                runs[-1][1].append(rest)
            else:
                runs.append((project, [rest]))
        created: list[dict[str, Any]] = []
        for project, specs in runs:
            created += [as_dict(t) for t in await self._client.tasks.create(project, specs)]
        return created

    async def set_tags_tasks(
        self, data: dict[str, Any], params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Set ``data["tag_ids"]`` on ``data["task_ids"]``; returns ``{"updated": n}``."""
        ids = data.get("task_ids", data.get("ids"))
        if data.get("action", "set") != "set" or ids is None:
            raise InvalidInputError(
                "set_tags_tasks takes {'task_ids': [...], 'tag_ids': [...]} (action 'set' only)"
            )
        return {"updated": await self._client.tasks.set_tags(ids, data.get("tag_ids", []))}

    # -- core and data ---------------------------------------------------------------------

    async def create_chunked_upload(self, file_path: str | os.PathLike[str]) -> dict[str, Any]:
        """Upload a file by chunked upload; returns ``{"id", "checksum", "size", ...}``."""
        uploads = getattr(self._client, "uploads", None)
        if uploads is None:
            raise InvalidInputError("this client has no chunked uploads (client.uploads)")
        return as_dict(await uploads.upload_file(file_path))

    async def list_data_collection(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``data_collections/`` (one page, or every collection with ``list_all``)."""
        return await self._list("data_collections", params, list_all)

    async def list_data_collections(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``list_data_collection`` under the official client's current (plural) name."""
        return await self.list_data_collection(params, list_all)

    async def get_data_collection(self, data_collection_id: int) -> dict[str, Any]:
        """One data collection, with its ``file_specifications``."""
        return as_dict(await self._client.data_collections.get(data_collection_id))

    async def create_data_file(
        self,
        file_path: str | os.PathLike[str],
        use_chunked_upload: bool = False,
        data_collection: int | None = None,
    ) -> dict[str, Any]:
        """Upload a file as a data file; returns ``{"id", "checksum", ..., "data_unit_id"}``.

        The SDK picks multipart or chunked upload by size; ``use_chunked_upload`` is accepted
        for compatibility. A data file alone belongs to no data unit, so ``data_unit_id`` is
        None unless ``data_collection`` is given: then a data unit holding the file (under
        the collection's first file specification, else ``"file"``) is created in it.
        """
        uploaded = as_dict(await self._client.data_files.create(file_path))
        uploaded["data_unit_id"] = None
        if data_collection is not None:
            collection = await self._client.data_collections.get(data_collection)
            specs = [
                s
                for s in collection.file_specifications
                if isinstance(s, Mapping) and isinstance(s.get("name"), str)
            ]
            slot = specs[0]["name"] if specs else "file"
            [unit] = await self._client.data_units.create(
                [
                    {
                        "data_collection": data_collection,
                        "meta": {},
                        "files": {
                            slot: {"checksum": uploaded["checksum"], "path": Path(file_path).name}
                        },
                    }
                ]
            )
            uploaded["data_unit_id"] = unit.id
        return uploaded

    async def upload_data_file(
        self,
        organized_file: dict[str, Any],
        collection_id: int,
        use_chunked_upload: bool | None = False,
        *,
        read_timeout: int | None = None,
    ) -> dict[str, Any]:
        """Upload ``organized_file["files"]`` (slot -> path); returns the data unit spec.

        The result (``{"files": {slot: {"checksum", "path"}}, "data_collection", "meta"}``,
        plus ``groups`` when given) goes to ``create_data_units``; ``path`` is the file name,
        never a local path. ``use_chunked_upload`` and ``read_timeout`` are accepted for
        compatibility (the SDK picks the upload method by size; timeouts are the client's).
        """
        files: dict[str, Any] = {}
        for slot, path in dict(organized_file.get("files", {})).items():
            uploaded = await self.create_data_file(file_path(path))
            files[slot] = {"checksum": uploaded["checksum"], "path": Path(path).name}
        payload: dict[str, Any] = {
            "files": files,
            "data_collection": collection_id,
            "meta": organized_file.get("meta", {}),
        }
        groups = organized_file.get("groups")
        if groups:
            payload["groups"] = [groups] if isinstance(groups, str) else list(groups)
        return payload

    async def upload_data_collection(
        self,
        collection_id: int,
        data: list[dict[str, Any]],
        *,
        project_id: int | None = None,
        batch_size: int = 1000,
        max_workers: int = 10,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """Upload items ``{"files": {slot: path}, "meta": {...}}`` as data units (and tasks).

        Runs on ``client.data_collections.upload`` (hashing, dedupe by checksum, one shared
        budget of ``max_workers`` requests in flight, batches of ``batch_size``), so files the
        server already holds are not sent again. Returns None, as the official client does;
        ``on_progress(completed, total)`` counts finished items. Unlike the official client,
        a bad item does not stop the others: every item is tried, then ``BulkUploadError``
        (its ``report`` lists each failed item) is raised if any failed.
        """
        from synapse_async.bulk.pipeline import BulkUpload

        items = list(data)
        total = len(items)

        def progress(p: BulkProgress) -> None:
            if on_progress is not None:
                on_progress(p.items_done + p.items_failed, total)

        run = BulkUpload(
            self._client._http,
            collection=collection_id,
            project=project_id,
            journal=None,
            max_concurrency=max_workers,
            on_progress=progress if on_progress is not None else None,
            fail_fast=False,
            unit_batch_size=min(batch_size, 1000),
        )
        report = await run.run(items)
        if report.failed:
            first = report.failures[0]
            raise BulkUploadError(
                f"{report.failed} of {report.items} items failed; the first, #{first.index}: "
                f"{first.error_type}: {first.message} (see .report.failures)",
                report=report,
            )

    async def create_data_units(self, uploaded_files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Create data units (as ``upload_data_file`` returns them), in batches."""
        return [as_dict(u) for u in await self._client.data_units.create(uploaded_files)]

    async def get_data_unit(
        self, data_unit_id: int, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``data_units/{id}/``."""
        return as_dict(await self._client.data_units.get(data_unit_id))

    async def list_data_units(
        self,
        params: dict[str, Any] | None = None,
        url_conversion: dict[str, Any] | None = None,
        list_all: bool = False,
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``data_units/`` filtered by ``params`` (``data_collection``, ...)."""
        return await self._list("data_units", params, list_all, url_conversion)

    # -- HITL ------------------------------------------------------------------------------

    async def get_assignment(self, pk: int) -> dict[str, Any]:
        """``assignments/{pk}/``."""
        return as_dict(await self._client.assignments.get(pk))

    async def list_assignments(
        self,
        params: dict[str, Any] | None = None,
        url_conversion: dict[str, Any] | None = None,
        list_all: bool = False,
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``sdk/assignments/`` filtered by ``params`` (``project``, ``status``, ...)."""
        return await self._list("assignments", params, list_all, url_conversion)

    async def set_tags_assignments(
        self, data: dict[str, Any], params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Set ``data["tag_ids"]`` on ``data["assignment_ids"]``; returns ``{"updated": n}``."""
        ids = data.get("assignment_ids", data.get("ids"))
        if data.get("action", "set") != "set" or ids is None:
            raise InvalidInputError(
                "set_tags_assignments takes {'assignment_ids': [...], "
                "'tag_ids': [...]} (action 'set' only)"
            )
        return {"updated": await self._client.assignments.set_tags(ids, data.get("tag_ids", []))}

    # -- integration -----------------------------------------------------------------------

    async def list_agents(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``agents/``."""
        return await self._list("agents", params, list_all)

    async def health_check_agent(self, token: str) -> dict[str, Any]:
        """``POST agents/{token}/connect/`` (the token never appears in logs or errors)."""
        return as_dict(await self._client.agents.health_check(token))

    async def get_plugin(self, pk: int | str) -> dict[str, Any]:
        """``plugins/{id_or_code}/``."""
        return as_dict(await self._client.plugins.get(pk))

    async def create_plugin(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a plugin from ``{"name", "code"?, "category"?, "description"?, ...}``."""
        name, rest = pop_field(data, "name", "create_plugin")
        return as_dict(await self._client.plugins.create(name, **rest))

    async def update_plugin(self, pk: int | str, data: dict[str, Any]) -> dict[str, Any]:
        """Change a plugin's fields."""
        return as_dict(await self._client.plugins.update(pk, **data))

    async def run_plugin(self, pk: int | str, data: dict[str, Any]) -> dict[str, Any]:
        """Run a plugin; returns the job (+ ``job_id``).

        ``data``: ``{"action"?, "params"? (or "parameters"), "context"?, "agent"?,
        "version"?}``. Without ``action`` the server runs the plugin's default action;
        another key is refused.
        """
        fields = plugin_run_fields(data)
        job = as_dict(await self._client.plugins.run(pk, **fields))
        return {**job, "job_id": job["id"]}

    async def get_plugin_release(
        self, pk: int | str, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """``plugin_releases/{pk}/``; ``pk`` may be ``"code@version"``."""
        return as_dict(await self._client.plugin_releases.get(pk))

    async def create_plugin_release(self, data: dict[str, Any]) -> dict[str, Any]:
        """Release ``{"plugin", "version", "file": path or open file, "config"?}``."""
        file, rest = pop_field(data, "file", "create_plugin_release")
        plugin, rest = pop_field(rest, "plugin", "create_plugin_release")
        version, rest = pop_field(rest, "version", "create_plugin_release")
        return as_dict(
            await self._client.plugin_releases.create(plugin, version, file_path(file), **rest)
        )

    async def list_plugin_releases(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``plugin_releases/`` (filter ``plugin``)."""
        return await self._list("plugin_releases", params, list_all)

    async def get_job(self, pk: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """``jobs/{pk}/``; ``params={"expand": "logs"}`` adds ``logs`` (the console lines)."""
        query = dict(params or {})
        expand = query.pop("expand", None)
        if query:
            raise InvalidInputError(
                f"get_job takes params={{'expand': 'logs'}} only, got {sorted(query)}"
            )
        if expand not in (None, "logs"):
            raise InvalidInputError(f"get_job can expand 'logs' only, got {expand!r}")
        job = as_dict(await self._client.jobs.get(pk))
        if expand == "logs":
            job["logs"] = await self._client.jobs.console_logs(pk)
        return job

    async def list_jobs(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``jobs/`` filtered by ``params`` (``status``, ``plugin``)."""
        return await self._list("jobs", params, list_all)

    async def update_job(self, pk: int, data: dict[str, Any]) -> dict[str, Any]:
        """``PATCH jobs/{pk}/`` (``status``, ``progress_record``, ``metrics_record``, ...)."""
        return as_dict(await self._client.jobs.update(pk, **data))

    async def list_job_console_logs(self, pk: int) -> list[str]:
        """The job's console lines so far."""
        return await self._client.jobs.console_logs(pk)

    async def tail_job_console_logs(self, pk: int) -> AsyncIterator[str]:
        """Each console line (with its line end) as it is written, until the job finishes."""
        lines = self._client.jobs.tail_console_logs(pk)
        try:
            async for line in lines:
                yield f"{line}\n"
        finally:
            await lines.aclose()  # type: ignore[attr-defined]

    async def create_logs(
        self, data: list[dict[str, Any]] | dict[str, Any]
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """Write one log entry (a dict) or several (a list)."""
        entries = [data] if isinstance(data, Mapping) else list(data)
        created = [as_dict(e) for e in await self._client.logs.create_many(entries)]
        return created[0] if isinstance(data, Mapping) else created

    async def create_serve_application(self, data: dict[str, Any]) -> dict[str, Any]:
        """Start a serve application: ``{"name", "plugin_release", "action"?, "params"?}``."""
        name, rest = pop_field(data, "name", "create_serve_application")
        release, rest = pop_field(rest, "plugin_release", "create_serve_application")
        return as_dict(
            await self._client.serve_applications.create(name, plugin_release=release, **rest)
        )

    async def list_serve_applications(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``serve_applications/``."""
        return await self._list("serve_applications", params, list_all)

    async def get_storage(self, pk: int) -> dict[str, Any]:
        """A storage with its configuration (whose ``repr`` hides secrets)."""
        storage = await self._client.storages.get(pk, with_configuration=True)
        return {**storage.to_dict(), "configuration": storage.configuration}

    async def get_default_storage(self) -> dict[str, Any]:
        """The storage marked ``is_default`` (with its configuration).

        Raises:
            NotFoundError: no storage is the default.
        """
        async for storage in self._client.storages.list():
            if storage.is_default:
                return await self.get_storage(storage.id)
        raise NotFoundError(
            "no storage is marked as the default (is_default)",
            status_code=404,
            detail="No default storage.",
        )

    async def list_storages(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``storages/`` (filters ``category``, ``provider``)."""
        return await self._list("storages", params, list_all)

    async def create_storage(self, data: dict[str, Any]) -> dict[str, Any]:
        """Register ``{"name", "provider", "configuration", "category"?, "is_default"?}``."""
        name, rest = pop_field(data, "name", "create_storage")
        return as_dict(await self._client.storages.create(name, **rest))

    # -- ML --------------------------------------------------------------------------------

    async def list_models(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``models/`` filtered by ``params`` (``project``, ``plugin``)."""
        return await self._list("ml_models", params, list_all)

    async def get_model(
        self,
        pk: int,
        params: dict[str, Any] | None = None,
        url_conversion: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``models/{pk}/`` (``url_conversion``: ``{field: function of a URL}``).

        ``params`` (e.g. ``{"expand": "metrics"}``) are sent to the server as query
        parameters, and the answer is returned as the server sent it.
        """
        if params:
            data = await self._client._http.request(
                "GET", build_path("models", check_id(pk)), params=dict(params)
            )
            return convert_urls(url_conversion)(dict(data))
        return convert_urls(url_conversion)(as_dict(await self._client.ml_models.get(pk)))

    async def create_model(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a model from ``{"name", "file": path, ...}`` (the file by chunked upload)."""
        file, rest = pop_field(data, "file", "create_model")
        name, rest = pop_field(rest, "name", "create_model")
        return as_dict(await self._client.ml_models.create(name, file_path(file), **rest))

    async def list_ground_truth_events(
        self,
        params: dict[str, Any] | None = None,
        url_conversion: dict[str, Any] | None = None,
        list_all: bool = False,
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``sdk/ground_truth_events/`` (``ground_truth_dataset_versions``: [ids], ...)."""
        return await self._list("ground_truth_events", params, list_all, url_conversion)

    async def list_ground_truth_versions(
        self, params: dict[str, Any] | None = None, list_all: bool = False
    ) -> dict[str, Any] | tuple[AsyncIterator[dict[str, Any]], int]:
        """``ground_truth_dataset_versions/`` (``ground_truth_dataset``: the dataset id)."""
        query = dict(params or {})
        if "ground_truth_dataset" in query:
            query["ground_truth"] = query.pop("ground_truth_dataset")
        return await self._list("ground_truth_dataset_versions", query, list_all)

    async def get_ground_truth_version(self, pk: int) -> dict[str, Any]:
        """``ground_truth_dataset_versions/{pk}/``."""
        return as_dict(await self._client.ground_truth_dataset_versions.get(pk))
