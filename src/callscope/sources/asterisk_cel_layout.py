"""Reading CEL files: which of the usual column layouts a file has, and its typed rows.

Asterisk writes CEL without a header through cel_custom, and the field list is whatever the
administrator configured; a database export (cel_odbc / cel_pgsql tables dumped to CSV) carries
the table's own column names. Users rarely know which they have, so the layout is recognised
from content: a header row is mapped by name, a header-less line by its field count and by
checking that it starts with an event type and a time.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from callscope.errors import InputFormatError
from callscope.sources.base import StageContext
from callscope.sources.staging import collect_csv_rejects, move_bad_rows

# Text columns of the raw table every layout is mapped onto (besides event_id and eventtime).
TEXT_COLUMNS: tuple[str, ...] = (
    "eventtype", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten", "context",
    "channame", "appname", "appdata", "amaflags", "accountcode", "uniqueid", "linkedid", "peer",
    "userfield", "userdeftype", "extra",
)  # fmt: skip
RAW_COLUMNS = "event_id BIGINT, eventtype VARCHAR, eventtime TIMESTAMP, " + ", ".join(
    f"{c} VARCHAR" for c in TEXT_COLUMNS[1:]
)

# cel_custom "advanced" field list: EventType,EventTime,Name,Num,Exten,Context,ChanName,AppName,
# AppData,AMAFlags,AccountCode,UniqueID,LinkedID,Peer,UserDefType,EventExtra.
ADVANCED_16: tuple[str, ...] = (
    "eventtype", "eventtime", "cid_name", "cid_num", "exten", "context", "channame", "appname",
    "appdata", "amaflags", "accountcode", "uniqueid", "linkedid", "peer", "userdeftype", "extra",
)  # fmt: skip

# The classic cel_custom.conf Master.csv template (CSV_QUOTE of each CEL variable); older
# samples also carry ${CHANNEL(userfield)} before ${userdeftype}, which makes 20 fields.
CLASSIC_19: tuple[str, ...] = (
    "eventtype", "eventtime", "cid_name", "cid_num", "cid_ani", "cid_rdnis", "cid_dnid", "exten",
    "context", "channame", "appname", "appdata", "amaflags", "accountcode", "uniqueid",
    "linkedid", "peer", "userdeftype", "extra",
)  # fmt: skip
CLASSIC_20: tuple[str, ...] = (*CLASSIC_19[:17], "userfield", "userdeftype", "extra")

# Header names seen in CEL tables and cel_custom field lists, mapped to raw column names.
HEADER_ALIASES: dict[str, str] = {
    "id": "event_id", "eventtype": "eventtype", "eventtime": "eventtime",
    "cid_name": "cid_name", "cidname": "cid_name", "cid_num": "cid_num", "cidnum": "cid_num",
    "cid_ani": "cid_ani", "cidani": "cid_ani", "cid_rdnis": "cid_rdnis", "cidrdnis": "cid_rdnis",
    "cid_dnid": "cid_dnid", "ciddnid": "cid_dnid", "exten": "exten", "context": "context",
    "channame": "channame", "appname": "appname", "appdata": "appdata", "amaflags": "amaflags",
    "accountcode": "accountcode", "acctcode": "accountcode", "uniqueid": "uniqueid",
    "linkedid": "linkedid", "peer": "peer", "userfield": "userfield",
    "userdeftype": "userdeftype", "usereventname": "userdeftype",
    "extra": "extra", "eventextra": "extra",
}  # fmt: skip
REQUIRED = frozenset({"eventtype", "eventtime", "channame", "uniqueid", "linkedid"})

_EVENT_TYPE = re.compile(r"[A-Z][A-Z_]{2,}")
_EVENT_TIME = re.compile(r"\d{9,11}(\.\d+)?|\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?")
_WIDTHS = {
    16: ("cel_custom advanced field list (16 fields)", ADVANCED_16),
    19: ("cel_custom classic Master.csv template (19 fields)", CLASSIC_19),
    20: ("cel_custom classic template with userfield (20 fields)", CLASSIC_20),
}


@dataclass(frozen=True)
class Layout:
    """How to read one file: the names the CSV reader gives its fields (the header's own, if
    any), the raw column each feeds (None = not kept), and whether line 1 is a header."""

    name: str
    header: bool
    fields: tuple[str | None, ...]
    file_names: tuple[str, ...]


def layout_of_record(row: list[str]) -> Layout | None:
    """The layout a first record belongs to, or None when it looks like no CEL layout."""
    names = [cell.strip().lower() for cell in row]
    mapped = [HEADER_ALIASES.get(name) for name in names]
    if set(filter(None, mapped)) >= REQUIRED:
        fields = tuple(m if m and m not in mapped[:i] else None for i, m in enumerate(mapped))
        unique = tuple(
            n if re.fullmatch(r"[a-z_][a-z0-9_]*", n) and names.count(n) == 1 else f"column_{i}"
            for i, n in enumerate(names)
        )
        return Layout("CEL table export with header", True, fields, unique)
    cells = [cell.strip() for cell in row]
    if len(cells) not in _WIDTHS or not _EVENT_TYPE.fullmatch(cells[0]):
        return None
    if not _EVENT_TIME.fullmatch(cells[1]):
        return None
    name, layout_fields = _WIDTHS[len(cells)]
    return Layout(name, False, layout_fields, layout_fields)


def _records(text: str, limit: int = 20) -> list[list[str]]:
    """The first non-empty records of a head (a last line cut off by the head's end dropped)."""
    lines = text.splitlines()
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]
    rows = [row for row in csv.reader(lines[: limit * 2]) if any(c.strip() for c in row)]
    return rows[:limit]


def _find_layout(head: str) -> tuple[Layout | None, list[str]]:
    """A header is only a header on the first line; otherwise the first line that looks like
    CEL decides (a log rotated mid-line starts with a fragment)."""
    rows = _records(head)
    if not rows:
        return None, []
    for row in rows:
        layout = layout_of_record(row)
        if layout is not None and (not layout.header or row is rows[0]):
            return layout, rows[0]
    return None, rows[0]


def detect_layout(head: str, display_name: str) -> Layout:
    """The layout of a file from its first lines; a file that matches none is refused whole,
    naming what was seen."""
    layout, first = _find_layout(head)
    if layout is None:
        seen = repr(",".join(first)[:120]) if first else "empty"
        raise InputFormatError(
            f"{display_name}: not an Asterisk CEL file this version reads: the first line is "
            f"{seen}; expected a header naming eventtype, eventtime, channame, uniqueid and "
            "linkedid, or header-less cel_custom lines of 16, 19 or 20 fields starting with an "
            "event type and a time"
        )
    return layout


def sniff_text(head: str) -> float:
    """How sure we are that these first lines are CEL (for --format auto)."""
    layout, _ = _find_layout(head[:16384])
    if layout is None:
        return 0.0
    return 0.95 if layout.header else 0.9


def read_cel(con: duckdb.DuckDBPyConnection, ctx: StageContext, table: str) -> Layout:
    """Parse ctx.path into `table` (raw columns + record_key + row_no); lines the CSV reader
    cannot split and rows with an unusable field go to stage_rejects."""
    head = ctx.head
    if not head.strip():
        with Path(ctx.path).open(encoding="utf-8", errors="replace") as handle:
            head = handle.read(65536)
    layout = detect_layout(head, ctx.display_name)
    _read_text(con, ctx, layout)
    collect_csv_rejects(con, "cel_reject_errors", "cel_reject_scans")
    con.execute(_typed_sql(layout, ctx.timezone))
    move_bad_rows(con, "cel_typed", 1 if layout.header else 0, _FIELD_RULES)
    raw = ", ".join(c.split(" ")[0] for c in RAW_COLUMNS.split(", "))
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {raw}, record_key, row_no FROM cel_typed"
    )
    con.execute("DROP TABLE IF EXISTS cel_text")
    con.execute("DROP TABLE IF EXISTS cel_typed")
    return layout


def _read_text(con: duckdb.DuckDBPyConnection, ctx: StageContext, layout: Layout) -> None:
    columns = ", ".join(f"'{name}': 'VARCHAR'" for name in layout.file_names)

    def read(strict: bool) -> None:
        con.execute("DROP TABLE IF EXISTS cel_reject_errors")
        con.execute("DROP TABLE IF EXISTS cel_reject_scans")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE cel_text AS
            SELECT row_number() OVER () AS row_no, *
            FROM read_csv(?, columns={{{columns}}}, header={str(layout.header).lower()},
                          delim=',', quote='"', escape='"', nullstr=['', 'NULL'],
                          auto_detect=false, store_rejects=true,
                          rejects_table='cel_reject_errors', rejects_scan='cel_reject_scans',
                          strict_mode={str(strict).lower()}, null_padding=false)
            """,
            [str(ctx.path)],
        )

    try:
        read(strict=True)
    except duckdb.Error:
        # Database dumps sometimes hold caller-ID names with bare quotes inside quoted fields;
        # the strict reader gives up on the whole file there.
        read(strict=False)


def _typed_sql(layout: Layout, timezone: str) -> str:
    """cel_text -> cel_typed: raw columns typed, plus the text kept for reject messages."""
    source_of = {
        target: f'"{name}"'
        for name, target in zip(layout.file_names, layout.fields, strict=True)
        if target
    }

    def col(name: str) -> str:
        return source_of.get(name, "NULL::VARCHAR")

    zone = timezone.replace("'", "''")
    t = f"trim({col('eventtime')})"
    # cel_custom writes Unix seconds with microseconds (exact, kept to the microsecond);
    # cel_odbc and a cel.conf `dateformat` write local wall-clock text, in the tenant's zone.
    eventtime = f"""CASE
        WHEN regexp_full_match({t}, '[0-9]{{9,11}}(\\.[0-9]+)?') THEN make_timestamp(
            CAST(split_part({t}, '.', 1) AS BIGINT) * 1000000
            + CAST(rpad(left(coalesce(nullif(split_part({t}, '.', 2), ''), '0'), 6), 6, '0')
                   AS BIGINT))
        ELSE ((try_cast(replace({t}, 'T', ' ') AS TIMESTAMP) AT TIME ZONE '{zone}')
              AT TIME ZONE 'UTC')::TIMESTAMP
    END"""
    fields = [f'"{n}"' for n in layout.file_names]
    text_columns = ", ".join(f"{col(c)} AS {c}" for c in TEXT_COLUMNS[1:])
    return f"""
        CREATE OR REPLACE TEMP TABLE cel_typed AS
        SELECT row_no,
               try_cast({col("event_id")} AS BIGINT) AS event_id,
               nullif(trim({col("eventtype")}), '') AS eventtype,
               {eventtime} AS eventtime,
               {text_columns},
               {col("event_id")} AS id_text, {col("eventtime")} AS eventtime_text,
               hash({", ".join(fields)}) AS record_key,
               concat_ws(',', {", ".join(f"coalesce({f}, '')" for f in fields)}) AS line_text
        FROM cel_text
    """


_FIELD_RULES: list[tuple[str, str, str, str]] = [
    ("eventtype", "eventtype IS NULL", "eventtype: no event type: ", "eventtype"),
    (
        "eventtime",
        "eventtime IS NULL",
        "eventtime: neither Unix seconds nor a YYYY-MM-DD HH:MM:SS time: ",
        "eventtime_text",
    ),
    (
        "eventtime",
        "eventtime < TIMESTAMP '1990-01-01'",
        "eventtime: before 1990, not a call event: ",
        "eventtime_text",
    ),
    ("id", "id_text IS NOT NULL AND event_id IS NULL", "id: not a whole number: ", "id_text"),
    ("linkedid", "nullif(trim(linkedid), '') IS NULL", "linkedid: no call id: ", "linkedid"),
    ("uniqueid", "nullif(trim(uniqueid), '') IS NULL", "uniqueid: no channel id: ", "uniqueid"),
    ("channame", "nullif(trim(channame), '') IS NULL", "channame: no channel name: ", "channame"),
]
