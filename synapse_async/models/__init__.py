"""Typed models of the API's objects (attrs, frozen, slotted) and the one cattrs converter."""

from synapse_async.models._converter import Model, converter, make_converter, structure
from synapse_async.models.annotation import Assignment, Project, Task
from synapse_async.models.data import DataCollection, DataFile, DataUnit

__all__ = [
    "Assignment",
    "DataCollection",
    "DataFile",
    "DataUnit",
    "Model",
    "Project",
    "Task",
    "converter",
    "make_converter",
    "structure",
]
