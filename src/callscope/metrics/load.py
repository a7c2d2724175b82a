"""When the lines are busy and who carries the calls: the weekday x hour heatmap, weekday
against weekend, peak hours, each agent's share of answered calls with the Gini coefficient of
that spread, and agent occupancy."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from callscope.metrics.agents import peak_hours
from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.scope import Scope, build, call_legs, make_scope, query, share
from callscope.metrics.service import inbound
from callscope.settings import Settings
from callscope.store import Store

FORMULAS = {
    "rows": "offered (inbound) calls per local weekday (1 = Monday) x hour of day",
    "missed_share": "missed / offered",
    "weekend": "weekend_days of [metrics]; the rest are weekdays",
    "peak_hours": "metrics.peak_hours, else the peak_hours_auto hours with most offered calls",
    "agents.share": "answered legs of the agent / answered legs of all agents",
    "gini": "Gini coefficient of answered legs per agent: 0 = even, 1 = one agent takes all",
    "occupancy": "talk_s of answered legs / staffed time (agent_states available, ringing, "
    "on_call in the period); null without agent states",
}


def _with_gini(per: ir.Table, col: str) -> ir.Table:
    """`per` with `gini` on every row: G = 2 * sum(i * x_i) / (n * sum x) - (n + 1) / n over
    x sorted ascending, i from 1 (windows over the whole table: the rows are read once)."""
    x = per[col].cast("float64")
    ranked = per.mutate(gini_i=ibis.row_number().over(order_by=[x, per.agent]) + 1)
    whole = ibis.window()
    n = ranked.gini_i.count().over(whole)
    total = ranked[col].sum().over(whole)
    weighted = (ranked.gini_i * ranked[col]).sum().over(whole)
    gini = ibis.cases(
        (total > 0, 2.0 * weighted / (n * total) - (n + 1.0) / n),
        else_=ibis.null().cast("float64"),
    )
    return ranked.mutate(gini=gini).drop("gini_i")


def _staffed(scope: Scope) -> ir.Table:
    st = scope.table("agent_states")
    st = st.filter(scope.tenant_is(st.tenant) & st.state.isin(["available", "ringing", "on_call"]))
    st = st.mutate(
        a=ibis.greatest(st.started_at, scope.clip_lo()),
        b=ibis.least(st.ended_at.fill_null(st.started_at), scope.clip_hi()),
    )
    st = st.filter(st.b > st.a)
    return st.group_by(s_agent=st.agent).aggregate(
        staffed_s=(st.b.epoch_seconds() - st.a.epoch_seconds()).sum().cast("float64")
    )


def load(store: Store, flt: MetricFilter, settings: Settings) -> Report:
    scope = make_scope(store, flt, settings)

    def calls() -> ir.Table:
        c = inbound(scope)
        return c.mutate(weekday=c.local_start.day_of_week.index() + 1, hour=c.local_start.hour())

    def heatmap() -> ir.Table:
        c = calls()
        heat = c.group_by(["weekday", "hour"]).aggregate(
            offered=c.count(), answered=c.is_answered.sum(), missed=c.is_missed.sum()
        )
        heat = heat.mutate(missed_share=share(heat.missed, heat.offered))
        return heat.order_by(["weekday", "hour"])

    rows = query(scope, "load.heatmap", heatmap)
    # Weekday against weekend and the busiest hours are sums of the heatmap's cells: no
    # other pass over the calls.
    weekend = settings.metrics.weekend_days
    per_hour: dict[int, int] = {}
    parts: dict[str, list[int]] = {}
    for r in rows:
        per_hour[r["hour"]] = per_hour.get(r["hour"], 0) + int(r["offered"])
        part = parts.setdefault("weekend" if r["weekday"] in weekend else "weekday", [0, 0])
        part[0] += int(r["offered"])
        part[1] += int(r["missed"])
    split = [
        {"part": k, "offered": n, "missed": missed, "missed_share": missed / n if n > 0 else None}
        for k, (n, missed) in sorted(parts.items())
    ]
    hours = peak_hours(scope, per_hour)

    def per_agent() -> ir.Table:
        lg = call_legs(scope)
        lg = lg.filter(lg.call_direction == "inbound")  # the legs of offered calls
        ok = lg.answered_at.notnull() & (lg.talk_s >= float(settings.min_talk_s))
        per = lg.group_by("agent").aggregate(
            offered=lg.count(), answered=ok.sum(), talk_s=lg.talk_s.sum(where=ok)
        )
        if scope.agent_set() is not None:
            per = per.filter(scope.in_agents(per.agent))
        return per

    def agent_rows() -> ir.Table:
        per = per_agent()
        total_answered = per.answered.sum().as_scalar()
        staffed = _staffed(scope)
        pa = per.left_join(staffed, per.agent == staffed.s_agent).drop("s_agent")
        pa = pa.mutate(
            share=share(pa.answered, total_answered),
            occupancy=share(pa.talk_s.fill_null(0), pa.staffed_s),
        )
        return _with_gini(pa, "answered").order_by([ibis.desc("answered"), "agent"])

    agents_rows = query(scope, "load.agents", agent_rows)
    gini = agents_rows[0]["gini"] if agents_rows else None
    for r in agents_rows:
        del r["gini"]
    extra: dict[str, Any] = {
        "weekday_vs_weekend": split,
        "peak_hours": [{"hour": h, "offered": per_hour.get(h, 0)} for h in hours],
        "agents": agents_rows,
        "gini": gini,
    }
    return build(scope, "load", rows, FORMULAS, extra)
