"""Choosing the legs of a call when several sources describe it.

A leg survives unless a source of higher priority (a) covers the leg's group wholesale and has
facts for the call, or (b) describes a leg of the same agent whose ringing overlaps it. So CEL
replaces everything, queue_log replaces the CDR rows of the queue members it logged and leaves
the CDR's other rows (ring-all legs queue_log does not log, transfer targets) in place.
"""

from __future__ import annotations

OVERLAP_TOLERANCE_S = 1

_FACTS = """
lf AS (
    SELECT coalesce(k.call_key, f.call_key) AS call_id, f.*,
           {agent_id} AS agent_id
    FROM asm_leg_facts f
    LEFT JOIN key_links k ON k.tenant = f.tenant AND k.alias_key = f.call_key
)"""

_RANKED = f""",
present AS (
    SELECT DISTINCT coalesce(k.call_key, f.call_key) AS call_id, f.tenant, f.source, f.priority
    FROM asm_call_facts f
    LEFT JOIN key_links k ON k.tenant = f.tenant AND k.alias_key = f.call_key
    UNION
    SELECT DISTINCT call_id, tenant, source, priority FROM lf
),
covered AS (
    SELECT p.tenant, p.call_id, c.leg_group, max(p.priority) AS priority
    FROM present p JOIN asm_source_covers c ON c.source = p.source
    GROUP BY ALL
),
kept AS (
    SELECT l.* FROM lf l
    LEFT JOIN covered c
      ON c.tenant = l.tenant AND c.call_id = l.call_id AND c.leg_group = l.leg_group
    WHERE (c.priority IS NULL OR c.priority <= l.priority)
      AND NOT EXISTS (
        SELECT 1 FROM lf h
        WHERE h.tenant = l.tenant AND h.call_id = l.call_id AND h.priority > l.priority
          AND h.destination_kind = l.destination_kind
          AND h.agent_id IS NOT DISTINCT FROM l.agent_id
          AND coalesce(h.ring_started_at, h.answered_at, h.ended_at)
              <= coalesce(l.ended_at, l.ring_started_at)
                                   + INTERVAL {OVERLAP_TOLERANCE_S} SECOND
          AND coalesce(h.ended_at, h.ring_started_at) >= l.ring_started_at
                                   - INTERVAL {OVERLAP_TOLERANCE_S} SECOND)
)"""

_SELECT = """
SELECT call_id, tenant,
       row_number() OVER (PARTITION BY tenant, call_id
                          ORDER BY ring_started_at NULLS LAST, answered_at NULLS LAST,
                                   agent_id, source)::INTEGER AS leg_no,
       destination_kind, agent_id AS agent, extension, queue,
       ring_started_at, answered_at, ended_at,
       greatest(epoch(coalesce(answered_at, ended_at) - ring_started_at), 0)::DOUBLE AS ring_s,
       coalesce(talk_s, 0)::DOUBLE AS talk_s,
       result, hangup_side, source, priority
FROM {legs}
"""


def legs_sql(agent_id: str, *, one_source: bool) -> str:
    """The asm_legs statement. With the facts of one source nothing can outrank a leg, so the
    covering and overlap checks (a join of every leg with its call's legs) are left out."""
    body = _FACTS.replace("{agent_id}", agent_id)
    if one_source:
        return f"CREATE OR REPLACE TEMP TABLE asm_legs AS WITH {body}" + _SELECT.format(legs="lf")
    return f"CREATE OR REPLACE TEMP TABLE asm_legs AS WITH {body}{_RANKED}" + _SELECT.format(
        legs="kept"
    )
