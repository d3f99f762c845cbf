"""synapse_async: the async-first Python SDK for the Synapse data-annotation platform.

Public names: ``AsyncClient``, the configuration types, the models and every error.
The blocking twin lives in ``synapse_sync``; a local backend emulator in
``synapse_async.emulator``.
"""

from synapse_async._version import __version__
from synapse_async.client import AsyncClient
from synapse_async.config import ClientConfig, RetryPolicy, Timeout
from synapse_async.errors import (
    APIError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InsufficientCreditsError,
    InvalidInputError,
    LoopMismatchError,
    NotFoundError,
    PageFetchError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    SynapseError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
    ValidationError,
)
from synapse_async.models import (
    Assignment,
    DataCollection,
    DataFile,
    DataUnit,
    Project,
    Task,
)
from synapse_async.pagination import AsyncPaginator, Page

__all__ = [
    "APIError",
    "Assignment",
    "AsyncClient",
    "AsyncPaginator",
    "AuthenticationError",
    "ClientConfig",
    "ConfigurationError",
    "ConflictError",
    "DataCollection",
    "DataFile",
    "DataUnit",
    "InsufficientCreditsError",
    "InvalidInputError",
    "LoopMismatchError",
    "NotFoundError",
    "Page",
    "PageFetchError",
    "PermissionDeniedError",
    "Project",
    "RateLimitError",
    "RetryPolicy",
    "ServerError",
    "SynapseError",
    "Task",
    "Timeout",
    "TimeoutError",
    "TransportError",
    "UnexpectedResponseError",
    "ValidationError",
    "__version__",
]
