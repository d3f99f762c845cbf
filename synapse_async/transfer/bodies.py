"""Request bodies streamed from disk (512 KiB reads in worker threads), rebuilt per attempt.

A body is a zero-argument factory (what ``HTTPClient.request(data=...)`` retries with): each
attempt first checks that the file has not changed, then re-reads the range from disk. So a
part is never held in memory and a retry sends the same bytes again.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncGenerator, Callable
from io import FileIO
from pathlib import Path

import anyio
import anyio.to_thread

from synapse_async.transfer.plan import BUFFER_SIZE, FileSnapshot, Part

__all__ = ["BodyFactory", "Chunk", "StreamedBody", "file_chunks", "multipart_chunk", "raw_part"]

Chunk = bytes | memoryview
"""A piece of a streamed body."""
BodyFactory = Callable[[], AsyncGenerator[Chunk, None]]
"""Builds a fresh streamed body per attempt."""


def _open_at(path: Path, offset: int) -> FileIO:
    raw = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by file_chunks)
    raw.seek(offset)
    return raw


async def file_chunks(
    snapshot: FileSnapshot, offset: int, length: int
) -> AsyncGenerator[Chunk, None]:
    """``length`` bytes of the file from ``offset``, in reads of at most 512 KiB.

    Raises:
        FileChangedError: the file ended early.
    """
    raw = await anyio.to_thread.run_sync(_open_at, snapshot.path, offset)
    try:
        remaining = length
        while remaining > 0:
            # A fresh buffer per read (the transport may still hold the previous one),
            # allocated on the loop's thread rather than in the executor thread: memory from
            # worker-thread malloc arenas is not given back, and peak RSS would grow.
            chunk = bytearray(min(BUFFER_SIZE, remaining))
            # the same worker threads as hashing and download writes (one pool)
            n = await anyio.to_thread.run_sync(raw.readinto, chunk)
            if not n:
                raise snapshot.changed(f"it ended before byte {offset + length}")
            remaining -= n
            # A memoryview: aiohttp slices each chunk to the Content-Length, and slicing a
            # view copies nothing.
            yield memoryview(chunk)[:n]
    finally:
        # Closed here, synchronously (a read-only file has nothing to flush): this runs on
        # every way out, even when the stream is abandoned or cancelled mid-read.
        raw.close()


class StreamedBody:
    """A body factory (one fresh stream of the file per attempt) that can close its streams.

    aiohttp stops iterating a body when a request fails half-way and leaves the stream (and
    its open file) to the garbage collector; ``aclose()`` after the request closes them.
    """

    def __init__(
        self, snapshot: FileSnapshot, make: Callable[[], AsyncGenerator[Chunk, None]]
    ) -> None:
        self._snapshot = snapshot
        self._make = make
        self._streams: list[AsyncGenerator[Chunk, None]] = []

    def __call__(self) -> AsyncGenerator[Chunk, None]:
        """A fresh stream of the body (raises ``FileChangedError`` if the file changed)."""
        self._snapshot.check()  # never send a file that changed since the upload began
        stream = self._make()
        self._streams.append(stream)
        return stream

    async def aclose(self) -> None:
        """Close the streams made so far (also when the caller is being cancelled)."""
        streams, self._streams = self._streams, []
        with anyio.CancelScope(shield=True):
            for stream in streams:
                # RuntimeError: aiohttp is still cancelling it, and that closes it too.
                with contextlib.suppress(RuntimeError):
                    await stream.aclose()


def raw_part(snapshot: FileSnapshot, part: Part) -> StreamedBody:
    """The body of a parallel part PUT: the part's bytes, nothing else."""
    return StreamedBody(snapshot, lambda: file_chunks(snapshot, part.offset, part.size))


def _ascii_name(name: str) -> str:
    safe = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name)
    return safe or "file"


def multipart_chunk(
    snapshot: FileSnapshot, filename: str, part: Part
) -> tuple[StreamedBody, dict[str, str]]:
    """The body and headers of a v1 chunk PUT: a multipart form of known length.

    Fields ``filename`` (the real name, UTF-8) and ``file`` (the chunk), with
    ``Content-Range: bytes {start}-{end}/{total}``. The length is exact, so the server gets
    a ``Content-Length`` rather than a chunked transfer encoding.
    """
    boundary = uuid.uuid4().hex
    head = (
        (f'--{boundary}\r\nContent-Disposition: form-data; name="filename"\r\n\r\n').encode()
        + filename.encode("utf-8")
        + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{_ascii_name(filename)}"\r\nContent-Type: application/octet-stream'
            "\r\n\r\n"
        ).encode()
    )
    tail = f"\r\n--{boundary}--\r\n".encode()
    headers = {
        "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Content-Length": str(len(head) + part.size + len(tail)),
        "Content-Range": f"bytes {part.offset}-{part.end - 1}/{snapshot.size}",
    }

    async def stream() -> AsyncGenerator[Chunk, None]:
        yield head
        chunks = file_chunks(snapshot, part.offset, part.size)
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()
        yield tail

    return StreamedBody(snapshot, stream), headers
