"""``Emulator``: run the emulator in-process on a loopback port, as an async context manager."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from aiohttp import web

from .app import build_app
from .faults import FaultInjector, Faults
from .seed import Seeder
from .store import Store
from .upload_service import UPLOADS, UploadService
from .webhook_delivery import DeliverySettings
from .workflow_runtime import DEFAULT_SPEED, WORKFLOW, Workflow, WorkflowSettings

__all__ = ["DB_FILENAME", "Emulator"]

DB_FILENAME = "emulator.sqlite3"
SHUTDOWN_TIMEOUT = 2.0


class Emulator:
    """A running emulator: ``async with Emulator() as emu: ... emu.url, emu.access_token``.

    Args:
        data_dir: where the SQLite file and uploads live; None: a fresh temporary directory,
            removed on exit. Restarting on the same directory keeps the data.
        host: the interface to bind (loopback by default).
        port: the port; 0 picks a free one (read back into :attr:`port` and :attr:`url`).
        faults: the faults to inject (default: none).
        access_token: the token clients must send; None: a random one.
        user_token: a further accepted credential (see ``auth``).
        tenant: the tenant sent with ``user_token``.
        agent_token: a further accepted agent credential.
        annotation_speed: tasks per second the annotation simulator completes in each active
            project (0: only ``emu.workflow.simulator.complete(...)`` annotates).
        s3_root: the directory standing in for S3 (bucket = subdirectory); None:
            ``<data_dir>/s3``.
        webhook_retry_delay: seconds before the first retry of a failed webhook delivery
            (doubling per retry).
        webhook_max_attempts: POSTs per webhook delivery, the first included.
    """

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        access_token: str | None = None,
        user_token: str | None = None,
        tenant: str | None = None,
        agent_token: str | None = None,
        annotation_speed: float = DEFAULT_SPEED,
        s3_root: str | Path | None = None,
        webhook_retry_delay: float = 0.5,
        webhook_max_attempts: int = 5,
    ) -> None:
        self._own_dir = data_dir is None
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self.host = host
        self.port = port
        # A fixed prefix: a token never starts with "-", so ``--token VALUE`` parses.
        self.access_token = access_token or "emu_" + secrets.token_urlsafe(32)
        self._user_token = user_token
        self._tenant = tenant
        self._agent_token = agent_token
        self._injector = FaultInjector(faults)
        self._workflow_settings = WorkflowSettings(
            annotation_speed=annotation_speed,
            s3_root=s3_root,
            delivery=DeliverySettings(
                max_attempts=webhook_max_attempts, retry_delay=webhook_retry_delay
            ),
        )
        self._store: Store | None = None
        self._seeder: Seeder | None = None
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self._runner is not None else "stopped"
        return f"<Emulator {state} data_dir={str(self._data_dir)!r}>"

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Open the store and start serving (``__aenter__`` calls this)."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        if self._data_dir is None:
            self._data_dir = Path(tempfile.mkdtemp(prefix="synapse-emulator-"))
        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._store = Store(self._data_dir / DB_FILENAME)
        try:
            app = build_app(
                store=self._store,
                access_token=self.access_token,
                faults_injector=self._injector,
                base_dir=self._data_dir,
                user_token=self._user_token,
                tenant=self._tenant,
                agent_token=self._agent_token,
                workflow_settings=self._workflow_settings,
            )
            self._seeder = Seeder(self._store)
            runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
            await runner.setup()
            try:
                await web.TCPSite(runner, self.host, self.port).start()
            except BaseException:
                await runner.cleanup()
                raise
        except BaseException:
            await self._close_store()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def close(self) -> None:
        """Stop serving, close the store, remove the data dir if this emulator made it."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self._close_store()

    async def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._own_dir and self._data_dir is not None:
            shutil.rmtree(self._data_dir, ignore_errors=True)
            self._data_dir = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # -- accessors -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL with a trailing slash, e.g. ``http://127.0.0.1:8765/``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def data_dir(self) -> Path:
        """The data directory (set once started)."""
        if self._data_dir is None:
            raise RuntimeError("emulator not started")
        return self._data_dir

    @property
    def store(self) -> Store:
        """The record store (while running)."""
        if self._store is None:
            raise RuntimeError("emulator not started")
        return self._store

    @property
    def seed(self) -> Seeder:
        """Seeding helpers writing straight into the store (while running)."""
        if self._seeder is None or self._store is None:
            raise RuntimeError("emulator not started")
        return self._seeder

    @property
    def workflow(self) -> Workflow:
        """The managed-workflow runtime (while running).

        ``simulator``, ``dispatcher``, ``s3_root``; ``await emu.workflow.settle()`` waits for
        imports and webhook deliveries.
        """
        if self._runner is None:
            raise RuntimeError("emulator not started")
        return self._runner.app[WORKFLOW]

    @property
    def faults(self) -> Faults:
        """The faults in force."""
        return self._injector.faults

    def set_faults(self, faults: Faults) -> None:
        """Replace the faults (the RNG restarts from ``faults.seed``; counters are kept)."""
        self._injector.set(faults)

    @property
    def counters(self) -> dict[str, int]:
        """Fault counters: ``requests``, ``injected_errors``, ``injected_429``."""
        return self._injector.counters

    @property
    def reply_counters(self) -> dict[str, int]:
        """Reply faults applied: ``lost_replies``, ``wrong_replies``."""
        return self._injector.reply_counters

    @property
    def concurrency(self) -> dict[str, int]:
        """API requests handled now (``in_flight``) and most at once (``peak_in_flight``).

        The peak counts since the last :meth:`reset_counters`; control paths are not counted.
        """
        return self._injector.concurrency

    def reset_counters(self) -> None:
        """Zero the fault counters and restart the in-flight peak from the current level."""
        self._injector.reset_counters()

    @property
    def uploads(self) -> UploadService:
        """The chunked-upload service (while running).

        ``emu.uploads.settings.parallel = False`` turns the parallel extension off (the server
        then answers like the v1 backend); ``.settings.ttl`` is the expiry in seconds;
        ``.counters_json()`` has the per-upload counters (bytes received, part PUTs, resends).
        """
        if self._runner is None:
            raise RuntimeError("emulator not started")
        return self._runner.app[UPLOADS]
