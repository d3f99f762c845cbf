"""Typed models of the API's objects (attrs, frozen, slotted) and the one cattrs converter."""

from synapse_async.models._converter import Model, converter, make_converter, structure
from synapse_async.models.annotation import Assignment, Project, Task
from synapse_async.models.data import DataCollection, DataFile, DataUnit
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
from synapse_async.models.uploads import ChunkedUpload, UploadPart, UploadResult
from synapse_async.models.workflow import (
    Balance,
    Deposit,
    ExportResult,
    ImportJob,
    Payment,
    ProjectStatus,
    TaskUploadResult,
    Webhook,
    WebhookDelivery,
)

__all__ = [
    "Agent",
    "Assignment",
    "Balance",
    "ChunkedUpload",
    "DataCollection",
    "DataFile",
    "DataUnit",
    "Deposit",
    "ExportResult",
    "GroundTruth",
    "GroundTruthDatasetVersion",
    "GroundTruthEvent",
    "ImportJob",
    "Job",
    "LogEntry",
    "MLModel",
    "Model",
    "Payment",
    "Plugin",
    "PluginRelease",
    "Project",
    "ProjectStatus",
    "RedactedConfig",
    "ServeApplication",
    "Storage",
    "Task",
    "TaskTag",
    "TaskUploadResult",
    "UploadPart",
    "UploadResult",
    "Webhook",
    "WebhookDelivery",
    "converter",
    "make_converter",
    "structure",
]
