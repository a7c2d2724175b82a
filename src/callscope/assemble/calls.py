"""One row per call from the facts of every source and the chosen legs (design.md 3-4).

`answered` follows design.md 4: some leg to a person (an agent or an external forward) talked
at least `min_talk_s`; an inbound call from a customer without such a leg is missed.
"""

from __future__ import annotations

from callscope.settings import Settings
from callscope.sources.asterisk_sql import is_extension

# Where the caller's journey ended outranks why a queue let them go: a caller who timed out of
# the queue and then left a voicemail is a voicemail. Otherwise the source's own word (queue_log
# EXITWITHTIMEOUT, CEL DIALSTATUS, FreeSWITCH hangup cause, a mapped outcome), else the stage.
LATER_S = 2
DISPOSITION = """CASE
           WHEN direction <> 'inbound' OR is_answered THEN NULL
           WHEN final_stage = 'voicemail' THEN 'voicemail'
           WHEN final_stage = 'external' THEN 'external_forward'
           WHEN final_stage IN ('invalid_destination', 'after_hours') THEN final_stage
           WHEN exit_reason IS NOT NULL THEN exit_reason
           ELSE 'abandoned'
       END"""


# The per-call view of the facts when every call has one facts row (one source): the same
# columns as the aggregation below, without aggregating.
_ONE_ROW = """
    SELECT tenant, call_id, started_at, ended_at, caller, callee, line, origin_agent, queue,
           end_stage AS ranked_stage, NULL::TIMESTAMP AS ranked_end,
           end_stage AS late_stage, NULL::TIMESTAMP AS late_end,
           hangup_side, ivr_path, recording, exit_reason, queue_entered_at, source
    FROM cf"""


_MERGED = """
    SELECT tenant, call_id,
           min(started_at) AS started_at, max(ended_at) AS ended_at,
           arg_max(caller, priority) FILTER (WHERE caller IS NOT NULL) AS caller,
           arg_max(callee, priority) FILTER (WHERE callee IS NOT NULL) AS callee,
           arg_max(line, priority) FILTER (WHERE line IS NOT NULL) AS line,
           arg_max(origin_agent, priority) FILTER (WHERE origin_agent IS NOT NULL)
               AS origin_agent,
           arg_max(queue, priority) FILTER (WHERE queue IS NOT NULL) AS queue,
           arg_max(end_stage, priority) FILTER (WHERE end_stage IS NOT NULL) AS ranked_stage,
           arg_max(ended_at, priority) FILTER (WHERE end_stage IS NOT NULL) AS ranked_end,
           arg_max(end_stage, ended_at) FILTER (WHERE end_stage IS NOT NULL) AS late_stage,
           max(ended_at) FILTER (WHERE end_stage IS NOT NULL) AS late_end,
           arg_max(hangup_side, priority) FILTER (WHERE hangup_side IS NOT NULL) AS hangup_side,
           arg_max(ivr_path, priority) FILTER (WHERE ivr_path IS NOT NULL) AS ivr_path,
           arg_max(recording, priority) FILTER (WHERE recording IS NOT NULL) AS recording,
           arg_max(exit_reason, priority) FILTER (WHERE exit_reason IS NOT NULL) AS exit_reason,
           min(queue_entered_at) AS queue_entered_at,
           array_to_string(list_sort(list_distinct(list(source))), '+') AS source
    FROM cf GROUP BY ALL
"""


def calls_sql(settings: Settings, *, one_row_per_call: bool = False) -> str:
    """The asm_calls statement; `one_row_per_call`: the caller checked that no call has facts
    from more than one row, so nothing needs merging."""
    n = settings.internal_number_max_digits
    min_talk = float(settings.min_talk_s)
    caller_internal = is_extension("f.caller", settings)
    return f"""
CREATE OR REPLACE TEMP TABLE asm_calls AS
WITH cf AS (
    SELECT coalesce(k.call_key, f.call_key) AS call_id, f.*
    FROM asm_call_facts f
    LEFT JOIN key_links k ON k.tenant = f.tenant AND k.alias_key = f.call_key
),
f AS ({_ONE_ROW if one_row_per_call else _MERGED}),
person AS (
    SELECT * FROM asm_legs WHERE destination_kind IN ('agent', 'external')
),
l AS (
    SELECT tenant, call_id,
           min(ring_started_at) AS first_ring, max(ended_at) AS last_end,
           sum(talk_s) AS talk_s, max(talk_s) AS max_talk_s,
           arg_min(agent, answered_at) FILTER (WHERE talk_s >= {min_talk}) AS counted_agent,
           min(answered_at) FILTER (WHERE talk_s >= {min_talk}) AS counted_at,
           arg_min(agent, answered_at) FILTER (WHERE answered_at IS NOT NULL) AS pickup_agent,
           min(answered_at) FILTER (WHERE answered_at IS NOT NULL) AS pickup_at,
           bool_or(destination_kind = 'external') AS has_external,
           bool_or(result = 'busy') AS any_busy,
           bool_or(result = 'unavailable') AS any_unavailable,
           -- how many agents rang, as far as it matters (none, one, more): cheaper than a
           -- count of distinct agents
           min(agent) FILTER (WHERE destination_kind = 'agent') AS agent_lo,
           max(agent) FILTER (WHERE destination_kind = 'agent') AS agent_hi
    FROM person GROUP BY ALL
),
c AS (
    SELECT f.* EXCLUDE (ranked_stage, ranked_end, late_stage, late_end),
           -- The best source's word on where the caller was, unless another source saw the
           -- call go on (queue_log ends at the queue exit; the CDR sees the voicemail after).
           CASE WHEN f.late_end > f.ranked_end + INTERVAL {LATER_S} SECOND THEN f.late_stage
                ELSE f.ranked_stage END AS end_stage,
           l.* EXCLUDE (tenant, call_id),
           CASE
               WHEN NOT {caller_internal} AND f.origin_agent IS NULL THEN 'inbound'
               WHEN coalesce(l.has_external, false)
                    OR regexp_full_match(coalesce(f.callee, ''), '\\+?[0-9]{{{n + 1},}}')
                   THEN 'outbound'
               ELSE 'internal'
           END AS direction
    FROM f LEFT JOIN l USING (tenant, call_id)
),
d AS (
    SELECT *,
           CASE
               WHEN direction = 'outbound' THEN 'external'
               WHEN pickup_at IS NOT NULL THEN 'agent'
               WHEN end_stage IS NOT NULL THEN end_stage
               WHEN agent_lo < agent_hi THEN 'ring_group'
               WHEN agent_lo IS NOT NULL THEN 'agent'
               WHEN queue IS NOT NULL THEN 'queue'
           END AS final_stage,
           coalesce(max_talk_s, 0) >= {min_talk} AS is_answered
    FROM c
)
SELECT call_id, tenant, direction,
       least(started_at, coalesce(first_ring, started_at)) AS started_at,
       greatest(ended_at, coalesce(last_end, ended_at)) AS ended_at,
       caller, callee,
       CASE direction WHEN 'inbound' THEN caller WHEN 'outbound' THEN callee END
           AS external_raw,
       line,
       coalesce(counted_at, pickup_at) AS first_answered_at,
       CASE WHEN direction = 'outbound' THEN coalesce(origin_agent, counted_agent, pickup_agent)
            ELSE coalesce(counted_agent, pickup_agent) END AS answered_by,
       greatest(epoch(
           coalesce(counted_at, pickup_at, greatest(ended_at, coalesce(last_end, ended_at)))
           - least(started_at, coalesce(first_ring, started_at))), 0)::DOUBLE AS wait_s,
       coalesce(talk_s, 0)::DOUBLE AS talk_s,
       coalesce(max_talk_s, 0)::DOUBLE AS max_talk_s,
       CASE
           WHEN is_answered THEN 'answered'
           WHEN direction = 'inbound' THEN 'missed'
           WHEN coalesce(any_busy, false) THEN 'busy'
           WHEN coalesce(any_unavailable, false) THEN 'failed'
           ELSE 'no_answer'
       END AS outcome,
       final_stage AS end_stage,
       queue, ivr_path, hangup_side, recording, source,
       {DISPOSITION} AS disposition,
       queue_entered_at
FROM d
"""
