"""Data collections: list, get (with file specifications), create."""

from __future__ import annotations

import builtins
import os
from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any

from synapse_async import _constants as C
from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.bulk.items import BulkItem
from synapse_async.bulk.report import BulkProgress, BulkUploadReport
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import DataCollection
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id

__all__ = ["AsyncDataCollections"]


class AsyncDataCollections(AsyncResource):
    """``client.data_collections``: sets of data units sharing file specifications."""

    def list(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> AsyncPaginator[DataCollection]:
        """Every data collection, in server order."""
        return self._paginate("data_collections/", filters, DataCollection, page_size)

    async def get(
        self, collection_id: int, *, with_file_specifications: bool = True
    ) -> DataCollection:
        """One collection; its ``file_specifications`` are included unless turned off."""
        params = {"expand": "file_specifications"} if with_file_specifications else None
        data = await self._http.request(
            "GET",
            build_path("data_collections", check_id(collection_id, "collection_id")),
            params=params,
        )
        return self._decode(data, DataCollection)

    async def create(
        self,
        name: str,
        *,
        file_specifications: builtins.list[dict[str, Any]],
        description: str = "",
    ) -> DataCollection:
        """Create a collection with its file slots (``[{"name", "file_type", ...}]``)."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"collection name must be a non-empty string, got {name!r}")
        body = {
            "name": name,
            "description": description,
            "file_specifications": file_specifications,
        }
        data = await self._http.request("POST", "data_collections/", json_body=body)
        return self._decode(data, DataCollection)

    async def upload(
        self,
        collection: int | DataCollection,
        items: Iterable[BulkItem | Mapping[str, Any]] | AsyncIterable[BulkItem | Mapping[str, Any]],
        *,
        project: int | None = None,
        journal: str | os.PathLike[str] | None = None,
        max_concurrency: int = C.DEFAULT_BULK_CONCURRENCY,
        on_progress: Callable[[BulkProgress], None] | None = None,
        fail_fast: bool = False,
    ) -> BulkUploadReport:
        """Upload many files as data units of ``collection`` (and tasks of ``project``).

        ``items`` is read lazily (a generator of a million items never sits in memory):
        ``BulkItem`` s or the official client's dicts ``{"files": {slot: path}, "meta": {...},
        "groups": [...]}``; ``synapse_async.bulk.scan_directory`` makes them from a folder.
        Every stage runs at once: slots are checked against the collection's
        ``file_specifications`` and files are checked before any byte is sent; files are
        hashed (MD5, in threads); checksums the server already holds are not sent (``POST
        data_files/verify_checksums/``); the rest go up (chunked and parallel above 50 MiB)
        within one shared budget of requests and bytes in flight; data units and tasks are
        created in batches of up to 1,000.

        With ``journal`` (a file path), each item's state is kept in SQLite: running again with
        the same journal skips what is done, and after a crash at any point finishes the job
        with no duplicate data unit or task (unit and task batches carry Idempotency-Keys kept
        in the journal). A journal of another collection, or a file changed since it was
        journaled, is reported, never trusted.

        Args:
            collection: the data collection (id or model).
            items: the items to upload.
            project: also create one task per data unit in this project.
            journal: the journal file (created when missing).
            max_concurrency: requests in flight at once, 1 to 256. The client's connection
                pool (``max_connections``, default 256) caps it, less a few connections kept
                for the dedupe, data unit and task requests.
            on_progress: called about 5 times a second with a ``BulkProgress``.
            fail_fast: stop at the first failed item (raises ``BulkUploadError``); by default
                a bad item is reported and the others go on.

        Returns:
            The report: counts, bytes, seconds, data unit and task ids, and each failed item
            with its paths, error type and message.

        Raises:
            InvalidInputError: bad arguments, a collection or project that does not exist,
                or an input that is not an iterable of items.
            JournalError: the journal is corrupt, belongs to another collection or project,
                or cannot be written (e.g. disk full; rerun once fixed to finish).
            BulkUploadError: with ``fail_fast``, the first failed item (its ``report``).
        """
        from synapse_async.bulk.pipeline import BulkUpload

        collection_id = collection.id if isinstance(collection, DataCollection) else collection
        run = BulkUpload(
            self._http,
            collection=collection_id,
            project=project,
            journal=journal,
            max_concurrency=max_concurrency,
            on_progress=on_progress,
            fail_fast=fail_fast,
        )
        return await run.run(items)
