"""Data units: list, get, create in batches."""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Mapping
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import DataUnit
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import (
    AsyncResource,
    batch_key,
    check_id,
    created_id,
    created_items,
)

__all__ = ["DATA_UNIT_BATCH_SIZE", "AsyncDataUnits"]

DATA_UNIT_BATCH_SIZE = 1000
"""The most data units the server takes in one ``POST data_units/``."""


def _check_unit(unit: Any, index: int) -> dict[str, Any]:
    if (
        not isinstance(unit, Mapping)
        or "data_collection" not in unit
        or not isinstance(unit.get("files"), Mapping)
    ):
        raise InvalidInputError(
            f"data unit #{index} must be a mapping with 'data_collection' and 'files' "
            f"(slot -> {{'checksum', 'path'}}), got {unit!r}"
        )
    check_id(unit["data_collection"], f"data unit #{index} data_collection")
    for slot, info in unit["files"].items():
        path = info.get("path") if isinstance(info, Mapping) else None
        if isinstance(path, str) and os.path.isabs(path):
            raise InvalidInputError(
                f"data unit #{index} file {slot!r} has a local absolute path {path!r}; send "
                "the uploaded file's server path or checksum instead"
            )
    return dict(unit)


class AsyncDataUnits(AsyncResource):
    """``client.data_units``: items of data collections."""

    def list(
        self,
        *,
        data_collection: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncPaginator[DataUnit]:
        """Every data unit (of ``data_collection`` when given), in server order."""
        if data_collection is not None:
            check_id(data_collection, "data_collection")
        return self._paginate(
            "data_units/", {"data_collection": data_collection, **filters}, DataUnit, page_size
        )

    async def get(self, data_unit_id: int) -> DataUnit:
        """One data unit by id."""
        data = await self._http.request(
            "GET", build_path("data_units", check_id(data_unit_id, "data_unit_id"))
        )
        return self._decode(data, DataUnit)

    async def create(
        self, units: Iterable[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> builtins.list[DataUnit]:
        """Create data units, validated first, sent in batches of 1,000 in order.

        Each batch carries an Idempotency-Key, so a retried batch never creates twice: a fresh
        one per call, or ``idempotency_key`` (batch n > 0 gets ``"<key>-<n>"``) when the caller
        must be able to resend the same batch after a crash.

        The server answers a batch with ``{"results": [...]}`` (older servers: a bare list, or
        one object); each shape is read.
        """
        return [self._decode(item, DataUnit) for item in await self._post(units, idempotency_key)]

    async def _create_ids(
        self, units: Iterable[Mapping[str, Any]], *, idempotency_key: str | None = None
    ) -> builtins.list[int]:
        """``create``, returning only the new ids (a bulk upload needs nothing else)."""
        return [created_id(item, "data unit") for item in await self._post(units, idempotency_key)]

    async def _post(
        self, units: Iterable[Mapping[str, Any]], idempotency_key: str | None
    ) -> builtins.list[Any]:
        checked = [_check_unit(u, i) for i, u in enumerate(units)]
        if not checked:
            raise InvalidInputError("units is empty: pass at least one data unit")
        created: builtins.list[Any] = []
        for n, start in enumerate(range(0, len(checked), DATA_UNIT_BATCH_SIZE)):
            key = batch_key(idempotency_key, n)
            data = await self._http.request(
                "POST",
                "data_units/",
                json_body=checked[start : start + DATA_UNIT_BATCH_SIZE],
                idempotency_key=key,
            )
            created.extend(created_items(data))
        return created
