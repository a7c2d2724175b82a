"""How long each agent let the phone ring before picking up: the distribution behind the
scorecard's pickup_s_mean / median / p90 (design.md 4, "time to pick up").

A mean of 9 s can be every call at 9 s or most calls at 3 s and a few at 40 s; a head of sales
coaching a manager needs the second picture. The legs counted are exactly the `agents` report's
`answered` legs (same scope, same inbound calls, talk_s >= min_talk_s), so an agent's buckets
add up to their `answered` figure on the scorecard.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.scope import (
    Scope,
    agents_table,
    build,
    call_legs,
    make_scope,
    query,
)
from callscope.settings import Settings
from callscope.store import Store

# (label, lower bound inclusive, upper bound exclusive); the first takes anything below 5 s
# (a clock a second off gives a negative ring), "unknown" the legs whose ring start is missing
BUCKETS: tuple[tuple[str, float, float | None], ...] = (
    ("0-5 s", 0, 5),
    ("5-10 s", 5, 10),
    ("10-15 s", 10, 15),
    ("15-20 s", 15, 20),
    ("20-30 s", 20, 30),
    ("30-60 s", 30, 60),
    ("60+ s", 60, None),
)
UNKNOWN = "unknown"
PICKUP_COLUMNS = (
    "kind", "agent", "agent_name", "team", "pickup_bucket", "from_s", "to_s", "answered", "share",
)  # fmt: skip
FORMULAS = {
    "answered": "answered legs (the agents report's `answered`: inbound, picked up, talk_s >= "
    "min_talk_s) whose ring_s = answered_at - ring_started_at is in [from_s, to_s); the first "
    "bucket also takes rings under 0 s; bucket `unknown`: ring start not recorded",
    "share": "answered / all the agent's (team's) answered legs",
    "team rows": "kind = team: the sums over the team's agents in the result",
}


def _column(index: int) -> str:
    return f"b{index}"


def pickup_table(scope: Scope) -> ir.Table:
    """One row per agent: answered, b0..b6 (the BUCKETS' counts) and unknown."""
    s = scope.settings
    agents = scope.agent_set()
    lg = call_legs(scope)
    if agents is not None:
        lg = lg.filter(scope.in_agents(lg.agent))
    lg = lg.filter(lg.call_direction == "inbound")  # the legs of offered calls
    lg = lg.filter(lg.answered_at.notnull() & (lg.talk_s >= float(s.min_talk_s)))
    counts: dict[str, Any] = {}
    for i, (_, lo, hi) in enumerate(BUCKETS):
        inside = lg.ring_s >= lo if i else lg.ring_s.notnull()
        if hi is not None:
            inside = inside & (lg.ring_s < hi)
        counts[_column(i)] = inside.sum()
    return lg.group_by("agent").aggregate(
        answered=lg.count(), unknown=lg.ring_s.isnull().sum(), **counts
    )


def _rows(kind: str, who: dict[str, Any], figures: dict[str, Any]) -> list[dict[str, Any]]:
    total = int(figures.get("answered") or 0)
    out = []
    labelled = [(label, lo, hi, _column(i)) for i, (label, lo, hi) in enumerate(BUCKETS)]
    for label, lo, hi, col in [*labelled, (UNKNOWN, None, None, "unknown")]:
        n = int(figures.get(col) or 0)
        out.append(
            {
                "kind": kind,
                **who,
                "pickup_bucket": label,
                "from_s": lo,
                "to_s": hi,
                "answered": n,
                "share": n / total if total else None,
            }
        )
    return out


def pickup(store: Store, flt: MetricFilter, settings: Settings) -> Report:
    """Rows per agent and bucket (kind = agent), then per team and bucket (kind = team)."""
    scope = make_scope(store, flt, settings)

    def per_agent_table() -> ir.Table:
        t = pickup_table(scope)
        names = agents_table(settings).rename(n_agent="agent")
        t = t.left_join(names, t.agent == names.n_agent).drop("n_agent")
        return t.order_by([ibis.asc("team", nulls_first=False), "agent"])

    per_agent = query(scope, "pickup.rows", per_agent_table)
    rows: list[dict[str, Any]] = []
    teams: dict[str | None, dict[str, int]] = {}
    keys = ["answered", "unknown", *(_column(i) for i in range(len(BUCKETS)))]
    for r in per_agent:
        who = {"agent": r["agent"], "agent_name": r["agent_name"], "team": r["team"]}
        rows += _rows("agent", who, r)
        sums = teams.setdefault(r["team"], dict.fromkeys(keys, 0))
        for k in keys:
            sums[k] += int(r[k] or 0)
    for team, sums in teams.items():
        rows += _rows("team", {"agent": None, "agent_name": None, "team": team}, sums)
    extra = {"buckets": [label for label, _, _ in BUCKETS] + [UNKNOWN]}
    return build(scope, "pickup", rows, FORMULAS, extra)
