"""What Asterisk CDR rows say about calls and legs, as SQL over the raw CDR table.

A call is a linkedid (Asterisk 12+) or, in older logs without it, the caller channel's uniqueid.
Every row with a destination channel is one leg; rows without one (IVR, voicemail, hang-up) only
tell where the caller was.
"""

from __future__ import annotations

from callscope.settings import Settings
from callscope.sources.asterisk_sql import (
    channel_peer,
    is_extension,
    is_trunk_tech,
    quote_list,
    stage_of,
)

CALL_KEY = "coalesce(nullif(linkedid, ''), nullif(uniqueid, ''), 'cdr-' || record_key::VARCHAR)"


def cdr_facts_sql(settings: Settings) -> dict[str, str]:
    peer = channel_peer("dstchannel")
    origin = channel_peer("channel")
    rows = f"""
        SELECT *, {CALL_KEY} AS call_key,
               {peer} AS dst_peer,
               {origin} AS src_peer,
               row_number() OVER (PARTITION BY tenant, {CALL_KEY}
                                  ORDER BY start, sequence, row_no) AS pos,
               row_number() OVER (PARTITION BY tenant, {CALL_KEY}
                                  ORDER BY "end" DESC, sequence DESC, row_no DESC) AS rpos
        FROM {{raw}}
    """
    is_agent_dst = f"({is_extension('dst_peer', settings)} AND NOT {is_trunk_tech('dstchannel')})"
    vm_apps = quote_list(settings.asterisk.voicemail_apps)
    legs = f"""
        WITH r AS ({rows}),
        answered AS (
            SELECT tenant, call_key, answer, "end" FROM r
            WHERE disposition = 'ANSWERED' AND dstchannel IS NOT NULL
        ),
        bounds AS (SELECT tenant, call_key, max("end") AS call_end FROM r GROUP BY ALL)
        SELECT r.tenant, r.call_key, 'asterisk-cdr' AS source, 1 AS priority,
               CASE WHEN r.lastapp = 'Queue' THEN 'queue' ELSE 'dial' END AS leg_group,
               CASE WHEN r.dstchannel IS NULL THEN 'voicemail'
                    WHEN {is_agent_dst} THEN 'agent' ELSE 'external' END AS destination_kind,
               CASE WHEN r.dstchannel IS NOT NULL AND {is_agent_dst} THEN r.dst_peer END AS agent,
               CASE WHEN r.dstchannel IS NOT NULL AND {is_agent_dst} THEN r.dst_peer END
                   AS extension,
               CASE WHEN r.lastapp = 'Queue' THEN split_part(r.lastdata, ',', 1) END AS queue,
               r.start AS ring_started_at,
               CASE WHEN r.disposition = 'ANSWERED' THEN coalesce(r.answer, r.start) END
                   AS answered_at,
               r."end" AS ended_at,
               CASE WHEN r.disposition = 'ANSWERED' AND r.dstchannel IS NOT NULL
                    THEN r.billsec::DOUBLE ELSE 0.0 END AS talk_s,
               CASE
                   WHEN r.disposition = 'ANSWERED' THEN 'answered'
                   WHEN r.disposition = 'BUSY' THEN 'busy'
                   WHEN r.disposition IN ('FAILED', 'CONGESTION') THEN 'unavailable'
                   WHEN EXISTS (
                       SELECT 1 FROM answered a
                       WHERE a.tenant = r.tenant AND a.call_key = r.call_key
                         AND r."end" BETWEEN a.answer - INTERVAL 1 SECOND AND a."end"
                         AND r."end" < a."end")
                       THEN 'cancelled_answered_elsewhere'
                   WHEN r."end" >= b.call_end - INTERVAL 1 SECOND THEN 'caller_hung_up'
                   ELSE 'no_answer' END AS result,
               NULL::VARCHAR AS hangup_side
        FROM r JOIN bounds b USING (tenant, call_key)
        WHERE r.dstchannel IS NOT NULL
           OR (r.lastapp IN ({vm_apps}) AND r.disposition = 'ANSWERED')
    """
    long_number = settings.internal_number_max_digits + 1
    line_expr = {
        "did": "nullif(first.did, '')",
        "userfield": "nullif(first.userfield, '')",
        "dst": "first.dst",
    }.get(
        settings.asterisk.cdr_line_field or "",
        "coalesce(nullif(first.did, ''), "
        f"CASE WHEN regexp_full_match(first.dst, '\\+?[0-9]{{{long_number},}}')"
        " THEN first.dst END)",
    )
    calls = f"""
        WITH r AS ({rows}),
        first AS (SELECT * FROM r WHERE pos = 1),
        last AS (SELECT * FROM r WHERE rpos = 1),
        agg AS (
            SELECT tenant, call_key, min(start) AS started_at, max("end") AS ended_at,
                   min(split_part(lastdata, ',', 1)) FILTER (WHERE lastapp = 'Queue') AS queue,
                   bool_or(disposition = 'ANSWERED' AND dstchannel IS NOT NULL) AS any_answer,
                   count(DISTINCT dst_peer) FILTER (WHERE dstchannel IS NOT NULL
                       AND {is_agent_dst}) AS agents_rung
            FROM r GROUP BY ALL
        )
        SELECT agg.tenant, agg.call_key, 'asterisk-cdr' AS source, 1 AS priority,
               agg.started_at, agg.ended_at,
               nullif(first.src, '') AS caller, nullif(first.dst, '') AS callee,
               {line_expr} AS line,
               CASE WHEN {is_extension("first.src_peer", settings)}
                         AND NOT {is_trunk_tech("first.channel")}
                    THEN first.src_peer END AS origin_agent,
               agg.queue,
               CASE
                   WHEN agg.any_answer THEN NULL
                   WHEN last.dstchannel IS NOT NULL AND last.lastapp = 'Dial' THEN
                       CASE WHEN {is_extension(channel_peer("last.dstchannel"), settings)}
                            THEN CASE WHEN agg.agents_rung > 1 OR last.lastdata LIKE '%&%'
                                      THEN 'ring_group' ELSE 'agent' END
                            ELSE 'external' END
                   ELSE {stage_of("last.lastapp", "last.dcontext", "last.dst", settings)}
               END AS end_stage,
               NULL::VARCHAR AS hangup_side,
               NULL::VARCHAR AS ivr_path,
               NULL::VARCHAR AS recording
        FROM agg
        JOIN first USING (tenant, call_key)
        JOIN last USING (tenant, call_key)
    """
    links = f"""
        SELECT DISTINCT tenant, uniqueid AS alias_key, {CALL_KEY} AS call_key
        FROM {{raw}}
        WHERE nullif(uniqueid, '') IS NOT NULL AND uniqueid <> {CALL_KEY}
    """
    return {"call_facts": calls, "leg_facts": legs, "key_links": links}
