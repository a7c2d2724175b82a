"""The last agent rung of a call: the agent an unanswered call is attributed to (design.md 4).

One home of the rule. The assembler (for every call it writes) and migration 9 (for the calls
stored before) keep it on the call as `calls.last_agent_rung`, from this SQL; the reports read
that column, and compute it from the legs with the same order (`RUNG_DEMOTION`, through
`callscope.metrics.scope.last_agent_rung`) only for a store opened read-only before it was
migrated. tests/test_last_agent_rung.py proves both equal.

The assembler numbers a call's legs by ring start (unknown last), then agent: the highest
leg_no is the last ring, and of agents rung at once (ring-all) always the same one. A leg whose
ring start is unknown counts only when no leg of the call has one: its number is demoted below
every leg's.
"""

from __future__ import annotations

# Larger than any call's number of legs.
RUNG_DEMOTION = 1_000_000

AGENT_LEG_SQL = "destination_kind = 'agent' AND agent IS NOT NULL"
RUNG_ORDER_SQL = f"CASE WHEN ring_started_at IS NULL THEN leg_no - {RUNG_DEMOTION} ELSE leg_no END"


def last_agent_rung_sql(legs: str) -> str:
    """Per call of the legs table `legs`: tenant, call_id, last_agent_rung (calls without an
    agent leg have no row)."""
    return (
        f"SELECT tenant, call_id, arg_max(agent, {RUNG_ORDER_SQL}) AS last_agent_rung"
        f" FROM {legs} WHERE {AGENT_LEG_SQL} GROUP BY tenant, call_id"
    )
