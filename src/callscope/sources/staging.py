"""Shared steps of staging a CSV file: DuckDB's own rejects, and rows whose fields parse as CSV
but not as their type. Both end in temp table `stage_rejects` with a line number and a reason
that names the field, so nothing bad is silently turned into NULL and nothing good is lost."""

from __future__ import annotations

import gzip
import itertools
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb

from callscope.errors import InputFormatError

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


def problem_sql(rules: list[tuple[str, str, str, str]]) -> str:
    """`_problem`: the index of the first rule a row breaks, NULL for a good row. Rules are
    (field, condition, reason prefix, text value), over the typed and text columns."""
    cases = " ".join(
        f"WHEN coalesce(({c}), false) THEN {i}" for i, (_f, c, _r, _v) in enumerate(rules)
    )
    return f"CASE {cases} END AS _problem"


def flag_columns_sql(rules: list[tuple[str, str, str, str]], line_text: str) -> str:
    """`_problem, _field, _line, _reason` over rows that have `_problem` (problem_sql); the raw
    line is kept for rejected rows only."""
    field = " ".join(f"WHEN {i} THEN '{f}'" for i, (f, _c, _r, _v) in enumerate(rules))
    reason = " ".join(
        f"WHEN {i} THEN '{r.replace(chr(39), chr(39) * 2)}'"
        f" || coalesce('''' || ({v}) || '''', 'empty')"
        for i, (_f, _c, r, v) in enumerate(rules)
    )
    return (
        f"_problem, CASE _problem {field} END AS _field,"
        f" CASE WHEN _problem IS NOT NULL THEN {line_text} END AS _line,"
        f" CASE _problem {reason} END AS _reason"
    )


def reject_flagged(con: duckdb.DuckDBPyConnection, table: str, header_lines: int) -> None:
    """Rows of `table` flagged by `flag_columns_sql` become rejects and leave it; the flag
    columns are dropped. Typing every row in the same pass as the read, and keeping the raw
    text of the few bad rows only, keeps a 10M-row file from being copied twice."""
    row = con.execute(f"SELECT count(*) FROM {table} WHERE _problem IS NOT NULL").fetchone()
    if row and row[0]:
        con.execute(
            f"""
            INSERT INTO stage_rejects
            SELECT {line_number_sql("row_no", header_lines)}, _field, _line, _reason
            FROM {table} WHERE _problem IS NOT NULL
            """
        )
        con.execute(f"DELETE FROM {table} WHERE _problem IS NOT NULL")
    for column in ("_problem", "_field", "_line", "_reason"):
        con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def parse_local_sql(text: str) -> str:
    """`YYYY-MM-DD HH:MM:SS` text (anything after the 19th character ignored) as a naive
    TIMESTAMP, NULL when it is not one. The plain cast is several times faster than strptime;
    it is used only where both read the text alike (fixed positions, a digit first, no hour
    24, which the cast rolls over to the next day), strptime decides the rest."""
    fmt = "'%Y-%m-%d %H:%M:%S'"
    return (
        f"CASE WHEN {text} LIKE '____-__-__ __:__:__%' AND left({text}, 1) BETWEEN '0' AND '9'"
        f" AND substr({text}, 12, 2) <> '24' THEN try_cast(left({text}, 19) AS TIMESTAMP)"
        f" ELSE try_strptime(left({text}, 19), {fmt}) END"
    )


def local_to_utc_sql(zone: str, span: tuple[datetime, datetime] | None) -> Callable[[str], str]:
    """A function giving SQL that turns a naive local TIMESTAMP expression into naive UTC.

    When `zone` keeps one UTC offset over `span` (the times of the file, as far as its first and
    last lines tell: most zones without summer time, or a file within one season), the values
    inside the span are converted by a subtraction; the rest go through ICU's AT TIME ZONE,
    which is exact at every transition but costs about 0.2 s per million values.
    """
    quoted = zone.replace("'", "''")

    def icu(e: str) -> str:
        return f"(({e} AT TIME ZONE '{quoted}') AT TIME ZONE 'UTC')::TIMESTAMP"

    if span is None:
        return icu
    lo, hi = span
    offset = _fixed_offset(zone, lo, hi)
    if offset is None:
        return icu
    return lambda e: (
        f"(CASE WHEN {e} BETWEEN TIMESTAMP '{lo}' AND TIMESTAMP '{hi}'"
        f" THEN {e} - INTERVAL {offset} SECOND ELSE {icu(e)} END)"
    )


_STAMP = re.compile(
    r"(?<![0-9])((?:19|2[01])[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9])"
)


def time_span(path: Path, head: str, compressed: bool) -> tuple[datetime, datetime] | None:
    """The span of `YYYY-MM-DD HH:MM:SS` times in the first 64 KiB and (for a plain file) the
    last 64 KiB of a log, widened by a day before and two after (calls end after they start).
    Logs are written in time order, so this covers all but the odd line."""
    text = head
    if not compressed:
        with path.open("rb") as fh:
            fh.seek(max(0, path.stat().st_size - 65536))
            text += fh.read().decode("utf-8", errors="replace")
    stamps = []
    for found in _STAMP.findall(text):
        try:
            stamps.append(datetime.strptime(found, "%Y-%m-%d %H:%M:%S"))
        except ValueError:
            continue
    if not stamps:
        return None
    return min(stamps) - timedelta(days=1), max(stamps) + timedelta(days=2)


def _fixed_offset(zone: str, lo: datetime, hi: datetime) -> int | None:
    """The zone's UTC offset in seconds if it is the same at every hour from `lo` to `hi`."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    if (hi - lo).days > 366 * 30:
        return None
    first = lo.replace(tzinfo=tz).utcoffset()
    moment = lo
    while moment <= hi:
        if moment.replace(tzinfo=tz).utcoffset() != first:
            return None
        moment += timedelta(hours=1)
    return int(first.total_seconds()) if first is not None else None


_COUNTER = itertools.count(1)


def read_csv_with_rejects(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    options: dict[str, str],
    display_name: str,
) -> int:
    """Read `path` (every column VARCHAR) into temp table `table` with `__row_no` (ordinal of
    the rows the reader accepted) and `__line_no` (their line in the file); lines the reader
    refuses go to stage_rejects. `options` are read_csv arguments rendered as SQL. Returns the
    number of refused lines."""
    n = next(_COUNTER)
    rej, scan = f"__rej_{n}", f"__scan_{n}"
    args = ", ".join(f"{k}={v}" for k, v in options.items())
    offset = int(options.get("skip", "0")) + (1 if options.get("header") == "true" else 0)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT row_number() OVER () AS __row_no, * "
            f"FROM read_csv('{str(path).replace(chr(39), chr(39) * 2)}', {args}, all_varchar=true, "
            f"store_rejects=true, rejects_table='{rej}', rejects_scan='{scan}')"
        )
    except duckdb.Error as exc:
        raise InputFormatError(f"{display_name}: cannot read as CSV: {exc}") from exc
    refused = collect_csv_rejects(con, rej, scan)
    line_no = line_number_sql("__row_no", offset) if refused else f"__row_no + {offset}"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {line_no} AS __line_no, * FROM {table}"
    )
    return refused


def first_lines(path: Path, count: int) -> list[str]:
    """The first `count` lines of a plain or gzip-compressed text file."""
    with path.open("rb") as probe:
        compressed = probe.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as fh:
        return [line.rstrip("\r\n") for line in itertools.islice(fh, count)]
