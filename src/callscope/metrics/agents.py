"""The agent scorecard (design.md 4, "Per agent"): what was offered to each agent, what they
answered, let ring, dropped, called back, and how long they were paused, plus team averages."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from callscope.metrics import zone
from callscope.metrics.contacts import contacts
from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.scope import (
    Scope,
    agents_table,
    build,
    call_legs,
    make_scope,
    query,
    scoped_calls,
    share,
    with_definitions,
)
from callscope.metrics.zone import UTC, utc_instant
from callscope.settings import Settings
from callscope.store import Store

AGENT_COLUMNS = (
    "offered",
    "answered",
    "rang_no_answer",
    "miss_rate",
    "lost_calls",
    "pickup_s_mean",
    "pickup_s_median",
    "pickup_s_p90",
    "quick_hangups",
    "quick_hangups_agent_side",
    "quick_hangups_caller_side",
    "talk_s_mean",
    "talk_s_total",
    "missed_contacts",
    "never_called_back",
    "called_back",
    "called_back_within_sla",
    "paused_s",
    "paused_in_peak_s",
    "outbound_calls",
)
FORMULAS = {
    "offered": "legs of offered (inbound) calls that rang the agent",
    "answered": "legs the agent picked up with talk_s >= min_talk_s",
    "rang_no_answer": "legs not picked up that ended by ring timeout or caller hang-up (result "
    "no_answer | caller_hung_up); legs cancelled because another agent answered are not misses",
    "miss_rate": "rang_no_answer / offered",
    "lost_calls": "missed calls (call level) in which the agent was rung",
    "pickup_s_*": "answered_at - ring_started_at of answered legs: mean, median, 90th percentile",
    "quick_hangups": "legs picked up with talk_s < quick_hangup_s; _agent_side / _caller_side "
    "where the source tells who hung up",
    "talk_s_*": "talk_s of answered legs",
    "missed_contacts": "missed contacts attributed to the agent (last agent rung)",
    "never_called_back": "of those, status open or attempted",
    "called_back": "of those, status called_back; called_back_within_sla: within the SLA",
    "paused_s": "paused agent_states inside the period; paused_in_peak_s: inside peak hours",
    "outbound_calls": "outbound calls the agent placed",
    "team rows": "kind = team_average: mean of the team's agents; miss_rate = team sum ratio",
}


def peak_hours(scope: Scope, per_hour: dict[int, int] | None = None) -> list[int]:
    """Configured peak hours, else the `peak_hours_auto` hours of day with most offered calls
    (ties: the earlier hour), from `per_hour` (offered calls per local hour of the scope)
    when the caller counted them already."""
    m = scope.settings.metrics
    if m.peak_hours:
        return list(m.peak_hours)
    if per_hour is not None:
        return sorted(sorted(per_hour, key=lambda h: (-per_hour[h], h))[: m.peak_hours_auto])

    quarters = not scope.literal and _quarter_aligned(scope)

    def busiest() -> ir.Table:
        per = offered_by_hour(scope, quarters)
        return per.order_by([ibis.desc("n"), "hour"]).limit(m.peak_hours_auto)

    got = query(scope, ("agents.peak_hours", quarters), busiest)
    return sorted(int(r["hour"]) for r in got)


def offered_by_hour(scope: Scope, quarters: bool) -> ir.Table:
    """hour (of local time), n: offered calls per hour of day. `quarters` counts them per
    quarter of an hour first, which only `_quarter_aligned` zones allow: a quarter then lies
    in one local hour, and only the quarters' starts are put into local time, not every
    call's."""
    c = scoped_calls(scope)
    c = c.filter(c.direction == "inbound")
    if not quarters:
        c = with_definitions(scope, c)
        return c.group_by(hour=c.local_start.hour()).aggregate(n=c.count())
    q = c.group_by(q=c.started_at.epoch_seconds() // QUARTER).aggregate(n=c.count())
    at = EPOCH + (q.q * QUARTER).as_interval("s")
    return q.group_by(hour=scope.local(at).hour()).aggregate(n=q.n.sum())


QUARTER = 900  # seconds
EPOCH = ibis.timestamp("1970-01-01 00:00:00")


def _quarter_aligned(scope: Scope) -> bool:
    """The zone's offsets over the scope's span, and the instants they change, are whole
    quarters of an hour (every zone's since the 1970s; not local mean times of old)."""
    table = scope.offsets()
    return all(off % QUARTER == 0 for _, off in table) and all(
        int((at - datetime(1970, 1, 1)).total_seconds()) % QUARTER == 0 for at, _ in table[1:]
    )


def _intervals(scope: Scope, hours: list[int]) -> ir.Table:
    """Peak-hour periods in naive UTC over the scope's local days, one row per local hour."""
    tz = scope.settings.timezone
    first = scope.lo.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()
    last = scope.hi.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()
    if scope.literal:
        starts = [s for _, h, s in _hour_starts(tz, first, last) if h in hours]
        return ibis.memtable(
            {"p_start": starts, "p_end": [s + timedelta(hours=1) for s in starts]},
            schema={"p_start": "timestamp", "p_end": "timestamp"},
        )
    # Every hour of the decades around the span, cut to the span's days and the peak hours by
    # parameters: another period or other peak hours reuse the compiled query.
    y0, y1 = zone.decades(tz, scope.lo, scope.hi)
    p = _hours_table(tz, y0, y1 + 9)
    since = scope.p("peak_from", "timestamp", lambda s: _peak_day(s, 0))
    until = scope.p("peak_to", "timestamp", lambda s: _peak_day(s, 1))
    wanted = scope.among(p.p_hour, "peak_hours", lambda s: list(s.state["peak_hours"]))
    return p.filter((p.p_day >= since) & (p.p_day < until) & wanted).select("p_start", "p_end")


def _peak_day(scope: Scope, end: int) -> datetime:
    tz = ZoneInfo(scope.settings.timezone)
    day = (scope.hi if end else scope.lo).replace(tzinfo=UTC).astimezone(tz).date()
    return utc_instant(day + timedelta(days=end), scope.settings.timezone)


def _hour_starts(zone: str, first: date, last: date) -> list[tuple[datetime, int, datetime]]:
    """(UTC instant of the local midnight, hour, UTC instant of local hour:00) per local day
    first..last and hour of day, as zoneinfo maps local times (fold 0)."""
    tz = ZoneInfo(zone)
    out: list[tuple[datetime, int, datetime]] = []
    day = first
    while day <= last:
        midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
        at = midnight.astimezone(UTC).replace(tzinfo=None)
        nxt = (midnight + timedelta(days=1)).astimezone(UTC).replace(tzinfo=None)
        steady = (
            nxt - at == timedelta(days=1)
            and midnight.utcoffset() == (midnight + timedelta(hours=23)).utcoffset()
        )
        for h in range(24):
            if steady:
                start = at + timedelta(hours=h)
            else:  # a day with a change of offset: each hour as the zone maps it
                local = datetime(day.year, day.month, day.day, h, tzinfo=tz)
                start = local.astimezone(UTC).replace(tzinfo=None)
            out.append((at, h, start))
        day += timedelta(days=1)
    return out


@lru_cache(maxsize=8)
def _hours_table(zone: str, first_year: int, last_year: int) -> ir.Table:
    rows = _hour_starts(zone, date(first_year, 1, 1), date(last_year, 12, 31))
    return ibis.memtable(
        {
            "p_day": [r[0] for r in rows],
            "p_hour": [r[1] for r in rows],
            "p_start": [r[2] for r in rows],
            "p_end": [r[2] + timedelta(hours=1) for r in rows],
        },
        schema={
            "p_day": "timestamp",
            "p_hour": "int64",
            "p_start": "timestamp",
            "p_end": "timestamp",
        },
    )


def pauses(scope: Scope, hours: list[int]) -> ir.Table:
    """agent, paused_s, paused_in_peak_s: paused states clipped to the period."""
    st = scope.table("agent_states")
    st = st.filter(scope.tenant_is(st.tenant) & (st.state == "paused"))
    st = st.mutate(
        a=ibis.greatest(st.started_at, scope.clip_lo()),
        b=ibis.least(st.ended_at.fill_null(st.started_at), scope.clip_hi()),
    )
    st = st.filter(st.b > st.a)
    total = st.group_by("agent").aggregate(
        paused_s=(st.b.epoch_seconds() - st.a.epoch_seconds()).sum().cast("float64")
    )
    if not hours:
        return total.mutate(paused_in_peak_s=ibis.literal(0.0))
    p = _intervals(scope, hours)
    j = st.join(p, [p.p_start < st.b, p.p_end > st.a])
    overlap = (
        ibis.least(j.p_end, j.b).epoch_seconds() - ibis.greatest(j.p_start, j.a).epoch_seconds()
    )
    peak = j.group_by(p_agent=j.agent).aggregate(paused_in_peak_s=overlap.sum().cast("float64"))
    out = total.left_join(peak, total.agent == peak.p_agent).drop("p_agent")
    return out.mutate(paused_in_peak_s=out.paused_in_peak_s.fill_null(0.0))


def offered_legs(scope: Scope) -> ir.Table:
    """Legs of offered (inbound) calls of the filter that rang the filter's agents."""
    agents = scope.agent_set()
    lg = call_legs(scope)
    if agents is not None:
        lg = lg.filter(scope.in_agents(lg.agent))
    return lg.filter(lg.call_direction == "inbound")


def rang_no_answer(lg: ir.Table) -> ir.BooleanValue:
    """Not picked up, and ended by ring timeout or caller hang-up (ring-all cancels are not)."""
    return lg.answered_at.isnull() & lg.result.isin(["no_answer", "caller_hung_up"])


def leg_figures(scope: Scope) -> ir.Table:
    """Per agent: the leg-level columns (offered .. talk_s_total) over offered calls."""
    s = scope.settings
    lg = offered_legs(scope)
    picked = lg.answered_at.notnull()
    ok = picked & (lg.talk_s >= float(s.min_talk_s))
    quick = picked & (lg.talk_s < float(s.quick_hangup_s))
    # Quantiles over a NULL-masked column, not `where=`: Spark needs a constant quantile.
    pickup = ibis.cases((ok, lg.ring_s), else_=ibis.null().cast("float64"))
    figures: dict[str, ir.Value] = {
        "offered": lg.count(),
        "answered": ok.sum(),
        "rang_no_answer": rang_no_answer(lg).sum(),
        "pickup_s_mean": lg.ring_s.mean(where=ok),
        # both quantiles from one collection of the values (the engines sort it once)
        "pickup_s_q": pickup.quantile([0.5, 0.9]),
        "quick_hangups": quick.sum(),
        "quick_hangups_agent_side": (quick & (lg.hangup_side == "agent")).sum(),
        "quick_hangups_caller_side": (quick & (lg.hangup_side == "caller")).sum(),
        "talk_s_mean": lg.talk_s.mean(where=ok),
        "talk_s_total": lg.talk_s.sum(where=ok),
    }
    if "agent_first_leg" in lg.columns:
        # Missed calls each agent was rung for: the agent's first leg of each (migration 8),
        # counted in the same pass over the legs as the rest.
        lost = lg.agent_first_leg.fill_null(False) & ~lg.call_answered
        out = lg.group_by("agent").aggregate(lost_calls=lost.sum(), **figures)
    else:
        # Else a distinct over the missed calls' legs alone (a DISTINCT inside the aggregate
        # above hashes every leg's call id, twice the cost).
        per = lg.group_by("agent").aggregate(**figures)
        missed = lg.filter(~lg.call_answered).select(l_agent=lg.agent, call_id=lg.call_id)
        missed = missed.distinct()
        lost_calls = missed.group_by("l_agent").aggregate(lost_calls=missed.count())
        out = per.left_join(lost_calls, per.agent == lost_calls.l_agent)
        out = out.mutate(lost_calls=out.lost_calls.fill_null(0))
    pickup_s = out.pickup_s_q
    return out.select(
        "agent", "offered", "answered", "rang_no_answer", "lost_calls", "pickup_s_mean",
        pickup_s_median=pickup_s[0], pickup_s_p90=pickup_s[1],
        **{k: out[k] for k in list(figures)[5:]},
    )  # fmt: skip


def agent_table(scope: Scope, hours: list[int]) -> ir.Table:
    """One row per agent with AGENT_COLUMNS (an Ibis expression; `agents` renders it);
    `hours` are the peak hours for paused_in_peak_s."""
    s = scope.settings
    agents = scope.agent_set()
    per_leg = leg_figures(scope)
    ct = contacts(scope)
    per_contact = ct.group_by(c_agent=ct.agent).aggregate(
        missed_contacts=ct.count(),
        never_called_back=ct.status.isin(["open", "attempted"]).sum(),
        called_back=(ct.status == "called_back").sum(),
        called_back_within_sla=ct.within_sla.sum(),
    )
    out = scoped_calls(scope)
    out = out.filter((out.direction == "outbound") & out.answered_by.notnull())
    if agents is not None:
        out = out.filter(scope.in_agents(out.answered_by))
    per_out = out.group_by(o_agent=out.answered_by).aggregate(outbound_calls=out.count())
    paused = pauses(scope, hours).rename(z_agent="agent")
    if agents is not None:
        paused = paused.filter(scope.in_agents(paused.z_agent))
    keys = (
        per_leg.select(agent=per_leg.agent.cast("string"))
        .union(per_contact.select(agent=per_contact.c_agent.cast("string")))
        .union(per_out.select(agent=per_out.o_agent.cast("string")))
        .union(paused.select(agent=paused.z_agent.cast("string")))
        .distinct()
    )
    keys = keys.filter(keys.agent.notnull())
    t = keys.left_join(per_leg, "agent").drop("agent_right")
    t = t.left_join(per_contact, t.agent == per_contact.c_agent).drop("c_agent")
    t = t.left_join(per_out, t.agent == per_out.o_agent).drop("o_agent")
    t = t.left_join(paused, t.agent == paused.z_agent).drop("z_agent")
    counts = [
        "offered", "answered", "rang_no_answer", "lost_calls", "quick_hangups",
        "quick_hangups_agent_side", "quick_hangups_caller_side", "missed_contacts",
        "never_called_back", "called_back", "called_back_within_sla", "outbound_calls",
    ]  # fmt: skip
    t = t.mutate(
        **{k: t[k].fill_null(0) for k in counts},
        talk_s_total=t.talk_s_total.fill_null(0.0),
        paused_s=t.paused_s.fill_null(0.0),
        paused_in_peak_s=t.paused_in_peak_s.fill_null(0.0),
    )
    t = t.mutate(miss_rate=share(t.rang_no_answer, t.offered))
    names = agents_table(s).rename(n_agent="agent")
    t = t.left_join(names, t.agent == names.n_agent).drop("n_agent")
    return t.select("agent", "agent_name", "team", *AGENT_COLUMNS)


def with_team_averages(t: ir.Table) -> ir.Table:
    """The agent rows with their team's averages beside them (`team_*` columns: a window over
    the team), so one query gives both and the agents' figures are computed once."""
    w = ibis.window(group_by="team")
    means: dict[str, Any] = {"team_agents": t.count().over(w)}
    means.update({f"team_{k}": t[k].mean().over(w) for k in AGENT_COLUMNS if k != "miss_rate"})
    means["team_miss_rate"] = share(t.rang_no_answer.sum().over(w), t.offered.sum().over(w))
    return t.mutate(**means)


def _split_teams(got: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Agent rows and one team_average row per team (teams in order, no team last)."""
    agents: list[dict[str, Any]] = []
    teams: dict[str | None, dict[str, Any]] = {}
    for r in got:
        team = {k[5:]: r.pop(k) for k in list(r) if k.startswith("team_")}
        agents.append({"kind": "agent", **r})
        if r["team"] not in teams:
            averages = {"team": r["team"], "agents": team.pop("agents"), **team}
            teams[r["team"]] = {"kind": "team_average", "agent": None, "agent_name": None,
                                **averages}  # fmt: skip
    order = sorted(teams, key=lambda k: (k is None, k or ""))
    return agents, [teams[k] for k in order]


def agents(store: Store, flt: MetricFilter, settings: Settings) -> Report:
    """Per-agent scorecard rows (kind = agent), then one team_average row per team."""
    scope = make_scope(store, flt, settings)
    hours = peak_hours(scope)
    scope.state["peak_hours"] = hours

    def ordered() -> ir.Table:
        t = with_team_averages(agent_table(scope, hours))
        return t.order_by([ibis.asc("team", nulls_first=False), "agent"])

    shape = bool(hours)  # the only thing about the hours the expression's shape depends on
    rows, teams = _split_teams(query(scope, ("agents", shape), ordered))
    rows += teams
    return build(scope, "agents", rows, FORMULAS, peak_hours=hours)
