"""Models of the machine-learning domain: ML models and ground truth."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from synapse_async.models._converter import Model

__all__ = ["GroundTruth", "GroundTruthDatasetVersion", "GroundTruthEvent", "MLModel"]


@attrs.frozen
class MLModel(Model):
    """A trained model stored by the platform (its weights file came by chunked upload).

    Attributes:
        id: the model id.
        name: display name.
        description: free text.
        project: the project it was trained for, if any.
        plugin: the plugin that trained or serves it, if any.
        file: the weights file's URL.
        checksum: MD5 hex of the file.
        size: the file's size in bytes.
        metrics: evaluation metrics.
        created: when it was created.
    """

    id: int
    name: str = ""
    description: str = ""
    project: int | None = None
    plugin: int | None = None
    file: str | None = None
    checksum: str | None = None
    size: int | None = None
    metrics: dict[str, Any] = attrs.field(factory=dict)
    created: datetime | None = None


@attrs.frozen
class GroundTruth(Model):
    """A ground-truth dataset: reference annotations that models and annotators are scored on.

    Attributes:
        id: the ground truth id.
        name: display name.
        description: free text.
        data_collection: the collection its data units come from, if any.
        created: when it was created.
    """

    id: int
    name: str = ""
    description: str = ""
    data_collection: int | None = None
    created: datetime | None = None


@attrs.frozen
class GroundTruthDatasetVersion(Model):
    """A frozen version of a ground truth; its items are ground truth events.

    Attributes:
        id: the version id.
        ground_truth: the ground truth id.
        version: the version name (``v1``, ``2024-05``, ...).
        description: free text.
        event_count: how many events (items) it holds.
        created: when it was created.
    """

    id: int
    ground_truth: int
    version: str = ""
    description: str = ""
    event_count: int = 0
    created: datetime | None = None


@attrs.frozen
class GroundTruthEvent(Model):
    """One item of a ground truth version: files, their reference annotation, metadata.

    Attributes:
        id: the event id.
        ground_truth_dataset_version: the version id.
        data_unit: the data unit it annotates, if any.
        files: slot name -> file info (``url``/``path``, ``checksum``, ...).
        data: the reference annotation (DM schema v1).
        meta: item metadata.
        created: when it was created.
    """

    id: int
    ground_truth_dataset_version: int
    data_unit: int | None = None
    files: dict[str, Any] = attrs.field(factory=dict)
    data: dict[str, Any] = attrs.field(factory=dict)
    meta: dict[str, Any] = attrs.field(factory=dict)
    created: datetime | None = None
