"""What one bulk item is: files by slot, metadata, groups; and the checks run on each."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from synapse_async.errors import InvalidInputError

__all__ = ["BulkItem", "SlotRules", "absolute_paths", "check_slots", "item_key", "to_item"]


def _to_files(value: Mapping[str, str | os.PathLike[str]]) -> dict[str, Path]:
    if not isinstance(value, Mapping) or not value:
        raise InvalidInputError(
            f"an item's files must be a non-empty mapping of slot -> path, got {value!r}"
        )
    files: dict[str, Path] = {}
    for slot, path in value.items():
        if not isinstance(slot, str) or not slot:
            raise InvalidInputError(f"a slot name must be a non-empty string, got {slot!r}")
        if isinstance(path, Path):  # a scan's paths: building them again costs 2 us each
            files[slot] = path
        elif isinstance(path, (str, os.PathLike)):
            files[slot] = Path(path)
        else:
            raise InvalidInputError(f"slot {slot!r}: expected a file path, got {path!r}")
    return files


def _to_meta(value: Mapping[str, Any] | None) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"an item's meta must be a mapping, got {value!r}")
    return dict(value)


def _to_groups(value: Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise InvalidInputError(f"an item's groups must be a list of strings, got {value!r}")
    return [str(g) for g in value]


@attrs.frozen
class BulkItem:
    """One data unit to upload: its files by slot name, its metadata and groups.

    The official client's dict shape ``{"files": {slot: path}, "meta": {...}, "groups": [...]}``
    is accepted wherever a ``BulkItem`` is.

    Attributes:
        files: slot name -> local file path.
        meta: the data unit's metadata (JSON-serializable).
        groups: the data unit's group names.
    """

    files: dict[str, Path] = attrs.field(converter=_to_files)
    meta: dict[str, Any] = attrs.field(factory=dict, converter=_to_meta)
    groups: list[str] = attrs.field(factory=list, converter=_to_groups)


def to_item(value: Any) -> BulkItem:
    """A ``BulkItem`` from a ``BulkItem`` or the official client's dict shape.

    Raises:
        InvalidInputError: anything else, or a malformed dict.
    """
    if isinstance(value, BulkItem):
        return value
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"expected a BulkItem or a mapping {{'files': {{slot: path}}, 'meta': {{...}}}}, "
            f"got {type(value).__name__}"
        )
    unknown = set(value) - {"files", "meta", "groups"}
    if unknown:
        raise InvalidInputError(
            f"unknown item keys {sorted(map(str, unknown))}: an item has 'files', 'meta' and "
            "'groups'"
        )
    if "files" not in value:
        raise InvalidInputError("an item needs 'files': {slot: path}")
    return BulkItem(files=value["files"], meta=value.get("meta"), groups=value.get("groups"))


@attrs.frozen
class SlotRules:
    """A collection's slot names and required slots, read once per upload."""

    collection: int
    names: tuple[str, ...]
    required: tuple[str, ...]

    @classmethod
    def of(cls, specs: Sequence[Mapping[str, Any]], collection: int) -> SlotRules:
        """The rules of ``file_specifications`` ``specs`` of data collection ``collection``."""
        return cls(
            collection,
            tuple(str(s.get("name")) for s in specs),
            tuple(str(s.get("name")) for s in specs if s.get("is_required")),
        )


def check_slots(item: BulkItem, rules: SlotRules) -> None:
    """Check the item's slots against the collection's ``file_specifications``.

    Raises:
        InvalidInputError: a slot the collection does not define, or a required slot missing.
    """
    if not rules.names:
        return
    for slot in item.files:
        if slot not in rules.names:
            raise InvalidInputError(
                f"slot {slot!r} is not defined by data collection {rules.collection} (its "
                f"slots: {', '.join(rules.names)}); rename the slot or pick another collection"
            )
    for name in rules.required:
        if name not in item.files:
            raise InvalidInputError(
                f"required slot {name!r} of data collection {rules.collection} is missing; add "
                "that file to the item"
            )


def absolute_paths(item: BulkItem) -> dict[str, bytes]:
    """Each slot's absolute file path, as bytes (what keys and duplicate checks compare)."""
    return {slot: os.fsencode(os.path.abspath(path)) for slot, path in item.files.items()}


def item_key(item: BulkItem, absolute: dict[str, bytes] | None = None) -> str:
    """A stable key for an item: a digest of its slots and absolute file paths.

    ``absolute`` is ``absolute_paths(item)`` when the caller has it already.
    """
    if absolute is None:
        absolute = absolute_paths(item)
    digest = hashlib.sha256()
    for slot in sorted(absolute):
        digest.update(slot.encode("utf-8", "surrogateescape") + b"\0" + absolute[slot] + b"\0")
    return digest.hexdigest()[:40]
