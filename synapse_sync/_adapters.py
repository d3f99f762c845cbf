"""Hand-written adapters the generated code calls for result shapes a rule cannot express."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

from synapse_sync._portal import Portal

__all__ = ["sync_list_all"]

T = TypeVar("T")
P = TypeVar("P")


def sync_list_all(portal: Portal, value: P | tuple[AsyncIterator[T], int]
                  ) -> P | tuple[Iterator[T], int]:
    """A compat ``list_*`` result: a page as is, or ``(async iterator, count)`` made sync."""
    if isinstance(value, tuple):
        items, count = value
        return portal.iterate(lambda: items), count
    return value
