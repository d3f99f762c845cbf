"""Async iterables as sync iterators: batched hops, deterministic close.

On the loop, a ``Feed`` runs one producer task that pulls items from the async iterator into
a buffer of at most ``batch`` items, parking when it is full. Each ``next()`` that finds the
consumer's local batch empty makes one hop that takes the whole buffer (waiting for the
first item if it is empty). A fast source therefore crosses threads once per ``batch``
items, while a slow one hands over each item as soon as it exists: the producer is at most
``batch`` items ahead of the consumer's current batch.

A chunked feed (``Portal.iterate_chunks``) buffers chunks instead, counting the items each one
will hold, and the calling thread turns each chunk into its items (``Chunk.decode()``) right
before yielding them: a paginated listing parses and decodes each page in the calling thread,
so its decoded items live no longer than in an ``async for`` (fewer garbage collections, less
memory) and the loop thread only fetches.

The async iterator is created, stepped and closed only on the loop thread, so PEP 525 hooks
bind it to the facade loop. Closing (``close()``, ``with``, or the iterator being freed,
which CPython does right after a ``break`` out of ``for x in client.list():``) stops the
producer and awaits ``aclose()`` on the loop before returning, bounded by
``Portal.cancel_grace``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import AsyncIterable, AsyncIterator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from synapse_sync._calls import public_name
from synapse_sync.errors import FacadeClosedError

if TYPE_CHECKING:
    from synapse_sync._portal import Portal

__all__ = ["Chunk", "Feed", "SyncIterator"]

T = TypeVar("T")


class Chunk(Protocol[T]):
    """What a chunked iteration's async iterator yields (e.g. ``PageChunk``)."""

    @property
    def size(self) -> int:
        """How many items the chunk should hold (bounds the buffer before decoding)."""
        ...

    def decode(self) -> list[T]:
        """The chunk's items, made in the calling thread; none ends the iteration."""
        ...


log = logging.getLogger("synapse_sync")


class Feed(Generic[T]):
    """The loop-side state of one sync iteration (touched only on the loop thread)."""

    def __init__(
        self,
        fn: Callable[..., AsyncIterable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        batch: int,
        loop: asyncio.AbstractEventLoop,
        strip: bool,
        chunked: bool = False,
    ) -> None:
        self.fn = fn
        self.chunked = chunked
        self.args = args
        self.kwargs = kwargs
        self.batch = batch
        self.loop = loop
        self.strip = strip
        self.items: list[Any] = []  # items, or chunks when ``chunked``
        self.pending = 0  # items the buffered chunks will hold
        self.ended = False
        self.end: BaseException | None = None
        self.closing = False
        self.waiter: asyncio.Future[None] | None = None
        self.flush_due = False
        self.space: asyncio.Future[None] | None = None
        self.task: asyncio.Task[None] | None = None
        self.ait: AsyncIterator[T] | None = None

    @property
    def facade_name(self) -> str:
        """What messages call this iteration: the async function that makes the iterable."""
        return public_name(self.fn)

    async def take(self) -> tuple[list[Any], bool, BaseException | None]:
        """Everything buffered (waiting for the first item): ``(items, ended, error)``.

        Cancelled while waiting (Ctrl-C), it takes nothing: buffered items stay.
        """
        if self.task is None and not self.ended:
            try:
                self.ait = self.fn(*self.args, **self.kwargs).__aiter__()
            except BaseException as exc:  # the listing call itself failed
                self.ended, self.end = True, exc
            else:
                self.task = self.loop.create_task(self._produce())
        if not self.items and not self.ended:
            waiter = self.waiter = self.loop.create_future()
            try:
                await waiter
            finally:
                self.waiter = None
        items, self.items, self.pending = self.items, [], 0
        space = self.space
        if space is not None and not space.done():
            space.set_result(None)
        return items, self.ended, self.end

    def _flush(self) -> None:
        self.flush_due = False
        waiter = self.waiter
        if (
            waiter is not None
            and not waiter.done()
            and (self.items or self.ended)
            and not self.loop.is_closed()
        ):  # closed: a producer finalized after shutdown
            waiter.set_result(None)

    async def _produce(self) -> None:
        ait = self.ait
        assert ait is not None
        batch = self.batch
        chunked = self.chunked
        try:
            while not self.closing:
                item = await ait.__anext__()
                items = self.items
                items.append(item)
                if chunked:
                    self.pending += cast("Chunk[Any]", item).size
                if self.waiter is not None and not self.flush_due:
                    # Hand over at the end of this loop pass, so that everything the source
                    # yields without suspending (a whole page) goes in the same hop.
                    self.flush_due = True
                    self.loop.call_soon(self._flush)
                if (self.pending if chunked else len(items)) >= batch:
                    self.space = self.loop.create_future()
                    await self.space
                    self.space = None
        except StopAsyncIteration:
            pass
        except BaseException as exc:  # delivered to the consumer after the buffered items
            if not self.closing:
                if self.strip and exc.__traceback__ is not None:
                    exc.__traceback__ = exc.__traceback__.tb_next or exc.__traceback__
                self.end = exc
        finally:
            self.ended = True
            self._flush()

    async def aclose(self) -> None:
        """Stop the producer, then ``aclose()`` the async iterator (its ``finally`` runs)."""
        self.closing = True
        task = self.task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task])
        ait, self.ait = self.ait, None
        self.items = []
        self.ended = True
        aclose = getattr(ait, "aclose", None)
        if aclose is not None:
            await aclose()

    def close_soon(self) -> None:
        """Close without waiting (the iterator was freed on the loop thread itself)."""
        self.loop.create_task(self.aclose())


class SyncIterator(Generic[T]):
    """A blocking iterator over an async iterable that runs on the facade loop.

    Close it to release the async iterator early: ``close()``, a ``with`` block, or by
    dropping the last reference (CPython frees ``for x in portal.iterate(...)`` right after a
    ``break`` or an exception). A fully consumed iterator needs no closing. Not thread-safe:
    iterate from one thread at a time, like a generator.
    """

    __slots__ = (
        "_chunks",
        "_done",
        "_end",
        "_feed",
        "_items",
        "_make_feed",
        "_n",
        "_portal",
        "_pos",
    )

    def __init__(
        self,
        portal: Portal,
        fn: Callable[..., AsyncIterable[Any]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        batch: int,
        chunked: bool = False,
    ) -> None:
        self._portal = portal
        self._make_feed: Callable[[asyncio.AbstractEventLoop, bool], Feed[T]] = functools.partial(
            Feed, fn, args, kwargs, batch, chunked=chunked
        )  # called with the loop at the first hop
        self._feed: Feed[T] | None = None
        self._chunks: list[Chunk[T]] | None = [] if chunked else None  # taken, not decoded
        self._items: list[T] = []
        self._pos = 0
        self._n = 0
        self._done = False
        self._end: BaseException | None = None

    def __iter__(self) -> SyncIterator[T]:
        return self

    def __next__(self) -> T:
        pos = self._pos
        if pos < self._n:
            self._pos = pos + 1
            return self._items[pos]
        return self._refill()

    def _refill(self) -> T:
        portal = self._portal
        chunks = self._chunks
        while True:
            if chunks:
                items = self._decode(chunks)
            elif self._done:
                break
            elif chunks is not None:
                chunks.extend(self._hop(portal))
                continue
            else:
                items = self._hop(portal)
            self._items, self._n = items, len(items)
            if items:
                self._pos = 1
                return items[0]
        end = self._end
        if end is None:
            raise StopIteration
        self._end = None
        raise portal._inner_cancel(end) if isinstance(end, asyncio.CancelledError) else end

    def _hop(self, portal: Portal) -> list[Any]:
        """Take what the loop has buffered (waiting for the first item or chunk)."""
        feed = self._feed
        if feed is None:
            feed = self._feed = self._make_feed(portal.loop, portal._strip)
        elif feed.loop is not portal.loop:
            raise FacadeClosedError(
                "this iterator belongs to an event loop that no longer exists (the process "
                "forked, or the facade restarted); start a new listing"
            )
        items, ended, end = portal._run(None, feed.take, (), {})
        if ended:
            self._done, self._end = True, end
            self._feed = None  # the async iterator finished by itself: nothing to close
        return items

    def _decode(self, chunks: list[Chunk[T]]) -> list[T]:
        """The next chunk's items; a chunk that fails or has none ends the iteration."""
        try:
            items = chunks[0].decode()
        except Exception:
            self._shut(quiet=True)
            raise
        if items:
            del chunks[0]
        else:  # e.g. a page past the end: the listing is over (an error from the loop is moot)
            self._shut(quiet=True)
        return items

    def close(self) -> None:
        """Close the async iterator on the loop now (bounded wait); idempotent."""
        self._shut(quiet=False)

    def _shut(self, *, quiet: bool) -> None:
        self._done = True
        self._items, self._n, self._pos, self._end = [], 0, 0, None
        if self._chunks:
            self._chunks.clear()
        feed, self._feed = self._feed, None
        if feed is not None:
            self._close_feed(feed, quiet=quiet)

    def __enter__(self) -> SyncIterator[T]:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __del__(self) -> None:
        feed = self._feed
        if feed is None or sys.is_finalizing():
            return
        self._feed = None
        self._close_feed(feed, quiet=True)

    def _close_feed(self, feed: Feed[T], *, quiet: bool) -> None:
        """Close the async iterator behind ``feed`` on the loop, waiting (bounded) for it."""
        portal = self._portal
        if feed.loop is not portal._loop or not portal.running:
            return  # that loop is gone (closed, crashed, forked): nothing left to close
        if portal.in_loop_thread():  # e.g. garbage-collected on the loop thread
            feed.loop.call_soon(feed.close_soon)
            return
        try:
            portal.call_with_timeout(portal.cancel_grace, feed.aclose)
        except Exception:
            if not quiet:
                raise
            log.warning("synapse_sync: closing %s failed", feed.facade_name, exc_info=True)
