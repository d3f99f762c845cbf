"""Process-wide hooks: every portal is reset in a forked child and closed at interpreter exit.

Both hooks are registered once, at import. The exit hook never starts a loop: portals that
were never used are just marked closed, and ``at_exit()`` tells ``Portal`` to refuse to start
from then on (a first call from a later atexit handler gets ``FacadeClosedError`` instead of
3.12's "can't create new thread at interpreter shutdown").
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from typing import Protocol

__all__ = ["Managed", "at_exit", "in_exit", "register"]

log = logging.getLogger("synapse_sync")


class Managed(Protocol):
    """What the hooks need from a portal."""

    def _after_fork(self) -> None: ...

    def close(self) -> None: ...


_portals: weakref.WeakSet[Managed] = weakref.WeakSet()
_exiting = False


def register(portal: Managed) -> None:
    """Track ``portal`` for the fork and exit hooks (weakly)."""
    _portals.add(portal)


def in_exit() -> bool:
    """True once interpreter exit has begun: atexit hooks are running or have run.

    ``threading._shutdown`` (which runs before atexit handlers) marks the main thread as no
    longer alive, so a main-thread call that sees a dead main thread comes from an atexit
    handler or a finalizer. Other threads may still be running legitimately then.
    """
    if _exiting:
        return True
    main = threading.main_thread()
    return threading.current_thread() is main and not main.is_alive()


def at_exit() -> None:
    """Close every portal with its bound; never start one."""
    global _exiting
    _exiting = True
    for portal in list(_portals):
        try:
            portal.close()
        except Exception:  # exit must go on; say what happened
            log.warning("synapse_sync: closing the facade at exit failed", exc_info=True)


def _after_fork_in_child() -> None:
    for portal in list(_portals):
        portal._after_fork()


atexit.register(at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
