"""synapse_async: the async-first Python SDK for the Synapse data-annotation platform.

Public names: ``AsyncClient``, the configuration types, the models and every error.
The blocking twin lives in ``synapse_sync``; a local backend emulator in
``synapse_async.emulator``.
"""

from synapse_async._logging import setup_from_env as _setup_logging_from_env
from synapse_async._version import __version__
from synapse_async.client import AsyncClient
from synapse_async.config import ClientConfig, RetryPolicy, Timeout
from synapse_async.errors import (
    APIError,
    AuthenticationError,
    ChecksumMismatchError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    ConnectFailed,
    ConnectTimeoutError,
    FileChangedError,
    ImportFailedError,
    InsufficientCreditsError,
    InvalidInputError,
    LoopMismatchError,
    NotFoundError,
    PageFetchError,
    PermissionDeniedError,
    ProjectStateError,
    RateLimitError,
    ServerError,
    SynapseError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
    UploadError,
    ValidationError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from synapse_async.export.report import ExportReport
from synapse_async.models import (
    Assignment,
    Balance,
    DataCollection,
    DataFile,
    DataUnit,
    Deposit,
    ExportResult,
    ImportJob,
    Payment,
    Project,
    ProjectStatus,
    Task,
    TaskUploadResult,
    Webhook,
    WebhookDelivery,
)
from synapse_async.models.integration import (
    Agent,
    Job,
    LogEntry,
    Plugin,
    PluginRelease,
    ServeApplication,
    TaskTag,
)
from synapse_async.models.ml import (
    GroundTruth,
    GroundTruthDatasetVersion,
    GroundTruthEvent,
    MLModel,
)
from synapse_async.models.storage import RedactedConfig, Storage
from synapse_async.models.uploads import UploadResult
from synapse_async.pagination import AsyncPaginator, Page
from synapse_async.resources.project_workflow import AsyncProjectHandle
from synapse_async.secret import Secret

__all__ = [
    "APIError",
    "Agent",
    "Assignment",
    "AsyncClient",
    "AsyncPaginator",
    "AsyncProjectHandle",
    "AuthenticationError",
    "Balance",
    "ChecksumMismatchError",
    "ClientClosedError",
    "ClientConfig",
    "ConfigurationError",
    "ConflictError",
    "ConnectFailed",
    "ConnectTimeoutError",
    "DataCollection",
    "DataFile",
    "DataUnit",
    "Deposit",
    "ExportReport",
    "ExportResult",
    "FileChangedError",
    "GroundTruth",
    "GroundTruthDatasetVersion",
    "GroundTruthEvent",
    "ImportFailedError",
    "ImportJob",
    "InsufficientCreditsError",
    "InvalidInputError",
    "Job",
    "LogEntry",
    "LoopMismatchError",
    "MLModel",
    "NotFoundError",
    "Page",
    "PageFetchError",
    "Payment",
    "PermissionDeniedError",
    "Plugin",
    "PluginRelease",
    "Project",
    "ProjectStateError",
    "ProjectStatus",
    "RateLimitError",
    "RedactedConfig",
    "RetryPolicy",
    "Secret",
    "ServeApplication",
    "ServerError",
    "Storage",
    "SynapseError",
    "Task",
    "TaskTag",
    "TaskUploadResult",
    "Timeout",
    "TimeoutError",
    "TransportError",
    "UnexpectedResponseError",
    "UploadError",
    "UploadResult",
    "ValidationError",
    "WaitTimeoutError",
    "Webhook",
    "WebhookDelivery",
    "WebhookVerificationError",
    "__version__",
]

_setup_logging_from_env()  # SYNAPSE_LOG=debug|info: a readable stderr handler (see _logging)
