"""Where ``synapse upload`` and ``synapse demo`` meet the bulk-upload API.

:func:`items_from_paths` turns command-line paths into bulk items (directories through
``synapse_async.bulk.scan_directory``); the upload itself is
``client.data_collections.upload``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from synapse_async import InvalidInputError
from synapse_async.bulk import BulkItem, scan_directory

__all__ = ["items_from_paths"]


def items_from_paths(
    paths: Iterable[Path], specs: list[dict[str, Any]], pattern: str = "*"
) -> Iterator[BulkItem | Mapping[str, Any]]:
    """Bulk items for ``paths``, lazily.

    A directory is scanned (files grouped by stem into the collection's slots); a file is
    one item in the collection's only slot.

    Raises:
        InvalidInputError: a file argument for a collection with several slots (give its
            directory instead, so files are grouped into slots).
    """
    slots = [str(s.get("name")) for s in specs]
    for root in paths:
        if root.is_dir():
            yield from scan_directory(root, file_specifications=specs, pattern=pattern)
        elif len(slots) == 1:
            yield {"files": {slots[0]: root}, "meta": {"source": root.name}}
        else:
            raise InvalidInputError(
                f"{root} is a file but collection slots are {slots}: pass the directory, "
                "whose files are grouped by stem into the slots"
            )
