"""Projects: list, get, create (get and create return workflow handles)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import HTTPClient, build_path
from synapse_async.models import Project
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.exports import AsyncExports
from synapse_async.resources.project_workflow import AsyncProjectHandle

__all__ = ["AsyncProjects"]


def _check_annotation_type(value: Any) -> str | builtins.list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise InvalidInputError(
                "annotation_type is blank: name a type such as 'classification'"
            )
        return value.strip()
    if (
        isinstance(value, Sequence)
        and value
        and all(isinstance(v, str) and v.strip() for v in value)
    ):
        names = [v.strip() for v in value]
        if len(set(names)) != len(names):
            raise InvalidInputError(f"annotation_type lists a type twice: {value!r}")
        return names
    raise InvalidInputError(
        f"annotation_type must be a type name or a non-empty list of them, got {value!r}"
    )


def _check_labels(
    value: Any, types_: str | builtins.list[str] | None
) -> builtins.list[str] | dict[str, builtins.list[str]] | None:
    def names(v: Any, where: str) -> builtins.list[str]:
        if (
            isinstance(v, str)
            or not isinstance(v, Sequence)
            or not all(isinstance(x, str) and x.strip() for x in v)
        ):
            raise InvalidInputError(f"{where} must be a list of non-empty strings, got {v!r}")
        return builtins.list(v)

    if value is None:
        return None
    if isinstance(value, Mapping):
        known = [types_] if isinstance(types_, str) else builtins.list(types_ or [])
        unknown = [k for k in value if k not in known]
        if unknown:
            raise InvalidInputError(
                f"labels has keys {unknown!r} that are not among annotation_type {known!r}: "
                "key each label list by one of the project's annotation types"
            )
        return {k: names(v, f"labels[{k!r}]") for k, v in value.items()}
    return names(value, "labels")


class AsyncProjects(AsyncResource):
    """``client.projects``: annotation projects.

    ``get`` and ``create`` return an :class:`AsyncProjectHandle` (the project's fields plus
    the workflow methods: ``upload_tasks``, ``pay_deposit``, ``wait_for_completion``, ...);
    ``list`` yields plain ``Project`` models (``await client.projects.get(p.id)`` for a
    handle).

    Args:
        http: the client's HTTP layer.
        exports: the client's exports resource, handed to every handle (``AsyncClient``
            passes its own; omitted, one is made on ``http``).
    """

    def __init__(self, http: HTTPClient, *, exports: AsyncExports | None = None) -> None:
        super().__init__(http)
        self._exports = self._sibling(exports, AsyncExports)

    def _handle(self, data: Any) -> AsyncProjectHandle:
        return AsyncProjectHandle(self._http, self._decode(data, Project), exports=self._exports)

    def list(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> AsyncPaginator[Project]:
        """Every project visible to the token, in server order (pages fetched concurrently).

        Keyword filters (``state="active"``) are sent as query parameters.
        """
        return self._paginate("projects/", filters, Project, page_size)

    async def get(self, project_id: int) -> AsyncProjectHandle:
        """One project by id, as a workflow handle (``NotFoundError`` when it does not exist)."""
        data = await self._http.request("GET", build_path("projects", check_id(project_id)))
        return self._handle(data)

    async def create(
        self,
        name: str,
        *,
        description: str = "",
        annotation_type: str | Sequence[str] | None = None,
        data_type: str | None = None,
        labels: Sequence[str] | Mapping[str, Sequence[str]] | None = None,
        instructions: str | None = None,
        quality_settings: dict[str, Any] | None = None,
        pricing_tier: str | None = None,
        priority: int | str | None = None,
        metadata: dict[str, Any] | None = None,
        **fields: Any,
    ) -> AsyncProjectHandle:
        """Create a project (state ``draft``) and return its workflow handle.

        Args:
            name: display name (non-empty).
            description: free text.
            annotation_type: ``bounding_box``, ``polygon``, ``keypoint``, ``classification``,
                ``named_entity``, ...; a list of them for a multi-type project
                (``["classification", "keypoint"]``).
            data_type: ``image``, ``text``, ``video``, ...
            labels: the label names annotators choose from; for a multi-type project a dict
                ``{annotation type: [labels]}`` whose keys are among ``annotation_type``.
            instructions: guidelines for annotators.
            quality_settings: e.g. ``{"min_annotators": 3, "consensus_threshold": 0.66}``.
            pricing_tier: ``basic``, ``standard`` (the server's default) or ``premium``.
            priority: e.g. ``"high"``.
            metadata: your own key/value data (echoed in webhook events).
            fields: further fields, sent as given.
        """
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"project name must be a non-empty string, got {name!r}")
        types_ = _check_annotation_type(annotation_type)
        labels_ = _check_labels(labels, types_)
        for key, value in (("quality_settings", quality_settings), ("metadata", metadata)):
            if value is not None and not isinstance(value, dict):
                raise InvalidInputError(f"{key} must be a dict, got {type(value).__name__}")
        body: dict[str, Any] = {"name": name, "description": description, **fields}
        optional: dict[str, Any] = {
            "annotation_type": types_,
            "data_type": data_type,
            "labels": labels_,
            "instructions": instructions,
            "quality_settings": quality_settings,
            "pricing_tier": pricing_tier,
            "priority": priority,
            "metadata": metadata,
        }
        body.update((key, value) for key, value in optional.items() if value is not None)
        data = await self._http.request("POST", "projects/", json_body=body)
        return self._handle(data)
