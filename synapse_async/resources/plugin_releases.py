"""Plugin releases: create with the plugin archive, get by id or ``code@version``, list."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import anyio.to_thread

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.http import HTTPClient, build_path, multipart_body
from synapse_async.models import PluginRelease
from synapse_async.pagination import AsyncPaginator
from synapse_async.resources._base import AsyncResource, check_id
from synapse_async.resources.data_files import MULTIPART_LIMIT, check_upload_path
from synapse_async.resources.plugins import check_plugin_code, check_plugin_ref
from synapse_async.resources.uploads import AsyncUploads

__all__ = ["AsyncPluginReleases", "check_version", "parse_release_ref"]


def check_version(version: Any) -> str:
    """Validate a release version: non-empty, no whitespace, ``@`` or ``/``."""
    if (
        not isinstance(version, str)
        or not version
        or any(c.isspace() or c in "@/" for c in version)
    ):
        raise InvalidInputError(
            f"a release version is non-empty, without spaces, '@' or '/', got {version!r}"
        )
    return version


def parse_release_ref(ref: Any) -> tuple[str, str]:
    """Split ``"code@version"`` into ``(code, version)``, with a clear error when malformed."""
    if not isinstance(ref, str) or ref.count("@") != 1:
        raise InvalidInputError(
            f"a plugin release is named 'code@version' (e.g. 'yolov8@1.2.0') or by its integer "
            f"id, got {ref!r}"
        )
    code, version = ref.split("@")
    return check_plugin_code(code), check_version(version)


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class AsyncPluginReleases(AsyncResource):
    """``client.plugin_releases``: released versions of plugins, with their archives.

    Archives up to 50 MiB are sent in the create request (multipart); larger ones by
    chunked upload first (``client.uploads``), then referenced by the upload's id.

    Args:
        http: the client's HTTP layer.
        uploads: the client's uploads resource, for archives over 50 MiB (``AsyncClient``
            passes its own; omitted, one is made on ``http``).
    """

    def __init__(self, http: HTTPClient, uploads: AsyncUploads | None = None) -> None:
        super().__init__(http)
        self._uploads = self._sibling(uploads, AsyncUploads)

    def list(
        self, *, plugin: int | None = None, page_size: int = DEFAULT_PAGE_SIZE, **filters: Any
    ) -> AsyncPaginator[PluginRelease]:
        """Every release (of ``plugin`` when given, by id), newest last."""
        if plugin is not None:
            check_id(plugin, "plugin")
        return self._paginate(
            "plugin_releases/", {"plugin": plugin, **filters}, PluginRelease, page_size
        )

    async def get(self, release: int | str) -> PluginRelease:
        """One release by id, or by name: ``get("yolov8@1.2.0")``.

        Raises:
            InvalidInputError: neither a positive int nor a well-formed ``code@version``.
            NotFoundError: no such release.
        """
        if isinstance(release, str):
            ref: int | str = "@".join(parse_release_ref(release))
        else:
            ref = check_id(release, "release")
        data = await self._http.request("GET", build_path("plugin_releases", ref))
        return self._decode(data, PluginRelease)

    async def create(
        self,
        plugin: int | str,
        version: str,
        path: str | os.PathLike[str],
        *,
        config: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> PluginRelease:
        """Release ``version`` of ``plugin`` (id or code) with the archive at ``path``.

        Raises:
            InvalidInputError: a bad plugin, version or file.
            ValidationError: the server refuses it (e.g. the version exists already).
        """
        ref = check_plugin_ref(plugin)
        check_version(version)
        p = check_upload_path(path)
        values: dict[str, Any] = {
            "plugin": ref,
            "version": version,
            "config": dict(config or {}),
            **fields,
        }
        if p.stat().st_size > MULTIPART_LIMIT:
            uploaded = await self._uploads.upload_file(p)
            data = await self._http.request(
                "POST", "plugin_releases/", json_body={**values, "chunked_upload": uploaded.id}
            )
            return self._decode(data, PluginRelease)
        content = await anyio.to_thread.run_sync(p.read_bytes)
        body = multipart_body(
            {k: _form_value(v) for k, v in values.items()}, {"file": (p.name, content)}
        )
        data = await self._http.request("POST", "plugin_releases/", data=body)
        return self._decode(data, PluginRelease)
