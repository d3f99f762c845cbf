"""Storages: list, the default storage, get (optionally with its configuration), create."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError, NotFoundError
from synapse_async.http import build_path
from synapse_async.models import Storage
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.task_tags import check_name

__all__ = ["STORAGE_CATEGORIES", "STORAGE_PROVIDERS", "AsyncStorages"]

STORAGE_CATEGORIES = ("internal", "external")
"""The storage categories."""

STORAGE_PROVIDERS = (
    "amazon_s3",
    "azure",
    "digital_ocean",
    "file_system",
    "ftp",
    "sftp",
    "minio",
    "gcp",
)
"""The storage providers."""


def _check_choice(value: Any, choices: tuple[str, ...], what: str) -> str:
    if value not in choices:
        raise InvalidInputError(f"{what} must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


class AsyncStorages(AsyncResource):
    """``client.storages``: where the platform keeps files.

    Configurations hold credentials: they are fetched only on request
    (``get(id, with_configuration=True)``) and never shown by ``repr`` or written to logs.
    """

    def list(
        self,
        *,
        category: str | None = None,
        provider: str | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncPaginator[Storage]:
        """Every storage (of ``category``/``provider`` when given), without configurations."""
        if category is not None:
            _check_choice(category, STORAGE_CATEGORIES, "category")
        if provider is not None:
            _check_choice(provider, STORAGE_PROVIDERS, "provider")
        return self._paginate(
            "storages/", {"category": category, "provider": provider, **filters}, Storage, page_size
        )

    async def get(self, storage_id: int, with_configuration: bool = False) -> Storage:
        """One storage; ``with_configuration=True`` includes its provider settings."""
        params = {"with_configuration": True} if with_configuration else None
        data = await self._http.request(
            "GET", build_path("storages", check_id(storage_id, "storage_id")), params=params
        )
        return self._decode(data, Storage)

    async def default(self, with_configuration: bool = False) -> Storage:
        """The default internal storage (``storages/?category=internal``).

        Raises:
            NotFoundError: the tenant has no internal storage.
        """
        first: Storage | None = None
        async for storage in self.list(category="internal"):  # a handful: read them all
            if first is None or (storage.is_default and not first.is_default):
                first = storage
        if first is None:
            raise NotFoundError(
                "no internal storage exists (storages/?category=internal is empty)",
                status_code=404,
                method="GET",
                url="storages/",
            )
        return await self.get(first.id, with_configuration=True) if with_configuration else first

    async def create(
        self,
        name: str,
        *,
        provider: str,
        configuration: Mapping[str, Any],
        category: str = "external",
        is_default: bool = False,
    ) -> Storage:
        """Register a storage; the answer does not echo the configuration back."""
        if not isinstance(configuration, Mapping):
            raise InvalidInputError("configuration must be a mapping of provider settings")
        body = {
            "name": check_name(name, "storage name"),
            "provider": _check_choice(provider, STORAGE_PROVIDERS, "provider"),
            "category": _check_choice(category, STORAGE_CATEGORIES, "category"),
            "configuration": dict(configuration),
            "is_default": bool(is_default),
        }
        data = await self._http.request("POST", "storages/", json_body=body)
        return self._decode(data, Storage)
