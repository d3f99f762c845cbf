"""Pure helpers of ``synapse_async.compat``: models to dicts, ``params`` to listing calls.

Kept apart so that ``compat.py`` stays a flat table of the official client's methods.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any, Union

import attrs

from synapse_async._constants import DEFAULT_PAGE_SIZE
from synapse_async.errors import InvalidInputError
from synapse_async.models import Model
from synapse_async.pagination import AsyncPaginator, Page

__all__ = [
    "ListResult",
    "StorageCategory",
    "StorageProvider",
    "as_dict",
    "convert_urls",
    "dm_from_annotation_list",
    "file_path",
    "listing",
    "plugin_run_fields",
    "pop_field",
]


class _StrEnum(str, Enum):
    """A string enum whose ``str()`` is its value (``enum.StrEnum`` from Python 3.11)."""

    def __str__(self) -> str:
        return str(self.value)


class StorageCategory(_StrEnum):
    """Storage categories, as the official client names them."""

    INTERNAL = "internal"
    EXTERNAL = "external"


class StorageProvider(_StrEnum):
    """Storage provider codes, as the official client names them (the server may know more)."""

    AMAZON_S3 = "amazon_s3"
    AZURE = "azure"
    DIGITAL_OCEAN = "digital_ocean"
    FILE_SYSTEM = "file_system"
    FTP = "ftp"
    SFTP = "sftp"
    MINIO = "minio"
    GCP = "gcp"
    SYNOLOGY = "synology"
    SMB = "smb"


Dict = dict[str, Any]
ListResult = Union[Dict, tuple[AsyncIterator[Dict], int]]
"""One page as a dict, or ``(iterator of every item, count)`` with ``list_all=True``."""

_ID_PARAMS = frozenset(
    {"project", "data_collection", "plugin", "job", "ground_truth", "data_unit", "task"}
)


def as_dict(obj: Any) -> Dict:
    """A model (or attrs object, or mapping) as a plain dict, unknown server fields kept."""
    if isinstance(obj, Model):
        return obj.to_dict()
    if attrs.has(type(obj)):
        return attrs.asdict(obj)
    return dict(obj) if isinstance(obj, Mapping) else dict(vars(obj))


def _query(params: Mapping[str, Any] | None) -> tuple[Dict, int, int]:
    """Filters (numeric id strings made ints), page number and page size from ``params``."""
    query = dict(params or {})
    page = int(query.pop("page", 1))
    size = int(query.pop("page_size", DEFAULT_PAGE_SIZE))
    for key in _ID_PARAMS & query.keys():
        if isinstance(query[key], str) and query[key].isdigit():
            query[key] = int(query[key])
    return query, page, size


def _identity(item: Dict) -> Dict:
    return item


async def _all_items(
    first: Page[Any], pages: AsyncIterator[Page[Any]], convert: Callable[[Dict], Dict]
) -> AsyncIterator[Dict]:
    for item in first.items:
        yield convert(as_dict(item))
    async for page in pages:
        for item in page.items:
            yield convert(as_dict(item))


async def listing(
    make: Callable[[Dict, int], AsyncPaginator[Any]],
    params: Mapping[str, Any] | None,
    list_all: bool,
    convert: Callable[[Dict], Dict] = _identity,
) -> ListResult:
    """One page as the official client's dict, or ``(iterator of every item, count)``.

    ``make(filters, page_size)`` builds the resource's paginator; ``convert`` is applied to
    every item (``convert_urls``).
    """
    query, number, size = _query(params)
    paginator = make(query, size)
    if not list_all:
        page = await paginator.page(number)
        return {
            "count": page.count,
            "next": page.next_url,
            "previous": None,
            "results": [convert(as_dict(i)) for i in page.items],
        }
    pages = paginator.pages()
    first = await pages.__anext__()
    count = first.count if first.count is not None else len(first.items)
    return _all_items(first, pages, convert), count


def _map_urls(value: Any, fn: Callable[[str], Any]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: _map_urls(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_urls(v, fn) for v in value]
    return value


def convert_urls(url_conversion: Mapping[str, Any] | None) -> Callable[[Dict], Dict]:
    """The item converter of ``url_conversion={field: function}``.

    Each function is applied to every string inside that field of an item (a URL, or the
    URLs nested in a dict/list of file entries); other fields are left as they are.

    Raises:
        InvalidInputError: a value that is not callable, such as the official client's
            download settings (``files_fields``, ``is_list``, ...): this SDK does not
            download listed files (use ``client.exports.export(include_files=True)``).
    """
    if not url_conversion:
        return _identity
    if not isinstance(url_conversion, Mapping):
        raise InvalidInputError(
            f"url_conversion must be a dict {{field: function}}, got {url_conversion!r}"
        )
    bad = sorted(str(k) for k, v in url_conversion.items() if not callable(v))
    if bad:
        raise InvalidInputError(
            f"url_conversion values must be functions of a URL; {bad} are not (the official "
            "client's download settings are not supported: export with include_files=True "
            "to download files)"
        )
    functions = dict(url_conversion)

    def convert(item: Dict) -> Dict:
        return {k: _map_urls(v, functions[k]) if k in functions else v for k, v in item.items()}

    return convert


_BOX_TYPES = {"bbox": "bounding_box", "bounding_box": "bounding_box"}
_LIST_KEYS = frozenset({"type", "coordinates", "label", "classification", "id"})


def dm_from_annotation_list(data: Mapping[str, Any], media: str = "image_1") -> Dict:
    """``{"annotations": [{"type": "bbox", "coordinates": [x, y, w, h]}]}`` as DM schema v1.

    A document already in DM schema v1 (``annotations`` a mapping) is returned unchanged.
    List entries: ``type`` (``bbox``/``bounding_box``, ``polygon``, ``keypoint``,
    ``classification``), ``coordinates`` (bbox ``[x, y, width, height]``; polygon
    ``[[x, y], ...]``; keypoint ``[x, y]``), and a ``label`` (or ``classification``).

    Raises:
        InvalidInputError: an entry with another key or type, or malformed coordinates.
    """
    annotations = data.get("annotations") if isinstance(data, Mapping) else None
    if not isinstance(annotations, list):
        return dict(data)
    extra = sorted(set(data) - {"annotations"})
    if extra:
        raise InvalidInputError(f"annotation list data has unknown keys {extra}")
    metas: list[Dict] = []
    datas: list[Dict] = []
    for n, entry in enumerate(annotations):
        if not isinstance(entry, Mapping) or not set(entry) <= _LIST_KEYS:
            raise InvalidInputError(
                f"annotation #{n} must be a dict with keys from {sorted(_LIST_KEYS)}, "
                f"got {entry!r:.80}"
            )
        kind = _BOX_TYPES.get(entry.get("type", ""), entry.get("type"))
        coords: Any = entry.get("coordinates")
        ident = str(entry.get("id") or uuid.uuid4().hex[:10])
        label = entry.get("label", entry.get("classification", ""))
        if kind not in ("bounding_box", "polygon", "keypoint", "classification"):
            raise InvalidInputError(
                f"annotation #{n}: unknown type {entry.get('type')!r} (bbox, polygon, "
                "keypoint, classification)"
            )
        try:
            if kind == "bounding_box":
                x, y, w, h = (float(v) for v in coords)
                datas.append({"id": ident, "coordinate": {"x": x, "y": y, "width": w, "height": h}})
            elif kind == "polygon":
                datas.append(
                    {
                        "id": ident,
                        "coordinate": [
                            {"x": float(px), "y": float(py), "id": f"p{k}"}
                            for k, (px, py) in enumerate(coords)
                        ],
                    }
                )
            elif kind == "keypoint":
                px, py = (float(v) for v in coords)
                datas.append({"id": ident, "coordinate": {"x": px, "y": py}})
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"annotation #{n}: coordinates {coords!r:.60} do not fit type {kind!r}"
            ) from None
        metas.append({"id": ident, "tool": kind, "classification": {"class": str(label)}})
    return {"annotations": {media: metas}, "annotationsData": {media: datas}}


_RUN_KEYS = frozenset(
    {
        "action",
        "params",
        "parameters",
        "context",
        "agent",
        "version",
        "storage_id",
        "job_id",
        "debug",
        "language",
    }
)


def plugin_run_fields(data: Mapping[str, Any]) -> Dict:
    """``run_plugin``'s ``data`` as ``plugins.run`` keywords (``parameters`` -> ``params``).

    Raises:
        InvalidInputError: an unknown key, or both ``params`` and ``parameters``.
    """
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"run_plugin data must be a dict, got {data!r:.80}")
    unknown = sorted(set(data) - _RUN_KEYS)
    if unknown:
        raise InvalidInputError(
            f"run_plugin data has unknown keys {unknown}; known: {sorted(_RUN_KEYS)}"
        )
    fields = dict(data)
    if "parameters" in fields:
        if "params" in fields:
            raise InvalidInputError("run_plugin takes params or parameters, not both")
        fields["params"] = fields.pop("parameters")
    return fields


def pop_field(data: Mapping[str, Any], key: str, what: str) -> tuple[Any, Dict]:
    """``data[key]`` and a copy of the rest (``InvalidInputError`` naming ``what`` if absent)."""
    rest = dict(data)
    if key not in rest:
        raise InvalidInputError(f"{what} needs a {key!r} field")
    return rest.pop(key), rest


def file_path(value: Any) -> str | os.PathLike[str]:
    """A path from a path or an open file (the official client accepts ``open(...)``)."""
    if isinstance(value, (str, os.PathLike)):
        return value
    name = getattr(value, "name", None)
    if isinstance(name, str) and Path(name).is_file():
        return name
    raise InvalidInputError(f"expected a file path or a file opened from a path, got {value!r}")
