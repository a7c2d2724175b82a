"""What every report starts from: the calls a filter selects, read in the tenant's time zone,
with the definitions of design.md section 4 as columns (answered, missed, outcome).

Each definition is one Ibis expression here, so every report, the API and the call log agree
on what "answered" means. Local time is a piecewise UTC offset (`callscope.metrics.zone`); the
request's scope and its parameters are `callscope.metrics.request`. `query` runs an expression
through the compiled-SQL cache (`callscope.metrics.compiled`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import timedelta
from functools import lru_cache
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from callscope.metrics import compiled
from callscope.metrics.report import Report, arrow_rows
from callscope.metrics.request import Scope as Scope
from callscope.metrics.request import calendar as calendar
from callscope.metrics.request import make_scope as make_scope
from callscope.metrics.zone import UTC as UTC
from callscope.metrics.zone import offsets as offsets
from callscope.metrics.zone import to_local as to_local
from callscope.metrics.zone import utc_instant as utc_instant
from callscope.settings import Settings
from callscope.store.rung import RUNG_DEMOTION

OUTCOMES = (
    "answered",
    "abandoned_short",
    "abandoned",
    "timeout",
    "exit_key",
    "join_empty",
    "leave_empty",
    "full",
    "after_hours",
    "callback_requested",
    "voicemail",
    "external_forward",
    "invalid_destination",
)
ABANDONS = ("abandoned", "abandoned_short")
_STAGE_OUTCOME = {
    "voicemail": "voicemail",
    "external": "external_forward",
    "invalid_destination": "invalid_destination",
    "after_hours": "after_hours",
}


def agents_table(settings: Settings) -> ir.Table:
    """The configured agents (extension, name, team) as a table the engine joins."""
    return _agents_memtable(tuple((e, c.name, c.team) for e, c in sorted(settings.agents.items())))


@lru_cache(maxsize=64)
def _agents_memtable(rows: tuple[tuple[str, str | None, str | None], ...]) -> ir.Table:
    # One table object per content: a rebuilt expression is then the same expression, and the
    # compiled SQL that names this table stays valid.
    return ibis.memtable(
        {
            "agent": [r[0] for r in rows],
            "agent_name": [r[1] for r in rows],
            "team": [r[2] for r in rows],
        },
        schema={"agent": "string", "agent_name": "string", "team": "string"},
    )


def last_agent_rung(scope: Scope) -> ir.Table:
    """Per unanswered call of the scope: the agent whose phone rang last (a missed call is
    attributed to them), by the rule of `callscope.store.rung` (its order, `RUNG_DEMOTION`),
    for a store that does not keep it on the call yet (migration 9). Read off the legs and
    their call's facts alone: no calls are joined."""
    rung = call_legs(scope)
    rung = rung.filter(~rung.call_answered)
    order = rung.ring_started_at.isnull().ifelse(rung.leg_no - RUNG_DEMOTION, rung.leg_no)
    return rung.group_by("call_id").aggregate(last_agent=by_key(rung.agent, order, "max_by"))


def min_by(value: ir.Value, key: ir.Value) -> ir.Value:
    """`value` at the row of the smallest `key` (`value` and `key` must not be NULL)."""
    return by_key(value, key, "min_by")


def by_key(value: ir.Value, key: ir.Value, name: str) -> ir.Value:
    """`value` at the row of the smallest (min_by) or largest (max_by) `key`: the engine's own
    aggregate (DuckDB arg_min / arg_max, Spark min_by / max_by). Ibis' argmin compiles to
    FIRST(value ORDER BY key), which DuckDB runs through sort keys, several times slower over
    millions of groups. Both engines skip rows whose key is NULL; DuckDB also those whose
    value is, hence neither may be NULL."""
    return _by_key(name, value.type(), key.type())(value, key)


@lru_cache(maxsize=64)
def _by_key(name: str, value: dt.DataType, key: dt.DataType) -> Any:
    def aggregate(x: Any, key: Any) -> Any: ...

    aggregate.__annotations__ = {"x": value, "key": key, "return": value}
    return ibis.udf.agg.builtin(name=name)(aggregate)


def agent_legs(scope: Scope) -> ir.Table:
    """The tenant's legs that rang an agent."""
    legs = scope.table("legs")
    return legs.filter(
        scope.tenant_is(legs.tenant) & (legs.destination_kind == "agent") & legs.agent.notnull()
    )


def period_legs(scope: Scope, margin: timedelta = timedelta(0)) -> ir.Table:
    """Agent legs of the tenant that can belong to calls of the period widened by `margin`
    each side: a leg rings after its call starts and within a day of it, so the engine can
    skip the rest of the history."""
    legs = agent_legs(scope)
    if scope.start is not None:
        first = scope.since(margin)
        legs = legs.filter(legs.ring_started_at.isnull() | (legs.ring_started_at >= first))
    if scope.end is not None:
        last = scope.until(margin + timedelta(days=1))
        legs = legs.filter(legs.ring_started_at.isnull() | (legs.ring_started_at < last))
    return legs


# The facts of a call its legs carry (migration 6): call column -> leg column.
LEG_CALL_FACTS = {
    "direction": "call_direction",
    "started_at": "call_started_at",
    "first_answered_at": "call_first_answered_at",
    "max_talk_s": "call_max_talk_s",
}


def call_legs(scope: Scope) -> ir.Table:
    """Agent legs (`period_legs`) of the calls `scoped_calls` selects, with their call's facts
    (`call_*`) and `call_answered`. Over a year of ten million calls, joining the legs to the
    calls costs more than the rest of a report, so the legs carry the facts every report
    reads; a filter on lines, queues or customer numbers (the few calls it selects) and a
    store not yet migrated (opened read-only) join the calls for them instead.

    Legs that carry the facts are selected by their call's start alone: its zone maps skip
    the rest of the history as ring start's do, the test of ring start (NULL or in range)
    cost every leg of a year a few percent of the report, and a call's agent legs are then
    all in or all out, so `agent_first_leg` (migration 8) counts each agent once per call.
    The joined legs are cut by ring start first (`period_legs`) and go without it.

    The agent filter is left to the caller: a report keeps the legs of the filter's agents,
    and a call one of them was rung for is in the filter by definition."""
    legs = agent_legs(scope)
    flt = scope.flt
    if flt.lines or flt.queues or flt.numbers or "call_direction" not in legs.columns:
        legs = period_legs(scope)
        if "agent_first_leg" in legs.columns:
            legs = legs.drop("agent_first_leg")
        calls = tenant_calls(scope)
        if flt.lines:
            calls = calls.filter(scope.among(calls.line, "lines", lambda s: list(s.flt.lines)))
        if flt.queues:
            calls = calls.filter(scope.among(calls.queue, "queues", lambda s: list(s.flt.queues)))
        if flt.numbers:
            calls = calls.filter(
                scope.among(calls.external_number, "numbers", lambda s: s.numbers())
            )
        facts = calls.select("call_id", **{new: calls[old] for old, new in LEG_CALL_FACTS.items()})
        legs = legs.drop(*(c for c in LEG_CALL_FACTS.values() if c in legs.columns))
        legs = legs.join(facts, "call_id")
    if scope.start is not None:
        legs = legs.filter(legs.call_started_at >= scope.since())
    if scope.end is not None:
        legs = legs.filter(legs.call_started_at < scope.until())
    if flt.direction:
        direction = scope.p("direction", "string", lambda s: s.flt.direction)
        legs = legs.filter(legs.call_direction == direction)
    return legs.mutate(
        call_answered=is_answered(legs.call_first_answered_at, legs.call_max_talk_s, scope.settings)
    )


def tenant_calls(scope: Scope) -> ir.Table:
    calls = scope.table("calls")
    return calls.filter(scope.tenant_is(calls.tenant))


def answered(calls: ir.Table, settings: Settings) -> ir.BooleanValue:
    """Answered: some leg to a person was picked up and talked at least min_talk_s
    (design.md 4)."""
    return is_answered(calls.first_answered_at, calls.max_talk_s, settings)


def is_answered(
    first_answered_at: ir.TimestampValue, max_talk_s: ir.FloatingValue, settings: Settings
) -> ir.BooleanValue:
    """The rule of `answered` over a call's first answer time and longest talk, wherever
    they are read from (the call, or the copy its legs carry)."""
    return first_answered_at.notnull() & (max_talk_s.fill_null(0) >= float(settings.min_talk_s))


def wait(calls: ir.Table, settings: Settings) -> ir.FloatingValue:
    """Seconds the caller waited (to the answer, or to hanging up): from the call's start, or
    from queue entry when `metrics.wait_from = "queue_entry"` and the source knows it."""
    if settings.metrics.wait_from == "call_start" or "queue_entered_at" not in calls.columns:
        return calls.wait_s
    ivr = calls.queue_entered_at.epoch_seconds() - calls.started_at.epoch_seconds()
    before = ibis.cases((calls.queue_entered_at.notnull() & (ivr > 0), ivr), else_=0)
    return ibis.greatest(calls.wait_s - before.cast("float64"), 0.0)


def scoped_calls(scope: Scope) -> ir.Table:
    """Calls of the filter's period, lines, queues, direction, numbers and agents/teams."""
    flt = scope.flt
    c = tenant_calls(scope)
    if scope.start is not None:
        c = c.filter(c.started_at >= scope.since())
    if scope.end is not None:
        c = c.filter(c.started_at < scope.until())
    if flt.lines:
        c = c.filter(scope.among(c.line, "lines", lambda s: list(s.flt.lines)))
    if flt.queues:
        c = c.filter(scope.among(c.queue, "queues", lambda s: list(s.flt.queues)))
    if flt.direction:
        c = c.filter(c.direction == scope.p("direction", "string", lambda s: s.flt.direction))
    if flt.numbers:
        c = c.filter(scope.among(c.external_number, "numbers", lambda s: s.numbers()))
    if scope.agent_set() is not None:
        legs = scope.table("legs")
        rung = legs.filter(scope.tenant_is(legs.tenant) & scope.in_agents(legs.agent))
        c = c.filter(c.call_id.isin(rung.call_id) | scope.in_agents(c.answered_by))
    return c


def with_definitions(scope: Scope, calls: ir.Table) -> ir.Table:
    """Add local_start, is_answered, is_missed, closed (outside working hours) and outcome."""
    s = scope.settings
    local = scope.local(calls.started_at)
    c = calls.mutate(local_start=local, wait_s=wait(calls, s))
    ok = answered(c, s)
    inbound = c.direction == "inbound"
    closed = inbound & ~ok & ~scope.schedule.is_open(c.local_start)
    disposition = c.disposition if "disposition" in c.columns else ibis.null().cast("string")
    stage = c.end_stage.cases(*_STAGE_OUTCOME.items(), else_="abandoned")
    base = disposition.fill_null(stage)
    outcome = ibis.cases(
        (ok, "answered"),
        (closed, "after_hours"),
        (
            (base == "abandoned") & (c.wait_s.fill_null(0) < s.metrics.short_abandon_s),
            "abandoned_short",
        ),
        else_=base,
    )
    return c.mutate(
        is_answered=ok,
        is_missed=inbound & ~ok,
        outcome_kind=ibis.cases((inbound, outcome), else_=ibis.null().cast("string")),
    )


def with_agent(scope: Scope, calls: ir.Table, team: bool = True) -> ir.Table:
    """Add `agent` (who answered, else the last agent rung) and that agent's `team` (unless
    `team` is False: a join of every call the engine cannot leave out by itself).

    A migrated store keeps each call's last agent rung on the call (migration 9): no legs are
    read. Otherwise only unanswered calls need it: only they are joined to it (the legs of the
    others are not read), the answered ones take `answered_by` as they are."""
    if "last_agent_rung" in calls.columns:
        c = calls.mutate(agent=calls.is_answered.ifelse(calls.answered_by, calls.last_agent_rung))
        c = c.drop("last_agent_rung")
    else:
        c = _with_agent_from_legs(scope, calls)
    if not team:
        return c
    teams = agents_table(scope.settings).select("agent", "team")
    joined = c.left_join(teams, c.agent == teams.agent)
    return joined.drop("agent_right")


def _with_agent_from_legs(scope: Scope, calls: ir.Table) -> ir.Table:
    last = last_agent_rung(scope)
    done = calls.filter(calls.is_answered)
    done = done.select(*calls.columns, agent=done.answered_by)
    rest = calls.filter(~calls.is_answered)
    rest = rest.left_join(last, rest.call_id == last.call_id)
    rest = rest.select(*calls.columns, agent=rest.last_agent)
    return done.cast(rest.schema()).union(rest)  # the join made every column nullable


def share(part: ir.NumericValue, whole: ir.NumericValue) -> ir.FloatingValue:
    """part / whole, NULL when there is nothing to divide by."""
    return ibis.cases((whole > 0, part.cast("float64") / whole), else_=ibis.null().cast("float64"))


def seconds_between(a: ir.TimestampValue, b: ir.TimestampValue) -> ir.IntegerValue:
    return b.epoch_seconds() - a.epoch_seconds()


def settings_used(scope: Scope) -> dict[str, Any]:
    """The thresholds every report states beside its rows."""
    s = scope.settings
    m = s.metrics
    return {
        "tenant": scope.tenant,
        "timezone": s.timezone,
        "min_talk_s": s.min_talk_s,
        "quick_hangup_s": s.quick_hangup_s,
        "short_abandon_s": m.short_abandon_s,
        "resolution_horizon_days": m.resolution_horizon_days,
        "callback_sla_min": m.callback_sla_min,
        "sl_threshold_s": m.sl_threshold_s,
        "sl_variant": m.sl_variant,
        "weekend_days": m.weekend_days,
        "wait_from": m.wait_from,
        "schedule": scope.schedule.describe(),
        "filter": {
            k: list(v) if isinstance(v, tuple) else v
            for k, v in {
                "teams": scope.flt.teams,
                "agents": scope.flt.agents,
                "lines": scope.flt.lines,
                "queues": scope.flt.queues,
                "numbers": scope.flt.numbers,
                "direction": scope.flt.direction,
            }.items()
            if v
        },
    }


def query(scope: Scope, key: Hashable, expr: Callable[[], ir.Table]) -> list[dict[str, Any]]:
    """Rows of the expression `expr()` builds; `key` names the query among the metric layer's
    (with whatever its expression depends on besides the scope's shape). On DuckDB the SQL
    compiled for (key, shape) is reused, and `expr` is only called to compile it."""
    rows: list[dict[str, Any]] = query_table(scope, key, expr).to_pylist()
    return rows


def query_table(
    scope: Scope,
    key: Hashable,
    expr: Callable[[], ir.Table],
    order: list[tuple[str, str]] | None = None,
) -> pa.Table:
    """`query`'s rows as an Arrow table (times and days already as text): for results too big
    to turn into Python rows before someone needs them. `order` (column, "ascending" |
    "descending") sorts the engine's rows in Arrow, before times become text: a million wide
    rows cost an engine's sort (which moves every column with its keys) more than Arrow's
    sort of the keys and one `take`; the keys must order the rows totally."""
    if scope.literal:
        expr_ = expr()
        table = expr_.to_pyarrow(params=compiled.bindings(expr_, scope))
    else:
        table = compiled.run(scope.store.ibis, (key, scope.shape), expr, scope)
    if order:
        table = table.take(pc.sort_indices(table, order))
    return _converted(scope, table)


def fetch(scope: Scope, expr: ir.Table) -> list[dict[str, Any]]:
    """Rows of `expr`, compiled anew (`query` reuses compiled SQL)."""
    rows: list[dict[str, Any]] = fetch_table(scope, expr).to_pylist()
    return rows


def fetch_table(scope: Scope, expr: ir.Table) -> pa.Table:
    return _converted(scope, expr.to_pyarrow(params=compiled.bindings(expr, scope)))


def _converted(scope: Scope, table: pa.Table) -> pa.Table:
    """UTC instants leave as ISO times in the tenant's zone (whole seconds), days as ISO
    dates: `callscope.metrics.report.arrow_rows`, columnar, not per row."""
    return arrow_rows(table, scope.settings.timezone)


def build(
    scope: Scope,
    name: str,
    rows: list[dict[str, Any]] | pa.Table,
    formulas: dict[str, str],
    extra: dict[str, Any] | None = None,
    **options: Any,
) -> Report:
    used = settings_used(scope)
    used.update({k: v for k, v in options.items() if v is not None})
    return Report(name, scope.period(), used, rows, formulas, extra or {})
