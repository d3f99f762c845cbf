"""``AsyncClient``: the entry point of the async SDK."""

from __future__ import annotations

import os
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import attrs

from synapse_async.config import ClientConfig, RetryPolicy, TimeoutTypes, coerce_timeout
from synapse_async.errors import ConfigurationError
from synapse_async.http import HTTPClient
from synapse_async.resources import (
    AsyncAssignments,
    AsyncDataCollections,
    AsyncDataFiles,
    AsyncDataUnits,
    AsyncProjects,
    AsyncTasks,
)
from synapse_async.resources.agents import AsyncAgents
from synapse_async.resources.billing import AsyncBilling
from synapse_async.resources.exports import AsyncExports
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
from synapse_async.resources.serve_applications import AsyncServeApplications
from synapse_async.resources.storages import AsyncStorages
from synapse_async.resources.task_tags import AsyncTaskTags
from synapse_async.resources.uploads import AsyncUploads
from synapse_async.resources.webhooks import AsyncWebhooks
from synapse_async.transport import SSLTypes, TransportTypes

__all__ = ["AsyncClient"]


class AsyncClient:
    """The async Synapse client: an async context manager owning one HTTP session.

    Example::

        async with AsyncClient("https://api.synapse.sh", access_token="...") as client:
            async for task in client.tasks.list(project=12):
                print(task.id)

    Args:
        base_url: the API root (else ``SYNAPSE_HOST``, the config file, or the default).
        access_token: the access token (else ``SYNAPSE_ACCESS_TOKEN`` or the config file).
        api_key: another name of ``access_token`` (the examples' ``Client(api_key=...)``);
            passing both is an error.
        user_token: a user token, sent with ``tenant``.
        tenant: the tenant of ``user_token``.
        agent_token: an agent token.
        timeout: seconds, or a ``Timeout`` with connect/read/total phases.
        max_retries: retries per request (0 disables).
        page_concurrency: pages a listing fetches at once.
        max_connections: connection-pool size.
        verify_ssl: verify TLS certificates (default True).
        config: a complete ``ClientConfig``; the other settings arguments are then ignored.
        transport: what sends the requests: an object whose ``send(request)`` method returns
            the response (see ``synapse_async.transport.Transport``; for tests
            ``synapse_async.testing.MockTransport``), or your own ``aiohttp.ClientSession``
            (used as it is and left open when the client closes). Default: an aiohttp session
            made here, honouring ``HTTP(S)_PROXY`` / ``NO_PROXY``.
        ssl: TLS settings of the default session: an ``ssl.SSLContext`` (own CA bundle,
            client certificate), or a bool (default: ``verify_ssl``).
    """

    projects: AsyncProjects
    """Annotation projects."""

    tasks: AsyncTasks
    """Annotation tasks."""

    assignments: AsyncAssignments
    """Assignments (annotators' work with annotation data)."""

    data_collections: AsyncDataCollections
    """Data collections."""

    data_files: AsyncDataFiles
    """Data files."""

    data_units: AsyncDataUnits
    """Data units."""

    uploads: AsyncUploads
    """Chunked uploads of large files (parallel, MD5-checked, resumable)."""

    billing: AsyncBilling
    """Credits that pay project deposits."""

    webhooks: AsyncWebhooks
    """Webhook subscriptions to workflow events."""

    task_tags: AsyncTaskTags
    """Task tags."""

    agents: AsyncAgents
    """Compute agents (+ health check)."""

    plugins: AsyncPlugins
    """Plugins (create, update, run)."""

    plugin_releases: AsyncPluginReleases
    """Plugin releases (archives; get by ``code@version``)."""

    jobs: AsyncJobs
    """Jobs (status, console logs, live tail)."""

    logs: AsyncLogs
    """Log entries."""

    serve_applications: AsyncServeApplications
    """Model-serving applications."""

    storages: AsyncStorages
    """Storages (configurations redacted in reprs and logs)."""

    ml_models: AsyncMLModels
    """Trained ML models (``models/``)."""

    ground_truths: AsyncGroundTruths
    """Ground-truth datasets."""

    ground_truth_dataset_versions: AsyncGroundTruthDatasetVersions
    """Versions of ground truths."""

    ground_truth_events: AsyncGroundTruthEvents
    """Ground truth events (the items of versions)."""

    exports: AsyncExports
    """Exports of annotations to JSON, COCO, YOLO, Pascal VOC, CSV or spaCy files."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        access_token: str | None = None,
        user_token: str | None = None,
        tenant: str | None = None,
        agent_token: str | None = None,
        timeout: TimeoutTypes | None = None,
        max_retries: int | None = None,
        page_concurrency: int | None = None,
        max_connections: int | None = None,
        verify_ssl: bool = True,
        config: ClientConfig | None = None,
        api_key: str | None = None,
        transport: TransportTypes | None = None,
        ssl: SSLTypes | None = None,
    ) -> None:
        if api_key is not None:
            if access_token is not None:
                raise ConfigurationError(
                    "pass the token once: access_token=... or api_key=... (the same setting)"
                )
            access_token = api_key
        if (
            config is not None
            and (
                base_url,
                access_token,
                user_token,
                tenant,
                agent_token,
                timeout,
                max_retries,
                page_concurrency,
                max_connections,
            )
            != (None,) * 9
        ):
            raise ConfigurationError(
                "config=... is complete: pass the other settings inside it, not beside it"
            )
        if config is None:
            settings: dict[str, Any] = {"verify_ssl": verify_ssl}
            if timeout is not None:
                settings["timeout"] = coerce_timeout(timeout)
            if max_retries is not None:
                settings["retry"] = RetryPolicy(max_retries=max_retries)
            if page_concurrency is not None:
                settings["page_concurrency"] = page_concurrency
            if max_connections is not None:
                settings["max_connections"] = max_connections
            config = ClientConfig.resolve(
                base_url,
                access_token=access_token,
                user_token=user_token,
                tenant=tenant,
                agent_token=agent_token,
                **settings,
            )
        self._config = config
        self._http = HTTPClient(config, transport, ssl=ssl)
        self._init_resources()

    @classmethod
    def from_config(cls, path: str | os.PathLike[str]) -> AsyncClient:
        """A client configured by the JSON file at ``path`` (``~`` is expanded).

        The file's keys: ``host`` (or ``base_url``), ``access_token`` (or ``api_key``),
        ``user_token``, ``tenant``, ``agent_token``, ``timeout`` (seconds). The file was
        named explicitly, so its values beat environment variables, which fill only what the
        file leaves out; the file must exist.

        Raises:
            ConfigurationError: the file is missing, unreadable, not a JSON object, has an
                unknown key, or gives no credential.
        """
        return cls(config=ClientConfig.from_file(path))

    def _init_resources(self) -> None:
        """Build the resources on this client's HTTP layer, handing each the siblings it uses.

        The one wiring rule: a resource that reads through another receives it as a
        constructor argument here, so a ``with_options()`` copy's resources all share the
        copy's settings.
        """
        http = self._http
        self.uploads = AsyncUploads(http)
        self.tasks = AsyncTasks(http)
        self.assignments = AsyncAssignments(http)
        self.ground_truth_events = AsyncGroundTruthEvents(http)
        self.exports = AsyncExports(
            http,
            assignments=self.assignments,
            tasks=self.tasks,
            ground_truth_events=self.ground_truth_events,
        )
        self.projects = AsyncProjects(http, exports=self.exports)
        self.data_collections = AsyncDataCollections(http)
        self.data_files = AsyncDataFiles(http, uploads=self.uploads)
        self.data_units = AsyncDataUnits(http)
        self.billing = AsyncBilling(http)
        self.webhooks = AsyncWebhooks(http)
        self.task_tags = AsyncTaskTags(http)
        self.agents = AsyncAgents(http)
        self.plugins = AsyncPlugins(http)
        self.plugin_releases = AsyncPluginReleases(http, uploads=self.uploads)
        self.jobs = AsyncJobs(http)
        self.logs = AsyncLogs(http)
        self.serve_applications = AsyncServeApplications(http)
        self.storages = AsyncStorages(http)
        self.ml_models = AsyncMLModels(http, uploads=self.uploads)
        self.ground_truths = AsyncGroundTruths(http)
        self.ground_truth_dataset_versions = AsyncGroundTruthDatasetVersions(http)

    @property
    def config(self) -> ClientConfig:
        """The resolved settings (credentials redacted in its repr)."""
        return self._config

    def __repr__(self) -> str:
        return f"AsyncClient(base_url={self._config.base_url!r})"

    def with_options(
        self,
        *,
        timeout: TimeoutTypes | None = None,
        max_retries: int | None = None,
        page_concurrency: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
    ) -> AsyncClient:
        """A copy with other per-call settings that shares this client's connections.

        Example: ``await client.with_options(timeout=5).tasks.get(1)``.

        Args:
            timeout: seconds, or a ``Timeout``.
            max_retries: retries per request.
            page_concurrency: pages a listing fetches at once.
            extra_headers: headers added to every request of the copy (on top of this
                client's extras; credential headers cannot be replaced).
            extra_query: query parameters added to every API request of the copy.

        Raises:
            ConfigurationError: a header name or value holds a control character.
        """
        changes: dict[str, Any] = {}
        if timeout is not None:
            changes["timeout"] = coerce_timeout(timeout)
        if max_retries is not None:
            changes["retry"] = attrs.evolve(self._config.retry, max_retries=max_retries)
        if page_concurrency is not None:
            changes["page_concurrency"] = page_concurrency
        clone = object.__new__(AsyncClient)
        clone._config = attrs.evolve(self._config, **changes)
        clone._http = self._http.with_config(
            clone._config, extra_headers=extra_headers, extra_query=extra_query
        )
        clone._init_resources()
        return clone

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session (also done by ``async with``)."""
        await self._http.aclose()
