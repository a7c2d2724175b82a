"""Service figures over offered (inbound) calls: ASR, ASA, service level, abandons, outcomes;
how long callers wait before giving up (`patience`); where unanswered calls end (`endpoints`).

Every rate is one ratio over the outcome enumeration of design.md 4 (scope.OUTCOMES).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.scope import (
    ABANDONS,
    OUTCOMES,
    Scope,
    build,
    make_scope,
    query,
    scoped_calls,
    share,
    with_agent,
    with_definitions,
)
from callscope.model import EndStage
from callscope.settings import Settings
from callscope.store import Store

GROUPINGS = ("hour", "day", "weekday", "week", "month", "team", "queue", "line", "agent")
PATIENCE_BOUNDS = (5, 10, 20, 30, 60, 120, 300)
ENDPOINTS = (*EndStage, "unknown")  # unknown: the sources could not tell

SL_FORMULAS = {
    "answered": "A(W<=T) / A",
    "offered": "A(W<=T) / O",
    "with_abandons": "A(W<=T) / (A + Ab - Ab_short)",
    "abandon_in_T_good": "(A(W<=T) + Ab(W<=T)) / (A + Ab)",
}
SERVICE_FORMULAS = {
    "offered": "O = inbound calls (internal calls are never offered)",
    "answered": "A = offered calls with a leg to a person of talk >= min_talk_s",
    "missed": "O - A",
    "asr": "A / O",
    "asa_s": "mean wait_s (call start -> answer) of answered calls",
    "service_level": "sl_variant formula with T = sl_threshold_s, W = wait_s",
    "abandon_rate": "Ab / O, Ab = outcomes abandoned + abandoned_short",
    "short_abandons": "Ab_short = abandoned with wait_s < short_abandon_s",
    "first_attempt_answer_rate": "customers (number, local day) answered at their first call "
    "of the day / customers that day",
    "talk_s_mean": "mean talk_s of answered calls",
    "outcome_*": "calls per outcome; the outcomes partition offered calls",
}


def inbound(scope: Scope, *, first_of_day: bool = True) -> ir.Table:
    """Offered calls with the definitions and, when asked, `first_of_day`."""
    c = with_definitions(scope, scoped_calls(scope))
    c = c.filter(c.direction == "inbound")
    return with_first_of_day(c, c) if first_of_day else c


def with_first_of_day(c: ir.Table, offered: ir.Table) -> ir.Table:
    """`c` (calls of `offered` with columns added) with `first_of_day`: the call is its
    customer's first of that local day (a hash aggregate and a join, not a window: over a
    year of 10M calls the window's sort costs twice as much). The firsts come from `offered`
    itself, so the joins that made `c` are not run a second time for them."""
    known = offered.filter(offered.external_number.notnull())
    firsts = known.group_by(number=known.external_number, day=known.local_start.date()).aggregate(
        f_call_id=known.call_id.argmin(known.started_at)
    )
    firsts = firsts.select("f_call_id")
    j = c.left_join(firsts, c.call_id == firsts.f_call_id)
    return j.mutate(first_of_day=j.f_call_id.notnull()).drop("f_call_id")


SERVICE_INPUTS = ("is_answered", "wait_s", "outcome_kind", "first_of_day", "talk_s")


def service_aggregates(c: ir.Table, settings: Settings) -> dict[str, ir.Value]:
    """The `service` columns as aggregates over offered calls (one definition for every
    grouping, the totals and the summary); first_attempt_answer_rate where `c` has
    `first_of_day`."""
    m = settings.metrics
    t = float(m.sl_threshold_s)
    ok = c.is_answered
    o = c.count()
    a = ok.sum()
    a_t = (ok & (c.wait_s <= t)).sum()
    is_ab = c.outcome_kind.isin(ABANDONS)
    ab = is_ab.sum()
    ab_short = (c.outcome_kind == "abandoned_short").sum()
    ab_t = (is_ab & (c.wait_s <= t)).sum()
    sl = {
        "answered": share(a_t, a),
        "offered": share(a_t, o),
        "with_abandons": share(a_t, a + ab - ab_short),
        "abandon_in_T_good": share(a_t + ab_t, a + ab),
    }[m.sl_variant]
    cols: dict[str, ir.Value] = {
        "offered": o,
        "answered": a,
        "missed": o - a,
        "asr": share(a, o),
        "asa_s": c.wait_s.mean(where=ok),
        "service_level": sl,
        "abandon_rate": share(ab, o),
        "short_abandons": ab_short,
    }
    if "first_of_day" in c.columns:  # a hash aggregate over every call: only when asked for
        first = c.first_of_day
        cols["first_attempt_answer_rate"] = share((first & ok).sum(), first.sum())
    cols["talk_s_mean"] = c.talk_s.mean(where=ok)
    for name in OUTCOMES:
        cols[f"outcome_{name}"] = (c.outcome_kind == name).sum()
    return cols


def group_key(c: ir.Table, by: str) -> ir.Value:
    local = c.local_start
    keys: dict[str, Any] = {
        "hour": lambda: local.hour(),
        "day": lambda: local.date(),
        "weekday": lambda: local.day_of_week.index() + 1,
        "week": lambda: local.truncate("W").date(),
        "month": lambda: local.truncate("M").date(),
        "team": lambda: c.team,
        "queue": lambda: c.queue,
        "line": lambda: c.line,
        "agent": lambda: c.agent,
    }
    if by not in keys:
        raise ValueError(f"--by {by!r}: use one of {', '.join(GROUPINGS)}")
    return keys[by]()


def service(store: Store, flt: MetricFilter, settings: Settings, by: str = "day") -> Report:
    """Service per hour, day, weekday (1 = Monday), week, month, team, queue, line or agent,
    with the totals over the whole filter in `totals`."""
    if by not in GROUPINGS:
        raise ValueError(f"by={by!r}: use one of {', '.join(GROUPINGS)}")
    scope = make_scope(store, flt, settings)

    def grouped() -> ir.Table:
        offered = inbound(scope, first_of_day=False)
        c = with_agent(scope, offered) if by in ("team", "agent") else offered
        c = with_first_of_day(c, offered)
        c = c.mutate(group=group_key(c, by))
        return c.select("group", *SERVICE_INPUTS)

    def both() -> ir.Table:
        # The groups and the totals in one query over the offered calls, read once.
        c = grouped()
        aggs = service_aggregates(c, settings)
        per = c.group_by("group").aggregate(**aggs).mutate(total=False)
        whole = c.aggregate(**aggs).mutate(group=ibis.null(c.group.type()), total=True)
        return per.union(whole.select(*per.columns)).order_by(
            ["total", ibis.asc("group", nulls_first=False)]
        )

    got = query(scope, ("service", by), both)
    rows: list[dict[str, Any]] = []
    total: dict[str, Any] = {}
    for r in got:
        if r.pop("total"):
            r.pop("group")
            total = r
        else:
            rows.append({by: r.pop("group"), **r})
    formulas = dict(SERVICE_FORMULAS)
    formulas["service_level"] += f": {SL_FORMULAS[settings.metrics.sl_variant]}"
    return build(
        scope,
        "service",
        rows,
        formulas,
        {"totals": total},
        by=by,
    )


def patience(store: Store, flt: MetricFilter, settings: Settings) -> Report:
    """How long callers who gave up waited: a cumulative funnel over PATIENCE_BOUNDS."""
    scope = make_scope(store, flt, settings)

    def funnel() -> ir.Table:
        c = inbound(scope, first_of_day=False)
        ab = c.filter(c.outcome_kind.isin(ABANDONS))
        aggs: dict[str, ir.Value] = {"total": ab.count()}
        for b in PATIENCE_BOUNDS:
            aggs[f"le_{b}"] = (ab.wait_s <= b).sum()
        aggs["wait_s_mean"] = ab.wait_s.mean()
        aggs["wait_s_median"] = ab.wait_s.median()
        return ab.aggregate(**aggs)

    got = query(scope, "patience", funnel)[0]
    total = int(got["total"] or 0)
    rows: list[dict[str, Any]] = []
    previous = 0
    for b in PATIENCE_BOUNDS:
        cum = int(got[f"le_{b}"] or 0)
        rows.append(_funnel_row(f"<={b}", b, cum - previous, cum, total))
        previous = cum
    rows.append(_funnel_row(f">{PATIENCE_BOUNDS[-1]}", None, total - previous, total, total))
    extra = {
        "totals": {
            "abandoned": total,
            "wait_s_mean": got["wait_s_mean"],
            "wait_s_median": got["wait_s_median"],
        }
    }
    formulas = {
        "calls": "abandoned calls (outcomes abandoned + abandoned_short) with wait_s in the band",
        "cumulative_share": "abandoned calls with wait_s <= the bound / all abandoned calls",
    }
    return build(scope, "patience", rows, formulas, extra)


def _funnel_row(label: str, bound: int | None, n: int, cum: int, total: int) -> dict[str, Any]:
    return {
        "waited": label,
        "up_to_s": bound,
        "calls": n,
        "cumulative_calls": cum,
        "cumulative_share": cum / total if total else None,
    }


def endpoints(store: Store, flt: MetricFilter, settings: Settings) -> Report:
    """Where unanswered offered calls ended, with counts, shares and outcome detail."""
    scope = make_scope(store, flt, settings)

    def per() -> ir.Table:
        c = inbound(scope, first_of_day=False)
        missed = c.filter(c.is_missed)
        missed = missed.mutate(
            endpoint=ibis.cases(
                (missed.outcome_kind == "after_hours", "after_hours"),
                else_=missed.end_stage.fill_null("unknown"),
            )
        )
        return missed.group_by("endpoint").aggregate(
            calls=missed.count(),
            short_abandons=(missed.outcome_kind == "abandoned_short").sum(),
            wait_s_mean=missed.wait_s.mean(),
        )

    got = {r["endpoint"]: r for r in query(scope, "endpoints", per)}
    total = sum(int(r["calls"]) for r in got.values())
    order = [e for e in ENDPOINTS if e in got] + sorted(set(got) - set(ENDPOINTS))
    rows = [
        {
            "endpoint": e,
            "calls": int(got[e]["calls"]),
            "share": int(got[e]["calls"]) / total if total else None,
            "short_abandons": int(got[e]["short_abandons"]),
            "wait_s_mean": got[e]["wait_s_mean"],
        }
        for e in order
    ]
    formulas = {
        "endpoint": "end_stage of the missed call; after_hours when it came outside [schedule]",
        "share": "calls / all missed offered calls",
    }
    return build(scope, "endpoints", rows, formulas, {"totals": {"missed": total}})
