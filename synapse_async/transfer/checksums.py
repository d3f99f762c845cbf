"""MD5 of file ranges, in worker threads (hashlib releases the GIL) with a fixed 1 MiB buffer.

Hashing re-reads the file (from the page cache, usually) instead of keeping parts in memory:
a part's MD5 is computed just before the part is sent, the whole-file MD5 by one sequential
pass that overlaps with the part uploads. Cancelling a hash stops its thread within a buffer.
"""

from __future__ import annotations

import base64
import hashlib
import threading

import anyio.to_thread

from synapse_async.transfer.plan import BUFFER_SIZE, FileSnapshot, Part

__all__ = ["content_md5", "file_md5", "md5_range", "part_md5"]


class _Stopped(Exception):
    """The hash was abandoned (its caller was cancelled)."""


def md5_range(
    snapshot: FileSnapshot,
    offset: int,
    length: int,
    stop: threading.Event | None = None,
    buf: bytearray | None = None,
) -> bytes:
    """The MD5 digest of ``length`` bytes at ``offset`` (blocking; run it in a thread).

    Stops (raising a private exception) once ``stop`` is set; reads into ``buf`` when given.

    Raises:
        FileChangedError: the file ended before ``offset + length``.
    """
    h = hashlib.md5(usedforsecurity=False)
    if buf is None:
        buf = bytearray(min(BUFFER_SIZE, max(length, 1)))
    view = memoryview(buf)
    with open(snapshot.path, "rb", buffering=0) as fh:
        fh.seek(offset)
        remaining = length
        while remaining > 0:
            if stop is not None and stop.is_set():
                raise _Stopped
            n = fh.readinto(view[: min(len(buf), remaining)])
            if not n:
                raise snapshot.changed(f"it ended before byte {offset + length}")
            h.update(view[:n])
            remaining -= n
    return h.digest()


async def _in_thread(snapshot: FileSnapshot, offset: int, length: int) -> bytes:
    stop = threading.Event()
    # Allocated here, on the event loop's thread: buffers made in worker threads land in
    # per-thread malloc arenas, which keep their freed memory (peak RSS grows by MiBs).
    buf = bytearray(min(BUFFER_SIZE, max(length, 1)))
    try:
        return await anyio.to_thread.run_sync(
            md5_range, snapshot, offset, length, stop, buf, abandon_on_cancel=True
        )
    finally:
        stop.set()  # an abandoned thread stops at its next buffer


async def part_md5(snapshot: FileSnapshot, part: Part) -> bytes:
    """The MD5 digest of one part, computed in a worker thread."""
    return await _in_thread(snapshot, part.offset, part.size)


async def file_md5(snapshot: FileSnapshot) -> str:
    """The hex MD5 of the whole file, computed in a worker thread (unless already known)."""
    if snapshot.md5 is not None:
        return snapshot.md5
    return (await _in_thread(snapshot, 0, snapshot.size)).hex()


def content_md5(digest: bytes) -> str:
    """The ``Content-MD5`` header value: base64 of the 16-byte digest."""
    return base64.b64encode(digest).decode("ascii")
