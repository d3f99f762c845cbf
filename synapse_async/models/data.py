"""Models of the data domain: data collections, data files, data units."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from synapse_async.models._converter import Model

__all__ = ["DataCollection", "DataFile", "DataUnit"]


@attrs.frozen
class DataCollection(Model):
    """A named set of data units sharing file specifications.

    Attributes:
        id: the collection id.
        name: display name.
        description: free text.
        file_specifications: the file slots of each data unit (``name``, ``file_type``, ...).
        created: when it was created.
    """

    id: int
    name: str = ""
    description: str = ""
    file_specifications: list[dict[str, Any]] = attrs.field(factory=list)
    created: datetime | None = None


@attrs.frozen
class DataFile(Model):
    """A file stored by the platform.

    Attributes:
        id: the data file id.
        file: the file's URL (or server path).
        checksum: MD5 hex of the content.
        size: bytes.
        filename: the original file name.
        created: when it was stored.
    """

    id: int
    file: str | None = None
    checksum: str | None = None
    size: int | None = None
    filename: str | None = None
    created: datetime | None = None


@attrs.frozen
class DataUnit(Model):
    """One item of a data collection: its files by slot name, plus metadata.

    Attributes:
        id: the data unit id.
        data_collection: the collection id.
        files: slot name -> file info (``checksum``, ``path``, ...).
        meta: the caller's metadata.
        groups: optional group names.
        created: when it was created.
    """

    id: int
    data_collection: int | None = None
    files: dict[str, Any] = attrs.field(factory=dict)
    meta: dict[str, Any] = attrs.field(factory=dict)
    groups: list[str] = attrs.field(factory=list)
    created: datetime | None = None
