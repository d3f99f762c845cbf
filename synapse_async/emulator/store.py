"""A generic JSON-document record store on one SQLite connection.

Every resource of the emulator lives in a table of the same shape::

    id INTEGER PRIMARY KEY AUTOINCREMENT, <indexed columns...>, doc TEXT NOT NULL

``doc`` holds the whole record as JSON (``id`` included); the indexed columns are copies of
top-level fields of the doc, kept so that list filters run on SQLite indexes. Only indexed
columns (and ``id``) can be filtered on. A new resource is one ``register_table`` call.
"""

from __future__ import annotations

import builtins
import json
import re
import sqlite3
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["Doc", "Store", "encode_doc"]

Doc = dict[str, Any]
"""One record: a JSON object with an integer ``id``."""

_DocList = list[Doc]
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# SQLite's default limit on bound parameters is 32766 (3.32+); stay far below it.
_IN_CHUNK = 900
# Offsets below this are read with OFFSET; from here on a page seeks to its first id (see
# ``Store._seek``), since SQLite's OFFSET reads and discards every skipped row.
_SEEK_MIN_OFFSET = 1000
_SEEK_CACHE_SIZE = 16


def _make_encoder() -> Callable[[Any], str]:
    """A compact JSON encoder; calls the C encoder directly when there is one.

    ``JSONEncoder.encode`` costs a few Python-level calls per document, which is a quarter of
    the time of a 100k-row ``insert_many``; the C encoder underneath is called directly here.
    """
    encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False)
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # e.g. PyPy
        return encoder.encode
    raw = c_make_encoder(
        None, encoder.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )

    def encode(obj: Any) -> str:
        return "".join(raw(obj, 0))

    return encode


_encode = _make_encoder()


def encode_doc(doc: Mapping[str, Any]) -> str:
    """The compact JSON text of ``doc`` as the store writes it (``id`` included if present)."""
    return _encode(doc)


def _with_id(new_id: int, body: str) -> str:
    """Prefix ``"id":new_id`` to the JSON object text ``body`` (which has no ``id``)."""
    return f'{{"id":{new_id}}}' if body == "{}" else f'{{"id":{new_id},{body[1:]}'


def _check_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a valid SQL identifier: {name!r}")
    return name


class Store:
    """JSON documents in SQLite tables, one connection shared by the emulator.

    Args:
        db_path: the SQLite file (created when missing); ``":memory:"`` works too.

    The connection runs in autocommit mode with WAL journaling; multi-row writes run in one
    explicit transaction. A lock serialises access, so the store may be used from several
    threads, although the emulator calls it from its event loop only.
    """

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self._conn = sqlite3.connect(self.db_path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        self._tables: dict[str, tuple[str, ...]] = {}
        # COUNT(*) answers keyed by query, valid while the connection made no change since:
        # a listing asks for the same count on every page.
        self._counts: dict[tuple[str, tuple[Any, ...]], tuple[int, int]] = {}
        # The ordered ids of a filtered query, kept under the same rule: deep pages of a
        # listing seek to their first id instead of scanning every row before it.
        self._id_lists: dict[tuple[str, tuple[Any, ...]], tuple[int, array[int]]] = {}
        # The next id of each table, read from SQLite once: this store is the only writer,
        # and a small insert then costs one statement instead of four.
        self._next_ids: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"Store({self.db_path!r}, tables={sorted(self._tables)})"

    # -- schema ---------------------------------------------------------------------------

    def register_table(self, name: str, indexed: Sequence[str] = ()) -> None:
        """Create table ``name`` (if missing) with one indexed column per field in ``indexed``.

        Registering the same table again is harmless; it must name the same columns.
        """
        _check_ident(name)
        cols = tuple(_check_ident(c) for c in indexed)
        if "id" in cols or "doc" in cols:
            raise ValueError("'id' and 'doc' are reserved column names")
        known = self._tables.get(name)
        if known is not None:
            if known != cols:
                raise ValueError(f"table {name!r} already registered with columns {known}")
            return
        col_sql = "".join(f", {c}" for c in cols)
        with self._lock:
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {name}"
                f"(id INTEGER PRIMARY KEY AUTOINCREMENT{col_sql}, doc TEXT NOT NULL)"
            )
            for c in cols:
                self._conn.execute(f"CREATE INDEX IF NOT EXISTS ix_{name}_{c} ON {name}({c})")
        self._tables[name] = cols

    def tables(self) -> dict[str, tuple[str, ...]]:
        """The registered tables and their indexed columns."""
        return dict(self._tables)

    def _cols(self, name: str) -> tuple[str, ...]:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"table {name!r} is not registered") from None

    # -- raw SQL escape hatch --------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[Any]:
        """Run one raw SQL statement and return all its rows (for special-purpose tables)."""
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several store calls into one SQLite transaction (``BEGIN IMMEDIATE``)."""
        with self._lock:
            if self._conn.in_transaction:
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- writes ---------------------------------------------------------------------------

    def insert(self, name: str, doc: Mapping[str, Any]) -> Doc:
        """Insert one document; returns it with its new ``id``."""
        return self.insert_many(name, [doc])[0]

    def insert_many(self, name: str, docs: Iterable[Mapping[str, Any]]) -> _DocList:
        """Insert documents in one transaction; returns them with their new ids, in order.

        Any ``id`` in the given docs is replaced by the new one (which comes first in the doc).
        """
        cols = self._cols(name)
        out: _DocList = []
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            new_id = self._next_id(name)
            for src in docs:
                doc: Doc = {"id": new_id, **src}
                doc["id"] = new_id  # in case src carried an id of its own
                out.append(doc)
                rows.append((new_id, *[doc.get(c) for c in cols], _encode(doc)))
                new_id += 1
            if len(rows) == 1:  # one statement is its own transaction (autocommit)
                self._conn.execute(self._insert_sql(name, cols), rows[0])
            else:
                with self.transaction():
                    self._conn.executemany(self._insert_sql(name, cols), rows)
            self._next_ids[name] = new_id
        return out

    @staticmethod
    def _insert_sql(name: str, cols: tuple[str, ...]) -> str:
        placeholders = ", ".join("?" * (len(cols) + 2))
        return f"INSERT INTO {name}({', '.join(('id', *cols, 'doc'))}) VALUES ({placeholders})"

    def insert_encoded(self, name: str, rows: Iterable[tuple[Sequence[Any], str]]) -> range:
        """Bulk-insert pre-encoded docs in one transaction; the fast path for seeding.

        Each row is ``(indexed values in register_table order, JSON text of the doc without
        its id)``; the store prefixes the new ``id`` to the JSON. Returns the new ids.
        """
        cols = self._cols(name)
        sql = self._insert_sql(name, cols)
        with self._lock, self.transaction():
            first = self._next_id(name)
            counter = [first]

            def params() -> Iterator[tuple[Any, ...]]:
                for values, body in rows:
                    new_id = counter[0]
                    counter[0] += 1
                    yield (new_id, *values, _with_id(new_id, body))

            self._conn.executemany(sql, params())
            self._next_ids[name] = counter[0]
        return range(first, counter[0])

    def _next_id(self, name: str) -> int:
        # AUTOINCREMENT never reuses an id, even after the highest row was deleted, so look at
        # sqlite_sequence as well as the table itself (once; then the cache keeps it).
        known = self._next_ids.get(name)
        if known is not None:
            return known
        row = self._conn.execute(
            "SELECT seq FROM sqlite_sequence WHERE name = ?", (name,)
        ).fetchone()
        seq = int(row[0]) if row else 0
        (top,) = self._conn.execute(f"SELECT COALESCE(MAX(id), 0) FROM {name}").fetchone()
        return max(seq, int(top)) + 1

    def update(self, name: str, id: int, changes: Mapping[str, Any]) -> Doc | None:
        """Merge ``changes`` into document ``id``; returns the new doc, or None when missing."""
        with self._lock, self.transaction():
            doc = self.get(name, id)
            if doc is None:
                return None
            doc.update(changes)
            doc["id"] = id
            self._write(name, [doc])
        return doc

    def update_many(
        self,
        name: str,
        ids: Iterable[int],
        changes: Mapping[str, Any] | Callable[[Doc], Mapping[str, Any]],
    ) -> int:
        """Merge changes into every existing document in ``ids`` in one transaction.

        ``changes`` is a mapping applied to each, or a function of the doc returning one.
        Returns the number of documents updated (missing ids are skipped).
        """
        with self._lock, self.transaction():
            docs = self.list(name, limit=None, id=sorted(set(ids)))
            for doc in docs:
                doc.update(changes(doc) if callable(changes) else changes)
            self._write(name, docs)
        return len(docs)

    def _write(self, name: str, docs: _DocList) -> None:
        cols = self._cols(name)
        sets = "".join(f"{c} = ?, " for c in cols)
        self._conn.executemany(
            f"UPDATE {name} SET {sets}doc = ? WHERE id = ?",
            [(*(d.get(c) for c in cols), _encode(d), d["id"]) for d in docs],
        )

    def delete(self, name: str, id: int) -> bool:
        """Delete document ``id``; True when it existed."""
        self._cols(name)
        with self._lock:
            cur = self._conn.execute(f"DELETE FROM {name} WHERE id = ?", (id,))
            return cur.rowcount > 0

    # -- reads ----------------------------------------------------------------------------

    def get(self, name: str, id: int) -> Doc | None:
        """The document with ``id``, or None."""
        self._cols(name)
        with self._lock:
            row = self._conn.execute(f"SELECT doc FROM {name} WHERE id = ?", (id,)).fetchone()
        return None if row is None else _loads(row[0])

    def _where(
        self,
        name: str,
        filters: Mapping[str, Any],
        id_gt: int | None = None,
        id_lt: int | None = None,
    ) -> tuple[str, list[Any]]:
        cols = self._cols(name)
        parts: list[str] = []
        params: list[Any] = []
        for key, value in filters.items():
            if key != "id" and key not in cols:
                raise KeyError(f"{name}.{key} is not an indexed column")
            if isinstance(value, (list, tuple, set, frozenset)):
                values = list(value)
                if not values:
                    parts.append("0")
                    continue
                parts.append(f"{key} IN ({', '.join('?' * len(values))})")
                params.extend(values)
            elif value is None:
                parts.append(f"{key} IS NULL")
            else:
                parts.append(f"{key} = ?")
                params.append(value)
        if id_gt is not None:
            parts.append("id > ?")
            params.append(id_gt)
        if id_lt is not None:
            parts.append("id < ?")
            params.append(id_lt)
        return (" WHERE " + " AND ".join(parts)) if parts else "", params

    def ids(
        self, name: str, *, offset: int = 0, limit: int | None = None, **filters: Any
    ) -> list[int]:
        """The ids of matching documents, ordered (no JSON decoding; filters as in ``list``)."""
        where, params = self._where(name, filters)
        sql = f"SELECT id FROM {name}{where} ORDER BY id LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        with self._lock:
            return [int(r[0]) for r in self._conn.execute(sql, params)]

    def count(self, name: str, **filters: Any) -> int:
        """The number of documents matching equality ``filters`` on indexed columns."""
        where, params = self._where(name, filters)
        sql = f"SELECT COUNT(*) FROM {name}{where}"
        key = (sql, tuple(params))
        with self._lock:
            version = self._conn.total_changes
            cached = self._counts.get(key)
            if cached is not None and cached[0] == version:
                return cached[1]
            (n,) = self._conn.execute(sql, params).fetchone()
            if len(self._counts) > 1024:
                self._counts.clear()
            self._counts[key] = (version, int(n))
        return int(n)

    def list(
        self,
        name: str,
        *,
        offset: int = 0,
        limit: int | None = 100,
        id_gt: int | None = None,
        id_lt: int | None = None,
        descending: bool = False,
        **filters: Any,
    ) -> _DocList:
        """Documents ordered by id, filtered by equality on indexed columns.

        A filter value that is a list (or tuple/set) means ``IN``; ``None`` means ``IS NULL``;
        ``id`` may be filtered too. ``id_gt``/``id_lt`` bound the id (cursor pagination);
        ``limit=None`` returns everything; ``descending`` reverses the order.
        """
        big_in = [k for k, v in filters.items() if _is_seq(v) and len(v) > _IN_CHUNK]
        if big_in:
            return self._list_chunked(
                name, big_in[0], filters, offset, limit, id_gt, id_lt, descending
            )
        where, params = self._where(name, filters, id_gt, id_lt)
        with self._lock:
            sql, params = self._page_query(name, where, params, offset, limit, descending)
            rows = self._conn.execute(sql, params).fetchall()
        return [_loads(r[0]) for r in rows]

    def list_json(
        self, name: str, *, offset: int = 0, limit: int = 100, **filters: Any
    ) -> builtins.list[str]:
        """Like ``list`` (equality filters, id order) but the stored JSON texts, undecoded.

        List endpoints splice these into their response, so a page costs no decode/encode.
        """
        if any(_is_seq(v) and len(v) > _IN_CHUNK for v in filters.values()):
            return [json.dumps(d) for d in self.list(name, offset=offset, limit=limit, **filters)]
        where, params = self._where(name, filters)
        with self._lock:
            sql, params = self._page_query(name, where, params, offset, limit)
            return [r[0] for r in self._conn.execute(sql, params).fetchall()]

    def _page_query(
        self,
        name: str,
        where: str,
        params: builtins.list[Any],
        offset: int,
        limit: int | None,
        descending: bool = False,
    ) -> tuple[str, builtins.list[Any]]:
        """``SELECT doc ... ORDER BY id LIMIT limit OFFSET offset`` (its SQL and parameters).

        From ``_SEEK_MIN_OFFSET`` on (ascending order), the page seeks to its first id
        instead: the ordered ids of the filtered query are read once from the index and kept
        while the connection makes no change. The caller holds the lock.
        """
        if descending or offset < _SEEK_MIN_OFFSET:
            sql = f"SELECT doc FROM {name}{where} ORDER BY id {'DESC' if descending else 'ASC'}"
            if limit is not None or offset:
                sql += " LIMIT ? OFFSET ?"
                params = [*params, -1 if limit is None else limit, offset]
            return sql, params
        key = (f"{name}{where}", tuple(params))
        version = self._conn.total_changes
        cached = self._id_lists.get(key)
        if cached is None or cached[0] != version:
            ids = array(
                "q",
                (
                    r[0]
                    for r in self._conn.execute(f"SELECT id FROM {name}{where} ORDER BY id", params)
                ),
            )
            if len(self._id_lists) >= _SEEK_CACHE_SIZE:
                self._id_lists.clear()
            cached = self._id_lists[key] = (version, ids)
        ids = cached[1]
        if offset >= len(ids):
            return f"SELECT doc FROM {name} WHERE 0", []
        bound = f"{where} AND id >= ?" if where else " WHERE id >= ?"
        return (
            f"SELECT doc FROM {name}{bound} ORDER BY id LIMIT ?",
            [*params, ids[offset], -1 if limit is None else limit],
        )

    def _list_chunked(
        self,
        name: str,
        key: str,
        filters: Mapping[str, Any],
        offset: int,
        limit: int | None,
        id_gt: int | None,
        id_lt: int | None,
        descending: bool,
    ) -> _DocList:
        values = list(filters[key])
        found: _DocList = []
        for start in range(0, len(values), _IN_CHUNK):
            chunk_filters = {**filters, key: values[start : start + _IN_CHUNK]}
            found.extend(self.list(name, limit=None, id_gt=id_gt, id_lt=id_lt, **chunk_filters))
        found.sort(key=lambda d: int(d["id"]), reverse=descending)
        end = None if limit is None else offset + limit
        return found[offset:end]

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()


def _is_seq(value: Any) -> bool:
    return isinstance(value, (list, tuple, set, frozenset))


def _loads(text: str) -> Doc:
    doc: Doc = json.loads(text)
    return doc
