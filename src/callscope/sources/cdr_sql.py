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
               {origin} AS src_peer
        FROM {{raw}}
    """
    is_agent_dst = f"({is_extension('dst_peer', settings)} AND NOT {is_trunk_tech('dstchannel')})"
    vm_apps = quote_list(settings.asterisk.voicemail_apps)
    legs = f"""
        WITH r AS MATERIALIZED ({rows}),
        bounds AS (  -- per call: its end, and the (answer, end) of every answered leg
            SELECT tenant, call_key, max("end") AS call_end,
                   list(struct_pack(a := answer, e := "end"))
                       FILTER (WHERE disposition = 'ANSWERED' AND dstchannel IS NOT NULL)
                       AS answered
            FROM r GROUP BY ALL
        )
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
                   WHEN len(list_filter(b.answered, x -> r."end" < x.e
                            AND r."end" BETWEEN x.a - INTERVAL 1 SECOND AND x.e)) > 0
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
        "did": "nullif(fr.did, '')",
        "userfield": "nullif(fr.userfield, '')",
        "dst": "fr.dst",
    }.get(
        settings.asterisk.cdr_line_field or "",
        "coalesce(nullif(fr.did, ''), "
        f"CASE WHEN regexp_full_match(fr.dst, '\\+?[0-9]{{{long_number},}}')"
        " THEN fr.dst END)",
    )
    # The first row (by start) and the last (by end) of a call, picked by arg_min/arg_max of
    # the columns they are read for: one aggregation, no window or self-join over every row.
    first_cols = "src, dst, did, userfield, channel, src_peer"
    last_cols = "dstchannel, lastapp, lastdata, dcontext, dst"
    calls = f"""
        WITH r AS ({rows}),
        agg AS (
            SELECT tenant, call_key,
                   arg_min(struct_pack({first_cols}), (start, sequence, row_no)) AS fr,
                   arg_max(struct_pack({last_cols}), ("end", sequence, row_no)) AS lr,
                   min(start) AS started_at, max("end") AS ended_at,
                   min(split_part(lastdata, ',', 1)) FILTER (WHERE lastapp = 'Queue') AS queue,
                   bool_or(disposition = 'ANSWERED' AND dstchannel IS NOT NULL) AS any_answer,
                   -- more than one agent rung: the first and last of them differ
                   min(dst_peer) FILTER (WHERE dstchannel IS NOT NULL AND {is_agent_dst})
                       < max(dst_peer) FILTER (WHERE dstchannel IS NOT NULL AND {is_agent_dst})
                       AS many_agents
            FROM r GROUP BY ALL
        )
        SELECT agg.tenant, agg.call_key, 'asterisk-cdr' AS source, 1 AS priority,
               agg.started_at, agg.ended_at,
               nullif(fr.src, '') AS caller, nullif(fr.dst, '') AS callee,
               {line_expr} AS line,
               CASE WHEN {is_extension("fr.src_peer", settings)}
                         AND NOT {is_trunk_tech("fr.channel")}
                    THEN fr.src_peer END AS origin_agent,
               agg.queue,
               CASE
                   WHEN agg.any_answer THEN NULL
                   WHEN lr.dstchannel IS NOT NULL AND lr.lastapp = 'Dial' THEN
                       CASE WHEN {is_extension(channel_peer("lr.dstchannel"), settings)}
                            THEN CASE WHEN agg.many_agents OR lr.lastdata LIKE '%&%'
                                      THEN 'ring_group' ELSE 'agent' END
                            ELSE 'external' END
                   ELSE {stage_of("lr.lastapp", "lr.dcontext", "lr.dst", settings)}
               END AS end_stage,
               NULL::VARCHAR AS hangup_side,
               NULL::VARCHAR AS ivr_path,
               NULL::VARCHAR AS recording,
               -- A CDR writes NO ANSWER both when Dial timed out and when the caller gave up,
               -- and its start is the channel's, not the queue entry: left to queue_log/CEL.
               NULL::VARCHAR AS exit_reason,
               NULL::TIMESTAMP AS queue_entered_at
        FROM agg
    """
    links = f"""
        SELECT DISTINCT tenant, uniqueid AS alias_key, {CALL_KEY} AS call_key
        FROM {{raw}}
        WHERE nullif(uniqueid, '') IS NOT NULL AND uniqueid <> {CALL_KEY}
    """
    return {"call_facts": calls, "leg_facts": legs, "key_links": links}
