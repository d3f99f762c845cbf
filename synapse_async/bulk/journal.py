"""The bulk upload journal: each item's state in a SQLite file, so a rerun skips what is done.

Blocking (stdlib ``sqlite3``); the pipeline calls it in a worker thread. Every write is one
transaction. A unit or task batch is recorded with its Idempotency-Key *before* it is sent, so
a rerun after a crash re-sends exactly that batch with the same key and the server answers
with what it created the first time: no duplicate data unit or task.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from synapse_async.errors import JournalError

__all__ = ["FileState", "Journal", "JournalRow", "PendingBatch"]

_VERSION = "1"
_LOOKUP_BATCH = 512  # keys per query (SQLite allows 999 parameters at least)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items(
    key TEXT PRIMARY KEY, files TEXT NOT NULL, body TEXT,
    unit_batch INTEGER, unit_id INTEGER, task_batch INTEGER, task_id INTEGER);
CREATE TABLE IF NOT EXISTS batches(
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, idem_key TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS ix_items_unit_batch ON items(unit_batch);
CREATE INDEX IF NOT EXISTS ix_items_task_batch ON items(task_batch);
"""


@attrs.define
class FileState:
    """What the journal knows of one file.

    Where it is, its size and mtime when hashed, its MD5, and whether the server holds it.
    """

    path: str
    size: int
    mtime_ns: int
    md5: str
    sent: bool = False


@attrs.define
class JournalRow:
    """One item's journaled state.

    ``raw_files`` is each slot's ``[path, size, mtime_ns, md5, sent]`` as stored; ``files``
    builds ``FileState`` objects from it (a rerun compares most rows without them).
    """

    key: str
    raw_files: dict[str, list[Any]]
    unit_id: int | None
    task_id: int | None
    pending_unit_batch: bool
    pending_task_batch: bool

    @property
    def files(self) -> dict[str, FileState]:
        """Each slot's file state."""
        return {s: FileState(*v) for s, v in self.raw_files.items()}

    def holds(self, slot: str, size: int, mtime_ns: int) -> bool:
        """Whether ``slot``'s file was hashed at this size and mtime."""
        v = self.raw_files.get(slot)
        return v is not None and v[1] == size and v[2] == mtime_ns and bool(v[3])


@attrs.define
class PendingBatch:
    """A unit or task batch recorded as about to be sent, with no answer recorded."""

    id: int
    kind: str
    idem_key: str
    keys: list[str]
    payload: list[Any]


def _files_json(files: dict[str, FileState]) -> str:
    return json.dumps({s: attrs.astuple(f) for s, f in files.items()}, ensure_ascii=False)


class Journal:
    """A bulk upload's journal file.

    Args:
        path: the SQLite file (created when missing).
        collection: the data collection the upload goes to.
        project: the project tasks go to, or None.

    Raises:
        JournalError: the file is not a journal (corrupt, or another kind of file), or it
            belongs to another collection or project.
    """

    def __init__(self, path: str | Path, *, collection: int, project: int | None) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(
                str(self.path), check_same_thread=False, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise JournalError(
                f"cannot open journal {str(self.path)!r}: {exc}", path=str(self.path)
            ) from exc
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            self._check_meta(collection, project)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise JournalError(
                f"{str(self.path)!r} is not a readable bulk upload journal ({exc}); move it "
                "away or pass another journal path",
                path=str(self.path),
            ) from exc

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r})"

    def _check_meta(self, collection: int, project: int | None) -> None:
        rows = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        want = {
            "version": _VERSION,
            "collection": str(collection),
            "project": "" if project is None else str(project),
        }
        if not rows:
            self._write("INSERT INTO meta(key, value) VALUES (?, ?)", list(want.items()))
            return
        for name, value in want.items():
            if rows.get(name) != value:
                raise JournalError(
                    f"journal {str(self.path)!r} belongs to {name} {rows.get(name) or 'none'!s}"
                    f", not {value or 'none'}; pass another journal path for this upload",
                    path=str(self.path),
                )

    def _write(
        self, sql: str, rows: Sequence[Sequence[Any]], *more: tuple[str, Sequence[Any]]
    ) -> None:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    if rows:
                        self._conn.executemany(sql, rows)
                    for extra_sql, params in more:
                        self._conn.execute(extra_sql, params)
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:  # SQLite rolls back by itself on SQLITE_FULL
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise JournalError(
                    f"cannot write journal {str(self.path)!r}: {exc}. What the server already "
                    "holds is kept; free the space (or fix the file) and run the upload again "
                    "with the same journal to finish",
                    path=str(self.path),
                ) from exc

    # -- reads ------------------------------------------------------------------------------

    def lookup(self, keys: Sequence[str]) -> dict[str, JournalRow]:
        """The journaled rows of these item keys (missing keys are absent)."""
        out: dict[str, JournalRow] = {}
        with self._lock:
            # Few batches are ever open: one set instead of two joins per row.
            pending = {r[0] for r in self._conn.execute("SELECT id FROM batches WHERE done = 0")}
            for start in range(0, len(keys), _LOOKUP_BATCH):
                chunk = list(keys[start : start + _LOOKUP_BATCH])
                sql = (
                    "SELECT key, files, unit_id, task_id, unit_batch, task_batch FROM items"
                    f" WHERE key IN ({','.join('?' * len(chunk))})"
                )
                for key, files, unit, task, unit_batch, task_batch in self._conn.execute(
                    sql, chunk
                ):
                    out[key] = JournalRow(
                        key,
                        json.loads(files),
                        unit,
                        task,
                        unit_batch in pending,
                        task_batch in pending,
                    )
        return out

    def pending_batches(self) -> list[PendingBatch]:
        """Batches recorded as about to be sent with no recorded answer, oldest first."""
        with self._lock:
            batches = self._conn.execute(
                "SELECT id, kind, idem_key FROM batches WHERE done = 0 ORDER BY id"
            ).fetchall()
            out = []
            for batch_id, kind, idem in batches:
                col = "unit_batch" if kind == "unit" else "task_batch"
                rows = self._conn.execute(
                    f"SELECT key, body, unit_id FROM items WHERE {col} = ? ORDER BY rowid",
                    (batch_id,),
                ).fetchall()
                payload = [json.loads(b) if kind == "unit" else u for _k, b, u in rows]
                out.append(PendingBatch(batch_id, kind, idem, [r[0] for r in rows], payload))
        return out

    # -- writes -----------------------------------------------------------------------------

    def record_files(self, rows: Iterable[tuple[str, dict[str, FileState]]]) -> None:
        """Record items' file states (hashed, or sent); keeps their unit and task ids."""
        self._write(
            "INSERT INTO items(key, files) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET files = excluded.files",
            [(key, _files_json(files)) for key, files in rows],
        )

    def begin_batch(self, kind: str, entries: Sequence[tuple[str, Any]]) -> str:
        """Record a batch as about to be sent; returns its Idempotency-Key.

        ``entries``: ``(key, unit body)`` for a unit batch, ``(key, unit id)`` for a task batch.
        """
        idem = f"bulk-{kind}-{uuid.uuid4().hex}"
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    cur = self._conn.execute(
                        "INSERT INTO batches(kind, idem_key) VALUES (?, ?)", (kind, idem)
                    )
                    batch_id = cur.lastrowid
                    if kind == "unit":
                        self._conn.executemany(
                            "UPDATE items SET body = ?, unit_batch = ? WHERE key = ?",
                            [
                                (json.dumps(body, ensure_ascii=False), batch_id, key)
                                for key, body in entries
                            ],
                        )
                    else:
                        self._conn.executemany(
                            "UPDATE items SET task_batch = ? WHERE key = ?",
                            [(batch_id, key) for key, _unit in entries],
                        )
                    self._conn.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:  # SQLite rolls back by itself on SQLITE_FULL
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.Error as exc:
                raise JournalError(
                    f"cannot write journal {str(self.path)!r}: {exc}. Free the space (or fix "
                    "the file) and run the upload again with the same journal to finish",
                    path=str(self.path),
                ) from exc
        return idem

    def finish_batch(self, kind: str, idem_key: str, results: Sequence[tuple[str, int]]) -> None:
        """Record the ids a batch created (``(key, id)``) and mark it answered."""
        col = "unit_id" if kind == "unit" else "task_id"
        self._write(
            f"UPDATE items SET {col} = ? WHERE key = ?",
            [(new_id, key) for key, new_id in results],
            ("UPDATE batches SET done = 1 WHERE idem_key = ?", (idem_key,)),
        )

    def abandon_batch(self, kind: str, idem_key: str, keys: Sequence[str]) -> None:
        """Forget a batch the server refused (its items may be sent again in a new batch)."""
        col = "unit_batch" if kind == "unit" else "task_batch"
        self._write(
            f"UPDATE items SET {col} = NULL WHERE key = ?",
            [(k,) for k in keys],
            ("DELETE FROM batches WHERE idem_key = ?", (idem_key,)),
        )

    def forget(self, keys: Sequence[str]) -> None:
        """Drop items whose files changed, so they are hashed and sent afresh."""
        self._write("DELETE FROM items WHERE key = ? AND unit_id IS NULL", [(k,) for k in keys])

    def close(self) -> None:
        """Close the file (idempotent)."""
        with self._lock:
            self._conn.close()
