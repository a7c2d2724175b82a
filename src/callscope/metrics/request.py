"""A request to the metric layer: its `Scope` (tenant, period in UTC, zone, schedule) and how
the values a request varies enter the expressions.

Whatever a request varies (tenant, period bounds, the zone's transitions, lists of agents or
lines) goes through `Scope.p` / `Scope.among`: a named parameter on DuckDB, whose compiled SQL
every later request of the same shape reuses (`callscope.metrics.compiled`), or a plain literal
on other engines and in expressions handed to callers (`literal` scopes). `Scope.shape` holds
everything else an expression's form depends on.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from callscope.assemble.numbers import to_e164
from callscope.metrics import compiled, zone
from callscope.metrics.report import MetricFilter
from callscope.metrics.schedule import Schedule
from callscope.metrics.zone import UTC, offsets, to_local, utc_instant
from callscope.settings import Settings
from callscope.store import Store


@dataclass(frozen=True)
class Scope:
    """A report's view of the store: the tenant, the period in UTC, the zone and schedule.

    `shape` is everything besides parameter values that decides how a report's expression
    looks: two scopes of one shape share compiled SQL. A `literal` scope puts the values into
    expressions as literals (other engines, expressions returned to callers)."""

    store: Store
    flt: MetricFilter
    settings: Settings
    tenant: str
    start: datetime | None  # naive UTC, inclusive; None = from the first call (FAR_PAST when
    # the scope is not literal: "all time" then has a period's shape)
    end: datetime | None  # naive UTC, exclusive
    lo: datetime  # the data's (or period's) span, for offset tables and calendars
    hi: datetime
    schedule: Schedule
    literal: bool = True
    shape: tuple[Hashable, ...] = ()
    state: dict[str, Any] = field(default_factory=dict, compare=False)

    def table(self, name: str) -> ir.Table:
        return self.store.ibis.table(name)

    def period(self) -> dict[str, str | None]:
        f = self.flt
        return {
            "from": f.date_from.isoformat() if f.date_from else None,
            "to": f.date_to.isoformat() if f.date_to else None,
            "tz": self.settings.timezone,
        }

    def p(self, name: str, dtype: str, value: Callable[[Scope], Any]) -> ir.Scalar:
        """The request's value `value(scope)` in an expression: the parameter `name` (a name
        always means the same recipe), or a literal in a literal scope."""
        if self.literal:
            return ibis.literal(value(self), type=dtype)
        return compiled.param(name, dtype, value)

    def among(
        self, col: ir.Value, name: str, values: Callable[[Scope], list[Any]]
    ) -> ir.BooleanValue:
        """col IN values(scope): a list parameter on DuckDB, an IN list in a literal scope."""
        if self.literal:
            return col.isin(list(values(self)))
        dtype = "array<int64>" if col.type().is_integer() else "array<string>"
        listed: ir.ArrayValue = self.p(name, dtype, values)
        return listed.contains(col)

    def since(self, margin: timedelta = timedelta(0)) -> ir.TimestampScalar:
        """The period's start (UTC) moved back by `margin`."""
        secs = int(margin.total_seconds())
        return self.p(f"start-{secs}", "timestamp", lambda s: _need(s.start) - margin)

    def until(self, margin: timedelta = timedelta(0)) -> ir.TimestampScalar:
        """The period's end (UTC, exclusive) moved on by `margin`."""
        secs = int(margin.total_seconds())
        return self.p(f"end+{secs}", "timestamp", lambda s: _need(s.end) + margin)

    def clip_lo(self) -> ir.TimestampScalar:
        """Where intervals (pauses, staffed time) are cut: the period, else the data's span."""
        return self.p("clip_lo", "timestamp", lambda s: s.start if s.flt.date_from else s.lo)

    def clip_hi(self) -> ir.TimestampScalar:
        return self.p("clip_hi", "timestamp", lambda s: s.end if s.flt.date_to else s.hi)

    def tenant_is(self, col: ir.StringValue) -> ir.BooleanValue:
        return col == self.p("tenant", "string", lambda s: s.tenant)

    def offsets(self) -> list[tuple[datetime, int]]:
        if "tz" not in self.state:
            self.state["tz"] = offsets(self.settings.timezone, self.lo, self.hi)
        got: list[tuple[datetime, int]] = self.state["tz"]
        return got

    def local(self, ts: ir.TimestampValue) -> ir.TimestampValue:
        if self.literal:
            return to_local(ts, self.settings.timezone, self.lo, self.hi)
        # The zone's transitions in the span, newest first, in a fixed number of slots.
        base: ir.IntegerValue = self.p("tz_base", "int64", lambda s: s.offsets()[0][1])
        seconds = base
        n = zone.slots(self.settings.timezone, self.hi, len(self.offsets()) - 1)
        if n:
            seconds = ibis.cases(
                *[
                    (
                        ts >= self.p(f"tz_at{i}", "timestamp", _slot_at(i)),
                        self.p(f"tz_off{i}", "int64", _slot_offset(i)),
                    )
                    for i in range(n)
                ],
                else_=base,
            )
        return ts + seconds.as_interval("s")

    def agent_set(self) -> list[str] | None:
        """Agents the filter names, directly or through their teams; None = no agent filter."""
        if not self.flt.agents and not self.flt.teams:
            return None
        wanted = set(self.flt.agents)
        for ext, cfg in self.settings.agents.items():
            if cfg.team and cfg.team in self.flt.teams:
                wanted.add(ext)
        return sorted(wanted)

    def in_agents(self, col: ir.Value) -> ir.BooleanValue:
        """col is one of the filter's agents (use where agent_set() is not None)."""
        return self.among(col, "agents", lambda s: s.agent_set() or [])

    def numbers(self) -> list[str]:
        region = self.settings.region
        return [to_e164(n, region, 0) or n for n in self.flt.numbers]


def _need(value: datetime | None) -> datetime:
    if value is None:  # the shape says the bound exists: a scope without it is a bug
        raise ValueError("a period bound was used but the filter has none")
    return value


def _slot_at(i: int) -> Callable[[Scope], datetime]:
    return lambda s: zone.slot(s.offsets(), i)[0]


def _slot_offset(i: int) -> Callable[[Scope], int]:
    return lambda s: zone.slot(s.offsets(), i)[1]


def make_scope(
    store: Store, flt: MetricFilter, settings: Settings, *, literal: bool | None = None
) -> Scope:
    """The scope of a request. `literal=None` reuses compiled SQL where the engine allows it
    (DuckDB); `literal=True` gives expressions with the values in them (to hand to others)."""
    tenant = flt.tenant or settings.tenant
    tz = settings.timezone
    start = utc_instant(flt.date_from, tz) if flt.date_from else None
    end = utc_instant(flt.date_to + timedelta(days=1), tz) if flt.date_to else None
    if literal is None:
        duck = getattr(store.ibis, "name", "") == "duckdb" and store.con is not None
        literal = not (duck and compiled.ENABLED)
    lo, hi = start, end
    if lo is None or hi is None:
        row = _span(store, tenant, literal)
        # A tenant without data: around today (the decade's tables serve it like the rest).
        lo = lo or row["lo"] or hi or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
        hi = hi or (row["hi"] + timedelta(seconds=1) if row["hi"] else lo + timedelta(days=1))
    horizon = timedelta(days=settings.metrics.resolution_horizon_days)
    lo, hi = lo - timedelta(days=2), hi + horizon + timedelta(days=2)
    schedule = Schedule(settings.schedule, tz)
    scope = Scope(store, flt, settings, tenant, start, end, lo, hi, schedule, literal)
    if literal:
        return scope
    # An open end is a bound nothing lies beyond, so "all time" has a period's shape (pauses
    # are cut at the data's span all the same: no state reaches beyond it).
    start, end = start or FAR_PAST, end or FAR_FUTURE
    shape = (
        store.schema_version(),
        settings.model_dump_json(),
        bool(flt.lines),
        bool(flt.queues),
        bool(flt.direction),
        bool(flt.numbers),
        scope.agent_set() is None,
        zone.slots(tz, hi, len(scope.offsets()) - 1),
        schedule.block(lo, hi),
        zone.decades(tz, lo, hi),
    )
    return Scope(
        store, flt, settings, tenant, start, end, lo, hi, schedule, False, shape, scope.state
    )


FAR_PAST = datetime(1900, 1, 1)
FAR_FUTURE = datetime(3000, 1, 1)


def calendar(scope: Scope, before: timedelta = timedelta(0)) -> ir.Table | None:
    """The working periods an SLA clock of this scope can run through (None: never closed):
    the decade's calendar cut to the scope's local days by parameters, on DuckDB. `before`:
    from that long before the span as well (a clock that started before the period)."""
    sch = scope.schedule
    block = sch.block(scope.lo, scope.hi)
    if block is None:
        return None
    if scope.literal:
        return sch.calendar(scope.lo - before, scope.hi)
    if before:  # the decade before as well, so one compiled shape serves the whole block
        block = (block[0] - 10, block[1])
    cal = sch.calendar_between(block)
    secs = int(before.total_seconds())
    first = scope.p(f"cal_from-{secs}", "timestamp", lambda s: _cal_day(s, before, 0))
    last = scope.p(f"cal_to-{secs}", "timestamp", lambda s: _cal_day(s, before, 1))
    return cal.filter((cal.cal_day >= first) & (cal.cal_day < last)).drop("cal_day")


def _cal_day(scope: Scope, before: timedelta, end: int) -> datetime:
    first, last = scope.schedule.days_for(scope.lo - before, scope.hi)
    day = last + timedelta(days=1) if end else first
    return utc_instant(day, scope.settings.timezone)


@dataclass(frozen=True)
class _TenantOnly:
    tenant: str


def _span(store: Store, tenant: str, literal: bool) -> dict[str, Any]:
    """The data's own span: calls, and agent states (a pause may be all a store holds)."""

    def build() -> ir.Table:
        calls = store.ibis.table("calls")
        states = store.ibis.table("agent_states")
        who = compiled.param("tenant", "string", lambda s: s.tenant)
        spans = (
            calls.filter(calls.tenant == who)
            .select(t=calls.started_at.cast("timestamp"))
            .union(
                states.filter(states.tenant == who).select(t=states.started_at.cast("timestamp"))
            )
            .union(states.filter(states.tenant == who).select(t=states.ended_at.cast("timestamp")))
        )
        return spans.aggregate(lo=spans.t.min(), hi=spans.t.max())

    scope = _TenantOnly(tenant)
    if literal:
        expr = build()
        table = expr.to_pyarrow(params=compiled.bindings(expr, scope))
    else:
        table = compiled.run(store.ibis, ("scope.span", store.schema_version()), build, scope)
    row: dict[str, Any] = table.to_pylist()[0]
    return row
