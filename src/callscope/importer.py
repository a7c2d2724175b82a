"""Importing files: parse with a source, keep raw records and rejects, assemble the calls.

Each file is one transaction: a crash leaves the store as it was before that file. A record is
kept once whatever file brings it (content-hash key), so re-importing a file, or a log that has
grown since, adds only what is new and re-assembles only the calls it touches.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from callscope.assemble import assemble, facts_of, rebuild_agent_states
from callscope.errors import CallscopeError, InputFormatError
from callscope.inputs import PreparedInput, prepare_input
from callscope.settings import Settings
from callscope.sources import available_sources, detect_format, get_source
from callscope.sources.base import Source, StageContext
from callscope.sources.staging import STAGE_REJECTS_DDL, line_number_sql
from callscope.store import Store

Progress = Callable[[str, int, int], None]
PROVENANCE = "tenant VARCHAR, import_id BIGINT, record_key UBIGINT, row_no BIGINT"


@dataclass
class FileResult:
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
    files: list[FileResult] = field(default_factory=list)
    agent_states: int = 0

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
    def calls(self) -> int:
        return sum(f.calls for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    legs: int = 0
    total_calls: int = 0


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
    with tempfile.TemporaryDirectory(prefix="callscope-") as work:
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


def _stage_and_store(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    prepared: PreparedInput,
    settings: Settings,
    mapping: Path | None,
) -> FileResult:
    tenant = settings.tenant
    display = prepared.display_name
    row = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchone()
    import_id = int(row[0]) if row else 1
    con.execute(STAGE_REJECTS_DDL)
    ctx = StageContext(
        tenant=tenant,
        timezone=settings.timezone,
        settings=settings,
        path=prepared.read_path,
        display_name=display,
        import_id=import_id,
        head=prepared.head,
        mapping=mapping,
    )
    # Parsing touches only temp tables, outside the transaction: a reader that gives up and
    # retries must not abort it. Everything the store keeps is written in one transaction.
    staged = source.stage(con, ctx)
    con.execute("BEGIN TRANSACTION")
    try:
        result = _store_staged(
            con,
            source,
            prepared,
            settings,
            ctx,
            staged.table,
            staged.rows_read,
            staged.notes,
            staged.header_lines,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _store_staged(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    prepared: PreparedInput,
    settings: Settings,
    ctx: StageContext,
    stage: str,
    rows_read: int,
    notes: list[str],
    header_lines: int = 0,
) -> FileResult:
    tenant = settings.tenant
    display = prepared.display_name
    import_id = ctx.import_id
    con.execute(
        "INSERT INTO imports (import_id, tenant, file, format, sha256, size_bytes, encoding,"
        " started_at) VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
        [
            import_id,
            tenant,
            display,
            source.name,
            prepared.sha256,
            prepared.size_bytes,
            prepared.encoding,
        ],
    )
    ensure_raw_table(con, source)
    raw = source.raw_table

    # The same record twice in one file: the later copy is a reject that points at the first.
    dupes = con.execute(
        f"""
        INSERT INTO stage_rejects
        SELECT {line_number_sql("s.row_no", header_lines)}, NULL,
               NULL, 'duplicate of line ' || {line_number_sql("f.first_row", header_lines)}
        FROM {stage} s
        JOIN (SELECT record_key, min(row_no) AS first_row FROM {stage} GROUP BY 1) f
          USING (record_key)
        WHERE s.row_no > f.first_row
        """
    ).fetchone()
    del dupes
    con.execute(
        f"DELETE FROM {stage} WHERE row_no > "
        f"(SELECT min(row_no) FROM {stage} f WHERE f.record_key = {stage}.record_key)"
    )
    rejects_row = con.execute("SELECT count(*) FROM stage_rejects").fetchone()
    rejects = int(rejects_row[0]) if rejects_row else 0
    if rows_read == 0 and rejects > 0:
        sample = con.execute(
            "SELECT line_no, reason FROM stage_rejects ORDER BY line_no LIMIT 1"
        ).fetchone()
        where = f"line {sample[0]}: {sample[1]}" if sample else ""
        raise InputFormatError(
            f"{display}: no line could be read as {source.name} ({rejects} rejected; {where})"
        )
    was_empty = not con.execute("SELECT count(*) FROM calls WHERE tenant = ?", [tenant]).fetchone()[
        0
    ]  # type: ignore[index]
    cols = ", ".join(c.strip().split(" ")[0] for c in source.raw_columns.split(",") if c.strip())
    con.execute(
        f"""
        INSERT INTO {raw}
        SELECT {cols}, '{_q(tenant)}', {import_id}, record_key, row_no FROM {stage} s
        WHERE NOT EXISTS (SELECT 1 FROM {raw} r
                          WHERE r.tenant = '{_q(tenant)}' AND r.record_key = s.record_key)
        """
    )
    new_row = con.execute(f"SELECT count(*) FROM {raw} WHERE import_id = ?", [import_id]).fetchone()
    new = int(new_row[0]) if new_row else 0
    con.execute(
        "INSERT INTO rejects SELECT ?, ?, ?, ?, line_no, field, raw, reason FROM stage_rejects",
        [import_id, tenant, display, source.name],
    )
    calls = 0
    if new:
        calls = _assemble_new(con, source, settings, import_id, full=was_empty)
    con.execute(
        "UPDATE imports SET rows_read = ?, rows_new = ?, rejects = ?,"
        " finished_at = now()::TIMESTAMP WHERE import_id = ?",
        [rows_read, new, rejects, import_id],
    )
    con.execute(f"DROP TABLE IF EXISTS {stage}")
    status = "imported" if new else "unchanged"
    return FileResult(
        display, source.name, status, rows_read, new, rejects, calls, prepared.encoding, notes=notes
    )


def _assemble_new(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    settings: Settings,
    import_id: int,
    *,
    full: bool,
) -> int:
    """Record the new rows' key links, then re-assemble every call they touch."""
    tenant = _q(settings.tenant)
    sources = [s for s in available_sources() if _has_table(con, s.raw_table)]
    new_rows = f"SELECT * FROM {source.raw_table} WHERE import_id = {import_id}"
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
    for s in sources:
        s_key = getattr(s, "key_sql", None)
        base = f"SELECT * FROM {s.raw_table} WHERE tenant = '{tenant}'"
        raw_of[s.name] = f"{base} AND ({s_key}) IN (SELECT k FROM asm_scope)" if s_key else base
    replace = f"SELECT '{tenant}', k FROM asm_scope"
    result = assemble(con, sources, settings, raw_of, replace_keys=replace, scope="asm_scope")
    return result.calls
