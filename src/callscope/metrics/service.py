"""Service figures over offered (inbound) calls: ASR, ASA, service level, abandons, outcomes;
how long callers wait before giving up (`patience`); where unanswered calls end (`endpoints`).

Every rate is one ratio over the outcome enumeration of design.md 4 (scope.OUTCOMES).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from callscope.metrics import first_calls as kept_firsts
from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.scope import (
    ABANDONS,
    OUTCOMES,
    Scope,
    build,
    make_scope,
    min_by,
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


def inbound(scope: Scope) -> ir.Table:
    """Offered calls with the definitions."""
    c = with_definitions(scope, scoped_calls(scope))
    return c.filter(c.direction == "inbound")


def first_calls(c: ir.Table, by: str, groups: ir.Table) -> ir.Table:
    """Per customer and local day (`external_number`, the day of `local_start`): `group` and
    `is_answered` of their first call among the offered calls `c` (first by
    `first_calls.first_key`; a scope the import's marks hold for reads those instead). One
    hash aggregate, no join back to the calls: over a year of 10M calls the join (or a
    window's sort) costs more than the rest of the report. Grouped by day, the group is the
    customer's day and the answer is all it needs; otherwise the group enters as a small
    integer (its rank among `groups`, every group of `c` in column g_group), packed with the
    answer into one number for one fixed-size min_by: a string or a struct value there costs
    several times more, and one min_by for both means they come from the same call."""
    # Calls without a number are left out after the aggregate, not before: a filter on `c`
    # would have the engine compute `c` (joins and all) a second time instead of reusing it.
    days = c.group_by(**kept_firsts.customer_day(c))
    if by == "day":
        f = days.aggregate(ok=min_by(c.is_answered, kept_firsts.first_key(c)))
        f = f.filter(f.number.notnull())
        return f.select(group=f.day, is_answered=f.ok)
    groups = groups.mutate(g_id=ibis.row_number().over(order_by=groups.g_group))
    ranked = c.join(groups, c.group.identical_to(groups.g_group))
    packed = ranked.g_id * 2 + ranked.is_answered.cast("int64")
    days = ranked.group_by(**kept_firsts.customer_day(ranked))
    f = days.aggregate(first=min_by(packed, kept_firsts.first_key(ranked)))
    f = f.filter(f.number.notnull())
    f = f.select(g_id=f.first // 2, is_answered=f.first % 2 == 1)
    f = f.join(groups, "g_id")
    return f.select(group=f.g_group, is_answered=f.is_answered)


SERVICE_INPUTS = ("is_answered", "wait_s", "outcome_kind", "talk_s")
FIRST_INPUTS = ("external_number", "local_start", "started_at", "call_id")


def service_aggregates(c: ir.Table, settings: Settings) -> dict[str, ir.Value]:
    """The `service` columns (all but first_attempt_answer_rate, which `first_calls` gives) as
    aggregates over offered calls: one definition for every grouping, the totals and the
    summary."""
    parts = service_parts(c, settings)
    return service_figures(
        parts,
        settings,
        asa_s=c.wait_s.mean(where=c.is_answered),
        talk_s_mean=c.talk_s.mean(where=c.is_answered),
    )


def service_parts(c: ir.Table, settings: Settings) -> dict[str, ir.Value]:
    """The counts and sums every service figure is a ratio of: added up over groups they give
    the figures of the whole (`totals_of`), with no second pass over the calls."""
    t = float(settings.metrics.sl_threshold_s)
    ok = c.is_answered
    is_ab = c.outcome_kind.isin(ABANDONS)
    parts: dict[str, ir.Value] = {
        "o": c.count(),
        "a": ok.sum(),
        "a_t": (ok & (c.wait_s <= t)).sum(),
        "ab": is_ab.sum(),
        "ab_short": (c.outcome_kind == "abandoned_short").sum(),
        "ab_t": (is_ab & (c.wait_s <= t)).sum(),
        # the means' sums and counts (a mean skips NULLs: so do these)
        "wait_sum": c.wait_s.sum(where=ok),
        "wait_n": c.wait_s.count(where=ok),
        "talk_sum": c.talk_s.sum(where=ok),
        "talk_n": c.talk_s.count(where=ok),
    }
    for name in OUTCOMES:
        parts[f"outcome_{name}"] = (c.outcome_kind == name).sum()
    return parts


def service_figures(
    p: dict[str, ir.Value], settings: Settings, asa_s: ir.Value, talk_s_mean: ir.Value
) -> dict[str, ir.Value]:
    m = settings.metrics
    o, a, a_t, ab, ab_short, ab_t = (p[k] for k in ("o", "a", "a_t", "ab", "ab_short", "ab_t"))
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
        "asa_s": asa_s,
        "service_level": sl,
        "abandon_rate": share(ab, o),
        "short_abandons": ab_short,
        "talk_s_mean": talk_s_mean,
    }
    for name in OUTCOMES:
        cols[f"outcome_{name}"] = p[f"outcome_{name}"]
    return cols


def totals_of(per: ir.Table, settings: Settings) -> dict[str, ir.Value]:
    """The figures of the whole from the groups' `service_parts` (columns `_<part>` of `per`,
    one row a group): the counts add up; a mean is its sum over its count, as the engines'
    mean is. Over no group, offered is 0 and the rest NULL, as over no call."""
    p: dict[str, ir.Value] = {c[1:]: per[c].sum() for c in per.columns if c.startswith("_")}
    p["o"] = p["o"].fill_null(0)

    def mean(total: str, n: str) -> ir.Value:
        return ibis.cases((p[n] > 0, p[total] / p[n]), else_=ibis.null().cast("float64"))

    return service_figures(
        p, settings, asa_s=mean("wait_sum", "wait_n"), talk_s_mean=mean("talk_sum", "talk_n")
    )


def group_key(c: ir.Table, by: str) -> ir.Value:
    keys: dict[str, Any] = {
        "hour": lambda: c.local_start.hour(),
        "day": lambda: c.local_start.date(),
        "weekday": lambda: c.local_start.day_of_week.index() + 1,
        "week": lambda: c.local_start.truncate("W").date(),
        "month": lambda: c.local_start.truncate("M").date(),
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
    kept = kept_firsts.usable(scope)

    def both() -> ir.Table:
        # The groups and the totals in one query over the offered calls.
        offered = inbound(scope)
        c = with_agent(scope, offered, team=by == "team") if by in ("team", "agent") else offered
        c = c.mutate(group=group_key(c, by))
        c = c.select("group", *SERVICE_INPUTS, *(("first_of_day",) if kept else FIRST_INPUTS))
        aggs = service_aggregates(c, settings)
        # The totals add up the groups' parts: one pass over the calls, not a second one.
        parts = {f"_{k}": v for k, v in service_parts(c, settings).items()}
        if kept:  # the first calls are marked: counted in the same scan
            per = c.group_by("group").aggregate(
                **aggs,
                customers=c.first_of_day.sum(),
                first_answered=(c.first_of_day & c.is_answered).sum(),
                **parts,
            )
            whole = per.aggregate(
                **totals_of(per, settings),
                customers=per.customers.sum(),
                first_answered=per.first_answered.sum(),
            )
            per = per.drop(*parts)
        else:
            per = c.group_by("group").aggregate(**aggs, **parts)
            firsts = first_calls(c, by, per.select(g_group=per.group))
            per_first = firsts.group_by("group").aggregate(
                customers=firsts.count(), first_answered=firsts.is_answered.sum()
            )
            all_firsts = per_first.aggregate(
                customers=per_first.customers.sum(),
                first_answered=per_first.first_answered.sum(),
            )
            whole = per.aggregate(**totals_of(per, settings)).cross_join(all_firsts)
            per = per.drop(*parts)
            per = per.left_join(per_first, per.group.identical_to(per_first.group))
            per = per.drop("group_right")
        per = per.mutate(total=False)
        whole = whole.mutate(group=ibis.null(c.group.type()), total=True)
        out = per.union(whole.select(*per.columns))
        rate = share(out.first_answered.fill_null(0), out.customers.fill_null(0))
        columns: dict[str, ir.Value] = {"group": out.group}
        for k in aggs:  # the documented order: the first-attempt rate before talk_s_mean
            if k == "talk_s_mean":
                columns["first_attempt_answer_rate"] = rate
            columns[k] = out[k]
        return out.select(**columns, total=out.total).order_by(
            ["total", ibis.asc("group", nulls_first=False)]
        )

    got = query(scope, ("service", by, kept), both)
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
        c = inbound(scope)
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
        c = inbound(scope)
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
