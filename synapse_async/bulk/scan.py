"""``scan_directory``: items from a directory tree, lazily, one directory at a time."""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from synapse_async.bulk.items import BulkItem
from synapse_async.errors import InvalidInputError
from synapse_async.models import DataCollection

__all__ = ["FILE_TYPE_EXTENSIONS", "scan_directory"]

logger = logging.getLogger("synapse_async.bulk")

FILE_TYPE_EXTENSIONS: dict[str, frozenset[str]] = {
    "image": frozenset({".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp"}),
    "video": frozenset({".mp4", ".mov", ".avi", ".mkv", ".webm"}),
    "audio": frozenset({".wav", ".mp3", ".flac", ".ogg", ".m4a"}),
    "text": frozenset({".txt", ".md"}),
    "json": frozenset({".json"}),
    "pcd": frozenset({".pcd", ".ply"}),
    "pdf": frozenset({".pdf"}),
    "csv": frozenset({".csv", ".tsv"}),
}
"""File extensions per ``file_type``, used to put a file into a slot when a spec names no
``extensions`` of its own."""

Specs = Sequence[Mapping[str, Any]] | DataCollection


def _spec_list(file_specifications: Specs) -> list[Mapping[str, Any]]:
    specs = (
        file_specifications.file_specifications
        if isinstance(file_specifications, DataCollection)
        else file_specifications
    )
    if isinstance(specs, (str, bytes)) or not isinstance(specs, Sequence) or not specs:
        raise InvalidInputError(
            "file_specifications must be the collection's non-empty list of slots "
            f"([{{'name', 'file_type', ...}}]) or the DataCollection, got {specs!r}"
        )
    for spec in specs:
        if not isinstance(spec, Mapping) or not isinstance(spec.get("name"), str):
            raise InvalidInputError(f"each file specification needs a 'name', got {spec!r}")
    return list(specs)


def _extensions(spec: Mapping[str, Any]) -> frozenset[str]:
    given = spec.get("extensions")
    if isinstance(given, Sequence) and not isinstance(given, str):
        return frozenset(("." + str(e).lower().lstrip(".")) for e in given)
    return FILE_TYPE_EXTENSIONS.get(str(spec.get("file_type", "")).lower(), frozenset())


def _slot_for(path: Path, specs: list[Mapping[str, Any]]) -> str:
    """The slot whose extensions include the file's.

    Else a name made from the extension, which the upload reports as an undefined slot.
    """
    suffix = path.suffix.lower()
    matches = [str(s["name"]) for s in specs if suffix in _extensions(s)]
    if len(matches) == 1:
        return matches[0]
    return suffix.lstrip(".") or "file"


def _walk(root: Path, recursive: bool) -> Iterator[tuple[Path, list[os.DirEntry[str]]]]:
    """(directory, its file entries sorted by name), depth first.

    Symlinked directories are followed once: a link back to a directory already scanned is
    skipped with a warning (its files are read once, from the first place they were seen).
    """
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            st = directory.stat()
        except OSError as exc:
            logger.warning("skipping %s: %s", directory, exc)
            continue
        if (st.st_dev, st.st_ino) in seen:
            logger.warning(
                "skipping %s: a symlink loop back to a directory already scanned", directory
            )
            continue
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
        files: list[os.DirEntry[str]] = []
        subdirs: list[Path] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_dir = False  # e.g. a symlink loop: reported as a file the upload cannot read
            if is_dir:
                subdirs.append(Path(entry.path))
            else:
                files.append(entry)
        yield directory, files
        if recursive:
            stack.extend(reversed(subdirs))


def scan_directory(
    root: str | os.PathLike[str],
    *,
    file_specifications: Specs,
    pattern: str = "*",
    recursive: bool = True,
) -> Iterator[BulkItem]:
    """Items for every file under ``root``, read lazily (one directory in memory at a time).

    With one slot in ``file_specifications``, each file is one item in that slot. With
    several, the files of a directory are grouped by stem (``0001.jpg`` + ``0001.json``) and
    each goes into the slot whose ``extensions`` (or ``file_type``: image, video, ...) match
    its extension. A file that matches no slot gets a slot named after its extension, which
    the upload reports as undefined: nothing is dropped silently. Slot names and required
    slots are checked against the collection by the upload, before any byte is sent.

    Args:
        root: the directory.
        file_specifications: the collection's slots (``collection.file_specifications``) or
            the ``DataCollection`` itself.
        pattern: a glob on file names (``"*.jpg"``); files that do not match are not read.
        recursive: descend into subdirectories (symlinked ones too, once each).

    Raises:
        InvalidInputError: ``root`` missing or not a directory, bad specifications; and, when
            iterated to the end, no file matched under ``root``.
    """
    base = Path(root)
    if not base.exists():
        raise InvalidInputError(f"no such directory: {str(base)!r}")
    if not base.is_dir():
        raise InvalidInputError(f"{str(base)!r} is not a directory; pass the folder to scan")
    specs = _spec_list(file_specifications)
    if not isinstance(pattern, str) or not pattern:
        raise InvalidInputError(f"pattern must be a non-empty glob string, got {pattern!r}")
    return _scan(base, specs, pattern, recursive)


def _scan(
    base: Path, specs: list[Mapping[str, Any]], pattern: str, recursive: bool
) -> Iterator[BulkItem]:
    found = 0
    for _directory, entries in _walk(base, recursive):
        names = (
            entries
            if pattern == "*"
            else [e for e in entries if fnmatch.fnmatchcase(e.name, pattern)]
        )
        if len(specs) == 1:
            slot = str(specs[0]["name"])
            for entry in names:
                found += 1
                yield BulkItem(files={slot: Path(entry.path)})
            continue
        groups: dict[str, list[dict[str, Path]]] = {}
        for entry in names:
            path = Path(entry.path)
            slot = _slot_for(path, specs)
            units = groups.setdefault(path.stem, [])
            target = next((u for u in units if slot not in u), None)
            if target is None:
                target = {}
                units.append(target)
            target[slot] = path
        for units in groups.values():
            for files in units:
                found += 1
                yield BulkItem(files=files)
    if not found:
        raise InvalidInputError(
            f"no files matching {pattern!r} under {str(base)!r}: check the folder and pattern"
        )
