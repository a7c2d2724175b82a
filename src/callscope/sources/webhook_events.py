"""Generic call events (docs/live.md): the raw records of webhooks, whatever the vendor.

A cloud PBX tells a call's story as a few events: started, ringing an agent, answered,
transferred, ended (and agent state changes). Vendor adapters (callscope.live.adapters) rewrite
their payloads into these events, the intake keeps them, and the facts below turn a call's events
into the same call/leg facts every batch source gives the assembler.
"""

from __future__ import annotations

from typing import ClassVar

import duckdb

from callscope.errors import InputFormatError
from callscope.settings import Settings
from callscope.sources.base import StageContext, StageResult

SOURCE = "webhook-events"
PRIORITY = 2

RAW_COLUMNS = (
    "event_type VARCHAR, event_at TIMESTAMP, call_id VARCHAR, leg_id VARCHAR, direction VARCHAR, "
    "from_number VARCHAR, to_number VARCHAR, line VARCHAR, agent VARCHAR, from_agent VARCHAR, "
    "queue VARCHAR, result VARCHAR, state VARCHAR, reason VARCHAR, hangup_by VARCHAR, "
    "end_stage VARCHAR, recording VARCHAR, payload JSON"
)


def _text(key: str) -> str:
    return f"nullif(trim(payload ->> '{key}'), '')"


# From the inbox's JSON (already validated by callscope.live.events) to the raw columns.
STAGE_SELECT = f"""
    {_text("type")} AS event_type,
    coalesce(try_cast(payload ->> 'at' AS TIMESTAMPTZ)::TIMESTAMP, received_at) AS event_at,
    {_text("call_id")} AS call_id, {_text("leg_id")} AS leg_id, {_text("direction")} AS direction,
    {_text("from")} AS from_number, {_text("to")} AS to_number, {_text("line")} AS line,
    {_text("agent")} AS agent, {_text("from_agent")} AS from_agent, {_text("queue")} AS queue,
    {_text("result")} AS result, {_text("state")} AS state, {_text("reason")} AS reason,
    {_text("hangup_by")} AS hangup_by, {_text("end_stage")} AS end_stage,
    {_text("recording")} AS recording, payload::JSON AS payload
"""

CALL_FACTS = f"""
SELECT tenant, call_id AS call_key, '{SOURCE}' AS source, {PRIORITY} AS priority,
       min(event_at) AS started_at,
       coalesce(max(event_at) FILTER (WHERE event_type = 'call.ended'), max(event_at)) AS ended_at,
       arg_min(from_number, ord) FILTER (WHERE from_number IS NOT NULL) AS caller,
       arg_min(to_number, ord) FILTER (WHERE to_number IS NOT NULL) AS callee,
       coalesce(arg_min(line, ord) FILTER (WHERE line IS NOT NULL),
                CASE WHEN coalesce(arg_min(direction, ord) FILTER (
                              WHERE direction IS NOT NULL), 'inbound') = 'inbound'
                     THEN arg_min(to_number, ord) FILTER (WHERE to_number IS NOT NULL)
                END) AS line,
       CASE WHEN arg_min(direction, ord) FILTER (WHERE direction IS NOT NULL) = 'outbound'
            THEN coalesce(arg_min(agent, ord) FILTER (WHERE event_type = 'call.started'),
                          arg_min(from_number, ord)) END AS origin_agent,
       arg_min(queue, ord) FILTER (WHERE queue IS NOT NULL) AS queue,
       arg_max(end_stage, ord) FILTER (WHERE end_stage IS NOT NULL) AS end_stage,
       arg_max(hangup_by, ord) FILTER (WHERE hangup_by IS NOT NULL) AS hangup_side,
       NULL::VARCHAR AS ivr_path,
       arg_max(recording, ord) FILTER (WHERE recording IS NOT NULL) AS recording,
       NULL::VARCHAR AS exit_reason,
       min(event_at) FILTER (WHERE queue IS NOT NULL) AS queue_entered_at
FROM (SELECT *, (event_at, import_id, row_no) AS ord FROM {{raw}})  -- same instant: as received
WHERE call_id IS NOT NULL AND event_type LIKE 'call.%'
GROUP BY tenant, call_id
"""

LEG_FACTS = f"""
WITH e AS (
    SELECT *, coalesce(leg_id, agent) AS leg, (event_at, import_id, row_no) AS ord FROM {{raw}}
    WHERE call_id IS NOT NULL AND event_type LIKE 'call.%'
),
legs AS (
    SELECT tenant, call_id, leg,
           arg_min(agent, ord) FILTER (WHERE agent IS NOT NULL) AS agent,
           arg_min(queue, ord) FILTER (WHERE queue IS NOT NULL) AS queue,
           min(event_at) FILTER (WHERE event_type = 'call.ringing') AS ring_at,
           min(event_at) FILTER (WHERE event_type = 'call.answered') AS answered_at,
           min(event_at) FILTER (WHERE event_type = 'call.ring_ended') AS ring_end_at,
           arg_min(result, ord) FILTER (WHERE event_type = 'call.ring_ended') AS ring_result
    FROM e WHERE leg IS NOT NULL AND event_type IN ('call.ringing', 'call.answered',
                                                    'call.ring_ended')
    GROUP BY ALL
),
ends AS (
    SELECT tenant, call_id, max(event_at) FILTER (WHERE event_type = 'call.ended') AS ended_at,
           max(event_at) AS last_at
    FROM e GROUP BY ALL
),
judged AS (
    SELECT l.*, coalesce(n.ended_at, n.last_at) AS call_end,
           (SELECT min(t.event_at) FROM e t WHERE t.tenant = l.tenant AND t.call_id = l.call_id
              AND t.event_type = 'call.transferred' AND t.event_at >= l.answered_at
              AND coalesce(t.from_agent, t.leg_id) = l.leg) AS transferred_at,
           (SELECT min(o.answered_at) FROM legs o WHERE o.tenant = l.tenant
              AND o.call_id = l.call_id AND o.leg <> l.leg
              AND o.answered_at >= coalesce(l.ring_at, l.answered_at)) AS other_answer
    FROM legs l JOIN ends n USING (tenant, call_id)
)
SELECT tenant, call_id AS call_key, '{SOURCE}' AS source, {PRIORITY} AS priority,
       CASE WHEN queue IS NULL THEN 'dial' ELSE 'queue' END AS leg_group,
       'agent' AS destination_kind, agent,
       CASE WHEN regexp_full_match(coalesce(agent, ''), '[0-9]+') THEN agent END AS extension,
       queue, coalesce(ring_at, answered_at) AS ring_started_at, answered_at,
       CASE WHEN answered_at IS NOT NULL THEN coalesce(transferred_at, call_end)
            ELSE least(coalesce(ring_end_at, call_end), coalesce(other_answer, call_end))
       END AS ended_at,
       CASE WHEN answered_at IS NOT NULL
            THEN greatest(epoch(coalesce(transferred_at, call_end) - answered_at), 0)
            ELSE 0 END::DOUBLE AS talk_s,
       CASE WHEN answered_at IS NOT NULL THEN 'answered'
            WHEN other_answer IS NOT NULL
                 AND other_answer <= coalesce(ring_end_at, other_answer)
                THEN 'cancelled_answered_elsewhere'
            WHEN ring_result IN ('no_answer', 'busy', 'rejected', 'unavailable')
                THEN ring_result
            WHEN ring_end_at IS NOT NULL THEN 'no_answer'
            ELSE 'caller_hung_up' END AS result,
       NULL::VARCHAR AS hangup_side
FROM judged
"""

AGENT_EVENTS = f"""
SELECT tenant, agent, state, lower(reason) AS reason, event_at AS started_at,
       lead(event_at) OVER (PARTITION BY tenant, agent ORDER BY event_at) AS ended_at,
       '{SOURCE}' AS source
FROM {{raw}} WHERE event_type = 'agent.state' AND agent IS NOT NULL
QUALIFY state <> 'available'
"""


class WebhookEvents:
    """Generic call events received over HTTP (not a file format)."""

    name: ClassVar[str] = SOURCE
    raw_table: ClassVar[str] = "raw_webhook_events_v1"
    raw_columns: ClassVar[str] = RAW_COLUMNS
    priority: ClassVar[int] = PRIORITY
    covers: ClassVar[frozenset[str]] = frozenset({"queue", "dial"})
    key_sql: ClassVar[str] = "call_id"

    def sniff(self, head: str) -> float:
        return 0.0

    def stage(self, con: duckdb.DuckDBPyConnection, ctx: StageContext) -> StageResult:
        raise InputFormatError(
            f"{ctx.display_name}: webhook events arrive over HTTP (POST /api/webhooks/events)"
        )

    def facts_sql(self, settings: Settings | None = None) -> dict[str, str]:
        return {"call_facts": CALL_FACTS, "leg_facts": LEG_FACTS, "agent_events": AGENT_EVENTS}
