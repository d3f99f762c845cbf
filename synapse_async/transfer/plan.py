"""Pure planning for chunked uploads: limits, parts, the file snapshot, monotonic progress.

Nothing here talks HTTP; the checks run before any request is sent.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable
from pathlib import Path

import attrs

from synapse_async._validation import is_int
from synapse_async.errors import FileChangedError, InvalidInputError

__all__ = [
    "BUFFER_SIZE",
    "DEFAULT_PART_SIZE",
    "MAX_CONCURRENCY",
    "MAX_PARTS",
    "MAX_PART_SIZE",
    "MIN_PART_SIZE",
    "FileSnapshot",
    "Part",
    "Progress",
    "ProgressCallback",
    "check_concurrency",
    "check_part_size",
    "check_upload_id",
    "plan_parts",
]

MIN_PART_SIZE = 5 * 2**20
"""Smallest part size (5 MiB); only the last part of a file may be shorter."""
MAX_PART_SIZE = 5 * 2**30
"""Largest part size (5 GiB)."""
DEFAULT_PART_SIZE = 50 * 2**20
"""Default part (and v1 chunk) size: 50 MiB."""
MAX_PARTS = 10_000
"""Most parts one upload may have."""
MAX_CONCURRENCY = 64
"""Most parts in flight at once."""
BUFFER_SIZE = 2**19
"""Bytes read from disk at a time, for hashing and for sending (memory per part in flight)."""

ProgressCallback = Callable[[int, int], None]
"""``on_progress(bytes_confirmed, total_bytes)``."""


def check_part_size(part_size: int) -> int:
    """Validate a part size: an integer in [5 MiB, 5 GiB]."""
    if not is_int(part_size) or not (MIN_PART_SIZE <= part_size <= MAX_PART_SIZE):
        raise InvalidInputError(
            f"part_size must be an integer between {MIN_PART_SIZE} (5 MiB) and "
            f"{MAX_PART_SIZE} (5 GiB) bytes, got {part_size!r}"
        )
    return part_size


def check_upload_id(upload_id: str) -> str:
    """Validate an upload id (a non-empty string) before it goes into a URL."""
    if not isinstance(upload_id, str) or not upload_id.strip():
        raise InvalidInputError(f"upload_id must be a non-empty string, got {upload_id!r}")
    return upload_id


def check_concurrency(max_concurrency: int) -> int:
    """Validate the number of parts in flight: 1..64."""
    if not is_int(max_concurrency) or not (1 <= max_concurrency <= MAX_CONCURRENCY):
        raise InvalidInputError(
            f"max_concurrency must be an integer between 1 and {MAX_CONCURRENCY}, "
            f"got {max_concurrency!r}"
        )
    return max_concurrency


@attrs.frozen
class Part:
    """One part of a file: number (1-based), byte offset and length."""

    n: int
    offset: int
    size: int

    @property
    def end(self) -> int:
        """The offset just past the part."""
        return self.offset + self.size


def plan_parts(size: int, part_size: int) -> list[Part]:
    """The parts of a ``size``-byte file: all ``part_size`` long except maybe the last.

    Raises:
        InvalidInputError: the file would need more than ``MAX_PARTS`` parts.
    """
    count = max(1, math.ceil(size / part_size))
    if count > MAX_PARTS:
        raise InvalidInputError(
            f"a {size}-byte file in {part_size}-byte parts needs {count} parts; at most "
            f"{MAX_PARTS} are allowed: use part_size >= {math.ceil(size / MAX_PARTS)}"
        )
    return [
        Part(n, (n - 1) * part_size, min(part_size, size - (n - 1) * part_size))
        for n in range(1, count + 1)
    ]


@attrs.frozen
class FileSnapshot:
    """A local file as it was when the upload started; ``check()`` says if it changed since.

    Attributes:
        path: the absolute path.
        size: bytes.
        mtime_ns: modification time.
        inode: (device, inode), so a file replaced by another one is noticed too.
        md5: the whole file's MD5 (hex) when the caller already hashed exactly this state
            of the file (same size and mtime); the upload then does not hash it again.
    """

    path: Path
    size: int
    mtime_ns: int
    inode: tuple[int, int]
    md5: str | None = None

    @classmethod
    def take(cls, path: str | os.PathLike[str], *, allow_empty: bool = False) -> FileSnapshot:
        """Validate ``path`` as an upload source and record its state.

        Args:
            path: the local file.
            allow_empty: accept an empty file (a multipart upload can carry one; a chunked
                upload cannot).

        Raises:
            InvalidInputError: missing, a directory or not a regular file, unreadable, or empty.
        """
        p = Path(path).expanduser()
        try:
            st = p.stat()
        except FileNotFoundError:
            raise InvalidInputError(f"no such file: {str(p)!r}") from None
        except OSError as exc:
            raise InvalidInputError(f"cannot read {str(p)!r}: {exc.strerror}") from None
        if stat.S_ISDIR(st.st_mode):
            raise InvalidInputError(f"{str(p)!r} is a directory; pass a file")
        if not stat.S_ISREG(st.st_mode):
            raise InvalidInputError(f"{str(p)!r} is not a regular file")
        try:
            _probe_readable(p)
        except OSError as exc:
            raise InvalidInputError(
                f"{str(p)!r} is not readable ({exc.strerror or exc}); check its permissions"
            ) from None
        if st.st_size == 0 and not allow_empty:
            raise InvalidInputError(f"{str(p)!r} is empty; there is nothing to upload")
        return cls(p.resolve(), st.st_size, st.st_mtime_ns, (st.st_dev, st.st_ino))

    def with_known_md5(self, size: int, mtime_ns: int, md5: str) -> FileSnapshot:
        """The snapshot with ``md5`` if it was taken of the file at ``size`` and ``mtime_ns``."""
        if (size, mtime_ns) != (self.size, self.mtime_ns):
            return self  # changed since it was hashed: the upload hashes it afresh
        return attrs.evolve(self, md5=md5)

    def check(self) -> None:
        """Raise ``FileChangedError`` when the file's size, mtime or identity changed."""
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise self.changed(f"it can no longer be read ({exc.strerror})") from None
        if st.st_size != self.size:
            raise self.changed(f"its size went from {self.size} to {st.st_size} bytes")
        if st.st_mtime_ns != self.mtime_ns or (st.st_dev, st.st_ino) != self.inode:
            raise self.changed("it was modified (its modification time changed)")

    def changed(self, why: str, upload_id: str | None = None) -> FileChangedError:
        """The error saying this file changed during the upload, and why."""
        return FileChangedError(
            f"{str(self.path)!r} changed while it was being uploaded: {why}; the upload was "
            "not completed (nothing mixed was stored); upload it again once it stops changing",
            path=str(self.path),
            reason="file_changed",
            upload_id=upload_id,
        )


def _probe_readable(path: Path) -> None:
    """Open and close ``path`` for reading (a separate function so tests can stand in)."""
    with path.open("rb"):
        pass


class Progress:
    """Bytes confirmed by the server so far; calls ``callback(confirmed, total)``.

    The value only grows: each part is counted once, when the server confirms it.
    """

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total = total
        self.confirmed = 0
        self._callback = callback
        self._reported = False

    def advance_to(self, confirmed: int) -> None:
        """Report ``confirmed`` bytes if that is more than before (never goes back)."""
        confirmed = min(confirmed, self.total)
        if confirmed < self.confirmed or (confirmed == self.confirmed and self._reported):
            return
        self.confirmed = confirmed
        self._reported = True
        if self._callback is not None:
            self._callback(confirmed, self.total)

    def add(self, nbytes: int) -> None:
        """Count ``nbytes`` more as confirmed."""
        self.advance_to(self.confirmed + nbytes)
