"""ML models: list, get, create with the weights file (chunked upload, then the record)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.http import HTTPClient, build_path
from synapse_async.models import MLModel
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.data_files import check_upload_path
from synapse_async.resources.task_tags import check_name
from synapse_async.resources.uploads import AsyncUploads

__all__ = ["AsyncMLModels"]


class AsyncMLModels(AsyncResource):
    """``client.ml_models``: trained models stored by the platform (``models/``).

    Args:
        http: the client's HTTP layer.
        uploads: the client's uploads resource that sends the weights (``AsyncClient``
            passes its own; omitted, one is made on ``http``).
    """

    def __init__(self, http: HTTPClient, uploads: AsyncUploads | None = None) -> None:
        super().__init__(http)
        self._uploads = self._sibling(uploads, AsyncUploads)

    def list(
        self,
        *,
        project: int | None = None,
        plugin: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncPaginator[MLModel]:
        """Every model (of ``project``/``plugin`` when given), in server order."""
        if project is not None:
            check_id(project, "project")
        if plugin is not None:
            check_id(plugin, "plugin")
        return self._paginate(
            "models/", {"project": project, "plugin": plugin, **filters}, MLModel, page_size
        )

    async def get(self, model_id: int) -> MLModel:
        """One model by id."""
        data = await self._http.request("GET", build_path("models", check_id(model_id, "model_id")))
        return self._decode(data, MLModel)

    async def create(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        project: int | None = None,
        plugin: int | None = None,
        description: str = "",
        on_progress: Callable[[int, int], Any] | None = None,
        **fields: Any,
    ) -> MLModel:
        """Upload the weights at ``path`` (chunked upload) and create the model record.

        ``POST models/ {"name", ..., "chunked_upload": <upload id>}``. ``on_progress`` gets
        ``(bytes_done, bytes_total)`` during the upload.

        Raises:
            InvalidInputError: a bad name, id or file (checked before any request).
        """
        body: dict[str, Any] = {
            "name": check_name(name, "model name"),
            "description": description,
            **fields,
        }
        if project is not None:
            body["project"] = check_id(project, "project")
        if plugin is not None:
            body["plugin"] = check_id(plugin, "plugin")
        p = check_upload_path(path)
        uploaded = await self._uploads.upload_file(p, on_progress=on_progress)
        data = await self._http.request(
            "POST", "models/", json_body={**body, "chunked_upload": uploaded.id}
        )
        return self._decode(data, MLModel)
