"""synapse_sync: the blocking twin of ``synapse_async``.

Every call runs the async SDK's coroutine on one background event-loop thread (see
``synapse_sync._portal``). The client classes are generated from ``synapse_async`` by
``python -m synapse_sync._codegen``: ``Client`` here, ``BackendClient`` in
``synapse_sync.compat``. Models and errors are ``synapse_async``'s own.

    from synapse_sync import Client

    with Client("https://api.synapse.sh", access_token="...") as client:
        for task in client.tasks.list(project=12):
            print(task.id)
"""

from synapse_sync._contexts import SyncContextManager
from synapse_sync._iterators import SyncIterator
from synapse_sync._portal import Portal, State, call_timeout, get_portal
from synapse_sync.client import Client
from synapse_sync.errors import (
    FacadeClosedError,
    FacadeCrashedError,
    FacadeError,
    FacadeReentrancyError,
    FacadeRunningLoopError,
    FacadeRunningLoopWarning,
    FacadeShutdownWarning,
    FacadeTimeoutError,
)

__all__ = [
    "Client",
    "FacadeClosedError",
    "FacadeCrashedError",
    "FacadeError",
    "FacadeReentrancyError",
    "FacadeRunningLoopError",
    "FacadeRunningLoopWarning",
    "FacadeShutdownWarning",
    "FacadeTimeoutError",
    "Portal",
    "State",
    "SyncContextManager",
    "SyncIterator",
    "call_timeout",
    "get_portal",
]
