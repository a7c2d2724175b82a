"""FreeSWITCH call detail records: mod_cdr_csv files and mod_json_cdr documents.

FreeSWITCH writes one CDR per channel. The caller's channel (A leg) says who called whom and
when; the channel it was bridged to (B leg) is the leg a person answered. B-leg CDRs exist only
when the PBX logs them (mod_cdr_csv `legs="ab"`, mod_json_cdr per channel), so a leg is taken
from the B-leg CDR when present and otherwise from the A leg's bridge variables. Both formats
land in one raw table; JSON keeps the whole document in `raw`, CSV the named fields.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Callable
from typing import ClassVar

import duckdb

from callscope.errors import InputFormatError
from callscope.settings import Settings
from callscope.sources.base import StageContext, StageResult
from callscope.sources.mapped_csv import first_lines, read_csv_with_rejects
from callscope.sources.mapping import DEFAULT_TIME_FORMATS, quote_ident, quote_literal

_COUNTER = itertools.count(1)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
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
_INSERT = re.compile(r"^\s*INSERT\s+INTO\s", re.I)


def _local(expr: str, zone: str) -> str:
    return f"CAST((({expr}) AT TIME ZONE {quote_literal(zone)}) AT TIME ZONE 'UTC' AS TIMESTAMP)"


def _stamp(col: str) -> str:
    fmts = "[" + ", ".join(quote_literal(f) for f in DEFAULT_TIME_FORMATS) + "]"
    return f"try_strptime({col}, {fmts})"


class FreeswitchCdr:
    """The freeswitch-cdr format: mod_cdr_csv (any stock template) and mod_json_cdr."""

    name: ClassVar[str] = "freeswitch-cdr"
    raw_table: ClassVar[str] = "raw_freeswitch_cdr_v1"
    priority: ClassVar[int] = 1
    covers: ClassVar[frozenset[str]] = frozenset({"dial"})
    raw_columns: ClassVar[str] = (
        "cdr_format VARCHAR, uuid VARCHAR, other_uuid VARCHAR, originating_leg_uuid VARCHAR, "
        "fs_direction VARCHAR, caller_id_name VARCHAR, caller_id_number VARCHAR, "
        "destination_number VARCHAR, context VARCHAR, start_at TIMESTAMP, answer_at TIMESTAMP, "
        "bridge_at TIMESTAMP, end_at TIMESTAMP, duration_s BIGINT, billsec BIGINT, "
        "hangup_cause VARCHAR, sip_hangup_disposition VARCHAR, originate_disposition VARCHAR, "
        "accountcode VARCHAR, channel_name VARCHAR, bridge_channel VARCHAR, last_app VARCHAR, "
        "last_arg VARCHAR, cc_queue VARCHAR, raw VARCHAR"
    )

    def sniff(self, head: str) -> float:
        text = head.lstrip("\ufeff \r\n\t")
        if text.startswith(("{", "[")):
            return (
                0.95 if '"variables"' in text and ('"uuid"' in text or "core-uuid" in text) else 0.0
            )
        first = text.splitlines()[0] if text else ""
        if _INSERT.match(first):
            return 0.8 if _UUID.search(first) else 0.0
        fields = next(csv.reader([first]), [])
        if len(fields) in TEMPLATES and _UUID.fullmatch(fields[10].strip()):
            return 0.9
        if {"uuid", "start_stamp"} <= {f.strip() for f in fields}:
            return 0.7
        return 0.0

    def stage(self, con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
        head = [line for line in first_lines(ctx.path, 5) if line.strip()]
        first = head[0].lstrip("\ufeff \t") if head else ""
        n = next(_COUNTER)
        out = f"stage_freeswitch_{n}"
        if first.startswith(("{", "[")):
            select, problems, refused = self._read_json(con, ctx, first, n)
        else:
            select, problems, refused = self._read_csv(con, ctx, first, n)
        field = "CASE " + " ".join(f"WHEN {c} THEN '{f}'" for f, c, _ in problems) + " END"
        reason = "CASE " + " ".join(f"WHEN {c} THEN {r}" for _, c, r in problems) + " END"
        work = f"__fs_rows_{n}"
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {work} AS "
            f"SELECT *, {field} AS __bad, {reason} AS __why FROM ({select})"
        )
        con.execute(
            f"INSERT INTO stage_rejects SELECT __line_no, __bad, __line, __why FROM {work} "
            "WHERE __bad IS NOT NULL ORDER BY __row_no"
        )
        columns = ", ".join(c.split()[0] for c in self.raw_columns.split(", "))
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT {columns}, hash(raw) AS record_key, "
            f"__row_no AS row_no FROM {work} WHERE __bad IS NULL ORDER BY __row_no"
        )
        stats = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE __bad IS NOT NULL), "
            "count(*) FILTER (WHERE __bad IS NULL) - count(DISTINCT uuid) FILTER "
            f"(WHERE __bad IS NULL) FROM {work}"
        ).fetchone()
        con.execute(f"DROP TABLE IF EXISTS {work}")
        total, bad, repeated = (int(x or 0) for x in stats) if stats else (0, 0, 0)
        notes = []
        if repeated:
            notes.append(
                f"{repeated} records repeat a channel uuid seen earlier in the file: kept raw, "
                "one call per uuid (the answered, longest record wins)"
            )
        if bad:
            notes.append(f"{bad} records without a uuid or a readable start time were rejected")
        return StageResult(table=out, rows_read=total + refused, notes=notes)

    def _read_csv(
        self, con: duckdb.DuckDBPyConnection, ctx: StageContext, first: str, n: int
    ) -> tuple[str, list[tuple[str, str, str]], int]:
        src = f"__fs_csv_{n}"
        if _INSERT.match(first):
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
            line = (
                "concat_ws(',', "
                + ", ".join(f"coalesce({quote_ident(c)}, '')" for c in names)
                + ")"
            )
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
            "raw": raw,
            **_texts(col),
        }
        select = _select(columns, src)
        return select, [*extra, *_problems()], refused

    def _read_json(
        self, con: duckdb.DuckDBPyConnection, ctx: StageContext, first: str, n: int
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

    def facts_sql(self, settings: Settings | None = None) -> dict[str, str]:
        digits = settings.internal_number_max_digits if settings is not None else 5
        return facts_sql(digits)


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
    types = dict(c.split() for c in FreeswitchCdr.raw_columns.split(", "))
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


# hangup_cause (Q.850 names as FreeSWITCH writes them) -> LegResult of a leg nobody answered.
_UNANSWERED = """CASE
        WHEN leg_cause IN ('NO_ANSWER', 'ALLOTTED_TIMEOUT', 'RECOVERY_ON_TIMER_EXPIRE',
                           'PROGRESS_TIMEOUT') THEN 'no_answer'
        WHEN leg_cause = 'USER_BUSY' THEN 'busy'
        WHEN leg_cause = 'CALL_REJECTED' THEN 'rejected'
        WHEN leg_cause IN ('LOSE_RACE', 'PICKED_OFF') THEN 'cancelled_answered_elsewhere'
        WHEN leg_cause = 'ORIGINATOR_CANCEL' THEN 'caller_hung_up'
        WHEN leg_cause = 'NORMAL_CLEARING' THEN
            CASE WHEN is_b THEN 'no_answer' ELSE 'caller_hung_up' END
        ELSE 'unavailable'
    END"""


def facts_sql(digits: int) -> dict[str, str]:
    """Facts over raw_freeswitch_cdr_v1; `digits` = settings.internal_number_max_digits."""
    internal = f"'[0-9]{{1,{digits}}}'"
    calls = f"""
WITH dedup AS (
    SELECT * FROM (SELECT *, row_number() OVER (
        PARTITION BY tenant, record_key ORDER BY import_id, row_no) AS k FROM {{raw}})
    WHERE k = 1
),
-- A uuid logged more than once (a re-saved file): the answered, longest record speaks for it.
r1 AS (
    SELECT * EXCLUDE (k) FROM (SELECT *, row_number() OVER (PARTITION BY tenant, uuid
        ORDER BY (billsec > 0 AND hangup_cause = 'NORMAL_CLEARING') DESC, billsec DESC NULLS LAST,
                 end_at DESC NULLS LAST, record_key) AS k FROM dedup) WHERE k = 1
),
-- The A leg of a record: its originating_leg_uuid, else the earliest, longest channel among it
-- and the channels it was bridged with that are not themselves originated legs.
links AS (
    SELECT tenant, uuid AS u, uuid AS w FROM r1
    UNION SELECT tenant, uuid, other_uuid FROM r1 WHERE other_uuid IS NOT NULL
    UNION SELECT tenant, other_uuid, uuid FROM r1 WHERE other_uuid IS NOT NULL
),
heads AS (
    SELECT l.tenant, l.u AS uuid,
        arg_min(c.uuid, {{'s': c.start_at, 'd': -coalesce(c.duration_s, 0), 'u': c.uuid}})
            AS a_uuid
    FROM links l
    JOIN r1 c ON c.tenant = l.tenant AND c.uuid = l.w AND c.originating_leg_uuid IS NULL
    GROUP BY ALL
),
r AS (
    SELECT r1.*, coalesce(r1.originating_leg_uuid, h.a_uuid, r1.uuid) AS call_key,
        coalesce(r1.originating_leg_uuid, h.a_uuid, r1.uuid) <> r1.uuid AS is_b,
        CASE WHEN regexp_full_match(caller_id_number, '0+') THEN NULL ELSE caller_id_number END
            AS caller,
        CASE WHEN destination_number LIKE '&%' THEN NULL ELSE destination_number END AS callee,
        coalesce(hangup_cause, '') AS cause
    FROM r1 LEFT JOIN heads h USING (tenant, uuid)
),
legs AS (
    SELECT *, coalesce(
            nullif(regexp_extract(coalesce(bridge_channel, ''),
                                  '^[^/]+/[^/]+/(?:sip:)?([^@;]+)', 1), ''),
            nullif(regexp_extract(coalesce(last_arg, ''), '^user/([^@]+)', 1), ''),
            callee) AS target
    FROM r
    WHERE is_b OR (NOT EXISTS (SELECT 1 FROM r b WHERE b.tenant = r.tenant
                                                   AND b.call_key = r.call_key AND b.is_b)
                   AND (other_uuid IS NOT NULL OR last_app = 'bridge'
                        OR (cdr_format = 'csv' AND regexp_full_match(callee, '[+0-9*#]+'))))
),
legs2 AS (
    SELECT *,
        CASE WHEN is_b THEN billsec > 0 OR answer_at IS NOT NULL
             ELSE bridge_at IS NOT NULL OR (cdr_format = 'csv' AND billsec > 0) END AS answered,
        CASE WHEN regexp_full_match(target, {internal}) THEN 'agent' ELSE 'external' END AS kind,
        coalesce(nullif(CASE WHEN NOT is_b THEN originate_disposition END, 'SUCCESS'), cause)
            AS leg_cause
    FROM legs
),
leg_rows AS (
    SELECT tenant, call_key, 'freeswitch-cdr' AS source, 1 AS priority, 'dial' AS leg_group,
        CASE WHEN coalesce(bridge_channel, channel_name, '') LIKE '%voicemail%'
                  OR last_app = 'voicemail' THEN 'voicemail' ELSE kind END AS destination_kind,
        CASE WHEN kind = 'agent' THEN target END AS agent,
        CASE WHEN kind = 'agent' THEN target END AS extension,
        cc_queue AS queue, start_at AS ring_started_at,
        CASE WHEN answered THEN coalesce(CASE WHEN NOT is_b THEN bridge_at END, answer_at) END
            AS answered_at,
        end_at AS ended_at,
        CASE WHEN NOT answered THEN NULL
             WHEN is_b THEN billsec
             ELSE coalesce(epoch(end_at - bridge_at), billsec) END::DOUBLE AS talk_s,
        CASE WHEN answered THEN 'answered' ELSE {_UNANSWERED} END AS result,
        CASE WHEN NOT answered THEN NULL
             WHEN sip_hangup_disposition LIKE 'recv_%' = is_b
                 THEN CASE WHEN kind = 'agent' THEN 'agent' ELSE 'caller' END
             WHEN sip_hangup_disposition IS NOT NULL
                 THEN CASE WHEN kind = 'agent' THEN 'caller' ELSE 'agent' END
        END AS hangup_side
    FROM legs2
),
head AS (
    SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY tenant, call_key
        ORDER BY is_b, start_at, uuid) AS n FROM r) WHERE n = 1
),
span AS (SELECT tenant, call_key, min(start_at) AS started_at, max(end_at) AS ended_at,
             any_value(cc_queue) AS queue FROM r GROUP BY ALL),
leg_sum AS (
    SELECT tenant, call_key, bool_or(result = 'answered') AS answered,
        bool_or(result = 'answered' AND destination_kind = 'external') AS answered_outside,
        bool_or(destination_kind = 'voicemail') AS voicemail,
        bool_and(destination_kind = 'external') AS all_outside,
        max_by(hangup_side, ended_at) FILTER (WHERE result = 'answered') AS hangup_side
    FROM leg_rows GROUP BY ALL
)
"""
    call_facts = (
        calls
        + f"""
SELECT h.tenant, h.call_key, 'freeswitch-cdr' AS source, 1 AS priority,
    s.started_at, s.ended_at, h.caller, h.callee,
    CASE WHEN NOT regexp_full_match(coalesce(h.caller, ''), {internal})
          AND NOT regexp_full_match(coalesce(h.callee, ''), {internal}) THEN h.callee END AS line,
    CASE WHEN regexp_full_match(h.caller, {internal}) THEN h.caller END AS origin_agent,
    s.queue,
    CASE WHEN l.answered THEN CASE WHEN l.answered_outside THEN 'external' ELSE 'agent' END
         WHEN l.voicemail OR h.last_app = 'voicemail' THEN 'voicemail'
         WHEN h.cause IN ('UNALLOCATED_NUMBER', 'NO_ROUTE_DESTINATION', 'INVALID_NUMBER_FORMAT')
              AND l.call_key IS NULL THEN 'invalid_destination'
         WHEN l.call_key IS NOT NULL THEN
             CASE WHEN l.all_outside THEN 'external' WHEN s.queue IS NOT NULL THEN 'queue'
                  ELSE 'ring_group' END
         WHEN s.queue IS NOT NULL THEN 'queue'
         WHEN h.last_app IN ('playback', 'play_and_get_digits', 'read', 'ivr', 'park') THEN 'ivr'
    END AS end_stage,
    coalesce(l.hangup_side, CASE WHEN h.cause = 'ORIGINATOR_CANCEL' THEN 'caller' END)
        AS hangup_side,
    NULL::VARCHAR AS ivr_path, NULL::VARCHAR AS recording
FROM head h JOIN span s USING (tenant, call_key) LEFT JOIN leg_sum l USING (tenant, call_key)
"""
    )
    leg_facts = calls + "SELECT * FROM leg_rows"
    key_links = (
        calls
        + """
SELECT tenant, alias_key, min(call_key) AS call_key FROM (
    SELECT tenant, uuid AS alias_key, call_key FROM r WHERE uuid <> call_key
    UNION SELECT tenant, other_uuid, call_key FROM r WHERE NOT is_b AND other_uuid IS NOT NULL
) WHERE alias_key <> call_key GROUP BY ALL
"""
    )
    return {"call_facts": call_facts, "leg_facts": leg_facts, "key_links": key_links}
