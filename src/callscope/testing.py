"""Helpers for tests and examples: import raw PBX text as it would sit in a log file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from callscope.assemble import facts_of
from callscope.importer import ImportSummary, import_files
from callscope.settings import Settings
from callscope.sources.base import Source, StageContext
from callscope.sources.staging import STAGE_REJECTS_DDL
from callscope.store import Store

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def import_text(
    store: Store,
    tmp: Path,
    text: str | bytes,
    *,
    fmt: str = "auto",
    settings: Settings | None = None,
    name: str = "Master.csv",
    mapping: Path | None = None,
) -> ImportSummary:
    """Write `text` to `tmp/name` (a str is stripped of the leading newline of a triple-quoted
    literal and of each line's indentation) and import it."""
    path = tmp / name
    if isinstance(text, str):
        lines = [line.strip() for line in text.strip("\n").splitlines()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        path.write_bytes(text)
    return import_files(store, [path], fmt=fmt, settings=settings or Settings(), mapping=mapping)


def write_text(path: Path, text: str) -> Path:
    """Write pasted lines (indentation and the leading newline of a triple-quoted literal
    stripped) as a log file."""
    path.write_text("\n".join(line.strip() for line in text.strip().splitlines()) + "\n")
    return path


class StagedFile:
    """A file staged by one source into an in-memory DuckDB, and the facts the source derives
    from it: tests read "these lines mean these facts" without the assembler in between."""

    def __init__(
        self,
        source: Source,
        path: Path,
        *,
        timezone: str = "Europe/Moscow",
        tenant: str = "t",
        raw: str = "raw",
        display_name: str | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.source = source
        self.raw = raw
        self.settings = settings or Settings()
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        self.con.execute(STAGE_REJECTS_DDL)
        ctx = StageContext(tenant, timezone, self.settings, path, display_name or path.name, 1)
        self.result = source.stage(self.con, ctx)
        self.con.execute(
            f"CREATE TABLE {raw} AS SELECT *, '{tenant}' AS tenant, 1::BIGINT AS import_id "
            f"FROM {self.result.table}"
        )

    def facts(self, view: str, order: str = "ALL") -> list[dict[str, Any]]:
        sql = facts_of(self.source, self.settings)[view].replace("{raw}", self.raw)
        cur = self.con.execute(f"SELECT * FROM ({sql}) ORDER BY {order}")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def rejects(self) -> list[tuple[Any, ...]]:
        """(line_no, field, reason) of every rejected line, in file order."""
        return self.con.execute(
            "SELECT line_no, field, reason FROM stage_rejects ORDER BY line_no"
        ).fetchall()


KEPT_TABLES = ("calls", "legs", "agent_states", "contacts", "contact_calls", "contacts_state")


def store_at_schema(source: Store, path: Path, version: int) -> duckdb.DuckDBPyConnection:
    """A copy of `source`'s rows in a new store at schema `version` (as before the migrations
    after it): the columns later migrations added are left out. For tests that a store not yet
    migrated (opened read-only) reports the same, and that a migration back-fills what the
    assembler writes. The connection is left open for a test to alter the old rows; close it
    before opening the store."""
    from callscope.store.migrations import MIGRATIONS

    assert source.con is not None
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE schema_migrations ("
        " version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
    )
    for number, description, sql in MIGRATIONS:
        if number > version:
            break
        con.execute(sql)
        con.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, now()::TIMESTAMP)", [number, description]
        )
    present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for name in (t for t in KEPT_TABLES if t in present):
        known = [d[0] for d in con.execute(f"SELECT * FROM {name} LIMIT 0").description]
        rows = source.con.sql(f"SELECT * FROM {name}").to_arrow_table()
        con.register("rows_in", rows.select([c for c in rows.column_names if c in known]))
        con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM rows_in")
        con.unregister("rows_in")
    return con


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started and that still run (Linux /proc): `callscope listen`'s
    intake process, for the tests and the benchmark that follow it."""
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
