"""``build_app``: the emulator's aiohttp application (middlewares, routes, shared state)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from .auth import Credentials, auth_middleware
from .errors import request_id_middleware
from .faults import FaultInjector, faults_middleware
from .idempotency import IdempotencyCache, idempotency_middleware
from .keys import CREDENTIALS, FAULTS, FILES_DIR, STORE
from .routes import (
    agents,
    assignments,
    billing,
    control,
    data,
    exports,
    imports,
    jobs,
    ml,
    plugins,
    projects,
    storages,
    task_extras,
    tasks,
    uploads,
    webhooks,
    workflow,
)
from .store import Store
from .workflow_runtime import WORKFLOW_SETTINGS, WorkflowSettings

__all__ = ["CLIENT_MAX_SIZE", "ROUTE_MODULES", "build_app"]

CLIENT_MAX_SIZE = 6 * 2**30
"""Largest request body aiohttp reads whole (uploads stream, so this is a guard only)."""

PLATFORM_ROUTE_MODULES = (task_extras, agents, jobs, plugins, storages, ml)
"""Route modules of the platform resources (task tags, agents, jobs, plugins, storages, ML)."""

ROUTE_MODULES = (
    control,
    projects,
    tasks,
    assignments,
    data,
    billing,
    webhooks,
    workflow,
    imports,
    exports,
    *PLATFORM_ROUTE_MODULES,
    uploads,
)
"""The route modules whose ``setup(app, store)`` ``build_app`` calls, in order."""


def build_app(
    *,
    store: Store,
    access_token: str,
    faults_injector: FaultInjector | None = None,
    base_dir: str | Path,
    user_token: str | None = None,
    tenant: str | None = None,
    agent_token: str | None = None,
    workflow_settings: WorkflowSettings | None = None,
) -> web.Application:
    """The emulator's application.

    Args:
        store: the record store (tables are registered here).
        access_token: the ``Synapse-Access-Token`` the API accepts.
        faults_injector: decides injected faults (default: none injected).
        base_dir: the data directory; uploads go to ``base_dir/files``.
        user_token: accepted as ``Authorization: Token ...`` (with ``tenant``), if given.
        tenant: the ``Synapse-Tenant`` a user token must come with, if given.
        agent_token: accepted as ``SYNAPSE-Agent: Token ...``, if given.
        workflow_settings: managed-workflow settings (annotation speed, S3 stand-in,
            webhook retries).

    Middlewares, outermost first: request id + JSON errors, faults, auth, idempotency.
    """
    injector = faults_injector or FaultInjector()
    creds = Credentials(access_token, user_token=user_token, tenant=tenant, agent_token=agent_token)
    files_dir = Path(base_dir) / "files"
    files_dir.mkdir(parents=True, exist_ok=True)
    app = web.Application(
        client_max_size=CLIENT_MAX_SIZE,
        middlewares=[
            request_id_middleware,
            faults_middleware(injector),
            auth_middleware(creds),
            idempotency_middleware(IdempotencyCache(store)),
        ],
    )
    app[STORE] = store
    app[FILES_DIR] = files_dir
    app[FAULTS] = injector
    app[CREDENTIALS] = creds
    app[WORKFLOW_SETTINGS] = workflow_settings or WorkflowSettings()
    for module in ROUTE_MODULES:
        module.setup(app, store)
    return app
