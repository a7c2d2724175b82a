"""What every report starts from: the calls a filter selects, read in the tenant's time zone,
with the definitions of design.md section 4 as columns (answered, missed, outcome).

Each definition is one Ibis expression here, so every report, the API and the call log agree
on what "answered" means. Local time is a piecewise UTC offset built from the zone's rules for
the period, which every engine evaluates as plain arithmetic (no engine time-zone support
needed, so DuckDB and Spark give the same hours of day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from callscope.assemble.numbers import to_e164
from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.schedule import Schedule
from callscope.settings import Settings
from callscope.store import Store

UTC = ZoneInfo("UTC")

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


@dataclass(frozen=True)
class Scope:
    """A report's view of the store: the tenant, the period in UTC, the zone and schedule."""

    store: Store
    flt: MetricFilter
    settings: Settings
    tenant: str
    start: datetime | None  # naive UTC, inclusive; None = from the first call
    end: datetime | None  # naive UTC, exclusive
    lo: datetime  # the data's (or period's) span, for offset tables and calendars
    hi: datetime
    schedule: Schedule

    def table(self, name: str) -> ir.Table:
        return self.store.ibis.table(name)

    def period(self) -> dict[str, str | None]:
        f = self.flt
        return {
            "from": f.date_from.isoformat() if f.date_from else None,
            "to": f.date_to.isoformat() if f.date_to else None,
            "tz": self.settings.timezone,
        }

    def local(self, ts: ir.TimestampValue) -> ir.TimestampValue:
        return to_local(ts, self.settings.timezone, self.lo, self.hi)

    def agent_set(self) -> list[str] | None:
        """Agents the filter names, directly or through their teams; None = no agent filter."""
        if not self.flt.agents and not self.flt.teams:
            return None
        wanted = set(self.flt.agents)
        for ext, cfg in self.settings.agents.items():
            if cfg.team and cfg.team in self.flt.teams:
                wanted.add(ext)
        return sorted(wanted)

    def numbers(self) -> list[str]:
        region = self.settings.region
        return [to_e164(n, region, 0) or n for n in self.flt.numbers]


def utc_instant(day: date, zone: str) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).replace(tzinfo=None)


def make_scope(store: Store, flt: MetricFilter, settings: Settings) -> Scope:
    tenant = flt.tenant or settings.tenant
    zone = settings.timezone
    start = utc_instant(flt.date_from, zone) if flt.date_from else None
    end = utc_instant(flt.date_to + timedelta(days=1), zone) if flt.date_to else None
    lo, hi = start, end
    if lo is None or hi is None:
        # The data's own span: calls, and agent states (a pause may be all a store holds).
        calls = store.ibis.table("calls")
        states = store.ibis.table("agent_states")
        spans = (
            calls.filter(calls.tenant == tenant)
            .select(t=calls.started_at.cast("timestamp"))
            .union(
                states.filter(states.tenant == tenant).select(t=states.started_at.cast("timestamp"))
            )
            .union(
                states.filter(states.tenant == tenant).select(t=states.ended_at.cast("timestamp"))
            )
        )
        row = spans.aggregate(lo=spans.t.min(), hi=spans.t.max()).to_pyarrow().to_pylist()[0]
        lo = lo or row["lo"] or datetime(2000, 1, 1)
        hi = hi or (row["hi"] + timedelta(seconds=1) if row["hi"] else lo + timedelta(days=1))
    horizon = timedelta(days=settings.metrics.resolution_horizon_days)
    return Scope(
        store,
        flt,
        settings,
        tenant,
        start,
        end,
        lo - timedelta(days=2),
        hi + horizon + timedelta(days=2),
        Schedule(settings.schedule, zone),
    )


def offsets(zone: str, lo: datetime, hi: datetime) -> list[tuple[datetime, int]]:
    """(naive UTC instant, UTC offset in seconds from then on) for `zone` over [lo, hi]:
    the first entry holds from the beginning of time, the rest are the zone's transitions."""
    tz = ZoneInfo(zone)

    def off(t: datetime) -> int:
        delta = t.replace(tzinfo=UTC).astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    result = [(lo, off(lo))]
    t = lo
    step = timedelta(days=1)
    while t < hi:
        nxt = min(t + step, hi)
        if off(nxt) != off(t):
            a, b = t, nxt
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) / 2
                a, b = (mid, b) if off(mid) == off(a) else (a, mid)
            result.append((b.replace(microsecond=0), off(b)))
        t = nxt
    return result


def to_local(ts: ir.TimestampValue, zone: str, lo: datetime, hi: datetime) -> ir.TimestampValue:
    """Naive UTC -> naive local time of `zone`, exact for instants in [lo, hi]."""
    table = offsets(zone, lo, hi)
    seconds: ir.IntegerValue = ibis.literal(table[0][1])
    if len(table) > 1:
        seconds = ibis.cases(
            *[(ts >= ibis.literal(t), ibis.literal(o)) for t, o in reversed(table[1:])],
            else_=ibis.literal(table[0][1]),
        )
    return ts + seconds.as_interval("s")


def agents_table(settings: Settings) -> ir.Table:
    """The configured agents (extension, name, team) as a table the engine joins."""
    rows = [(ext, cfg.name, cfg.team) for ext, cfg in sorted(settings.agents.items())]
    return ibis.memtable(
        {
            "agent": [r[0] for r in rows],
            "agent_name": [r[1] for r in rows],
            "team": [r[2] for r in rows],
        },
        schema={"agent": "string", "agent_name": "string", "team": "string"},
    )


def last_agent_rung(scope: Scope, calls: ir.Table) -> ir.Table:
    """Per call of `calls`: the agent whose phone rang last (a missed call is attributed to
    them). Only the legs of those calls are read (the period's, not the whole history)."""
    rung = period_legs(scope)
    rung = rung.filter(rung.call_id.isin(calls.call_id))
    return rung.group_by("call_id").aggregate(last_agent=rung.agent.argmax(rung.ring_started_at))


def period_legs(scope: Scope, margin: timedelta = timedelta(0)) -> ir.Table:
    """Agent legs of the tenant that can belong to calls of the period widened by `margin`
    each side: a leg rings after its call starts and within a day of it, so the engine can
    skip the rest of the history."""
    legs = scope.table("legs")
    legs = legs.filter(
        (legs.tenant == scope.tenant) & (legs.destination_kind == "agent") & legs.agent.notnull()
    )
    if scope.start is not None:
        first = scope.start - margin
        legs = legs.filter(legs.ring_started_at.isnull() | (legs.ring_started_at >= first))
    if scope.end is not None:
        last = scope.end + margin + timedelta(days=1)
        legs = legs.filter(legs.ring_started_at.isnull() | (legs.ring_started_at < last))
    return legs


def tenant_calls(scope: Scope) -> ir.Table:
    calls = scope.table("calls")
    return calls.filter(calls.tenant == scope.tenant)


def answered(calls: ir.Table, settings: Settings) -> ir.BooleanValue:
    """Answered: some leg to a person was picked up and talked at least min_talk_s
    (design.md 4)."""
    return calls.first_answered_at.notnull() & (
        calls.max_talk_s.fill_null(0) >= float(settings.min_talk_s)
    )


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
        c = c.filter(c.started_at >= scope.start)
    if scope.end is not None:
        c = c.filter(c.started_at < scope.end)
    if flt.lines:
        c = c.filter(c.line.isin(list(flt.lines)))
    if flt.queues:
        c = c.filter(c.queue.isin(list(flt.queues)))
    if flt.direction:
        c = c.filter(c.direction == flt.direction)
    if flt.numbers:
        c = c.filter(c.external_number.isin(scope.numbers()))
    agents = scope.agent_set()
    if agents is not None:
        legs = scope.table("legs")
        rung = legs.filter((legs.tenant == scope.tenant) & legs.agent.isin(agents))
        c = c.filter(c.call_id.isin(rung.call_id) | c.answered_by.isin(agents))
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


def with_agent(scope: Scope, calls: ir.Table) -> ir.Table:
    """Add `agent` (who answered, else the last agent rung) and that agent's `team`."""
    last = last_agent_rung(scope, calls)
    c = calls.left_join(last, calls.call_id == last.call_id).drop("call_id_right")
    c = c.mutate(agent=ibis.cases((c.is_answered, c.answered_by), else_=c.last_agent))
    teams = agents_table(scope.settings).select("agent", "team")
    joined = c.left_join(teams, c.agent == teams.agent)
    return joined.drop("agent_right")


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


def fetch(scope: Scope, expr: ir.Table) -> list[dict[str, Any]]:
    """Run the expression; UTC instants leave as ISO times in the tenant's zone (whole
    seconds), days as ISO dates. The conversion is columnar (Arrow), not per row."""
    table = expr.to_pyarrow()
    zone = scope.settings.timezone
    columns = []
    for col, field in zip(table.columns, table.schema, strict=True):
        if pa.types.is_timestamp(field.type):
            instant = col.cast(pa.timestamp("s"), safe=False)
            if field.type.tz is None:
                instant = instant.cast(pa.timestamp("s", tz="UTC"))
            text = pc.strftime(
                instant.cast(pa.timestamp("s", tz=zone)), format="%Y-%m-%dT%H:%M:%S%z"
            )
            col = pc.replace_substring_regex(
                text, pattern=r"([+-]\d\d)(\d\d)$", replacement=r"\1:\2"
            )
        elif pa.types.is_date(field.type):
            col = col.cast(pa.string())
        columns.append(col)
    rows: list[dict[str, Any]] = pa.table(columns, names=table.column_names).to_pylist()
    return rows


def build(
    scope: Scope,
    name: str,
    rows: list[dict[str, Any]],
    formulas: dict[str, str],
    extra: dict[str, Any] | None = None,
    **options: Any,
) -> Report:
    used = settings_used(scope)
    used.update({k: v for k, v in options.items() if v is not None})
    return Report(name, scope.period(), used, rows, formulas, extra or {})
