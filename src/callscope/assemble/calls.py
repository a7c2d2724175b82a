"""One row per call from the facts of every source and the chosen legs (design.md 3-4).

`answered` follows design.md 4: some leg to a person (an agent or an external forward) talked
at least `min_talk_s`; an inbound call from a customer without such a leg is missed.
"""

from __future__ import annotations

from callscope.settings import Settings
from callscope.sources.asterisk_sql import is_extension


def calls_sql(settings: Settings) -> str:
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
f AS (
    SELECT tenant, call_id,
           min(started_at) AS started_at, max(ended_at) AS ended_at,
           arg_max(caller, priority) FILTER (WHERE caller IS NOT NULL) AS caller,
           arg_max(callee, priority) FILTER (WHERE callee IS NOT NULL) AS callee,
           arg_max(line, priority) FILTER (WHERE line IS NOT NULL) AS line,
           arg_max(origin_agent, priority) FILTER (WHERE origin_agent IS NOT NULL)
               AS origin_agent,
           arg_max(queue, priority) FILTER (WHERE queue IS NOT NULL) AS queue,
           arg_max(end_stage, priority) FILTER (WHERE end_stage IS NOT NULL) AS end_stage,
           arg_max(hangup_side, priority) FILTER (WHERE hangup_side IS NOT NULL) AS hangup_side,
           arg_max(ivr_path, priority) FILTER (WHERE ivr_path IS NOT NULL) AS ivr_path,
           arg_max(recording, priority) FILTER (WHERE recording IS NOT NULL) AS recording,
           string_agg(DISTINCT source, '+' ORDER BY source) AS source
    FROM cf GROUP BY ALL
),
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
           count(DISTINCT agent) FILTER (WHERE destination_kind = 'agent') AS agents_rung
    FROM person GROUP BY ALL
),
c AS (
    SELECT f.*, l.* EXCLUDE (tenant, call_id),
           CASE
               WHEN NOT {caller_internal} AND f.origin_agent IS NULL THEN 'inbound'
               WHEN coalesce(l.has_external, false)
                    OR regexp_full_match(coalesce(f.callee, ''), '\\+?[0-9]{{{n + 1},}}')
                   THEN 'outbound'
               ELSE 'internal'
           END AS direction
    FROM f LEFT JOIN l USING (tenant, call_id)
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
           WHEN coalesce(max_talk_s, 0) >= {min_talk} THEN 'answered'
           WHEN direction = 'inbound' THEN 'missed'
           WHEN coalesce(any_busy, false) THEN 'busy'
           WHEN coalesce(any_unavailable, false) THEN 'failed'
           ELSE 'no_answer'
       END AS outcome,
       CASE
           WHEN direction = 'outbound' THEN 'external'
           WHEN pickup_at IS NOT NULL THEN 'agent'
           WHEN end_stage IS NOT NULL THEN end_stage
           WHEN coalesce(agents_rung, 0) > 1 THEN 'ring_group'
           WHEN coalesce(agents_rung, 0) = 1 THEN 'agent'
           WHEN queue IS NOT NULL THEN 'queue'
       END AS end_stage,
       queue, ivr_path, hangup_side, recording, source
FROM c
"""
