"""Models of the integration domain: task tags, agents, plugins, releases, jobs, logs, serving."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from synapse_async.models._converter import Model

__all__ = [
    "Agent",
    "Job",
    "LogEntry",
    "Plugin",
    "PluginRelease",
    "ServeApplication",
    "TaskTag",
]

JOB_FINISHED_STATES = frozenset({"completed", "failed", "stopped"})
"""Job states after which nothing changes any more."""


def _redacted_token(value: str | None) -> str:
    return "None" if value is None else "'***'"


@attrs.frozen
class TaskTag(Model):
    """A tag that can be set on tasks (``client.tasks.set_tags``).

    Attributes:
        id: the tag id.
        name: display name.
        color: display colour (e.g. ``#ff0000``), if any.
        project: the project the tag belongs to, or None for a tenant-wide tag.
        created: when it was created.
    """

    id: int
    name: str = ""
    color: str | None = None
    project: int | None = None
    created: datetime | None = None


@attrs.frozen
class Agent(Model):
    """A compute agent that runs plugin jobs.

    Attributes:
        id: the agent id.
        name: display name.
        status: ``created``, ``connected``, ``disconnected``, ...
        url: where the agent listens, if known.
        token: the agent's secret token; the server sends it only when the agent is created.
            Never shown by ``repr``.
        last_connected: when the agent last connected (its last health check).
        created: when it was created.
    """

    id: int
    name: str = ""
    status: str = "created"
    url: str | None = None
    token: str | None = attrs.field(default=None, repr=_redacted_token)
    last_connected: datetime | None = None
    created: datetime | None = None


@attrs.frozen
class Plugin(Model):
    """A plugin: packaged code the platform runs as jobs (export, pre-annotation, training, ...).

    Attributes:
        id: the plugin id.
        code: the unique slug (``yolov8``); usable in place of the id in URLs.
        name: display name.
        category: e.g. ``neural_net``, ``export``, ``upload``, ``pre_annotation``.
        description: free text.
        is_active: whether it can be run.
        created: when it was created.
        modified: when it last changed.
    """

    id: int
    code: str = ""
    name: str = ""
    category: str | None = None
    description: str = ""
    is_active: bool = True
    created: datetime | None = None
    modified: datetime | None = None


@attrs.frozen
class PluginRelease(Model):
    """One released version of a plugin, with its archive.

    Attributes:
        id: the release id.
        plugin: the plugin id.
        code: the plugin's code (so ``f"{code}@{version}"`` names this release).
        version: the version string (``1.0.0``).
        config: the release's configuration (actions, parameters, ...).
        file: the archive's URL.
        checksum: MD5 hex of the archive.
        size: the archive's size in bytes.
        created: when it was released.
    """

    id: int
    plugin: int
    code: str = ""
    version: str = ""
    config: dict[str, Any] = attrs.field(factory=dict)
    file: str | None = None
    checksum: str | None = None
    size: int | None = None
    created: datetime | None = None

    @property
    def ref(self) -> str:
        """``code@version``, the name ``client.plugin_releases.get`` accepts."""
        return f"{self.code}@{self.version}"


@attrs.frozen
class Job(Model):
    """A run of a plugin action (or any background work) on an agent.

    Attributes:
        id: the job id.
        status: ``pending``, ``running``, ``completed``, ``failed`` or ``stopped``.
        plugin: the plugin id, if a plugin run created it.
        plugin_release: the release that runs.
        action: the plugin action (``train``, ``export``, ``deployment``, ...).
        agent: the agent running it.
        params: the run's parameters.
        context: the caller's context of the run (free-form, echoed back).
        progress_record: the latest progress report (e.g. ``{"step": 2, "total": 5}``).
        metrics_record: the latest metrics report.
        result: what the job produced, once finished.
        created: when it was created.
        modified: when it last changed.
        finished: when it finished, if it has.
    """

    id: int
    status: str = "pending"
    plugin: int | None = None
    plugin_release: int | None = None
    action: str | None = None
    agent: int | None = None
    params: dict[str, Any] = attrs.field(factory=dict)
    context: dict[str, Any] = attrs.field(factory=dict)
    progress_record: dict[str, Any] | None = None
    metrics_record: dict[str, Any] | None = None
    result: Any = None
    created: datetime | None = None
    modified: datetime | None = None
    finished: datetime | None = None

    @property
    def is_finished(self) -> bool:
        """True once the job completed, failed or was stopped."""
        return self.status in JOB_FINISHED_STATES


@attrs.frozen
class LogEntry(Model):
    """One log record (``logs/``); entries of a job form its console log.

    Attributes:
        id: the entry id.
        message: the log line.
        level: ``debug``, ``info``, ``warning``, ``error``, ...
        job: the job it belongs to, if any.
        data: structured data attached to the entry.
        created: when it was written.
    """

    id: int
    message: str = ""
    level: str = "info"
    job: int | None = None
    data: dict[str, Any] | None = None
    created: datetime | None = None


@attrs.frozen
class ServeApplication(Model):
    """A model-serving application started from a plugin release.

    Attributes:
        id: the application id.
        name: display name.
        plugin_release: the release it serves.
        action: the plugin action that serves (usually ``deployment``).
        status: ``deploying``, ``running``, ``stopped``, ``failed``, ...
        params: deployment parameters.
        url: where the application answers, once running.
        agent: the agent hosting it.
        created: when it was created.
    """

    id: int
    name: str = ""
    plugin_release: int | None = None
    action: str | None = None
    status: str = "deploying"
    params: dict[str, Any] = attrs.field(factory=dict)
    url: str | None = None
    agent: int | None = None
    created: datetime | None = None
