"""Opening the store: the Ibis backend for queries, its DuckDB connection for bulk work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import ibis

from callscope.errors import StoreError
from callscope.store.migrations import MIGRATIONS

# The storage format new database files are written in: that of the oldest DuckDB the project
# supports (pyproject: duckdb>=1.4). DuckDB's default is still v0.10.2's, whose checkpoints cost
# more, and a checkpoint holds up every transaction of the store, a live pass's included: on a
# 107k-call store, 30 checkpoints of a sixth of bench/live.py's load each took 0.10 s (median)
# in that format, 0.06 s in this one (after 200 new customer numbers alone, 61 -> 49 ms; after
# 200 new calls alone, 12 -> 5 ms). Files made earlier keep the format they were made in.
STORAGE_VERSION = "v1.4.0"


def storage_version_for(path: Path | str) -> str | None:
    """The format to make a database file in: STORAGE_VERSION for a file not made yet, None
    for one that exists (it keeps its own) or one in memory."""
    return None if str(path) == ":memory:" or Path(path).exists() else STORAGE_VERSION


@dataclass
class Store:
    """An open database. `ibis` serves queries (metrics, listings); `con` is the same
    database's DuckDB connection, used for bulk CSV reading and assembly in the engine."""

    ibis: Any
    con: duckdb.DuckDBPyConnection
    path: Path | None

    @classmethod
    def over(cls, con: duckdb.DuckDBPyConnection) -> Store:
        """An Ibis view of a DuckDB connection in use (the importer's, inside its batch): new
        each time, as Ibis registers its in-memory tables (agents, calendar) as views of the
        connection, which a rolled-back batch takes away, so a backend that remembers having
        registered them cannot be kept."""
        return cls(ibis=ibis.duckdb.from_connection(con), con=con, path=None)

    @property
    def on_duckdb(self) -> bool:
        """DuckDB SQL can be run on `con` (the kept figures' tables and their refresh)."""
        return getattr(self.ibis, "name", "") == "duckdb" and self.con is not None

    def close(self) -> None:
        self.ibis.disconnect()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def wal_bytes(self) -> int:
        """The size of the file's write-ahead log: what its next checkpoint writes out."""
        if self.path is None:
            return 0
        try:
            return Path(f"{self.path}.wal").stat().st_size
        except FileNotFoundError:
            return 0

    def schema_version(self) -> int:
        row = self.con.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0]) if row and row[0] is not None else 0


def open_store(path: Path | str | None, *, read_only: bool = False) -> Store:
    """Open (creating and migrating if needed) the DuckDB file at `path`; None = in memory."""
    target = ":memory:" if path is None else str(path)
    config: dict[str, str] = {}
    if path is not None and not read_only:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if version := storage_version_for(path):
            config["storage_compatibility_version"] = version
    try:
        backend = ibis.duckdb.connect(target, read_only=read_only, **config)
    except duckdb.Error as exc:
        raise StoreError(f"cannot open database {target}: {exc}") from exc
    con: duckdb.DuckDBPyConnection = backend.con
    con.execute("SET TimeZone = 'UTC'")
    store = Store(ibis=backend, con=con, path=None if path is None else Path(path))
    if not read_only:
        migrate(con)
    return store


def migrate(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Apply every migration newer than the database's version; returns those applied."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
    )
    row = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    current = int(row[0]) if row else 0
    applied: list[int] = []
    for version, description, sql in MIGRATIONS:
        if version <= current:
            continue
        con.execute("BEGIN")
        try:
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)",
                [version, description],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise StoreError(f"migration {version} ({description}) failed: {exc}") from exc
        applied.append(version)
    return applied


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction around a block: committed when the block ends, rolled back when it
    raises (an interrupt or a crash included), so a half-written batch is never kept."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
