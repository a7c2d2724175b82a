"""Reading FreeSWITCH CDR files into rows of the raw table's columns: mod_cdr_csv in any
stock template (and the "sql" template's INSERT lines), and mod_json_cdr (one JSON document
per file or per line). Each reader returns the SELECT of the rows, the rules that make a row
a reject, and how many lines the CSV or JSON reader itself refused."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable

import duckdb

from callscope.errors import InputFormatError
from callscope.sources.base import StageContext
from callscope.sources.mapping import DEFAULT_TIME_FORMATS, quote_ident, quote_literal
from callscope.sources.staging import read_csv_with_rejects

RAW_COLUMNS = (
    "cdr_format VARCHAR, uuid VARCHAR, other_uuid VARCHAR, originating_leg_uuid VARCHAR, "
    "fs_direction VARCHAR, caller_id_name VARCHAR, caller_id_number VARCHAR, "
    "destination_number VARCHAR, context VARCHAR, start_at TIMESTAMP, answer_at TIMESTAMP, "
    "bridge_at TIMESTAMP, end_at TIMESTAMP, duration_s BIGINT, billsec BIGINT, "
    "hangup_cause VARCHAR, sip_hangup_disposition VARCHAR, originate_disposition VARCHAR, "
    "accountcode VARCHAR, channel_name VARCHAR, bridge_channel VARCHAR, last_app VARCHAR, "
    "last_arg VARCHAR, cc_queue VARCHAR, raw VARCHAR"
)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_BASE = (
    "caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
    "answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid",
    "accountcode",
)  # fmt: skip
# The templates of the stock cdr_csv.conf.xml, by their number of fields ("sql" has 13 values).
TEMPLATES: dict[int, tuple[str, ...]] = {
    13: _BASE,
    15: (*_BASE, "read_codec", "write_codec"),
    17: (*_BASE, "read_codec", "write_codec", "sip_user_agent", "sip_p_rtp_stat"),
    20: (*_BASE, "read_codec", "write_codec", "sip_user_agent", "call_clientcode",
         "sip_rtp_rxstat", "sip_rtp_txstat", "sofia_record_file"),
}  # fmt: skip
INSERT_LINE = re.compile(r"^\s*INSERT\s+INTO\s", re.I)


def _local(expr: str, zone: str) -> str:
    return f"CAST((({expr}) AT TIME ZONE {quote_literal(zone)}) AT TIME ZONE 'UTC' AS TIMESTAMP)"


def _stamp(col: str) -> str:
    fmts = "[" + ", ".join(quote_literal(f) for f in DEFAULT_TIME_FORMATS) + "]"
    return f"try_strptime({col}, {fmts})"


def read_cdr_csv(
    con: duckdb.DuckDBPyConnection, ctx: StageContext, first: str, n: int
) -> tuple[str, list[tuple[str, str, str]], int]:
    src = f"__fs_csv_{n}"
    if INSERT_LINE.match(first):
        # The "sql" template: one INSERT statement per line, every value in double quotes.
        refused = read_csv_with_rejects(
            con, ctx.path, src,
            {"columns": "{'__stmt': 'VARCHAR'}", "delim": "'\x1f'", "quote": "''",
             "escape": "''", "header": "false", "auto_detect": "false"},
            ctx.display_name,
        )  # fmt: skip
        values = 'regexp_extract_all(__stmt, \'"([^"]*)"\', 1)'
        names = TEMPLATES[13]
        picked = ", ".join(
            f"nullif({values}[{i + 1}], '') AS {quote_ident(c)}" for i, c in enumerate(names)
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {src} AS SELECT __row_no, __line_no, __stmt, "
            f"len({values}) AS __values, {picked} FROM {src} WHERE __stmt IS NOT NULL"
        )
        line = "__stmt"
        extra = [
            (
                "raw",
                "__values <> 13",
                "'statement has ' || __values || ' quoted values, expected 13'",
            )
        ]
    else:
        fields = [f.strip() for f in next(csv.reader([first]), [])]
        header = {"uuid", "start_stamp"} <= set(fields)
        if header:
            names = tuple(fields)
        elif len(fields) in TEMPLATES:
            names = TEMPLATES[len(fields)]
        else:
            raise InputFormatError(
                f"{ctx.display_name}: {len(fields)} fields per line; the freeswitch-cdr CSV "
                f"reader knows the stock cdr_csv templates ({', '.join(map(str, TEMPLATES))} "
                "fields) or a file whose first line names the fields (uuid, start_stamp, ...)"
            )
        spec = "{" + ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in names) + "}"
        refused = read_csv_with_rejects(
            con, ctx.path, src,
            {"columns": spec, "delim": "','", "quote": "'\"'", "escape": "'\"'",
             "header": "true" if header else "false", "auto_detect": "false",
             "null_padding": "false"},
            ctx.display_name,
        )  # fmt: skip
        line = "concat_ws(',', " + ", ".join(f"coalesce({quote_ident(c)}, '')" for c in names) + ")"
        extra = []
    present = set(names)

    def col(name: str) -> str:
        if name not in present:
            return "NULL::VARCHAR"
        value = f"nullif(trim({quote_ident(name)}), '')"
        # Database exports write a missing answer time as an all-zero timestamp.
        return f"CASE WHEN {value} LIKE '0000-00-00%' THEN NULL ELSE {value} END"

    def stamp(name: str) -> str:
        return _local(_stamp(col(name)), ctx.timezone)

    raw = "to_json({" + ", ".join(f"{quote_literal(c)}: {quote_ident(c)}" for c in names) + "})"
    columns = {
        "__line": line,
        "__values": "__values" if extra else "NULL",
        "cdr_format": "'csv'",
        "uuid": col("uuid"),
        "other_uuid": col("bleg_uuid"),
        "caller_id_name": col("caller_id_name"),
        "caller_id_number": col("caller_id_number"),
        "destination_number": col("destination_number"),
        "context": col("context"),
        "start_at": stamp("start_stamp"),
        "answer_at": stamp("answer_stamp"),
        "end_at": stamp("end_stamp"),
        "hangup_cause": col("hangup_cause"),
        "accountcode": col("accountcode"),
        # Custom templates may log these channel variables; stock ones do not.
        "last_app": col("last_app"),
        "last_arg": col("last_arg"),
        "cc_queue": col("cc_queue"),
        "raw": raw,
        **_texts(col),
    }
    select = _select(columns, src)
    return select, [*extra, *_problems()], refused


def read_cdr_json(
    con: duckdb.DuckDBPyConnection, ctx: StageContext, first: str, n: int
) -> tuple[str, list[tuple[str, str, str]], int]:
    src = f"__fs_json_{n}"
    try:
        one_per_line = isinstance(json.loads(first), dict)
    except ValueError:
        one_per_line = False
    if one_per_line:
        # JSON lines (or a one-line document): a broken line is a reject, not a lost file.
        refused = read_csv_with_rejects(
            con, ctx.path, src,
            {"columns": "{'__doc': 'VARCHAR'}", "delim": "'\x1f'", "quote": "''",
             "escape": "''", "header": "false", "auto_detect": "false",
             "max_line_size": "134217728"},
            ctx.display_name,
        )  # fmt: skip
        con.execute(f"DELETE FROM {src} WHERE trim(coalesce(__doc, '')) = ''")
    else:
        refused = 0
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {src} AS "
                "SELECT row_number() OVER () AS __row_no, row_number() OVER () AS __line_no, "
                "CAST(json AS VARCHAR) AS __doc "
                f"FROM read_json_objects({quote_literal(str(ctx.path))}, format='auto')"
            )
        except duckdb.Error as exc:
            raise InputFormatError(
                f"{ctx.display_name}: not mod_json_cdr JSON: {str(exc).splitlines()[0]}"
            ) from exc

    def var(name: str) -> str:
        return f"nullif(url_decode(json_extract_string(__doc, '$.variables.{name}')), '')"

    def profile(name: str) -> str:
        return (
            f"nullif(url_decode(CASE WHEN json_type(__doc, '$.callflow') = 'ARRAY' "
            f"THEN json_extract_string(__doc, '$.callflow[#-1].caller_profile.{name}') "
            f"ELSE json_extract_string(__doc, '$.callflow.caller_profile.{name}') END), '')"
        )

    def epoch(name: str) -> str:
        micros = f"try_cast({var(name + '_uepoch')} AS BIGINT)"
        seconds = f"try_cast({var(name + '_epoch')} AS BIGINT)"
        return f"make_timestamp(nullif(coalesce({micros}, {seconds} * 1000000), 0))"

    def stamp(name: str) -> str:
        return f"coalesce({epoch(name)}, {_local(_stamp(var(name + '_stamp')), ctx.timezone)})"

    columns = {
        "__line": "__text",
        "cdr_format": "'json'",
        "uuid": f"coalesce({var('uuid')}, {profile('uuid')})",
        "other_uuid": f"coalesce({var('bridge_uuid')}, {var('last_bridge_to')}, "
        f"{var('signal_bond')})",
        "originating_leg_uuid": var("originating_leg_uuid"),
        "fs_direction": f"coalesce({var('direction')}, "
        "json_extract_string(__doc, '$.channel_data.direction'))",
        "caller_id_name": f"coalesce({profile('caller_id_name')}, {var('caller_id_name')})",
        "caller_id_number": f"coalesce({profile('caller_id_number')}, "
        f"{var('caller_id_number')}, {var('sip_from_user')})",
        "destination_number": f"coalesce({profile('destination_number')}, "
        f"{var('destination_number')}, {var('sip_req_user')})",
        "context": f"coalesce({profile('context')}, {var('context')})",
        "start_at": stamp("start"),
        "answer_at": stamp("answer"),
        "bridge_at": epoch("bridge"),
        "end_at": stamp("end"),
        **{
            c: var(c)
            for c in (
                "hangup_cause",
                "sip_hangup_disposition",
                "originate_disposition",
                "accountcode",
                "channel_name",
                "bridge_channel",
                "last_app",
                "last_arg",
                "cc_queue",
            )
        },
        "raw": "__text",
        "__is_object": "json_type(__doc) = 'OBJECT'",
        **_texts(var),
    }
    valid = (
        f"(SELECT __row_no, __line_no, __doc AS __text, "
        f"CASE WHEN json_valid(__doc) THEN __doc END AS __doc FROM {src})"
    )
    select = _select(columns, valid)
    not_json = ("raw", "NOT coalesce(__is_object, false)", "'not a JSON object (mod_json_cdr)'")
    return select, [not_json, *_problems()], refused


def _texts(value: Callable[[str], str]) -> dict[str, str]:
    """The fields as written, kept beside their typed values so rejects can quote them."""
    return {
        "__start": value("start_stamp"),
        "__answer": value("answer_stamp"),
        "__end": value("end_stamp"),
        "__duration": value("duration"),
        "__billsec": value("billsec"),
        "duration_s": f"try_cast({value('duration')} AS BIGINT)",
        "billsec": f"try_cast({value('billsec')} AS BIGINT)",
    }


def _select(columns: dict[str, str], source: str) -> str:
    """Every raw column (NULL where the format lacks it) plus the helper columns given."""
    types = dict(c.split() for c in RAW_COLUMNS.split(", "))
    exprs = [f"{columns.get(c, f'NULL::{t}')} AS {c}" for c, t in types.items()]
    exprs += [f"{e} AS {c}" for c, e in columns.items() if c not in types]
    return "SELECT __row_no, __line_no,\n    " + ",\n    ".join(exprs) + f"\nFROM {source}"


def _problems() -> list[tuple[str, str, str]]:
    """(field, condition, reason SQL) in order; the first that holds makes the row a reject."""
    return [
        ("uuid", "uuid IS NULL", "'uuid is empty'"),
        ("start_stamp", "start_at IS NULL",
         "'start_stamp ''' || coalesce(__start, '') || ''' is not a time'"),
        ("answer_stamp", "__answer IS NOT NULL AND answer_at IS NULL",
         "'answer_stamp ''' || __answer || ''' is not a time'"),
        ("end_stamp", "__end IS NOT NULL AND end_at IS NULL",
         "'end_stamp ''' || __end || ''' is not a time'"),
        ("duration", "__duration IS NOT NULL AND duration_s IS NULL",
         "'duration ''' || __duration || ''' is not a whole number of seconds'"),
        ("billsec", "__billsec IS NOT NULL AND billsec IS NULL",
         "'billsec ''' || __billsec || ''' is not a whole number of seconds'"),
    ]  # fmt: skip
