"""Shared steps of staging a CSV file: DuckDB's own rejects, and rows whose fields parse as CSV
but not as their type. Both end in temp table `stage_rejects` with a line number and a reason
that names the field, so nothing bad is silently turned into NULL and nothing good is lost."""

from __future__ import annotations

import duckdb

STAGE_REJECTS_DDL = (
    "CREATE OR REPLACE TEMP TABLE stage_rejects ("
    " line_no BIGINT, field VARCHAR, raw VARCHAR, reason VARCHAR);"
    "CREATE OR REPLACE TEMP TABLE stage_csv_reject_lines (line_no BIGINT)"
)

# DuckDB's error types, said the way a person reading a PBX log understands them.
_CSV_REASONS = {
    "MISSING COLUMNS": "too few fields",
    "TOO MANY COLUMNS": "too many fields",
    "INVALID ENCODING": "not valid text",
    "UNQUOTED VALUE": "unterminated quote, the line may be cut short",
    "LINE SIZE OVER MAXIMUM": "line too long",
    "CAST": "wrong type",
    "INVALID STATE": "broken quoting",
}


def collect_csv_rejects(con: duckdb.DuckDBPyConnection, errors: str, scans: str) -> int:
    """Move the CSV reader's rejects into stage_rejects; returns how many lines were rejected."""
    cases = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _CSV_REASONS.items())
    con.execute(
        f"""
        INSERT INTO stage_rejects
        SELECT line, column_name, csv_line,
               CASE error_type::VARCHAR {cases} ELSE lower(error_type::VARCHAR) END
               || coalesce(' (' || column_name || ')', '') || ': ' || error_message
        FROM (SELECT DISTINCT ON (line) * FROM {errors} ORDER BY line, column_idx)
        """
    )
    con.execute(f"INSERT INTO stage_csv_reject_lines SELECT DISTINCT line FROM {errors}")
    row = con.execute(f"SELECT count(DISTINCT line) FROM {errors}").fetchone()
    con.execute(f"DROP TABLE IF EXISTS {errors}")
    con.execute(f"DROP TABLE IF EXISTS {scans}")
    return int(row[0]) if row else 0


def line_number_sql(row_no: str, header_lines: int) -> str:
    """The file line of data row `row_no` (1-based), counting lines the CSV reader rejected:
    the i-th rejected line (sorted) has `line - header - i` good rows before it."""
    return (
        f"({row_no} + {header_lines} + (SELECT count(*) FROM (SELECT line_no - {header_lines}"
        f" - row_number() OVER (ORDER BY line_no) AS good_before FROM stage_csv_reject_lines)"
        f" r WHERE r.good_before < {row_no}))"
    )


def move_bad_rows(
    con: duckdb.DuckDBPyConnection,
    table: str,
    header_lines: int,
    rules: list[tuple[str, str, str, str]],
) -> None:
    """For each (field, condition, reason prefix, value column): rows matching the condition
    become rejects (first matching rule wins) and leave `table`. The table needs `row_no`
    and `line_text` columns."""
    done: list[str] = []
    for field, condition, reason, value in rules:
        guard = " AND ".join(f"NOT coalesce(({c}), false)" for c in done) or "true"
        con.execute(
            f"""
            INSERT INTO stage_rejects
            SELECT {line_number_sql("row_no", header_lines)}, '{field}', line_text,
                   '{reason.replace("'", "''")}' || coalesce('''' || {value} || '''', 'empty')
            FROM {table} WHERE coalesce(({condition}), false) AND {guard}
            """
        )
        done.append(condition)
    if done:
        bad = " OR ".join(f"coalesce(({c}), false)" for c in done)
        con.execute(f"DELETE FROM {table} WHERE {bad}")
