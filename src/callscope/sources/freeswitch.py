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
from typing import ClassVar

import duckdb

from callscope.settings import Settings
from callscope.sources.base import StageContext, StageResult
from callscope.sources.freeswitch_read import (
    INSERT_LINE,
    RAW_COLUMNS,
    TEMPLATES,
    UUID,
    read_cdr_csv,
    read_cdr_json,
)
from callscope.sources.staging import first_lines

_COUNTER = itertools.count(1)


class FreeswitchCdr:
    """The freeswitch-cdr format: mod_cdr_csv (any stock template) and mod_json_cdr."""

    name: ClassVar[str] = "freeswitch-cdr"
    raw_table: ClassVar[str] = "raw_freeswitch_cdr_v1"
    priority: ClassVar[int] = 1
    covers: ClassVar[frozenset[str]] = frozenset({"dial"})
    raw_columns: ClassVar[str] = RAW_COLUMNS

    def sniff(self, head: str) -> float:
        text = head.lstrip("\ufeff \r\n\t")
        if text.startswith(("{", "[")):
            return (
                0.95 if '"variables"' in text and ('"uuid"' in text or "core-uuid" in text) else 0.0
            )
        first = text.splitlines()[0] if text else ""
        if INSERT_LINE.match(first):
            return 0.8 if UUID.search(first) else 0.0
        fields = next(csv.reader([first]), [])
        if len(fields) in TEMPLATES and UUID.fullmatch(fields[10].strip()):
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
            select, problems, refused = read_cdr_json(con, ctx, first, n)
        else:
            select, problems, refused = read_cdr_csv(con, ctx, first, n)
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

    def facts_sql(self, settings: Settings | None = None) -> dict[str, str]:
        digits = settings.internal_number_max_digits if settings is not None else 5
        return facts_sql(digits)


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
    -- A caller's row is a leg to a person only when it was bridged, or when an extension is
    -- on it (an extension's own call, or a call that rang one); an outside caller's unbridged
    -- row (IVR, voicemail, closed hours, gave up unanswered) describes the call only.
    WHERE is_b OR (NOT EXISTS (SELECT 1 FROM r b WHERE b.tenant = r.tenant
                                                   AND b.call_key = r.call_key AND b.is_b)
                   AND (other_uuid IS NOT NULL OR last_app = 'bridge' OR (cdr_format = 'csv'
                        AND (regexp_full_match(coalesce(caller, ''), {internal})
                             OR regexp_full_match(coalesce(callee, ''), {internal}))
                        AND regexp_full_match(callee, '[+0-9*#]+'))))
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
         -- An outside caller the PBX answered itself and never bridged (stock CSV has no
         -- last_app): IVR, voicemail and a closed-hours message look alike, the IVR is the stage.
         WHEN h.cdr_format = 'csv' AND h.last_app IS NULL AND h.answer_at IS NOT NULL
              AND NOT regexp_full_match(coalesce(h.caller, ''), {internal}) THEN 'ivr'
    END AS end_stage,
    coalesce(l.hangup_side, CASE WHEN h.cause = 'ORIGINATOR_CANCEL' THEN 'caller' END)
        AS hangup_side,
    NULL::VARCHAR AS ivr_path, NULL::VARCHAR AS recording,
    CASE WHEN h.cause = 'ORIGINATOR_CANCEL' THEN 'abandoned'
         WHEN h.cause IN ('NO_ANSWER', 'ALLOTTED_TIMEOUT', 'NO_USER_RESPONSE',
                          'RECOVERY_ON_TIMER_EXPIRE', 'PROGRESS_TIMEOUT') THEN 'timeout'
         WHEN h.cause IN ('UNALLOCATED_NUMBER', 'NO_ROUTE_DESTINATION', 'INVALID_NUMBER_FORMAT')
             THEN 'invalid_destination'
    END AS exit_reason,
    NULL::TIMESTAMP AS queue_entered_at
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
