"""Async context managers as sync ones: ``__enter__`` and ``__exit__`` are one hop each.

The body's exception object is handed to ``__aexit__`` on the loop, and its return value
decides suppression, exactly as ``async with`` would. A ``KeyboardInterrupt`` in the body
reaches ``__aexit__`` too. If the caller is interrupted while ``__aenter__`` is finishing,
the context is exited again on the loop so nothing stays open.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from synapse_sync._portal import Portal

__all__ = ["SyncContextManager"]

T = TypeVar("T")


class SyncContextManager(Generic[T]):
    """A blocking ``with`` over the async context manager ``fn(*args, **kwargs)``.

    ``fn`` is called on the loop thread at ``__enter__``. Single use, like the
    context managers ``contextlib.asynccontextmanager`` builds.
    """

    __slots__ = ("_acm", "_args", "_fn", "_kwargs", "_portal", "_used")

    def __init__(
        self,
        portal: Portal,
        fn: Callable[..., AbstractAsyncContextManager[T]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        self._portal = portal
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._acm: AbstractAsyncContextManager[T] | None = None
        self._used = False

    async def _aenter(self) -> T:
        acm = self._fn(*self._args, **self._kwargs)
        value = await acm.__aenter__()
        self._acm = acm  # only once entered: from here on, __aexit__ is owed
        return value

    def __enter__(self) -> T:
        if self._used:
            raise RuntimeError("this context manager was already entered; make a new one")
        self._used = True
        try:
            return self._portal.call(self._aenter)
        except BaseException as exc:
            if self._acm is not None:  # entered on the loop, but the caller was interrupted
                self.__exit__(type(exc), exc, exc.__traceback__)
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        acm, self._acm = self._acm, None
        if acm is None:
            return False
        return bool(self._portal.call(acm.__aexit__, exc_type, exc, tb))
