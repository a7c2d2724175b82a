"""The missed contacts the store keeps: table `contacts` (one row per contact, whenever it
began) and `contact_calls` (each missed call's contact), maintained at import.

Computing contacts means ordering every call of every customer number (a running count of
successes per number): over a year of 10M calls that is seconds per request. The contacts of a
number change only when that number's calls do, so the importer refreshes the contacts of the
numbers each batch touched (`refresh_contacts`, inside the batch's transaction) with the same
expression the reports would run (`callscope.metrics.contacts.computed`).

The rows depend on settings (min_talk_s, the horizon, the SLA, the schedule, the zone, the
agents' teams): `contacts_state` keeps, per tenant, a fingerprint of those the table was built
with. A request whose settings have another fingerprint computes its contacts from the calls
(the same rows); a refresh under other settings rebuilds the tenant's table. On DuckDB the
choice is a parameter of the compiled SQL (`either`), so a query compiled while the table was
valid falls back by itself when another process rebuilt it under other settings.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
import ibis.expr.types as ir

from callscope.metrics import compiled
from callscope.metrics.report import MetricFilter
from callscope.settings import Settings
from callscope.store.connection import transaction

if TYPE_CHECKING:
    from callscope.metrics.scope import Scope
    from callscope.store import Store

# Of the definition: a change of contacts.computed bumps it (the tables rebuild). 2: calls at
# the same second are told apart by call_id (contact_id, last call, last agent rung, first try).
VERSION = 2
MIN_SCHEMA = 5  # migration that made the tables

COLUMNS: dict[str, str] = {
    "contact_id": "string",
    "external_number": "string",
    "seg": "int64",
    "first_missed_at": "timestamp",
    "last_missed_at": "timestamp",
    "attempts": "int64",
    "end_stage": "string",
    "line": "string",
    "queue": "string",
    "agent": "string",
    "agents_rung": "array<string>",
    "status": "string",
    "attempted_at": "timestamp",
    "resolved_at": "timestamp",
    "resolved_by_agent": "string",
    "time_to_resolution_s": "float64",
    "team": "string",
    "work_s": "float64",
    "within_sla": "boolean",
    "colour": "string",
    "closing_call_id": "string",
    "try_call_id": "string",
}


def fingerprint(settings: Settings) -> str:
    """What the rows of a tenant depend on besides the calls, hashed (the tenant is the key of
    the row that keeps it: a request for another tenant with these settings reads that one's)."""
    m = settings.metrics
    used = {
        "version": VERSION,
        "timezone": settings.timezone,
        # as floats: a config's `7` and the `7.0` a settings override round-trip gives are the
        # same setting (before, `serve --db` rebuilt a demo's table at every start)
        "min_talk_s": float(settings.min_talk_s),
        "resolution_horizon_days": float(m.resolution_horizon_days),
        "callback_sla_min": float(m.callback_sla_min),
        "schedule": settings.schedule.model_dump(mode="json"),
        "teams": {ext: a.team for ext, a in sorted(settings.agents.items())},
    }
    text = json.dumps(used, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def built_with(con: duckdb.DuckDBPyConnection, tenant: str) -> str | None:
    """The fingerprint the tenant's rows were built with (None: never built)."""
    return kept_fingerprint(con, "contacts_state", tenant)


def kept_fingerprint(con: duckdb.DuckDBPyConnection, state: str, tenant: str) -> str | None:
    """The settings fingerprint a kept figure's `state` table (contacts_state,
    first_calls_state) holds for the tenant: None, never built."""
    row = con.execute(f"SELECT fingerprint FROM {state} WHERE tenant = ?", [tenant]).fetchone()
    return str(row[0]) if row else None


def usable(scope: Scope) -> bool:
    """The table holds this scope's tenant under this scope's settings (asked once a scope)."""
    if "contacts_kept" not in scope.state:
        store = scope.store
        ok = (
            store.on_duckdb
            and store.schema_version() >= MIN_SCHEMA
            and built_with(store.con, scope.tenant) == fingerprint(scope.settings)
        )
        scope.state["contacts_kept"] = ok
    return bool(scope.state["contacts_kept"])


def kept(scope: Scope) -> ir.Table | None:
    """The tenant's kept contacts, typed as `contacts.computed` types them; None when the store
    cannot hold them (another engine, an older schema) or, in a literal scope, does not hold
    them for these settings. In a cached scope the caller joins this with the computed rows
    through `either`, which picks one per request."""
    store = scope.store
    if not store.on_duckdb or store.schema_version() < MIN_SCHEMA:
        return None
    if scope.literal and not usable(scope):
        return None
    t = scope.table("contacts")
    t = t.filter(scope.tenant_is(t.tenant))
    return t.select(**{c: t[c].cast(kind) for c, kind in COLUMNS.items()})


def kept_links(scope: Scope) -> ir.Table:
    links = scope.table("contact_calls")
    return links.filter(scope.tenant_is(links.tenant)).select("call_id", "contact_id")


def either(scope: Scope, from_table: ir.Table, from_calls: ir.Table) -> ir.Table:
    """The table's rows when it holds these settings, else the computed rows: both branches
    are in the SQL, and the request's value of the switch leaves one (DuckDB drops a branch
    filtered by a false constant without running it)."""
    use = scope.p("contacts_kept", "int64", lambda s: int(usable(s)))
    kinds = from_calls.schema()
    from_table = from_table.select(**{c: from_table[c].cast(kinds[c]) for c in kinds})
    return from_table.filter(use == 1).union(from_calls.filter(use == 0))


# The numbers whose contacts a batch can change: those of its (new) calls that are missed, or
# that have contacts, and those whose contacts held one of its (replaced) calls. A number with
# none of these had no contact before and has none after. The batch's calls, each with whether
# it is missed (`batch_sql`), land in temp table contacts_batch; `TOUCHED` then names the
# numbers (contacts_touched). The first-call marking (metrics.first_calls) reads both.
_BATCH_SQL: dict[tuple[str, str, str], str] = {}


def batch_sql(con: duckdb.DuckDBPyConnection, settings: Settings, keys: str) -> str:
    """The statement filling contacts_batch, compiled once per settings: "missed" is the metric
    layer's `answered`, negated, not a second copy of the rule."""
    key = (settings.tenant, fingerprint(settings), keys)
    sql = _BATCH_SQL.get(key)
    if sql is None:
        from callscope.metrics.scope import answered

        backend = ibis.duckdb.from_connection(con)
        calls, batch = backend.table("calls"), backend.table(keys)
        c = calls.filter(
            (calls.tenant == settings.tenant)
            & calls.external_number.notnull()
            & calls.call_id.isin(batch.k)
        )
        missed = (c.direction == "inbound") & ~answered(c, settings)
        # (started_at: the days whose first calls the batch can change, metrics.first_calls)
        query = c.select("external_number", "started_at", is_miss=missed)
        sql = "CREATE OR REPLACE TEMP TABLE contacts_batch AS " + ibis.to_sql(query, "duckdb")
        _BATCH_SQL[key] = sql
    return sql


# (Each branch a plain semi-join on a small temp table: an OR of subqueries, or a subquery
# within a subquery, cost DuckDB 50-130 ms more over 1M contacts.)
TOUCHED = """
CREATE OR REPLACE TEMP TABLE contacts_touched AS
SELECT DISTINCT external_number FROM (
    SELECT external_number FROM contacts_batch WHERE is_miss
    UNION ALL
    SELECT external_number FROM contacts
    WHERE tenant = $1 AND external_number IN (SELECT external_number FROM contacts_batch)
    UNION ALL
    SELECT external_number FROM contacts
    WHERE tenant = $1 AND closing_call_id IN (SELECT k FROM {keys})
    UNION ALL
    SELECT external_number FROM contacts
    WHERE tenant = $1 AND try_call_id IN (SELECT k FROM {keys})
    UNION ALL
    SELECT external_number FROM contact_calls
    WHERE tenant = $1 AND call_id IN (SELECT k FROM {keys})
)
"""


def refresh_contacts(
    con: duckdb.DuckDBPyConnection, settings: Settings, keys: str | None
) -> dict[str, Any]:
    """Bring the tenant's kept contacts up to date after calls were (re)assembled.

    `keys` names a table whose column `k` holds the ids of the calls the batch deleted and
    wrote (the importer's `asm_scope`); the contacts of their numbers, before and after, are
    computed again. None, or a table built under other settings: every contact of the tenant
    is. Runs in the caller's transaction."""
    began = time.perf_counter()
    tenant = settings.tenant
    full = keys is None or built_with(con, tenant) != fingerprint(settings)
    if full:
        con.execute("DELETE FROM contacts WHERE tenant = ?", [tenant])
        con.execute("DELETE FROM contact_calls WHERE tenant = ?", [tenant])
    else:
        con.execute(batch_sql(con, settings, str(keys)))
        con.execute(TOUCHED.replace("{keys}", str(keys)), [tenant])
        row = con.execute("SELECT count(*) FROM contacts_touched").fetchone()
        if not (row and row[0]):
            return {"full": False, "contacts": 0, "ms": _ms(began)}
        for table in ("contact_calls", "contacts"):
            con.execute(
                f"DELETE FROM {table} WHERE tenant = ?"
                " AND external_number IN (SELECT external_number FROM contacts_touched)",
                [tenant],
            )
    rows = _insert(con, settings, full)
    if full:  # (a batch's refresh found the fingerprint the table already has)
        con.execute(
            "INSERT OR REPLACE INTO contacts_state VALUES (?, ?, now()::TIMESTAMP)",
            [tenant, fingerprint(settings)],
        )
    return {"full": full, "contacts": rows, "ms": _ms(began)}


def _ms(began: float) -> float:
    return round((time.perf_counter() - began) * 1000, 1)


def warm(store: Store, settings: Settings) -> None:
    """Compile the per-batch refresh once (about 1.4 s) before the first live batch needs it:
    the refresh of no number writes nothing."""
    if not store.on_duckdb or store.schema_version() < MIN_SCHEMA:
        return
    store.con.execute("CREATE OR REPLACE TEMP TABLE contacts_touched (external_number VARCHAR)")
    _insert(store.con, settings, full=False)


def _insert(con: duckdb.DuckDBPyConnection, settings: Settings, full: bool) -> int:
    from callscope.metrics.contacts import computed
    from callscope.metrics.request import make_scope
    from callscope.store import Store

    store = Store.over(con)
    scope = make_scope(store, MetricFilter(tenant=settings.tenant), settings)

    def build() -> ir.Table:
        numbers = None if full else scope.table("contacts_touched")
        return computed(scope, numbers)

    if scope.literal:
        expr = build()
        table = expr.to_pyarrow(params=compiled.bindings(expr, scope))
    else:
        table = compiled.run(store.ibis, ("contacts.refresh", full, scope.shape), build, scope)
    if table.num_rows == 0:
        return 0
    cols = ", ".join(COLUMNS)
    con.register("contacts_fresh", table)
    try:
        con.execute(
            f"INSERT INTO contacts (tenant, {cols}) SELECT $1, {cols} FROM contacts_fresh"
            " ORDER BY first_missed_at, contact_id",
            [settings.tenant],
        )
        con.execute(
            "INSERT INTO contact_calls SELECT $1, unnest(call_ids), contact_id, external_number"
            " FROM contacts_fresh",
            [settings.tenant],
        )
    finally:
        con.unregister("contacts_fresh")
    return int(table.num_rows)


def ensure_contacts(store: Store, settings: Settings) -> dict[str, Any] | None:
    """Rebuild the tenant's kept contacts when they were built under other settings (or never):
    a step for `callscope serve` and reports, so requests read the table. None: up to date."""
    con = store.con
    if not store.on_duckdb or store.schema_version() < MIN_SCHEMA:
        return None
    if built_with(con, settings.tenant) == fingerprint(settings):
        return None
    with transaction(con):
        return refresh_contacts(con, settings, None)
