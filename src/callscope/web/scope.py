"""From a request's query to the filter a metric takes, narrowed to what the caller may see.

Pages and the API read the same parameters (`period`, `from`, `to`, `team`, `agent`, `line`,
`queue`, `direction`), so a page's `.json`/export links and the REST API answer identically.
Periods count back from today in the tenant's zone; on a store whose last call is older (a demo,
an archive) they count back from the last day with calls, so the dashboard is never empty.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request

from callscope.errors import CallscopeError
from callscope.metrics.report import MetricFilter
from callscope.settings import Settings
from callscope.store import Store
from callscope.web.access import Principal

PERIODS = ("today", "yesterday", "week", "month", "quarter", "half_year", "year", "custom")
DEFAULT_PERIOD = "week"
SCOPE_PARAMS = ("period", "from", "to", "team", "agent", "line", "queue", "direction")


class FilterError(CallscopeError):
    """A query parameter that cannot be understood; answered as HTTP 400."""

    exit_code = 2


@dataclass(frozen=True)
class Period:
    name: str
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of equal length just before, for trends."""
        end = self.start - timedelta(days=1)
        return Period(self.name, end - timedelta(days=self.days - 1), end)


def reference_day(store: Store, settings: Settings, tenant: str) -> date:
    """Today in the tenant's zone, or the last day with calls when the data ends earlier."""
    tz = ZoneInfo(settings.timezone)
    today = datetime.now(UTC).astimezone(tz).date()
    row = store.con.execute(
        "SELECT max(started_at) FROM calls WHERE tenant = ?", [tenant]
    ).fetchone()
    if row is None or row[0] is None:
        return today
    last: date = row[0].replace(tzinfo=UTC).astimezone(tz).date()
    return min(today, last)


def period_of(name: str, ref: date, start: date | None = None, end: date | None = None) -> Period:
    if name == "custom" or start or end:
        lo = start or end or ref
        hi = end or start or ref
        if hi < lo:
            raise FilterError("`from` is after `to`")
        return Period("custom", lo, hi)
    if name == "today":
        return Period(name, ref, ref)
    if name == "yesterday":
        day = ref - timedelta(days=1)
        return Period(name, day, day)
    if name == "week":
        return Period(name, ref - timedelta(days=ref.weekday()), ref)
    if name == "month":
        return Period(name, ref.replace(day=1), ref)
    if name == "quarter":
        return Period(name, ref.replace(month=3 * ((ref.month - 1) // 3) + 1, day=1), ref)
    if name == "half_year":
        return Period(name, ref.replace(month=1 if ref.month <= 6 else 7, day=1), ref)
    if name == "year":
        return Period(name, ref.replace(month=1, day=1), ref)
    raise FilterError(f"unknown period {name!r} (one of: {', '.join(PERIODS)})")


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise FilterError(f"`{name}` must be a date YYYY-MM-DD, got {value!r}") from exc


def _many(request: Request, name: str) -> tuple[str, ...]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values += [v.strip() for v in raw.split(",") if v.strip()]
    return tuple(values)


@dataclass(frozen=True)
class Scope:
    """The caller's view: the period and the metric filter (already narrowed by role)."""

    period: Period
    flt: MetricFilter
    params: dict[str, str]  # the scope parameters as given, for links that keep them

    def previous(self) -> Scope:
        prev = self.period.previous()
        return replace(
            self, period=prev, flt=replace(self.flt, date_from=prev.start, date_to=prev.end)
        )

    def query(self, **extra: Any) -> str:
        """The query string of this scope with `extra` changed (None removes a key)."""
        from urllib.parse import urlencode

        merged: dict[str, Any] = {**self.params, **extra}
        return urlencode({k: v for k, v in merged.items() if v not in (None, "")})


def scope_of(request: Request, store: Store, settings: Settings, who: Principal) -> Scope:
    q = request.query_params
    name = q.get("period") or DEFAULT_PERIOD
    start, end = _day(q.get("from"), "from"), _day(q.get("to"), "to")
    period = period_of(name, reference_day(store, settings, who.tenant), start, end)
    direction = q.get("direction") or None
    if direction not in (None, "inbound", "outbound", "internal"):
        raise FilterError(f"unknown direction {direction!r} (inbound, outbound or internal)")
    agents = _many(request, "agent")
    if who.is_agent:
        # an agent sees only their own figures, whatever the query asks
        agents = (who.agent or "",)
    flt = MetricFilter(
        date_from=period.start,
        date_to=period.end,
        tenant=who.tenant,
        teams=() if who.is_agent else _many(request, "team"),
        agents=agents,
        lines=_many(request, "line"),
        queues=_many(request, "queue"),
        direction=direction,
    )
    params = {k: q[k] for k in SCOPE_PARAMS if q.get(k)}
    if who.is_agent:
        params.pop("agent", None)
        params.pop("team", None)
    return Scope(period, flt, params)


def team_agents(settings: Settings, teams: tuple[str, ...]) -> tuple[str, ...]:
    """Agent ids (extensions) of the configured teams."""
    return tuple(ext for ext, cfg in settings.agents.items() if cfg.team in teams)
