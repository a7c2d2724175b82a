"""The `missed` report (missed contacts a manager must call back), the `callbacks` report
(how they were resolved and how fast) and the call log's colours."""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from callscope.metrics import compiled
from callscope.metrics.contacts import STATUSES, call_contacts, contacts
from callscope.metrics.report import MetricFilter, Report
from callscope.metrics.scope import (
    Scope,
    answered,
    build,
    make_scope,
    query,
    query_table,
    scoped_calls,
)
from callscope.settings import Settings
from callscope.store import Store

MISSED_COLUMNS = (
    "contact_id",
    "external_number",
    "first_missed_at",
    "last_missed_at",
    "attempts",
    "end_stage",
    "line",
    "queue",
    "agents_rung",
    "agent",
    "team",
    "status",
    "attempted_at",
    "resolved_at",
    "time_to_resolution_s",
    "work_s",
    "resolved_by_agent",
    "within_sla",
    "colour",
)
BUCKETS: tuple[tuple[str, float | None], ...] = (
    ("<1 min", 60),
    ("1-5 min", 300),
    ("5-15 min", 900),
    ("15-30 min", 1800),
    ("30-60 min", 3600),
    ("1-2 h", 7200),
    ("2-4 h", 14400),
    ("4-9 h", 32400),
    ("9-24 h", 86400),
    (">24 h", None),
)
CONTACT_FORMULAS = {
    "contact": "consecutive missed inbound calls of one customer number with no answered call "
    "(either way) in between; its time is the first missed call",
    "status": "first event within resolution_horizon_days wins: recalled_by_customer (a later "
    "inbound call answered), called_back (a later outbound call answered); else attempted "
    "(an outbound call that did not connect), else open",
    "resolved_at": "called_back: when the customer picked up the callback; "
    "recalled_by_customer: when the customer's answered call started",
    "time_to_resolution_s": "resolved_at - first_missed_at",
    "work_s": "working seconds of [schedule] between first_missed_at and resolved_at",
    "within_sla": "status = called_back and work_s <= callback_sla_min * 60",
    "colour": "red = open; yellow = attempted, or resolved with work_s over the SLA; "
    "green = resolved with work_s within the SLA",
    "agent": "last agent rung by the contact's calls (attributed agent)",
}


def missed(store: Store, flt: MetricFilter, settings: Settings) -> Report:
    """Missed contacts whose first missed call is in the period, newest first."""
    scope = make_scope(store, flt, settings)

    def listed() -> ir.Table:
        return contacts(scope).select(*MISSED_COLUMNS)

    # A year of a big store is a million contacts: they stay an Arrow table (`Report.table`),
    # Python rows only if a reader asks for them; newest first (contact_id is unique).
    order = [("first_missed_at", "descending"), ("contact_id", "ascending")]
    rows = query_table(scope, "missed.rows", listed, order)
    return build(scope, "missed", rows, CONTACT_FORMULAS, {"totals": status_counts(rows)})


def status_counts(rows: pa.Table) -> dict[str, int]:
    """Contacts per status, every status named (0 when none), counted by Arrow."""
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    for pair in pc.value_counts(rows.column("status")).to_pylist():
        counts[pair["values"]] = counts.get(pair["values"], 0) + int(pair["counts"])
    return counts


def _bucket(seconds: ir.NumericValue) -> ir.StringValue:
    branches = [(seconds < bound, label) for label, bound in BUCKETS if bound is not None]
    return ibis.cases(*branches, else_=BUCKETS[-1][0])


def callbacks(store: Store, flt: MetricFilter, settings: Settings) -> Report:
    """Resolution shares of missed contacts and the time-to-resolution distribution."""
    scope = make_scope(store, flt, settings)

    # The three blocks are one query: the period's contacts are read (or computed) once.
    parts: dict[str, list[dict[str, Any]]] = {"status": [], "bucket": [], "agent": []}
    for r in query(scope, "callbacks.all", lambda: _callback_parts(scope)):
        parts[r.pop("part")].append(r)
    per_status = {r["key"]: r for r in parts["status"]}
    total = sum(int(r["contacts"]) for r in per_status.values())
    rows: list[dict[str, Any]] = []
    for status in STATUSES:
        got = per_status.get(status, {})
        n = int(got.get("contacts") or 0)
        rows.append(
            {
                "status": status,
                "contacts": n,
                "share": n / total if total else None,
                "within_sla": int(got.get("within_sla") or 0),
                "time_to_resolution_s_median": got.get("median"),
            }
        )
    dist = {r["key"]: r for r in parts["bucket"]}
    n_resolved = sum(int(r["called_back"]) + int(r["recalled_by_customer"]) for r in dist.values())
    buckets: list[dict[str, Any]] = []
    cum = 0
    for label, _ in BUCKETS:
        got = dist.get(label, {})
        cb, rc = int(got.get("called_back") or 0), int(got.get("recalled_by_customer") or 0)
        cum += cb + rc
        buckets.append(
            {
                "bucket": label,
                "called_back": cb,
                "recalled_by_customer": rc,
                "resolved": cb + rc,
                "cumulative_share": cum / n_resolved if n_resolved else None,
            }
        )
    by_agent = [
        {
            "agent": r["key"],
            "called_back": r["called_back"],
            "within_sla": r["within_sla"],
            "time_to_resolution_s_median": r["median"],
        }
        for r in parts["agent"]
    ]
    formulas = dict(CONTACT_FORMULAS)
    formulas["share"] = "contacts with the status / all missed contacts of the period"
    formulas["buckets"] = "time_to_resolution_s of resolved contacts, lower bound inclusive"
    return build(
        scope,
        "callbacks",
        rows,
        formulas,
        {"time_to_resolution": buckets, "by_agent": by_agent, "totals": {"contacts": total}},
    )


def _callback_parts(scope: Scope) -> ir.Table:
    """Per status, per time-to-resolution bucket of resolved contacts, per agent who called
    back: counts and medians, as one table (`part` says which block a row is of)."""
    t = contacts(scope)
    by_status = t.group_by(key=t.status).aggregate(
        contacts=t.count(),
        called_back=ibis.literal(0, "int64"),
        recalled_by_customer=ibis.literal(0, "int64"),
        within_sla=t.within_sla.sum().cast("int64"),
        median=t.time_to_resolution_s.median().cast("float64"),
    )
    resolved = t.filter(t.resolved_at.notnull())
    resolved = resolved.mutate(bucket=_bucket(resolved.time_to_resolution_s))
    by_bucket = resolved.group_by(key=resolved.bucket).aggregate(
        contacts=resolved.count(),
        called_back=(resolved.status == "called_back").sum().cast("int64"),
        recalled_by_customer=(resolved.status == "recalled_by_customer").sum().cast("int64"),
        within_sla=ibis.literal(0, "int64"),
        median=ibis.null().cast("float64"),
    )
    cb = resolved.filter(resolved.status == "called_back")
    by_agent = cb.group_by(key=cb.resolved_by_agent).aggregate(
        contacts=cb.count(),
        called_back=cb.count(),
        recalled_by_customer=ibis.literal(0, "int64"),
        within_sla=cb.within_sla.sum().cast("int64"),
        median=cb.time_to_resolution_s.median().cast("float64"),
    )
    parts = ibis.union(
        by_status.mutate(part=ibis.literal("status")),
        by_bucket.mutate(part=ibis.literal("bucket")),
        by_agent.mutate(part=ibis.literal("agent")),
    )
    # Agents who called back most first, then by agent (an unknown agent last).
    return parts.order_by([ibis.desc("called_back"), ibis.asc("key", nulls_first=False), "part"])


def call_colours(store: Store, flt: MetricFilter, settings: Settings) -> ir.Table:
    """call_id, colour (red | yellow | green) and contact_status of every call the filter
    selects: a missed inbound call takes its contact's colour; an answered call is green; an
    anonymous missed call (no number to call back) is red; an unconnected outbound or internal
    call is yellow. The values are literals in the expression: callers run it themselves."""
    return _colours(make_scope(store, flt, settings, literal=True))


def call_colour_rows(store: Store, flt: MetricFilter, settings: Settings) -> pa.Table:
    """`call_colours`, run: on DuckDB from the SQL compiled once per query shape, so the call
    log of another period or manager does not compile the contacts' resolution again."""
    scope = make_scope(store, flt, settings)
    if scope.literal:
        expr = _colours(scope)
        return expr.to_pyarrow(params=compiled.bindings(expr, scope))
    return compiled.run(store.ibis, ("call_colours", scope.shape), lambda: _colours(scope), scope)


def _colours(scope: Scope) -> ir.Table:
    c = scoped_calls(scope)
    c = c.mutate(is_answered=answered(c, scope.settings))
    links = call_contacts(scope, c)
    j = c.left_join(links, c.call_id == links.m_call_id)
    return j.select(
        call_id=j.call_id,
        colour=ibis.cases(
            (j.c_colour.notnull(), j.c_colour),
            (j.is_answered, "green"),
            (j.direction == "inbound", "red"),
            else_="yellow",
        ),
        contact_status=j.contact_status,
        contact_id=j.contact_id,
    )
