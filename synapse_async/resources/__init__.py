"""One module per API domain; each class is an attribute of ``AsyncClient``."""

from synapse_async.resources.agents import AsyncAgents
from synapse_async.resources.assignments import AsyncAssignments
from synapse_async.resources.data_collections import AsyncDataCollections
from synapse_async.resources.data_files import AsyncDataFiles
from synapse_async.resources.data_units import AsyncDataUnits
from synapse_async.resources.ground_truths import (
    AsyncGroundTruthDatasetVersions,
    AsyncGroundTruthEvents,
    AsyncGroundTruths,
)
from synapse_async.resources.jobs import AsyncJobs
from synapse_async.resources.logs import AsyncLogs
from synapse_async.resources.ml_models import AsyncMLModels
from synapse_async.resources.plugin_releases import AsyncPluginReleases
from synapse_async.resources.plugins import AsyncPlugins
from synapse_async.resources.projects import AsyncProjects
from synapse_async.resources.serve_applications import AsyncServeApplications
from synapse_async.resources.storages import AsyncStorages
from synapse_async.resources.task_tags import AsyncTaskTags
from synapse_async.resources.tasks import AsyncTasks

__all__ = [
    "AsyncAgents",
    "AsyncAssignments",
    "AsyncDataCollections",
    "AsyncDataFiles",
    "AsyncDataUnits",
    "AsyncGroundTruthDatasetVersions",
    "AsyncGroundTruthEvents",
    "AsyncGroundTruths",
    "AsyncJobs",
    "AsyncLogs",
    "AsyncMLModels",
    "AsyncPluginReleases",
    "AsyncPlugins",
    "AsyncProjects",
    "AsyncServeApplications",
    "AsyncStorages",
    "AsyncTaskTags",
    "AsyncTasks",
]
