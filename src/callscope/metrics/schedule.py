"""Working time from `[schedule]`: which calls arrive after hours, and how many working seconds
pass between a missed call and its callback (the SLA clock stops over lunch, at night, on
holidays).

"Open" is a column expression over local time (day of week, minute of day, date), so deciding
it for ten million calls is a scan. The SLA clock needs real intervals: a small calendar of
working periods in UTC, one row per period, joined by range to the few resolved contacts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from callscope.settings import ScheduleRule, ScheduleSettings, parse_span

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TENANT_KEY = "*"
_BLOCKS: dict[tuple[object, ...], ir.Table] = {}  # calendars of whole decades, by rules
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Rule:
    """One effective working-time rule: spans per weekday (minutes), lunch, holidays."""

    days: dict[int, tuple[int, int]] | None  # weekday 0=Mon -> (start, end); None = all day
    lunch: tuple[int, int] | None
    holidays: tuple[date, ...]

    @property
    def always_open(self) -> bool:
        return self.days is None and self.lunch is None and not self.holidays

    def spans(self, day: date) -> list[tuple[int, int]]:
        """Working spans of one local day, in minutes."""
        if day in self.holidays:
            return []
        if self.days is None:
            span: tuple[int, int] | None = (0, 24 * 60)
        else:
            span = self.days.get(day.weekday())
        if span is None:
            return []
        start, end = span
        if self.lunch is None:
            return [span]
        ls, le = self.lunch
        parts = [(start, min(end, ls)), (max(start, le), end)]
        return [(a, b) for a, b in parts if a < b]

    def describe(self) -> str:
        if self.always_open:
            return "open around the clock"
        hours = (
            "all day"
            if self.days is None
            else ", ".join(
                f"{DAYS[d]} {_hm(s)}-{_hm(e)}" for d, (s, e) in sorted(self.days.items())
            )
        )
        lunch = f"; lunch {_hm(self.lunch[0])}-{_hm(self.lunch[1])}" if self.lunch else ""
        hol = f"; {len(self.holidays)} holidays" if self.holidays else ""
        return hours + lunch + hol


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _rule(hours: dict[str, str] | None, lunch: str | None, holidays: list[date]) -> Rule:
    days = None
    if hours is not None:
        days = {DAYS.index(d): parse_span(span) for d, span in hours.items() if span}
    return Rule(days, parse_span(lunch) if lunch else None, tuple(sorted(set(holidays))))


class Schedule:
    """The tenant's rule and the teams' rules (a team inherits what it does not set)."""

    def __init__(self, cfg: ScheduleSettings, zone: str) -> None:
        self.zone = zone
        self.tenant = _rule(cfg.hours, cfg.lunch, cfg.holidays)
        self.teams: dict[str, Rule] = {}
        for team, rule in cfg.teams.items():
            self.teams[team] = self._merge(cfg, rule)

    @staticmethod
    def _merge(cfg: ScheduleSettings, team: ScheduleRule) -> Rule:
        hours = team.hours if team.hours is not None else cfg.hours
        lunch = team.lunch if team.lunch is not None else cfg.lunch
        return _rule(hours, lunch, [*cfg.holidays, *team.holidays])

    @property
    def always_open(self) -> bool:
        return self.tenant.always_open or any(r.always_open for r in self.teams.values())

    def describe(self) -> dict[str, str]:
        out = {"tenant": self.tenant.describe()}
        out.update({f"team {t}": r.describe() for t, r in sorted(self.teams.items())})
        return out

    def is_open(self, local: ir.TimestampValue) -> ir.BooleanValue:
        """True when the company works at this local time: the tenant or any team is open."""
        if self.always_open:
            return ibis.literal(True)
        result = _open_expr(self.tenant, local)
        for rule in self.teams.values():
            result = result | _open_expr(rule, local)
        return result

    def key_of(self, team: ir.StringValue) -> ir.StringValue:
        """The calendar a contact's SLA clock runs on: its team's, else the tenant's."""
        if not self.teams:
            return ibis.literal(TENANT_KEY)
        return ibis.cases((team.isin(list(self.teams)), team), else_=TENANT_KEY)

    def calendar(self, lo: datetime, hi: datetime) -> ir.Table:
        """Working periods (key, start, end) in naive UTC covering [lo, hi]."""
        first, last = self.days_for(lo, hi)
        keys, starts, ends, _ = self._periods(first, last)
        return ibis.memtable(
            {"cal_key": keys, "cal_start": starts, "cal_end": ends},
            schema={"cal_key": "string", "cal_start": "timestamp", "cal_end": "timestamp"},
        )

    def days_for(self, lo: datetime, hi: datetime) -> tuple[date, date]:
        tz = ZoneInfo(self.zone)
        utc = ZoneInfo("UTC")
        first = lo.replace(tzinfo=utc).astimezone(tz).date() - timedelta(days=1)
        last = hi.replace(tzinfo=utc).astimezone(tz).date() + timedelta(days=1)
        return first, last

    def _periods(
        self, first: date, last: date
    ) -> tuple[list[str], list[datetime], list[datetime], list[datetime]]:
        """Working periods of the local days first..last: keys, UTC starts and ends, and the
        UTC instant of the local midnight that begins each period's day."""
        tz = ZoneInfo(self.zone)
        utc = ZoneInfo("UTC")
        keys: list[str] = []
        starts: list[datetime] = []
        ends: list[datetime] = []
        days: list[datetime] = []
        rules = {TENANT_KEY: self.tenant, **self.teams}
        day = first
        while day <= last:
            midnight = datetime(day.year, day.month, day.day)
            day_at = midnight.replace(tzinfo=tz).astimezone(utc).replace(tzinfo=None)
            for key, rule in rules.items():
                for a, b in rule.spans(day):
                    for minutes, bucket in ((a, starts), (b, ends)):
                        local = (midnight + timedelta(minutes=minutes)).replace(tzinfo=tz)
                        bucket.append(local.astimezone(utc).replace(tzinfo=None))
                    keys.append(key)
                    days.append(day_at)
            day += timedelta(days=1)
        return keys, starts, ends, days

    def block(self, lo: datetime, hi: datetime) -> tuple[int, int] | None:
        """The whole decades of local days a calendar for [lo, hi] needs (None: no calendar):
        periods of one decade share one calendar table, hence one compiled query."""
        if self.never_closed:
            return None
        first, last = self.days_for(lo, hi)
        return first.year // 10 * 10, last.year // 10 * 10 + 9

    def calendar_between(self, block: tuple[int, int]) -> ir.Table:
        """Working periods of the block's years with `cal_day` (UTC instant of the local
        midnight of the period's day), to be cut to a span by `cal_day`."""
        rules = tuple(
            sorted((k, repr(r)) for k, r in {TENANT_KEY: self.tenant, **self.teams}.items())
        )
        key = (self.zone, rules, block)
        with _LOCK:
            got = _BLOCKS.get(key)
        if got is None:
            keys, starts, ends, days = self._periods(date(block[0], 1, 1), date(block[1], 12, 31))
            got = ibis.memtable(
                {"cal_key": keys, "cal_start": starts, "cal_end": ends, "cal_day": days},
                schema={
                    "cal_key": "string",
                    "cal_start": "timestamp",
                    "cal_end": "timestamp",
                    "cal_day": "timestamp",
                },
            )
            with _LOCK:
                got = _BLOCKS.setdefault(key, got)
                while len(_BLOCKS) > 32:
                    _BLOCKS.pop(next(iter(_BLOCKS)))
        return got

    @property
    def never_closed(self) -> bool:
        return self.tenant.always_open and all(r.always_open for r in self.teams.values())

    def working_seconds(
        self, t: ir.Table, ident: str, key: str, a: str, b: str, cal: ir.Table | None
    ) -> ir.Table:
        """t with `work_s`: working seconds between columns a and b of each row (NULL where b
        is NULL), counted on the calendar `cal` (None when never closed) by column `key`;
        `ident` is t's key."""
        if self.never_closed or cal is None:
            return t.mutate(work_s=(t[b].epoch_seconds() - t[a].epoch_seconds()).cast("float64"))
        rows = t.filter(t[b].notnull()).select(ident, key, a, b)
        j = rows.left_join(
            cal,
            [rows[key] == cal.cal_key, cal.cal_start < rows[b], cal.cal_end > rows[a]],
        )
        overlap = (
            ibis.least(j.cal_end, j[b]).epoch_seconds()
            - ibis.greatest(j.cal_start, j[a]).epoch_seconds()
        )
        summed = j.group_by(ident).aggregate(work_s=overlap.sum().fill_null(0).cast("float64"))
        summed = summed.rename(w_id=ident)
        return t.left_join(summed, t[ident] == summed.w_id).drop("w_id")


def _open_expr(rule: Rule, local: ir.TimestampValue) -> ir.BooleanValue:
    if rule.always_open:
        return ibis.literal(True)
    minute = local.hour() * 60 + local.minute()
    if rule.days is None:
        result: ir.BooleanValue = ibis.literal(True)
    else:
        dow = local.day_of_week.index()
        result = ibis.literal(False)
        for weekday, (start, end) in sorted(rule.days.items()):
            result = result | ((dow == weekday) & (minute >= start) & (minute < end))
    if rule.lunch is not None:
        result = result & ~((minute >= rule.lunch[0]) & (minute < rule.lunch[1]))
    if rule.holidays:
        result = result & ~local.date().isin(list(rule.holidays))
    return result
