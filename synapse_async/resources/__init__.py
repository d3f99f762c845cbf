"""One module per API domain; each class is an attribute of ``AsyncClient``."""

from synapse_async.resources.assignments import AsyncAssignments
from synapse_async.resources.data_collections import AsyncDataCollections
from synapse_async.resources.data_files import AsyncDataFiles
from synapse_async.resources.data_units import AsyncDataUnits
from synapse_async.resources.projects import AsyncProjects
from synapse_async.resources.tasks import AsyncTasks

__all__ = [
    "AsyncAssignments",
    "AsyncDataCollections",
    "AsyncDataFiles",
    "AsyncDataUnits",
    "AsyncProjects",
    "AsyncTasks",
]
