"""Exceptions and warnings raised by the sync facade runtime itself.

Errors raised by the SDK's coroutines are re-raised unchanged (same type, same object);
everything ``synapse_async.errors`` exports is importable from here too
(``synapse_sync.errors.AuthenticationError`` is ``synapse_async.errors.AuthenticationError``).
The classes defined here only describe failures of the facade. The tree::

    synapse_async.SynapseError
    └── FacadeError                    root of the facade's own failures
        ├── FacadeReentrancyError      sync call made on the facade's own loop thread
        ├── FacadeRunningLoopError     sync call under a running loop with policy "raise"
        ├── FacadeClosedError          the facade was closed, or the interpreter is exiting
        ├── FacadeCrashedError         the loop thread died; ``__cause__`` is what killed it
        └── FacadeTimeoutError         the per-call ``timeout`` expired (also builtins.TimeoutError)

    (FacadeReentrancyError, FacadeRunningLoopError, FacadeClosedError and FacadeCrashedError
    are also RuntimeErrors.)

    RuntimeWarning
    ├── FacadeRunningLoopWarning       sync call blocked a running event loop (once per call site)
    └── FacadeShutdownWarning          shutdown left tasks or the loop thread behind
"""

from __future__ import annotations

import builtins

from synapse_async import errors as _sdk_errors
from synapse_async.errors import *  # noqa: F403  (every SDK error: same classes, same names)
from synapse_async.errors import SynapseError

__all__ = [
    "FacadeClosedError",
    "FacadeCrashedError",
    "FacadeError",
    "FacadeReentrancyError",
    "FacadeRunningLoopError",
    "FacadeRunningLoopWarning",
    "FacadeShutdownWarning",
    "FacadeTimeoutError",
]
__all__ += _sdk_errors.__all__  # derived, so the SDK's list and this one cannot drift


class FacadeError(SynapseError):
    """Root of the failures of the sync facade runtime (not of the SDK calls it runs)."""


class FacadeReentrancyError(FacadeError, RuntimeError):
    """A blocking facade call was made on the facade's own event-loop thread.

    Blocking there would deadlock: the loop would wait for itself. This happens when a
    coroutine, a progress callback, a logging handler or a ``__del__`` running on the loop
    calls the sync API. Await the async method named in the message instead.
    """


class FacadeRunningLoopError(FacadeError, RuntimeError):
    """A blocking call was made from a thread running an event loop, with policy ``"raise"``."""


class FacadeClosedError(FacadeError, RuntimeError):
    """The facade was closed (``close()``, ``with``, or interpreter exit); no new calls run."""


class FacadeCrashedError(FacadeError, RuntimeError):
    """The facade's loop thread died; ``__cause__`` holds the exception that killed it."""


class FacadeTimeoutError(FacadeError, builtins.TimeoutError):
    """The facade's per-call ``timeout`` expired; the underlying task was cancelled.

    A ``TimeoutError`` raised by the SDK or the server is re-raised as-is and is never an
    instance of this class, so ``except FacadeTimeoutError`` catches only facade deadlines.
    """


class FacadeRunningLoopWarning(RuntimeWarning):
    """A sync facade call blocked an event loop running in the calling thread."""


class FacadeShutdownWarning(RuntimeWarning):
    """Shutdown hit its time bound: tasks ignored cancellation or the loop thread was stuck."""
