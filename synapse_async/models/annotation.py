"""Models of the annotation domain: projects, tasks, assignments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from synapse_async.models._converter import Model
from synapse_async.models.data import DataUnit

__all__ = ["Assignment", "Project", "Task"]


@attrs.frozen
class Project(Model):
    """An annotation project.

    Attributes:
        id: the project id.
        name: display name.
        description: free text.
        state: draft, pending_deposit, active, paused, review, completed or cancelled.
        annotation_type: e.g. ``bounding_box``, ``classification``, ``named_entity``; a
            list of them for a multi-type project (``["classification", "keypoint"]``).
        data_type: e.g. ``image``, ``text``, ``video``.
        labels: the label names annotators choose from; for a multi-type project a dict
            ``{annotation type: [labels]}`` (``label_names`` flattens either form).
        metadata: the caller's own key/value data.
        created: when it was created.
        modified: when it last changed.
        instructions: guidelines for annotators (managed workflow).
        quality_settings: e.g. ``min_annotators``, ``consensus_threshold`` (managed workflow).
        pricing_tier: ``basic``, ``standard`` or ``premium`` (managed workflow).
        priority: e.g. ``"high"`` or a number (managed workflow).
    """

    id: int
    name: str = ""
    description: str = ""
    state: str = "draft"
    annotation_type: str | list[str] | None = None
    data_type: str | None = None
    labels: list[str] | dict[str, list[str]] = attrs.field(factory=list)
    metadata: dict[str, Any] = attrs.field(factory=dict)
    created: datetime | None = None
    modified: datetime | None = None
    instructions: str | None = None
    quality_settings: dict[str, Any] = attrs.field(factory=dict)
    pricing_tier: str | None = None
    priority: int | str | None = None

    @property
    def annotation_types(self) -> list[str]:
        """``annotation_type`` as a list (empty when unset)."""
        if self.annotation_type is None:
            return []
        if isinstance(self.annotation_type, str):
            return [self.annotation_type]
        return list(self.annotation_type)

    @property
    def label_names(self) -> list[str]:
        """Every label, in order, without repeats (a dict of label lists flattened)."""
        if isinstance(self.labels, dict):
            return list(dict.fromkeys(x for names in self.labels.values() for x in names))
        return list(self.labels)


@attrs.frozen
class Task(Model):
    """A unit of annotation work: one data unit (or inline data) in a project.

    Attributes:
        id: the task id.
        project: the project id.
        data_unit: the data unit id, when the task points at uploaded files.
        data: inline task data, when the task was created with it.
        status: pending, in_progress, completed, ...
        tags: tag ids.
        created: when it was created.
        modified: when it last changed.
        expanded_data_unit: the data unit itself, when fetched with ``expand="data_unit"``.
    """

    id: int
    project: int
    data_unit: int | None = None
    data: dict[str, Any] | None = None
    status: str = "pending"
    tags: list[int] = attrs.field(factory=list)
    created: datetime | None = None
    modified: datetime | None = None
    expanded_data_unit: DataUnit | None = None


@attrs.frozen
class Assignment(Model):
    """An annotator's work on a task: the annotation data (DM schema v1) and file metadata.

    Attributes:
        id: the assignment id.
        project: the project id.
        task: the task id.
        status: pending, submitted, accepted, rejected, ...
        data: the annotation document (DM schema v1), or None before submission.
        file: metadata of the annotated files.
        tags: tag ids.
        created: when it was created.
        modified: when it last changed.
    """

    id: int
    project: int
    task: int | None = None
    status: str = "pending"
    data: dict[str, Any] | None = None
    file: dict[str, Any] | None = None
    tags: list[int] = attrs.field(factory=list)
    created: datetime | None = None
    modified: datetime | None = None
