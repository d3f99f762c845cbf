"""Async iterables as sync iterators: batching, closing, errors."""

from __future__ import annotations

import asyncio
import gc
import math
import threading
from collections.abc import AsyncIterator
from typing import Any

import pytest

from synapse_sync import FacadeClosedError, Portal, SyncIterator
from synapse_sync._iterators import Feed


class Source:
    """An async generator factory that records what happened, and where."""

    def __init__(self, n: int, *, delay: float = 0.0, fail_at: int | None = None) -> None:
        self.n, self.delay, self.fail_at = n, delay, fail_at
        self.produced = 0
        self.events: list[str] = []
        self.error = ValueError("source failed")

    async def items(self) -> AsyncIterator[int]:
        try:
            for i in range(self.n):
                if i == self.fail_at:
                    raise self.error
                if self.delay:
                    await asyncio.sleep(self.delay)
                self.produced += 1
                yield i
        finally:
            self.events.append(f"finally@{threading.current_thread().name}")


def test_full_iteration_maps_stop_async_iteration(portal: Portal) -> None:
    src = Source(200)
    it = portal.iterate(src.items)
    assert list(it) == list(range(200))
    assert src.events == ["finally@synapse-sync-loop"]
    with pytest.raises(StopIteration):
        next(it)


def test_break_closes_the_generator_before_the_next_statement(portal: Portal) -> None:
    src = Source(10_000)
    for x in portal.iterate(src.items):
        if x == 1:
            break
    assert src.events == ["finally@synapse-sync-loop"]


def test_exception_in_the_loop_body_closes_the_generator(portal: Portal) -> None:
    src = Source(10_000)
    with pytest.raises(RuntimeError):
        for x in portal.iterate(src.items):
            if x == 2:
                raise RuntimeError("body failed")
    assert src.events == ["finally@synapse-sync-loop"]


def test_with_block_closes_even_when_a_reference_is_kept(portal: Portal) -> None:
    src = Source(10_000)
    with pytest.raises(KeyError), portal.iterate(src.items) as it:
        next(it)
        raise KeyError("body")
    assert src.events == ["finally@synapse-sync-loop"]
    assert list(it) == []  # closed: nothing more


def test_close_is_explicit_and_idempotent(portal: Portal) -> None:
    src = Source(10_000)
    it = portal.iterate(src.items)
    assert next(it) == 0
    it.close()
    it.close()
    assert src.events == ["finally@synapse-sync-loop"]


def test_abandoned_iterator_is_closed_after_del_and_gc(portal: Portal) -> None:
    src = Source(10_000)
    holder: dict[str, object] = {}
    it = portal.iterate(src.items)
    next(it)
    holder["self"] = holder  # a reference cycle: only the cycle collector frees it
    holder["it"] = it
    del it, holder
    assert src.events == []
    gc.collect()
    assert src.events == ["finally@synapse-sync-loop"]


def test_unstarted_iterator_never_calls_the_factory(portal: Portal) -> None:
    calls = []

    def factory() -> AsyncIterator[int]:
        calls.append(1)
        return Source(1).items()

    it = portal.iterate(factory)
    del it
    assert calls == []


def test_error_mid_stream_comes_after_the_items_as_the_same_object(portal: Portal) -> None:
    src = Source(100, fail_at=70)
    got = []
    with pytest.raises(ValueError) as info:
        for x in portal.iterate(src.items):
            got.append(x)
    assert got == list(range(70))
    assert info.value is src.error
    assert src.events == ["finally@synapse-sync-loop"]


def test_factory_error_is_raised_at_first_next(portal: Portal) -> None:
    def bad(page_size: int) -> AsyncIterator[int]:
        raise ValueError(f"page_size {page_size}")

    it = portal.iterate(bad, 0)
    with pytest.raises(ValueError, match="page_size 0"):
        next(it)


def test_items_come_in_batches_per_hop(portal: Portal, monkeypatch: pytest.MonkeyPatch) -> None:
    hops = 0
    fetch = Feed.take

    async def counting(self: Feed[Any]) -> object:  # the coroutine each hop runs
        nonlocal hops
        hops += 1
        return await fetch(self)

    monkeypatch.setattr(Feed, "take", counting)
    n = 5000
    # Per-item cost is a speed claim: benchmarks/sync_overhead.py measures it.
    assert sum(portal.iterate(Source(n).items)) == n * (n - 1) // 2
    assert hops <= math.ceil(n / 64) + 2, hops
    hops = 0
    assert len(list(portal.iterate_batched(10, Source(100).items))) == 100
    assert 10 <= hops <= 12


def _let_the_loop_run(portal: Portal) -> None:
    """A few round trips through the loop: whatever was ready to run there has run.

    The sources here never suspend, so a producer that did not park would run to the end.
    """
    for _ in range(3):
        portal.call(asyncio.sleep, 0)


def test_producer_runs_at_most_one_batch_ahead(portal: Portal) -> None:
    src = Source(10_000)
    it = portal.iterate_batched(16, src.items)
    for consumed in range(1, 6):
        next(it)
        _let_the_loop_run(portal)  # the producer runs as far as it may
        # the consumer holds at most one batch, the loop buffers at most one more
        assert src.produced <= consumed + 2 * 16
    it.close()


def test_slow_source_hands_over_items_without_waiting_for_a_full_batch(portal: Portal) -> None:
    events: list[str] = []

    async def slow() -> AsyncIterator[int]:
        yield 0
        events.append("parked")
        try:  # the next item would take 30 s: a hang guard, never reached when it works
            await asyncio.wait_for(asyncio.Event().wait(), 30)
        except TimeoutError:
            events.append("timed out")
        yield 1

    it = portal.iterate(slow)  # a batch is 64 items; the source is parked after one
    assert next(it) == 0
    assert events == ["parked"]  # handed over while the source waits, not after it
    it.close()


def test_iterating_on_the_loop_thread_is_a_reentrancy_error(portal: Portal) -> None:
    from synapse_sync import FacadeReentrancyError

    async def inside() -> str:
        try:
            next(portal.iterate(Source(3).items))
        except FacadeReentrancyError:
            return "raised"
        return "no error"

    assert portal.call(inside) == "raised"


def test_iterator_after_close_of_the_portal() -> None:
    p = Portal()
    it: SyncIterator[int] = p.iterate(Source(10_000).items)
    next(it)
    p.close()
    with pytest.raises(FacadeClosedError):
        list(it)


class ListChunk:
    """A chunk (``synapse_sync._iterators.Chunk``) whose items are made when decoded."""

    def __init__(self, items: list[int], *, fail: BaseException | None = None) -> None:
        self.items, self.fail = items, fail
        self.size = len(items)
        self.decoded_in: list[int] = []  # thread idents

    def decode(self) -> list[int]:
        self.decoded_in.append(threading.get_ident())
        fail, self.fail = self.fail, None
        if fail is not None:
            raise fail
        return list(self.items)


class Chunks:
    """An async generator of chunks (pages), optionally failing mid-way."""

    def __init__(
        self,
        sizes: list[int],
        *,
        fail_at: int | None = None,
        decode_fails: dict[int, BaseException] | None = None,
    ) -> None:
        self.sizes, self.fail_at = sizes, fail_at
        self.decode_fails = decode_fails or {}
        self.made: list[ListChunk] = []
        self.closed = False

    @property
    def chunks_made(self) -> int:
        return len(self.made)

    async def pages(self) -> AsyncIterator[ListChunk]:
        start = 0
        try:
            for n, size in enumerate(self.sizes):
                if n == self.fail_at:
                    raise KeyError("page failed")
                chunk = ListChunk(list(range(start, start + size)), fail=self.decode_fails.get(n))
                self.made.append(chunk)
                yield chunk
                start += size
        finally:
            self.closed = True


def test_chunked_iteration_yields_every_item_of_every_chunk_in_order(portal: Portal) -> None:
    src = Chunks([3, 100, 1, 64])
    assert list(portal.iterate_chunks(src.pages)) == list(range(168))
    assert src.closed


def test_chunks_are_decoded_in_the_calling_thread(portal: Portal) -> None:
    src = Chunks([5, 5, 5])
    assert len(list(portal.iterate_chunks(src.pages))) == 15
    assert [c.decoded_in for c in src.made] == [[threading.get_ident()]] * 3


def test_a_chunk_without_items_ends_the_iteration_and_closes_the_source(portal: Portal) -> None:
    src = Chunks([3, 0, 5, 5] + [1] * 5000)
    assert list(portal.iterate_chunks(src.pages)) == [0, 1, 2]
    assert src.closed and src.chunks_made < 5000  # closed, not drained
    assert list(portal.iterate_chunks(Chunks([0, 4]).pages)) == []


def test_chunked_iteration_error_comes_after_the_earlier_chunks(portal: Portal) -> None:
    got: list[int] = []
    with pytest.raises(KeyError, match="page failed"):
        for x in portal.iterate_chunks(Chunks([10, 10, 10], fail_at=2).pages):
            got.append(x)
    assert got == list(range(20))


def test_a_chunk_that_fails_to_decode_raises_in_place_and_ends_the_iteration(
    portal: Portal,
) -> None:
    src = Chunks([10, 10, 10] + [10] * 500, decode_fails={1: ValueError("bad page")})
    it = portal.iterate_chunks(src.pages)
    got = [next(it) for _ in range(10)]
    with pytest.raises(ValueError, match="bad page"):
        next(it)
    assert got == list(range(10))
    assert src.closed and src.chunks_made < 500
    assert list(it) == []  # over, like a generator that raised


def test_ctrl_c_while_decoding_keeps_the_chunk(portal: Portal) -> None:
    src = Chunks([4, 4], decode_fails={1: KeyboardInterrupt()})
    it = portal.iterate_chunks(src.pages)
    got = [next(it) for _ in range(4)]
    with pytest.raises(KeyboardInterrupt):
        next(it)
    got += list(it)  # the same chunk is decoded again: nothing is lost
    assert got == list(range(8))


def test_chunked_iteration_runs_at_most_a_batch_and_a_chunk_ahead(portal: Portal) -> None:
    src = Chunks([100] * 50)
    it = portal.iterate_chunks(src.pages)
    for consumed in range(1, 250, 50):
        for _ in range(50):
            next(it)
        _let_the_loop_run(portal)  # the producer runs as far as it may
        # ahead of what was consumed: the consumer's last hop (what the loop had buffered:
        # under a batch plus one chunk) and the loop's buffer since (the same bound again)
        assert src.chunks_made * 100 <= consumed + 2 * (portal.batch_size + 100)
    it.close()
    assert src.closed and src.chunks_made < 50
