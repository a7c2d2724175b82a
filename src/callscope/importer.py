"""Importing files: parse with a source, keep raw records and rejects, assemble the calls.

Each file is one transaction: a crash leaves the store as it was before that file. A record is
kept once whatever file brings it (content-hash key), so re-importing a file, or a log that has
grown since, adds only what is new and re-assembles only the calls it touches.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import duckdb

from callscope.assemble import assemble, facts_of, rebuild_agent_states
from callscope.errors import CallscopeError, InputFormatError
from callscope.inputs import PreparedInput, prepare_input
from callscope.metrics.contacts_table import refresh_contacts
from callscope.metrics.first_calls import refresh_first_calls
from callscope.settings import Settings
from callscope.sources import available_sources, detect_format, get_source
from callscope.sources.base import Source, StageContext
from callscope.sources.staging import STAGE_REJECTS_DDL, line_number_sql
from callscope.store import Store, transaction

Progress = Callable[[str, int, int], None]
# DuckDB's own default is 80 % of RAM; an import spills to disk beyond this instead, so a
# 10M-row file does not take the memory of a machine it shares with the dashboard and others.
IMPORT_MEMORY_LIMIT = 6 * 2**30
PROVENANCE = "tenant VARCHAR, import_id BIGINT, record_key UBIGINT, row_no BIGINT"
# Up to this many calls re-assembled, their raw rows are copied once before the facts read
# them (`_assemble_new`): a live pass's few hundred calls. A file's batch reads them in place.
FEW_KEYS = 20_000


@dataclass
class FileResult:
    """One file (or live batch): `calls` is how many calls its new records made or changed."""

    file: str
    format: str
    status: str  # imported | unchanged | failed
    records_read: int = 0
    records_new: int = 0
    rejects: int = 0
    calls: int = 0
    encoding: str = "utf-8"
    error: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    """What one `import_files` run did. Per-file figures are summed by the properties; the
    store-wide figures are counted after the last file."""

    files: list[FileResult] = field(default_factory=list)
    agent_states: int = 0  # agent_states rows of the tenant, rebuilt after the files
    total_calls: int = 0  # calls of the tenant in the store afterwards (not just this run's)
    legs: int = 0  # legs of the tenant in the store afterwards

    @property
    def records_read(self) -> int:
        return sum(f.records_read for f in self.files)

    @property
    def records_new(self) -> int:
        return sum(f.records_new for f in self.files)

    @property
    def rejects(self) -> int:
        return sum(f.rejects for f in self.files)

    @property
    def calls_assembled(self) -> int:
        """Calls (re-)assembled by this run: a call that two files touch counts twice."""
        return sum(f.calls for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]


def ensure_raw_table(con: duckdb.DuckDBPyConnection, source: Source) -> None:
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {source.raw_table} ({source.raw_columns}, {PROVENANCE})"
    )


def _q(text: str) -> str:
    return text.replace("'", "''")


def import_files(
    store: Store,
    paths: Sequence[Path],
    *,
    fmt: str = "auto",
    settings: Settings,
    mapping: Path | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import every file; a file that cannot be read is reported in the summary (status
    `failed`, with the reason) and does not stop the others."""
    summary = ImportSummary()
    con = store.con
    limit = min(_setting_bytes(con, "memory_limit"), IMPORT_MEMORY_LIMIT)
    with (
        tempfile.TemporaryDirectory(prefix="callscope-") as work,
        engine_settings(con, memory_limit=f"{limit // 2**20}MiB"),
    ):
        for index, path in enumerate(paths):
            if progress:
                progress(str(path), index, len(paths))
            try:
                prepared = prepare_input(path, Path(work))
                name = detect_format(prepared.head, str(path)) if fmt == "auto" else fmt
                source = get_source(name)
                _check_format(source, prepared)
                result = _import_one(con, source, prepared, settings, mapping)
            except CallscopeError as exc:
                result = FileResult(str(path), fmt, "failed", error=str(exc))
            except duckdb.Error as exc:
                first = str(exc).splitlines()[0]
                result = FileResult(str(path), fmt, "failed", error=f"{path}: {first}")
            summary.files.append(result)
        if progress:
            progress("agent states", len(paths), len(paths))
        sources = [s for s in available_sources() if _has_table(con, s.raw_table)]
        summary.agent_states = rebuild_agent_states(
            con, sources, settings, settings.tenant, {s.name: s.raw_table for s in sources}
        )
    row = con.execute(
        "SELECT (SELECT count(*) FROM calls WHERE tenant = $1),"
        " (SELECT count(*) FROM legs WHERE tenant = $1)",
        [settings.tenant],
    ).fetchone()
    summary.total_calls, summary.legs = (int(row[0]), int(row[1])) if row else (0, 0)
    return summary


def _check_format(source: Source, prepared: PreparedInput) -> None:
    """A file given the wrong --format is named as what it looks like, before any parsing."""
    if not prepared.head.strip():
        raise InputFormatError(f"{prepared.display_name}: empty file, nothing to import")
    if source.sniff(prepared.head) > 0:
        return
    others = [(s.sniff(prepared.head), s.name) for s in available_sources() if s is not source]
    best = max(others, default=(0.0, ""))
    if best[0] >= 0.5:
        raise InputFormatError(
            f"{prepared.display_name}: looks like {best[1]}, not {source.name}; "
            f"use --format {best[1]} or --format auto"
        )


def stored_sources(con: duckdb.DuckDBPyConnection) -> list[Source]:
    """The sources whose raw table exists, from one catalogue query (one per source cost
    1-2 ms each, seven of them in every live pass)."""
    rows = con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()
    names = {str(r[0]) for r in rows}
    return [s for s in available_sources() if s.raw_table in names]


def _with_rows(
    con: duckdb.DuckDBPyConnection, sources: list[Source], raw_of: dict[str, str], keep: str
) -> list[Source]:
    """The sources (and `keep`) that have a raw row among those `raw_of` selects."""
    others = [s for s in sources if s.name != keep]
    if not others:
        return sources
    checks = ", ".join(f"EXISTS ({raw_of[s.name]})" for s in others)
    row = con.execute(f"SELECT [{checks}]").fetchone()
    found = {s.name for s, hit in zip(others, row[0] if row else [], strict=True) if hit}
    return [s for s in sources if s.name == keep or s.name in found]


def _has_table(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    row = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [table]
    ).fetchone()
    return bool(row and row[0])


def _import_one(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    prepared: PreparedInput,
    settings: Settings,
    mapping: Path | None,
) -> FileResult:
    tenant = settings.tenant
    display = prepared.display_name
    seen = con.execute(
        "SELECT import_id FROM imports WHERE tenant = ? AND sha256 = ? AND format = ?"
        " AND finished_at IS NOT NULL",
        [tenant, prepared.sha256, source.name],
    ).fetchone()
    if seen:
        return FileResult(
            display,
            source.name,
            "unchanged",
            encoding=prepared.encoding,
            notes=[f"already imported (import {seen[0]})"],
        )
    return _stage_and_store(con, source, prepared, settings, mapping)


@dataclass(frozen=True)
class Batch:
    """Where a batch of raw records came from, as the `imports` table records it."""

    import_id: int
    file: str  # the user's path, or the live origin (e.g. `live:asterisk-ami`)
    sha256: str
    size_bytes: int = 0
    encoding: str | None = None


def _next_import_id(con: duckdb.DuckDBPyConnection) -> int:
    row = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()
    return int(row[0]) if row else 1


def _stage_and_store(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    prepared: PreparedInput,
    settings: Settings,
    mapping: Path | None,
) -> FileResult:
    batch = Batch(
        _next_import_id(con),
        prepared.display_name,
        prepared.sha256,
        prepared.size_bytes,
        prepared.encoding,
    )
    con.execute(STAGE_REJECTS_DDL)
    ctx = StageContext(
        tenant=settings.tenant,
        timezone=settings.timezone,
        settings=settings,
        path=prepared.read_path,
        display_name=prepared.display_name,
        import_id=batch.import_id,
        head=prepared.head,
        mapping=mapping,
    )
    # Parsing touches only temp tables, outside the transaction: a reader that gives up and
    # retries must not abort it. Everything the store keeps is written in one transaction.
    staged = source.stage(con, ctx)
    result = _in_transaction(
        con,
        lambda: _store_staged(
            con, source, settings, batch, staged.table, staged.rows_read, staged.header_lines
        ),
    )
    result.notes = staged.notes
    return result


def ingest_staged(
    store: Store,
    source: Source,
    staged_table: str,
    *,
    settings: Settings,
    origin: str,
    cut: Interruptible | None = None,
) -> FileResult:
    """Keep a batch of raw records that did not come from a file (AMI, webhooks) and
    re-assemble exactly the calls they touch, in one transaction.

    `staged_table` holds the source's typed raw rows as `Source.stage` leaves them: the columns
    of `source.raw_columns` plus `record_key UBIGINT` (content hash) and `row_no BIGINT` (order
    within the batch). Records the store already keeps (same tenant and record_key) and repeats
    within the batch are skipped, so delivering a batch twice changes nothing. Rows in temp
    table `stage_rejects`, if the caller filled it, are kept as this batch's rejects. The batch
    is recorded in `imports` under `origin` (file column); `staged_table` is dropped. It is the
    code path `import_files` takes after parsing a file; agent_states are left to the caller
    (`rebuild_agent_states`), as import_files rebuilds them once after all its files.
    `cut` (the live driver's `Cut`) is opened after BEGIN and closed before COMMIT or
    ROLLBACK: in between, an interrupt of the connection rolls the batch back.
    """
    con = store.con
    con.execute(_STAGE_REJECTS_IF_MISSING)
    row = con.execute(
        "SELECT (SELECT coalesce(max(import_id), 0) + 1 FROM imports),"
        f" (SELECT count(*) FROM {staged_table})"
    ).fetchone()
    import_id, rows = (int(row[0]), int(row[1])) if row else (1, 0)
    batch = Batch(import_id, origin, f"{origin}:{import_id}")
    return _in_transaction(
        con, lambda: _store_staged(con, source, settings, batch, staged_table, rows, 0), cut
    )


_STAGE_REJECTS_IF_MISSING = (
    "CREATE TEMP TABLE IF NOT EXISTS stage_rejects ("
    " line_no BIGINT, field VARCHAR, raw VARCHAR, reason VARCHAR);"
    "CREATE TEMP TABLE IF NOT EXISTS stage_csv_reject_lines (line_no BIGINT)"
)


class Interruptible(Protocol):
    """A window in which another thread may interrupt the transaction's statements."""

    def open(self) -> None: ...

    def close(self) -> None: ...


def _in_transaction(
    con: duckdb.DuckDBPyConnection,
    work: Callable[[], FileResult],
    cut: Interruptible | None = None,
) -> FileResult:
    # Staging is done: nothing read from here on depends on the order rows are written in
    # (keys and windows order explicitly), so DuckDB may write in parallel.
    with engine_settings(con, preserve_insertion_order="false"), transaction(con):
        if cut is not None:
            cut.open()
        try:
            return work()
        finally:
            if cut is not None:  # before COMMIT or ROLLBACK: an interrupt must not hit them
                cut.close()


@contextmanager
def engine_settings(con: duckdb.DuckDBPyConnection, **values: str) -> Iterator[None]:
    """DuckDB settings for the duration of a block, restored after it."""
    before = {name: con.execute("SELECT current_setting(?)", [name]).fetchone() for name in values}
    for name, value in values.items():
        con.execute(f"SET {name} = '{_q(value)}'")
    try:
        yield
    finally:
        for name, row in before.items():
            if row is not None:
                con.execute(f"SET {name} = '{_q(str(row[0]))}'")


_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}  # fmt: skip


def _setting_bytes(con: duckdb.DuckDBPyConnection, name: str) -> int:
    """A DuckDB size setting ('18.3 GiB') in bytes; unknown forms count as unlimited."""
    row = con.execute("SELECT current_setting(?)", [name]).fetchone()
    number, _, unit = str(row[0] if row else "").strip().partition(" ")
    try:
        return int(float(number) * _UNITS[unit.upper() or "B"])
    except (ValueError, KeyError):
        return 2**62


def _store_staged(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    settings: Settings,
    batch: Batch,
    stage: str,
    rows_read: int,
    header_lines: int,
) -> FileResult:
    """Keep the staged rows that are new, the rejects, and re-assemble the calls touched.

    A live pass runs this for a few calls several times a second: what it needs to know
    before writing is asked in one statement, the batch's `imports` row is written once at
    the end, and the rejects tables are touched only when there are rejects."""
    tenant = settings.tenant
    import_id = batch.import_id
    ensure_raw_table(con, source)
    raw = source.raw_table
    row = con.execute(
        f"SELECT (SELECT count(*) > count(DISTINCT record_key) FROM {stage}),"
        " (SELECT count(*) FROM stage_rejects),"
        " NOT EXISTS (SELECT 1 FROM calls WHERE tenant = $1),"
        f" EXISTS (SELECT 1 FROM {raw} WHERE tenant = $1)",
        [tenant],
    ).fetchone()
    repeats, rejects, was_empty, kept = (
        (bool(row[0]), int(row[1]), bool(row[2]), bool(row[3])) if row else (False, 0, True, False)
    )
    # The same record twice in one batch: the later copy is a reject that points at the first.
    if repeats:
        _reject_repeats(con, stage, header_lines)
        rejects_row = con.execute("SELECT count(*) FROM stage_rejects").fetchone()
        rejects = int(rejects_row[0]) if rejects_row else 0
    if rows_read == 0 and rejects > 0:
        sample = con.execute(
            "SELECT line_no, reason FROM stage_rejects ORDER BY line_no LIMIT 1"
        ).fetchone()
        where = f"line {sample[0]}: {sample[1]}" if sample else ""
        raise InputFormatError(
            f"{batch.file}: no line could be read as {source.name} ({rejects} rejected; {where})"
        )
    cols = ", ".join(c.strip().split(" ")[0] for c in source.raw_columns.split(",") if c.strip())
    # A tenant's first batch has nothing to compare with: skipping the anti-join saves a hash
    # table of every record key.
    known = (
        f" WHERE NOT EXISTS (SELECT 1 FROM {raw} r"
        f" WHERE r.tenant = '{_q(tenant)}' AND r.record_key = s.record_key)"
        if kept
        else ""
    )
    new_row = con.execute(
        f"INSERT INTO {raw} SELECT {cols}, '{_q(tenant)}', {import_id}, record_key, row_no"
        f" FROM {stage} s{known}"
    ).fetchone()
    new = int(new_row[0]) if new_row else 0
    fresh = not kept
    if fresh:
        # Every staged row is new: the facts read them from the stage, not back from the raw
        # table, where they sit uncommitted and compressed.
        new_rows = (
            f"SELECT {cols}, '{_q(tenant)}' AS tenant, {import_id} AS import_id, record_key,"
            f" row_no FROM {stage}"
        )
    else:
        new_rows = f"SELECT * FROM {raw} WHERE import_id = {import_id}"
    if rejects:
        con.execute(
            "INSERT INTO rejects SELECT ?, ?, ?, ?, line_no, field, raw, reason FROM stage_rejects",
            [import_id, tenant, batch.file, source.name],
        )
        con.execute("DELETE FROM stage_rejects")
    calls = 0
    if new:
        calls = _assemble_new(con, source, settings, new_rows, full=was_empty, fresh=fresh)
        # The kept missed contacts of the numbers these calls touched (all, on a first batch).
        keys = None if was_empty else "asm_scope"
        got = refresh_contacts(con, settings, keys)
        # Which calls are their customer's first of the day, for the same numbers.
        refresh_first_calls(con, settings, keys, batch_ready=not got["full"])
    # started_at and finished_at are both the transaction's start (DuckDB's now()), as when
    # the row was inserted first and updated at the end.
    con.execute(
        "INSERT INTO imports (import_id, tenant, file, format, sha256, size_bytes, encoding,"
        " rows_read, rows_new, rejects, started_at, finished_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP, now()::TIMESTAMP)",
        [import_id, tenant, batch.file, source.name, batch.sha256, batch.size_bytes,
         batch.encoding, rows_read, new, rejects],
    )  # fmt: skip
    con.execute(f"DROP TABLE IF EXISTS {stage}")
    status = "imported" if new else "unchanged"
    return FileResult(
        batch.file, source.name, status, rows_read, new, rejects, calls,
        batch.encoding or "utf-8",
    )  # fmt: skip


def _reject_repeats(con: duckdb.DuckDBPyConnection, stage: str, header_lines: int) -> None:
    """The same record twice in one batch: the later copy is a reject that points at the
    first, and leaves the stage."""
    con.execute(
        f"""
        INSERT INTO stage_rejects
        SELECT {line_number_sql("s.row_no", header_lines)}, NULL,
               NULL, 'duplicate of line ' || {line_number_sql("f.first_row", header_lines)}
        FROM {stage} s
        JOIN (SELECT record_key, min(row_no) AS first_row FROM {stage} GROUP BY 1) f
          USING (record_key)
        WHERE s.row_no > f.first_row
        """
    )
    con.execute(
        f"DELETE FROM {stage} WHERE row_no > "
        f"(SELECT min(row_no) FROM {stage} f WHERE f.record_key = {stage}.record_key)"
    )


def _assemble_new(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    settings: Settings,
    new_rows: str,
    *,
    full: bool,
    fresh: bool,
) -> int:
    """Record the new rows' key links, then re-assemble every call they touch. `new_rows`
    selects them (raw table columns); `fresh`: the raw table held no rows of the tenant
    before them, so they are all of its rows."""
    tenant = _q(settings.tenant)
    sources = stored_sources(con)
    facts = facts_of(source, settings)
    if "key_links" in facts:
        con.execute(
            "INSERT OR IGNORE INTO key_links SELECT DISTINCT tenant, alias_key, call_key FROM ("
            + facts["key_links"].replace("{raw}", f"({new_rows})")
            + ") WHERE alias_key IS NOT NULL AND call_key IS NOT NULL AND alias_key <> call_key"
        )
    if full:
        everything = {
            s.name: f"SELECT * FROM {s.raw_table} WHERE tenant = '{tenant}'" for s in sources
        }
        if fresh:
            everything[source.name] = new_rows
        return assemble(con, sources, settings, everything, replace_keys=None).calls

    key_sql = getattr(source, "key_sql", None)
    if key_sql:
        new_keys = f"SELECT DISTINCT {key_sql} AS k FROM ({new_rows})"
    else:
        parts = [
            facts[v].replace("{raw}", f"({new_rows})")
            for v in ("call_facts", "leg_facts")
            if v in facts
        ]
        new_keys = " UNION ".join(f"SELECT call_key AS k FROM ({p})" for p in parts)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE asm_scope AS
        WITH nk AS ({new_keys}),
        resolved AS (
            SELECT DISTINCT coalesce(l.call_key, nk.k) AS call_id
            FROM nk LEFT JOIN key_links l ON l.tenant = '{tenant}' AND l.alias_key = nk.k
        )
        SELECT * FROM (
            SELECT call_id AS k FROM resolved
            UNION SELECT alias_key FROM key_links
                  WHERE tenant = '{tenant}' AND call_key IN (SELECT call_id FROM resolved)
            UNION SELECT k FROM nk
        ) WHERE k IS NOT NULL
        """
    )
    raw_of: dict[str, str] = {}
    row = con.execute("SELECT count(*) FROM asm_scope").fetchone()
    few = bool(row and row[0] <= FEW_KEYS)
    copies: list[str] = []
    for s in sources:
        s_key = getattr(s, "key_sql", None)
        base = f"SELECT * FROM {s.raw_table} WHERE tenant = '{tenant}'"
        raw_of[s.name] = f"{base} AND ({s_key}) IN (SELECT k FROM asm_scope)" if s_key else base
        if s_key and few:
            # Call and leg facts each read the rows: from a copy, the raw table (which grows
            # with the history, and whose key has no order to skip by) is scanned once.
            copies.append(f"asm_raw_{len(copies)}")
            con.execute(f"CREATE OR REPLACE TEMP TABLE {copies[-1]} AS {raw_of[s.name]}")
            raw_of[s.name] = f"SELECT * FROM {copies[-1]}"
    # A source with no raw row in scope has no facts, yet planning its facts SQL cost up to
    # 90 ms (the AMI/CEL rewrite) in every live pass of a few webhook calls: leave it out.
    sources = _with_rows(con, sources, raw_of, keep=source.name)
    raw_of = {s.name: raw_of[s.name] for s in sources}
    replace = f"SELECT '{tenant}', k FROM asm_scope"
    result = assemble(con, sources, settings, raw_of, replace_keys=replace, scope="asm_scope")
    if copies:
        con.execute("; ".join(f"DROP TABLE {name}" for name in copies))
    return result.calls
