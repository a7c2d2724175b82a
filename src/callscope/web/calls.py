"""The call log as the API and the page list it: filters, sorting and cursor pagination.

Built on `callscope.calllog.filtered_calls` (the CLI's listing), widened with the dashboard's
filters (team, line, end stage, colour, contact status). A cursor is the last row's sort key and
call id, so a page is one indexed range scan however deep the reader goes, and rows inserted
meanwhile never shift a page. The colour and contact status of a call come from
`callscope.metrics.call_colours`: the log shows them, it never decides them.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import ibis
import ibis.expr.types as ir

from callscope.calllog import CallFilter, filtered_calls
from callscope.metrics.report import MetricFilter
from callscope.settings import Settings
from callscope.store import Store
from callscope.web.colours import colour_table
from callscope.web.scope import FilterError, team_agents

SORTABLE = ("started_at", "wait_s", "talk_s", "external_number", "answered_by", "outcome")
COLUMNS = (
    "call_id",
    "started_at",
    "direction",
    "external_number",
    "line",
    "queue",
    "outcome",
    "end_stage",
    "answered_by",
    "wait_s",
    "talk_s",
    "colour",
    "status",
)
MAX_LIMIT = 1000


@dataclass(frozen=True)
class LogQuery:
    """What the reader asked of the log beyond the scope's period and agents."""

    number: str | None = None
    outcomes: tuple[str, ...] = ()
    colours: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    end_stages: tuple[str, ...] = ()
    sort: str = "started_at"
    descending: bool = True
    cursor: str | None = None
    limit: int = 50


@dataclass
class LogPage:
    rows: list[dict[str, Any]]
    next_cursor: str | None
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # rows per colour over the whole filter


def encode_cursor(value: Any, call_id: str) -> str:
    if isinstance(value, datetime | date):
        value = value.isoformat()
    raw = json.dumps([value, call_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, call_id = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError) as exc:
        raise FilterError(
            "`cursor` is not one this API gave out; start from the first page"
        ) from exc
    if sort == "started_at" and isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value, str(call_id)


def _sort_key(expr: ir.Table, sort: str) -> ir.Value:
    column = expr[sort]
    if sort in ("wait_s", "talk_s"):
        return column.fill_null(-1.0)
    if sort == "started_at":
        return column
    return column.fill_null("")


def scoped_calls(store: Store, flt: MetricFilter, settings: Settings, q: LogQuery) -> ir.Table:
    """The filtered log with colour and status columns, unsorted."""
    tenant = flt.tenant or settings.tenant
    base = filtered_calls(
        store,
        CallFilter(
            tenant=tenant,
            timezone=settings.timezone,
            date_from=flt.date_from,
            date_to=flt.date_to,
            number=q.number,
            direction=flt.direction,
        ),
        settings.region,
    )
    agents = set(flt.agents) | set(team_agents(settings, flt.teams))
    if flt.teams and not agents:
        base = base.filter(ibis.literal(False))  # a team nobody is configured in has no calls
    elif agents:
        legs = store.ibis.table("legs")
        rung = legs.filter((legs.tenant == tenant) & legs.agent.isin(sorted(agents)))
        base = base.filter(base.call_id.isin(rung.call_id) | base.answered_by.isin(sorted(agents)))
    if flt.lines:
        base = base.filter(base.line.isin(flt.lines))
    if flt.queues:
        base = base.filter(base.queue.isin(flt.queues))
    if q.outcomes:
        base = base.filter(base.outcome.isin(q.outcomes))
    if q.end_stages:
        base = base.filter(base.end_stage.isin(q.end_stages))
    colours = colour_table(store, flt, settings)
    joined = base.left_join(colours, base.call_id == colours.call_id).select(
        *[base[c] for c in COLUMNS if c not in ("colour", "status")],
        colour=colours.colour,
        status=colours.status,
    )
    if q.colours:
        joined = joined.filter(joined.colour.isin(q.colours))
    if q.statuses:
        joined = joined.filter(joined.status.isin(q.statuses))
    return joined


def log_page(store: Store, flt: MetricFilter, settings: Settings, q: LogQuery) -> LogPage:
    if q.sort not in SORTABLE:
        raise FilterError(f"cannot sort by {q.sort!r} (one of: {', '.join(SORTABLE)})")
    limit = max(1, min(q.limit, MAX_LIMIT))
    table = scoped_calls(store, flt, settings, q)
    counts_rows = (
        table.group_by(colour=table.colour.fill_null("none"))
        .aggregate(n=table.count())
        .to_pyarrow()
        .to_pylist()
    )
    counts = {r["colour"]: int(r["n"]) for r in counts_rows}
    key = _sort_key(table, q.sort).name("_key")
    keyed = table.mutate(_key=key)
    if q.cursor:
        value, last_id = decode_cursor(q.cursor, q.sort)
        lit = ibis.literal(value)
        if q.descending:
            keyed = keyed.filter(
                (keyed._key < lit) | ((keyed._key == lit) & (keyed.call_id < last_id))
            )
        else:
            keyed = keyed.filter(
                (keyed._key > lit) | ((keyed._key == lit) & (keyed.call_id > last_id))
            )
    order = (
        [ibis.desc("_key"), ibis.desc("call_id")]
        if q.descending
        else [ibis.asc("_key"), ibis.asc("call_id")]
    )
    rows = keyed.order_by(order).limit(limit + 1).to_pyarrow().to_pylist()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]["_key"], rows[-1]["call_id"]) if more and rows else None
    for row in rows:
        row.pop("_key", None)
    return LogPage(rows, next_cursor, sum(counts.values()), counts)


def all_rows(
    store: Store, flt: MetricFilter, settings: Settings, q: LogQuery
) -> list[dict[str, Any]]:
    """Every row of the filter in the chosen order, for exports (no cursor)."""
    table = scoped_calls(store, flt, settings, q)
    key = _sort_key(table, q.sort)
    order = [key.desc() if q.descending else key.asc(), table.call_id]
    return table.order_by(order).to_pyarrow().to_pylist()  # type: ignore[no-any-return]


def customer_calls(
    store: Store, tenant: str, number: str, settings: Settings
) -> list[dict[str, Any]]:
    """Every call of one customer, newest first, with its legs (two queries)."""
    calls = store.ibis.table("calls")
    expr = calls.filter((calls.tenant == tenant) & (calls.external_number == number))
    rows = expr.order_by(ibis.desc("started_at")).to_pyarrow().to_pylist()
    if not rows:
        return []
    legs_t = store.ibis.table("legs")
    legs = (
        legs_t.filter((legs_t.tenant == tenant) & legs_t.call_id.isin([r["call_id"] for r in rows]))
        .order_by(["call_id", "leg_no"])
        .select("call_id", "leg_no", "agent", "destination_kind", "ring_s", "talk_s", "result")
        .to_pyarrow()
        .to_pylist()
    )
    by_call: dict[str, list[dict[str, Any]]] = {}
    for leg in legs:
        by_call.setdefault(leg.pop("call_id"), []).append(leg)
    keep = (*COLUMNS[:11],)
    return [{**{k: r.get(k) for k in keep}, "legs": by_call.get(r["call_id"], [])} for r in rows]
