"""The tenant's time zone as engine arithmetic: a piecewise UTC offset (naive UTC -> naive
local) built from the zone's rules, so every engine gives the same hours of day without any
time-zone support of its own."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

UTC = ZoneInfo("UTC")
NEVER = datetime(9999, 12, 31)  # the instant of an unused transition slot


def utc_instant(day: date, zone: str) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC).replace(tzinfo=None)


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


def slots(zone: str, hi: datetime, moves: int) -> int:
    """How many transition slots a parametrised local-time expression has for `moves`
    transitions: none in a zone without daylight saving (when the span has none either), else
    a power of two of at least 4, so that most periods share one expression."""
    if moves == 0:
        tz = ZoneInfo(zone)
        jan = datetime(hi.year, 1, 1, tzinfo=tz).utcoffset()
        jul = datetime(hi.year, 7, 1, tzinfo=tz).utcoffset()
        if jan == jul:
            return 0
    n = 4
    while n < moves:
        n *= 2
    return n


def slot(table: list[tuple[datetime, int]], i: int) -> tuple[datetime, int]:
    """The i-th newest transition of an `offsets` table, or an unused slot."""
    moves = table[1:][::-1]
    return moves[i] if i < len(moves) else (NEVER, table[0][1])


def decades(zone: str, lo: datetime, hi: datetime) -> tuple[int, int]:
    """The first years of the decades the local days of [lo, hi] fall in: tables of whole
    decades (peak hours) serve every period inside them."""
    tz = ZoneInfo(zone)
    first = lo.replace(tzinfo=UTC).astimezone(tz).year
    last = hi.replace(tzinfo=UTC).astimezone(tz).year
    return first // 10 * 10, last // 10 * 10
