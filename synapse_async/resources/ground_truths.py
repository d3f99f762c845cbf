"""Ground truth: datasets (list/get/create), their versions (list/get), events (list)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import build_path
from synapse_async.models import GroundTruth, GroundTruthDatasetVersion, GroundTruthEvent
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.task_tags import check_name

__all__ = ["AsyncGroundTruthDatasetVersions", "AsyncGroundTruthEvents", "AsyncGroundTruths"]


class AsyncGroundTruths(AsyncResource):
    """``client.ground_truths``: ground-truth datasets (reference annotations)."""

    def list(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> AsyncPaginator[GroundTruth]:
        """Every ground truth, in server order."""
        return self._paginate("ground_truths/", filters, GroundTruth, page_size)

    async def get(self, ground_truth_id: int) -> GroundTruth:
        """One ground truth by id."""
        data = await self._http.request(
            "GET", build_path("ground_truths", check_id(ground_truth_id, "ground_truth_id"))
        )
        return self._decode(data, GroundTruth)

    async def create(
        self, name: str, *, description: str = "", data_collection: int | None = None
    ) -> GroundTruth:
        """Create a ground truth (over ``data_collection``'s units when given)."""
        body: dict[str, Any] = {
            "name": check_name(name, "ground truth name"),
            "description": description,
        }
        if data_collection is not None:
            body["data_collection"] = check_id(data_collection, "data_collection")
        data = await self._http.request("POST", "ground_truths/", json_body=body)
        return self._decode(data, GroundTruth)


class AsyncGroundTruthDatasetVersions(AsyncResource):
    """``client.ground_truth_dataset_versions``: frozen versions of ground truths."""

    def list(
        self,
        *,
        ground_truth: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncPaginator[GroundTruthDatasetVersion]:
        """Every version (of ``ground_truth`` when given), in server order."""
        if ground_truth is not None:
            check_id(ground_truth, "ground_truth")
        return self._paginate(
            "ground_truth_dataset_versions/",
            {"ground_truth": ground_truth, **filters},
            GroundTruthDatasetVersion,
            page_size,
        )

    async def get(self, version_id: int) -> GroundTruthDatasetVersion:
        """One version by id."""
        data = await self._http.request(
            "GET", build_path("ground_truth_dataset_versions", check_id(version_id, "version_id"))
        )
        return self._decode(data, GroundTruthDatasetVersion)


def _version_ids(value: int | Iterable[int] | None) -> list[int] | None:
    if value is None:
        return None
    if isinstance(value, int):
        return [check_id(value, "ground_truth_dataset_versions")]
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidInputError(
            f"ground_truth_dataset_versions must be an id or a list of ids, got {value!r}"
        )
    ids = [check_id(v, "ground truth dataset version id") for v in value]
    if not ids:
        raise InvalidInputError("ground_truth_dataset_versions is empty; pass None for all")
    return ids


class AsyncGroundTruthEvents(AsyncResource):
    """``client.ground_truth_events``: the items of ground truth versions (``sdk/...``)."""

    def list(
        self,
        *,
        ground_truth_dataset_versions: int | Iterable[int] | None = None,
        ground_truth: int | None = None,
        data_unit: int | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        **filters: Any,
    ) -> AsyncPaginator[GroundTruthEvent]:
        """Every event matching the filters, in server order, pages fetched concurrently.

        Args:
            ground_truth_dataset_versions: one version id or several (events of any of them).
            ground_truth: events of every version of this ground truth.
            data_unit: events annotating this data unit.
            page_size: items per page.
            **filters: further filters, sent as query parameters.
        """
        if ground_truth is not None:
            check_id(ground_truth, "ground_truth")
        if data_unit is not None:
            check_id(data_unit, "data_unit")
        params = {
            "ground_truth_dataset_versions": _version_ids(ground_truth_dataset_versions),
            "ground_truth": ground_truth,
            "data_unit": data_unit,
            **filters,
        }
        return self._paginate("sdk/ground_truth_events/", params, GroundTruthEvent, page_size)
