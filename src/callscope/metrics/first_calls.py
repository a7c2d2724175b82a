"""Which offered call was its customer's first of the (local) day, kept on the call:
`calls.first_of_day` (migration 7), maintained at import.

The first-attempt answer rate (design.md 4) needs, per customer number and local day, the
first inbound call. Over a year of 10M calls, grouping 7.8M (number, day) pairs costs more
than the rest of the service report, and joining their answer back costs as much again. A
call is the first of its day whatever report asks, as long as the report sees all of that
day's calls of the number: so the importer marks it once, and the report counts the marked
calls in the scan it makes anyway. `first_of_day` is false on every other call (and on a call
the refresh has not seen: the column's default).

The mark depends on the zone (the local day): `first_calls_state` keeps, per tenant, the
fingerprint it was computed under. A report under another zone, or whose filter drops some
of a day's calls (lines, queues, agents, teams), computes the first calls itself
(`callscope.metrics.service.first_calls`), with the same rule (`customer_day`, `first_key`).
After each batch the importer marks again the calls of the numbers the batch touched: those of
its calls (`contacts_table`'s batch table, not a second copy of it), those of its replaced
calls the kept contacts knew and those its replaced calls had (the assembler's `asm_replaced`);
a full rebuild when the zone changed.
"""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import ibis.expr.types as ir

from callscope.metrics import compiled
from callscope.metrics.contacts_table import TOUCHED, batch_sql, kept_fingerprint
from callscope.metrics.report import MetricFilter
from callscope.settings import Settings
from callscope.store.connection import transaction

if TYPE_CHECKING:
    from callscope.metrics.scope import Scope
    from callscope.store import Store

VERSION = 1  # of the rule: a change rebuilds the marks
MIN_SCHEMA = 7  # migration that added the column and the state table


def fingerprint(settings: Settings) -> str:
    """What the marks depend on besides the calls: the rule and the zone."""
    text = json.dumps({"version": VERSION, "timezone": settings.timezone}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def customer_day(c: ir.Table) -> dict[str, ir.Value]:
    """The customer and day a first call is the first of (`c` has local_start)."""
    return {"number": c.external_number, "day": c.local_start.date()}


def first_key(c: ir.Table) -> ir.Value:
    """What "first" orders by: the start, then call_id (calls of the same second: the same
    call on both engines and on both paths, not the one the engine met first)."""
    return ibis.struct({"t": c.started_at, "id": c.call_id})


def built_with(con: duckdb.DuckDBPyConnection, tenant: str) -> str | None:
    """The zone fingerprint the tenant's calls were marked under (None: never)."""
    return kept_fingerprint(con, "first_calls_state", tenant)


def usable(scope: Scope) -> bool:
    """The marks hold for this scope: the store keeps them for its tenant and zone, and its
    filter keeps every call of a customer's day or none (whole local days, a number, a
    direction: never lines, queues, agents or teams). Asked once a scope."""
    if "first_kept" not in scope.state:
        store, flt = scope.store, scope.flt
        whole_days = not (flt.lines or flt.queues or flt.agents or flt.teams)
        scope.state["first_kept"] = bool(
            whole_days
            and store.on_duckdb
            and store.schema_version() >= MIN_SCHEMA
            and built_with(store.con, scope.tenant) == fingerprint(scope.settings)
        )
    return bool(scope.state["first_kept"])


def computed(scope: Scope, calls: ir.Table | None = None) -> ir.Table:
    """call_id of every first call of the tenant's `calls` (default: all its calls)."""
    from callscope.metrics.scope import min_by, tenant_calls

    calls = tenant_calls(scope) if calls is None else calls
    calls = calls.filter((calls.direction == "inbound") & calls.external_number.notnull())
    c = calls.mutate(local_start=scope.local(calls.started_at))
    firsts = c.group_by(**customer_day(c)).aggregate(call_id=min_by(c.call_id, first_key(c)))
    return firsts.select("call_id")


# A batch's numbers and their calls (any direction: a call that is no longer inbound loses its
# mark) around the batch's calls: the days a batch can change are those of its calls (a
# re-assembled call moves by seconds, not days), and a call within a day of them has its whole
# local day (up to 25 hours) within three (the calls' start zone maps skip the rest). Found in one
# scan; their first calls are computed from this small table, so the zone's span is theirs (no
# scan of the store for it), and their rows are updated by rowid (a second search cost 100+ ms
# at 1M calls).
_CANDIDATES = """
CREATE OR REPLACE TEMP TABLE first_candidates AS
SELECT rowid AS rid, call_id, direction, started_at, external_number FROM calls
WHERE tenant = $1 AND started_at >= $2 AND started_at < $3
  AND external_number IN (SELECT external_number FROM first_touched)
"""


def refresh_first_calls(
    con: duckdb.DuckDBPyConnection, settings: Settings, keys: str | None, batch_ready: bool
) -> dict[str, Any]:
    """Mark the first calls again after calls were (re)assembled, in the caller's transaction.

    `keys` names the table of the batch's call ids (as for `refresh_contacts`), None: every
    call of the tenant (so is a zone other than the marks'). `batch_ready`: the contacts
    refresh just filled contacts_batch and contacts_touched for these keys. A (re)written
    call is unmarked until then (the column's default)."""
    began = time.perf_counter()
    tenant = settings.tenant
    full = keys is None or built_with(con, tenant) != fingerprint(settings)
    span: tuple[date, date] | None = None
    if not full:
        if not batch_ready:
            con.execute(batch_sql(con, settings, str(keys)))
            con.execute(TOUCHED.replace("{keys}", str(keys)), [tenant])
        # The numbers of the batch's calls, of the contacts it touched, and those its replaced
        # calls had (the assembler's asm_replaced: a call may come back under another number).
        replaced = _replaced(con)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE first_touched AS SELECT DISTINCT external_number"
            " FROM (SELECT external_number FROM contacts_batch"
            " UNION ALL SELECT external_number FROM contacts_touched"
            f" UNION ALL SELECT external_number FROM {replaced})"
        )
        row = con.execute(
            "SELECT min(started_at), max(started_at) FROM (SELECT started_at FROM contacts_batch"
            f" UNION ALL SELECT started_at FROM {replaced})"
        ).fetchone()
        if not (row and row[0]):
            return {"full": False, "firsts": 0, "ms": _ms(began)}
        lo, hi = row[0] - timedelta(days=1), row[1] + timedelta(days=1)  # the calls updated
        first, last = lo - timedelta(days=2), hi + timedelta(days=2)  # their whole local days
        con.execute(_CANDIDATES, [tenant, first, last])
        span = (first.date() - timedelta(days=1), last.date() + timedelta(days=1))
    fresh = _compute(con, settings, span)
    con.register("first_fresh", fresh)
    try:
        if full:
            con.execute(
                "UPDATE calls SET first_of_day = call_id IN (SELECT call_id FROM first_fresh)"
                " WHERE tenant = ?",
                [tenant],
            )
        else:
            con.execute(
                "UPDATE calls SET first_of_day = f.call_id IN (SELECT call_id FROM first_fresh)"
                " FROM first_candidates f WHERE calls.rowid = f.rid"
                " AND f.started_at >= $1 AND f.started_at < $2",
                [lo, hi],
            )
    finally:
        con.unregister("first_fresh")
    if full:
        con.execute(
            "INSERT OR REPLACE INTO first_calls_state VALUES (?, ?, now()::TIMESTAMP)",
            [tenant, fingerprint(settings)],
        )
    return {"full": full, "firsts": int(fresh.num_rows), "ms": _ms(began)}


def _replaced(con: duckdb.DuckDBPyConnection) -> str:
    """The assembler's table of the calls a batch replaced, as they were (none when the batch
    did not come through the assembler)."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = 'asm_replaced'"
    ).fetchone()
    if found and found[0]:
        return "(SELECT external_number, started_at FROM asm_replaced)"  # one tenant's batch
    return "(SELECT NULL::VARCHAR AS external_number, NULL::TIMESTAMP AS started_at LIMIT 0)"


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 1)


def _compute(
    con: duckdb.DuckDBPyConnection, settings: Settings, span: tuple[date, date] | None
) -> Any:
    """First calls of the tenant (span None), or of first_candidates, whose calls lie in the
    local days `span`."""
    from callscope.metrics.request import make_scope
    from callscope.store import Store

    store = Store.over(con)
    flt = MetricFilter(tenant=settings.tenant)
    if span is not None:
        flt = MetricFilter(tenant=settings.tenant, date_from=span[0], date_to=span[1])
    scope = make_scope(store, flt, settings)

    def build() -> ir.Table:
        return computed(scope, None if span is None else scope.table("first_candidates"))

    if scope.literal:
        expr = build()
        return expr.to_pyarrow(params=compiled.bindings(expr, scope))
    key = ("first_calls.refresh", span is None, scope.shape)
    return compiled.run(store.ibis, key, build, scope)


def warm(store: Store, settings: Settings) -> None:
    """Compile the per-batch marking before the first live batch needs it (as
    `contacts_table.warm`): the marking of no call writes nothing."""
    if not store.on_duckdb or store.schema_version() < MIN_SCHEMA:
        return
    store.con.execute(
        "CREATE OR REPLACE TEMP TABLE first_candidates (rid BIGINT, call_id VARCHAR,"
        " direction VARCHAR, started_at TIMESTAMP, external_number VARCHAR)"
    )
    today = datetime.now(UTC).date()
    _compute(store.con, settings, (today - timedelta(days=1), today + timedelta(days=1)))


def ensure_first_calls(store: Store, settings: Settings) -> dict[str, Any] | None:
    """Mark the tenant's first calls when they were marked under another zone (or never): a
    step for `callscope serve` and reports, beside `ensure_contacts`. None: up to date."""
    con = store.con
    if not store.on_duckdb or store.schema_version() < MIN_SCHEMA:
        return None
    if built_with(con, settings.tenant) == fingerprint(settings):
        return None
    with transaction(con):
        return refresh_first_calls(con, settings, None, batch_ready=False)
