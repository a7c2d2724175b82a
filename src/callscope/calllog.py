"""The call log: calls with their legs, filtered, as the CLI and (later) the API list them.

Queries go through Ibis so the same code runs on any engine the store lives on; times leave the
store in UTC and are shown in the tenant's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

from callscope.assemble.numbers import to_e164
from callscope.store import Store


@dataclass(frozen=True)
class CallFilter:
    """Which calls to list. Dates are days in the tenant's zone, `to` inclusive."""

    tenant: str
    timezone: str
    date_from: date | None = None
    date_to: date | None = None
    number: str | None = None
    agent: str | None = None
    outcome: str | None = None
    direction: str | None = None
    limit: int | None = None


@dataclass
class LegRow:
    leg_no: int
    agent: str | None
    destination_kind: str
    ring_s: float | None
    talk_s: float | None
    result: str


@dataclass
class CallRow:
    call_id: str
    direction: str
    started_at: datetime
    external_number: str | None
    line: str | None
    outcome: str
    end_stage: str | None
    answered_by: str | None
    wait_s: float | None
    talk_s: float | None
    queue: str | None
    source: str
    legs: list[LegRow] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "direction": self.direction,
            "started_at": self.started_at.isoformat(),
            "external_number": self.external_number,
            "line": self.line,
            "outcome": self.outcome,
            "end_stage": self.end_stage,
            "answered_by": self.answered_by,
            "wait_s": self.wait_s,
            "talk_s": self.talk_s,
            "queue": self.queue,
            "source": self.source,
            "legs": [
                {
                    "agent": leg.agent,
                    "destination_kind": leg.destination_kind,
                    "ring_s": leg.ring_s,
                    "talk_s": leg.talk_s,
                    "result": leg.result,
                }
                for leg in self.legs
            ],
        }


def utc_bounds(
    day_from: date | None, day_to: date | None, zone: str
) -> tuple[datetime | None, datetime | None]:
    """Naive UTC instants of the start of `day_from` and the end of `day_to` in `zone`."""
    tz = ZoneInfo(zone)

    def at(day: date) -> datetime:
        local = datetime(day.year, day.month, day.day, tzinfo=tz)
        return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    start = at(day_from) if day_from else None
    end = at(day_to + timedelta(days=1)) if day_to else None
    return start, end


def filtered_calls(store: Store, flt: CallFilter, region: str) -> ir.Table:
    calls = store.ibis.table("calls")
    expr = calls.filter(calls.tenant == flt.tenant)
    start, end = utc_bounds(flt.date_from, flt.date_to, flt.timezone)
    if start is not None:
        expr = expr.filter(expr.started_at >= start)
    if end is not None:
        expr = expr.filter(expr.started_at < end)
    if flt.number:
        wanted = to_e164(flt.number, region, 0) or flt.number
        expr = expr.filter(expr.external_number == wanted)
    if flt.outcome:
        expr = expr.filter(expr.outcome == flt.outcome)
    if flt.direction:
        expr = expr.filter(expr.direction == flt.direction)
    if flt.agent:
        legs = store.ibis.table("legs")
        rung = legs.filter((legs.tenant == flt.tenant) & (legs.agent == flt.agent)).select(
            "call_id"
        )
        expr = expr.filter(expr.call_id.isin(rung.call_id) | (expr.answered_by == flt.agent))
    return expr


def list_calls(store: Store, flt: CallFilter, region: str) -> list[CallRow]:
    """Calls in start order with their legs; two queries, never one per call."""
    expr = filtered_calls(store, flt, region).order_by(["started_at", "call_id"])
    if flt.limit:
        expr = expr.limit(flt.limit)
    calls = expr.to_pyarrow().to_pylist()
    if not calls:
        return []
    ids = [c["call_id"] for c in calls]
    legs_t = store.ibis.table("legs")
    legs = (
        legs_t.filter(
            (legs_t.tenant == flt.tenant) & legs_t.call_id.isin(ibis.memtable({"id": ids}).id)
        )
        .order_by(["call_id", "leg_no"])
        .to_pyarrow()
        .to_pylist()
    )
    by_call: dict[str, list[LegRow]] = {}
    for leg in legs:
        by_call.setdefault(leg["call_id"], []).append(
            LegRow(
                leg["leg_no"],
                leg["agent"],
                leg["destination_kind"],
                leg["ring_s"],
                leg["talk_s"],
                leg["result"],
            )
        )
    tz = ZoneInfo(flt.timezone)
    utc = ZoneInfo("UTC")
    return [
        CallRow(
            call_id=c["call_id"],
            direction=c["direction"],
            started_at=c["started_at"].replace(tzinfo=utc).astimezone(tz),
            external_number=c["external_number"],
            line=c["line"],
            outcome=c["outcome"],
            end_stage=c["end_stage"],
            answered_by=c["answered_by"],
            wait_s=c["wait_s"],
            talk_s=c["talk_s"],
            queue=c["queue"],
            source=c["source"],
            legs=by_call.get(c["call_id"], []),
        )
        for c in calls
    ]
