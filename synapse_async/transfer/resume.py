"""Local resume state: which server upload holds which file, written atomically.

One small JSON file per (server, local path) in the cache directory: the upload id, the file's
size and mtime when it started, the part size, and the MD5 of each part the server confirmed.
A new upload of the same path on the same server with the same size, mtime and part size
resumes that upload. Files are replaced atomically (temporary file + ``os.replace``), so a
crash at any moment leaves either the old or the new state, never a torn one.

Directory: the ``cache_dir`` argument, else ``$SYNAPSE_CACHE_DIR/uploads``, else
``~/.cache/synapse-async/uploads``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from synapse_async.export.files import write_atomic
from synapse_async.transfer.plan import FileSnapshot

__all__ = ["ENV_CACHE_DIR", "ResumeState", "ResumeStore", "resolve_cache_dir"]

logger = logging.getLogger("synapse_async.transfer")

ENV_CACHE_DIR = "SYNAPSE_CACHE_DIR"
"""Environment variable naming the SDK's cache root (uploads keep state in ``<root>/uploads``)."""
_VERSION = 1


def resolve_cache_dir(
    cache_dir: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> Path:
    """Where upload state lives: the argument, ``$SYNAPSE_CACHE_DIR/uploads``, or the default."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ if env is None else env
    root = env.get(ENV_CACHE_DIR)
    if root:
        return Path(root).expanduser() / "uploads"
    return Path("~/.cache/synapse-async/uploads").expanduser()


@attrs.define
class ResumeState:
    """What is needed to resume one upload.

    Attributes:
        base_url: the server.
        path: the local file (absolute).
        size: its size when the upload started.
        mtime_ns: its modification time then.
        part_size: bytes per part (v1: per chunk).
        protocol: ``"parallel"`` or ``"v1"``.
        upload_id: the server's upload id.
        url: where v1 chunks go.
        parts: part number -> hex MD5 of the parts the server confirmed (parallel).
    """

    base_url: str
    path: str
    size: int
    mtime_ns: int
    part_size: int
    protocol: str
    upload_id: str
    url: str | None = None
    parts: dict[int, str] = attrs.field(factory=dict)

    def matches(self, snapshot: FileSnapshot, part_size: int) -> bool:
        """Whether this state describes ``snapshot`` uploaded in ``part_size`` parts."""
        return (
            self.path == str(snapshot.path)
            and self.size == snapshot.size
            and self.mtime_ns == snapshot.mtime_ns
            and self.part_size == part_size
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (part numbers as strings)."""
        data = attrs.asdict(self)
        data["parts"] = {str(n): md5 for n, md5 in self.parts.items()}
        data["version"] = _VERSION
        return data

    @classmethod
    def from_json(cls, data: Any) -> ResumeState:
        """Read the JSON form (``ValueError``/``TypeError``/``KeyError`` when malformed)."""
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            raise ValueError("not a resume state of this version")
        fields = {a.name for a in attrs.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["parts"] = {int(n): str(md5) for n, md5 in dict(values.get("parts", {})).items()}
        state = cls(**values)
        if not isinstance(state.upload_id, str) or not isinstance(state.size, int):
            raise TypeError("malformed resume state")
        return state


class ResumeStore:
    """Resume states in one directory (created 0700 on first write).

    Args:
        directory: where the state files go.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._broken = False

    def __repr__(self) -> str:
        return f"ResumeStore({str(self.directory)!r})"

    def file_for(self, base_url: str, path: str | os.PathLike[str]) -> Path:
        """The state file of ``path`` uploaded to ``base_url``."""
        key = hashlib.sha256(f"{base_url}\n{os.fspath(path)}".encode()).hexdigest()[:40]
        return self.directory / f"{key}.json"

    def load(self, base_url: str, path: str | os.PathLike[str]) -> ResumeState | None:
        """The saved state, or None (missing, unreadable or malformed states are ignored)."""
        target = self.file_for(base_url, path)
        try:
            state = ResumeState.from_json(json.loads(target.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            logger.warning("ignoring unreadable upload state %s (%s)", target, exc)
            return None
        if state.base_url != base_url or state.path != os.fspath(path):
            return None
        return state

    def write(self, data: dict[str, Any]) -> None:
        """Write a state's JSON form atomically (blocking: callers run it in a thread).

        A cache that cannot be written only disables resuming.
        """
        if self._broken:
            return
        target = self.file_for(data["base_url"], data["path"])
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(str(target), json.dumps(data, separators=(",", ":")).encode())
        except OSError as exc:
            self._broken = True
            logger.warning(
                "cannot write upload state in %s (%s); this upload will not be resumable",
                self.directory,
                exc,
            )

    def discard(self, base_url: str, path: str | os.PathLike[str]) -> None:
        """Delete the state of ``path`` (done when its upload completed or was abandoned)."""
        with contextlib.suppress(OSError):
            self.file_for(base_url, path).unlink()
