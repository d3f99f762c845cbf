"""The hand-written base of every generated sync class.

A generated class only declares its methods; each is one portal hop on ``self._aio``. What
every class shares lives here:

* ``_from_async`` wraps an async object; ``_wrap`` does it for a result, keeping a
  reference to the object that produced it, so a client stays alive (and open) while
  anything derived from it (a resource, a paginator, a project handle, a copy made by
  ``with_options``) is still in use.
* ``attribute`` declares a sub-resource (``client.tasks``), wrapped on first access.
* ``_open`` is what a generated constructor calls: the async object is closed on the facade
  loop when the sync object is garbage-collected, and by the facade's exit hook otherwise,
  so a client that is never closed leaves no "Unclosed client session" behind.
* ``__repr__`` names the sync class.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any, Generic, TypeVar, cast, overload

from synapse_sync._portal import Portal, get_portal

__all__ = ["SyncResource", "attribute"]

A = TypeVar("A")
P = TypeVar("P")
T = TypeVar("T")
S = TypeVar("S", bound="SyncResource[Any]")


class SyncResource(Generic[A]):
    """Base of the generated sync classes: an async object ``A`` and the portal that runs it."""

    _aio: A
    _portal: Portal
    _owner: SyncResource[Any] | None

    @classmethod
    def _from_async(
        cls: type[S], aio: Any, portal: Portal, owner: SyncResource[Any] | None = None
    ) -> S:
        """Wrap the async object ``aio`` (it lives on ``portal``'s loop)."""
        self = object.__new__(cls)
        self._aio = aio
        self._portal = portal
        self._owner = owner
        return self

    def _wrap(self, kind: type[S], aio: Any) -> S:
        """Wrap an async result of this object's methods as ``kind``."""
        return kind._from_async(aio, self._portal, self)

    def _list_all(self, value: P | tuple[AsyncIterator[T], int]) -> P | tuple[Iterator[T], int]:
        """A compat ``list_*`` result: a page as is, or ``(async iterator, count)`` made sync."""
        if isinstance(value, tuple):
            items, count = value
            return self._portal.iterate(lambda: items), count
        return value

    def _open(self, aio: Any) -> None:
        """Bind a newly constructed async client; close it at GC and at exit."""
        portal = get_portal()
        self._aio = aio
        self._portal = portal
        self._owner = None
        portal.close_on_shutdown(aio)
        weakref.finalize(self, _close_later, portal, aio).atexit = False

    def __repr__(self) -> str:
        text = repr(self._aio)
        async_name = type(self._aio).__name__
        if text.startswith(async_name):
            text = type(self).__name__ + text[len(async_name) :]
        elif text.startswith(f"<{async_name}"):
            text = f"<{type(self).__name__}{text[len(async_name) + 1 :]}"
        return text


def _close_later(portal: Portal, aio: Any) -> None:
    """A sync client was garbage-collected: close its async twin on the loop, not waiting."""
    if portal.running:
        with contextlib.suppress(RuntimeError):  # closed meanwhile: the exit hook closed it
            portal.submit(aio.aclose)


class _Attribute(Generic[S]):
    """A sub-resource wrapped on first access and kept on the instance."""

    def __init__(self, kind: type[S]) -> None:
        self.kind = kind
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _Attribute[S]: ...

    @overload
    def __get__(self, obj: SyncResource[Any], objtype: type | None = None) -> S: ...

    def __get__(
        self, obj: SyncResource[Any] | None, objtype: type | None = None
    ) -> S | _Attribute[S]:
        if obj is None:
            return self
        value = obj._wrap(self.kind, getattr(obj._aio, self.name))
        obj.__dict__[self.name] = value  # later reads skip the descriptor
        return value


def attribute(kind: type[S]) -> S:
    """Declare a sub-resource of a generated class (e.g. ``client.tasks``)."""
    return cast(S, _Attribute(kind))
