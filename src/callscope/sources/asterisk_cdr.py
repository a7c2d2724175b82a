"""Asterisk CDR: cdr_csv `Master.csv` in its column variants, and CSV exports of the `cdr` table.

Master.csv has no header and its columns depend on cdr.conf (`loguniqueid`, `loguserfield`,
`newcdrcolumns`) and on custom templates, so the layout is recognised from the first lines: the
column count and where the first timestamp stands. A table export names its columns in a header.

What a CDR row cannot tell: when the PBX answered the caller itself (IVR, queue), `answer` and
`billsec` of every later row count from that answer, so ring and talk of queue legs are blurred;
queue_log or CEL of the same PBX correct them (they outrank CDR in the assembler).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import duckdb

from callscope.errors import InputFormatError
from callscope.settings import Settings
from callscope.sources.base import StageContext, StageResult
from callscope.sources.cdr_sql import CALL_KEY, cdr_facts_sql
from callscope.sources.staging import (
    collect_csv_rejects,
    flag_columns_sql,
    local_to_utc_sql,
    parse_local_sql,
    problem_sql,
    reject_flagged,
    time_span,
)

FIELDS = (
    "accountcode src dst dcontext clid channel dstchannel lastapp lastdata start answer end "
    "duration billsec disposition amaflags uniqueid userfield peeraccount linkedid sequence did"
).split()

CLASSIC = FIELDS[:16]
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
_UID = re.compile(r"^(?:[\w.-]+-)?\d{9,}\.\d+$")

# header names of table exports -> our field names
_HEADER_ALIASES = {
    "calldate": "start",
    "answerdate": "answer",
    "enddate": "end",
    "hangupdate": "end",
}


@dataclass(frozen=True)
class Layout:
    """Which field each CSV column holds (None = a column we keep out of the raw table)."""

    columns: tuple[str | None, ...]
    header: bool
    name: str


def _headerless_layout(ncols: int, first_ts: int, row: list[str]) -> Layout | None:
    if first_ts == 8 and ncols == 19:  # custom template with clid first (seen in the wild)
        cols = (
            "clid src dst dcontext channel dstchannel lastapp lastdata start answer end duration "
            "billsec disposition amaflags accountcode uniqueid userfield sequence"
        ).split()
        return Layout(tuple(cols), False, "cdr_csv clid-first")
    if first_ts != 9 or not 16 <= ncols <= 21:
        return None
    extra = row[16:]

    def uid(i: int) -> bool:
        return i < len(extra) and bool(_UID.match(extra[i]))

    variants: dict[int, list[str]] = {
        16: [],
        17: ["uniqueid"] if uid(0) else ["userfield"],
        18: ["uniqueid", "userfield"],
        19: ["peeraccount", "linkedid", "sequence"],
        20: (
            ["uniqueid", "peeraccount", "linkedid", "sequence"]
            if uid(0)
            else ["userfield", "peeraccount", "linkedid", "sequence"]
        ),
        21: ["uniqueid", "userfield", "peeraccount", "linkedid", "sequence"],
    }
    tail = variants[ncols]
    return Layout(tuple(CLASSIC + tail), False, f"cdr_csv {ncols} columns")


def detect_layout(head: str, display_name: str) -> Layout:
    """Recognise the column layout from the first lines of the file."""
    rows = [r for r in csv.reader(io.StringIO(head)) if r][:50]
    if len(rows) > 1:
        rows = rows[:-1]  # the head may end mid-line
    if not rows:
        raise InputFormatError(f"{display_name}: empty file, no CDR rows")
    first = [c.strip().lower() for c in rows[0]]
    if "disposition" in first and ("src" in first or "calldate" in first):
        names = tuple(
            (_HEADER_ALIASES.get(c, c) if _HEADER_ALIASES.get(c, c) in FIELDS else None)
            for c in first
        )
        if "start" not in names:
            raise InputFormatError(f"{display_name}: CDR header has no calldate/start column")
        return Layout(names, True, "cdr table export")
    widths = sorted({len(r) for r in rows})
    for row in rows:
        first_ts = next((i for i, v in enumerate(row) if _TS.match(v)), -1)
        layout = _headerless_layout(len(row), first_ts, row)
        if layout is not None:
            return layout
    raise InputFormatError(
        f"{display_name}: not an Asterisk CDR: {widths} columns and no start time where "
        "Master.csv has one (is it another format? try --format auto)"
    )


class AsteriskCdr:
    name: ClassVar[str] = "asterisk-cdr"
    raw_table: ClassVar[str] = "raw_asterisk_cdr_v1"
    raw_columns: ClassVar[str] = (
        "accountcode VARCHAR, src VARCHAR, dst VARCHAR, dcontext VARCHAR, clid VARCHAR, "
        "channel VARCHAR, dstchannel VARCHAR, lastapp VARCHAR, lastdata VARCHAR, "
        'start TIMESTAMP, answer TIMESTAMP, "end" TIMESTAMP, duration INTEGER, billsec INTEGER, '
        "disposition VARCHAR, amaflags VARCHAR, uniqueid VARCHAR, userfield VARCHAR, "
        "peeraccount VARCHAR, linkedid VARCHAR, sequence BIGINT, did VARCHAR"
    )
    priority: ClassVar[int] = 1
    covers: ClassVar[frozenset[str]] = frozenset({"queue", "dial"})
    key_sql: ClassVar[str] = CALL_KEY

    def sniff(self, head: str) -> float:
        try:
            layout = detect_layout(head, "")
        except InputFormatError:
            return 0.0
        return 0.9 if layout.header else 0.8

    def stage(self, con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
        layout = detect_layout(ctx.head, ctx.display_name)
        names = [c if c is not None else f"_skip{i}" for i, c in enumerate(layout.columns)]
        columns = ", ".join(f"'{n}': 'VARCHAR'" for n in names)
        notes = [f"layout: {layout.name}"]
        present = set(names)

        def col(name: str) -> str:
            return f'"{name}"' if name in present else "NULL::VARCHAR"

        span = time_span(ctx.path, ctx.head, ctx.path.suffix == ".gz")
        to_utc = local_to_utc_sql(ctx.timezone, span)
        typed = _typed_sql(col, names, to_utc)
        _read(con, ctx, columns, layout.header, typed, strict=True)
        good, bad = _counts(con)
        if bad > max(1, good // 20):
            # Some DB exports write caller-ID names with unescaped quotes ("Name" <101>
            # inside a quoted field): the strict reader rejects most lines. A lenient read
            # is kept only when it rejects fewer lines (it cannot see a surplus column).
            con.execute("ALTER TABLE stage_cdr RENAME TO stage_cdr_strict")
            con.execute("ALTER TABLE cdr_reject_errors RENAME TO cdr_reject_errors_strict")
            _read(con, ctx, columns, layout.header, typed, strict=False)
            if _counts(con)[1] < bad:
                notes.append("lenient quoting: the file has unescaped quotes inside fields")
                con.execute("DROP TABLE stage_cdr_strict; DROP TABLE cdr_reject_errors_strict")
            else:
                con.execute("DROP TABLE stage_cdr; DROP TABLE cdr_reject_errors")
                con.execute("ALTER TABLE stage_cdr_strict RENAME TO stage_cdr")
                con.execute("ALTER TABLE cdr_reject_errors_strict RENAME TO cdr_reject_errors")
        collect_csv_rejects(con, "cdr_reject_errors", "cdr_reject_scans")
        reject_flagged(con, "stage_cdr", int(layout.header))
        row = con.execute("SELECT count(*) FROM stage_cdr").fetchone()
        return StageResult(
            "stage_cdr", int(row[0]) if row else 0, notes, header_lines=int(layout.header)
        )

    def facts_sql(self, settings: Settings | None = None) -> dict[str, str]:
        return cdr_facts_sql(settings or Settings())


def _typed_sql(col: Callable[[str], str], names: list[str], to_utc: Callable[[str], str]) -> str:
    """The staged row from the text columns `t` of read_csv, in one pass: typed (a table export
    carries only calldate, so answer and end come from duration and billsec), the content hash
    of the line as read (a line keeps its key whatever version of callscope imported it), and
    the flags of a row that parses as CSV but not as a CDR (staging.reject_flagged)."""
    line_text = f"concat_ws(',', {', '.join(col(n) for n in names)})"

    def ts(expr: str) -> str:
        return to_utc(parse_local_sql(expr))

    start, answer, end = col("start"), col("answer"), col("end")
    duration, billsec = col("duration"), col("billsec")
    rules = _row_rules()
    return f"""
        SELECT accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata,
               start,
               coalesce(answer_raw, CASE WHEN billsec > 0 AND end_text IS NULL
                   THEN start + to_seconds(duration - billsec) END) AS answer,
               coalesce(end_raw, start + to_seconds(duration)) AS "end",
               duration, billsec, disposition, amaflags, uniqueid, userfield, peeraccount,
               linkedid, sequence, did, hash(line_text) AS record_key, row_no,
               {flag_columns_sql(rules, "line_text")}
        FROM (SELECT *, {problem_sql(rules)} FROM (
            SELECT row_no,
                   {col("accountcode")} AS accountcode, {col("src")} AS src, {col("dst")} AS dst,
                   {col("dcontext")} AS dcontext, {col("clid")} AS clid,
                   {col("channel")} AS channel, {col("dstchannel")} AS dstchannel,
                   {col("lastapp")} AS lastapp, {col("lastdata")} AS lastdata,
                   {ts(start)} AS start, {ts(answer)} AS answer_raw, {ts(end)} AS end_raw,
                   try_cast({duration} AS INTEGER) AS duration,
                   try_cast({billsec} AS INTEGER) AS billsec,
                   upper({col("disposition")}) AS disposition, {col("amaflags")} AS amaflags,
                   {col("uniqueid")} AS uniqueid, {col("userfield")} AS userfield,
                   {col("peeraccount")} AS peeraccount, {col("linkedid")} AS linkedid,
                   try_cast({col("sequence")} AS BIGINT) AS sequence, {col("did")} AS did,
                   {start} AS start_text, {duration} AS duration_text, {billsec} AS billsec_text,
                   {answer} AS answer_text, {end} AS end_text, {line_text} AS line_text
            FROM t))
    """


def _read(
    con: duckdb.DuckDBPyConnection,
    ctx: StageContext,
    columns: str,
    header: bool,
    typed: str,
    *,
    strict: bool,
) -> None:
    # Database exports write NULL for a missing value; in Master.csv it is just text.
    nulls = "['', 'NULL']" if header else "['']"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stage_cdr AS
        WITH t AS (
            SELECT row_number() OVER () AS row_no, *
            FROM read_csv(?, columns={{{columns}}}, header={str(header).lower()},
                          delim=',', quote='"', escape='"', nullstr={nulls},
                          store_rejects=true, rejects_table='cdr_reject_errors',
                          rejects_scan='cdr_reject_scans', strict_mode={str(strict).lower()},
                          null_padding=false, parallel=true, auto_detect=false)
        )
        {typed}
        """,
        [str(ctx.path)],
    )


def _counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    row = con.execute(
        "SELECT (SELECT count(*) FROM stage_cdr),"
        " (SELECT count(DISTINCT line) FROM cdr_reject_errors)"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _row_rules() -> list[tuple[str, str, str, str]]:
    """(field, condition, reason prefix, text value) in order: a row breaking one is a reject
    naming the first field it gets wrong. Conditions see the typed and the *_text columns."""
    return [
        ("start", "start IS NULL", "start: not a time (YYYY-MM-DD HH:MM:SS): ", "start_text"),
        ("start", "start < TIMESTAMP '1990-01-01'", "start: before 1990, not a call: ",
         "start_text"),
        ("duration", "duration IS NULL OR duration < 0",
         "duration: not a whole number of seconds: ", "duration_text"),
        ("billsec", "billsec IS NULL OR billsec < 0", "billsec: not a whole number of seconds: ",
         "billsec_text"),
        ("answer", "answer_text IS NOT NULL AND answer_raw IS NULL", "answer: not a time: ",
         "answer_text"),
        ("end", "end_text IS NOT NULL AND end_raw IS NULL", "end: not a time: ", "end_text"),
        ("billsec", "billsec > duration", "billsec: longer than duration, times go backwards: ",
         "billsec_text"),
    ]  # fmt: skip
