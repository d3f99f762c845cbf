"""Data collections: list, get (with file specifications), create."""

from __future__ import annotations

import builtins
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import DataCollection
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id

__all__ = ["AsyncDataCollections"]


class AsyncDataCollections(AsyncResource):
    """``client.data_collections``: sets of data units sharing file specifications."""

    def list(self, *, page_size: int = DEFAULT_PAGE_SIZE,
             **filters: Any) -> AsyncPaginator[DataCollection]:
        """Every data collection, in server order."""
        return self._paginate("data_collections/", filters, DataCollection, page_size)

    async def get(self, collection_id: int, *, with_file_specifications: bool = True
                  ) -> DataCollection:
        """One collection; its ``file_specifications`` are included unless turned off."""
        params = {"expand": "file_specifications"} if with_file_specifications else None
        data = await self._http.request(
            "GET", build_path("data_collections", check_id(collection_id, "collection_id")),
            params=params)
        return self._decode(data, DataCollection)

    async def create(self, name: str, *, file_specifications: builtins.list[dict[str, Any]],
                     description: str = "") -> DataCollection:
        """Create a collection with its file slots (``[{"name", "file_type", ...}]``)."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"collection name must be a non-empty string, got {name!r}")
        body = {"name": name, "description": description,
                "file_specifications": file_specifications}
        data = await self._http.request("POST", "data_collections/", json_body=body)
        return self._decode(data, DataCollection)
