"""Compiled SQL reused across requests (callscope.metrics.compiled): a report asked again for
another period, tenant, agent or line runs the SQL compiled for the first request with the new
values put in, and must give exactly what compiling afresh gives.

With `VERIFY` on, every reuse is also compiled afresh and the two SQL texts must be identical;
the figures are compared with the uncached path (every query compiled with its values as
literals, as before the cache existed, and as Spark still runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pytest

import test_metrics_scenarios as sc
from callscope.metrics import REPORTS, MetricFilter, compiled
from callscope.settings import AgentConfig, MetricsSettings, ScheduleSettings, Settings
from callscope.store import Store, open_store
from callscope.testing import import_text

HISTORY = sc.EVERY_EDGE
AGENTS = {
    "101": AgentConfig(name="Anna Petrova", team="sales"),
    "102": AgentConfig(name="Boris Smirnov", team="sales"),
    "103": AgentConfig(name="Viktor Orlov", team="support"),
}
AROUND_THE_CLOCK = Settings(timezone="Europe/Moscow", region="RU", agents=AGENTS)
OFFICE = Settings(
    timezone="Europe/Moscow",
    region="RU",
    agents=AGENTS,
    schedule=ScheduleSettings(**sc.OFFICE_HOURS),
    metrics=MetricsSettings(peak_hours=[10, 11]),
)
# Kyiv changes its offset twice a year: local time runs through the transition slots.
KYIV = Settings(timezone="Europe/Kyiv", region="RU", agents=AGENTS)
# Day, month and all time share one shape: the first compiles, the others reuse its SQL.
PERIODS = [
    MetricFilter(date_from=date(2026, 1, 12), date_to=date(2026, 1, 12)),
    MetricFilter(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)),
    MetricFilter(),
]
# Shapes with more filters (slow: each compiles anew): one agent, then one team (the same
# shape), customers' numbers with a direction.
FILTERS = [
    MetricFilter(date_from=date(2026, 1, 12), date_to=date(2026, 1, 13), agents=("101",)),
    MetricFilter(teams=("sales",)),
    MetricFilter(numbers=("89161110003", "+79161110005"), direction="inbound"),
]
RUNS = [(name, {}, AROUND_THE_CLOCK) for name in REPORTS] + [
    ("service", {"by": "hour"}, KYIV),
    ("service", {"by": "agent"}, AROUND_THE_CLOCK),
    ("agents", {}, OFFICE),
    ("agents", {}, KYIV),
    ("missed", {}, OFFICE),
    ("callbacks", {}, KYIV),
]
NAMES = {id(AROUND_THE_CLOCK): "24h", id(OFFICE): "office", id(KYIV): "dst"}
IDS = [f"{n}{o}-{NAMES[id(s)]}" for n, o, s in RUNS]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with open_store(None) as store:
        import_text(store, tmp_path_factory.mktemp("compiled"), HISTORY, settings=OFFICE)
        yield store


@pytest.fixture(autouse=True)
def verify(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compiled, "VERIFY", True)


def uncached(store: Store, name: str, flt: MetricFilter, settings: Settings, **options: Any) -> Any:
    compiled.ENABLED = False
    try:
        return REPORTS[name](store, flt, settings, **options).as_json()
    finally:
        compiled.ENABLED = True


@pytest.mark.parametrize(
    ("name", "options", "settings"), RUNS[: len(REPORTS)], ids=IDS[: len(REPORTS)]
)
def test_reused_sql_gives_the_figures_of_a_fresh_compile(
    store: Store, name: str, options: dict[str, Any], settings: Settings
) -> None:
    compiled.CACHE.clear()
    first, *later = PERIODS
    cached = REPORTS[name](store, first, settings, **options).as_json()
    assert cached == uncached(store, name, first, settings, **options)
    for flt in later:  # VERIFY: the reused SQL is what compiling afresh writes
        REPORTS[name](store, flt, settings, **options)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "options", "settings"), RUNS, ids=IDS)
def test_every_filter_shape_gives_the_figures_of_a_fresh_compile(
    store: Store, name: str, options: dict[str, Any], settings: Settings
) -> None:
    for flt in PERIODS + FILTERS:
        cached = REPORTS[name](store, flt, settings, **options).as_json()
        assert cached == uncached(store, name, flt, settings, **options), flt


def test_another_period_or_agent_compiles_nothing_new(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compiled, "VERIFY", False)
    compiled.CACHE.clear()
    jan = MetricFilter(date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
    REPORTS["agents"](store, jan, OFFICE)
    REPORTS["agents"](store, MetricFilter(), OFFICE)  # all time: one query more (the span)
    first = compiled.CACHE.misses
    assert first > 0
    for flt in (
        MetricFilter(date_from=date(2026, 1, 12), date_to=date(2026, 1, 12)),
        MetricFilter(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)),
        MetricFilter(),  # all time has a period's shape
        MetricFilter(tenant="nobody"),
    ):
        REPORTS["agents"](store, flt, OFFICE)
    assert compiled.CACHE.misses == first
    REPORTS["agents"](store, MetricFilter(agents=("101",)), OFFICE)  # a new shape: one filter more
    with_agent = compiled.CACHE.misses
    REPORTS["agents"](store, MetricFilter(agents=("102", "103")), OFFICE)
    assert compiled.CACHE.misses == with_agent


def test_a_value_with_quotes_is_a_literal_not_sql(store: Store) -> None:
    flt = MetricFilter(lines=("x') OR ('1' = '1",))
    rows = REPORTS["summary"](store, flt, AROUND_THE_CLOCK).rows
    assert rows[0]["calls"] == 0
    assert REPORTS["summary"](store, MetricFilter(), AROUND_THE_CLOCK).rows[0]["calls"] == 20


def test_template_cuts_sql_at_parameters_and_drops_unread_ones() -> None:
    backend = ibis.duckdb.connect()
    t = ibis.table({"ts": "timestamp", "a": "string"}, name="t")
    since = compiled.param("test.since", "timestamp", lambda s: s["since"])
    unread = compiled.param("test.unread", "string", lambda s: s["unread"])
    expr = t.mutate(x=unread).filter(t.ts >= since).select("a")
    template = compiled.compile_template(backend, expr)
    assert template is not None
    assert template.names == ("test.since",)
    values = {"since": datetime(2026, 1, 12, 7), "unread": "o'k"}
    sql = template.sql(lambda p, v: compiled.render(backend, p.dtype, v), values)
    assert sql == backend.compile(expr, params=compiled.bindings(expr, values))


def test_a_sentinel_the_sql_shows_otherwise_is_not_cached() -> None:
    backend = ibis.duckdb.connect()
    t = ibis.table({"n": "int64"}, name="t")
    n = compiled.param("test.n", "int64", lambda s: 5)
    # n + 1 is still a literal of its own; a cast to string would be the sentinel in disguise
    assert compiled.compile_template(backend, t.filter(t.n > n + 1)) is not None
    disguised = t.filter(t.n.cast("string") == n.cast("string").concat("0"))
    template = compiled.compile_template(backend, disguised)
    assert template is None or template.names == ("test.n",)


def test_spark_and_other_engines_take_the_literal_path(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        scope_flt = MetricFilter(date_from=date(2026, 1, 12), date_to=date(2026, 1, 12))
        from callscope.metrics.scope import make_scope

        assert not make_scope(store, scope_flt, OFFICE).literal
        assert make_scope(store, scope_flt, OFFICE, literal=True).literal


def _above(backend: Any) -> ir.Table:
    """Numbers of a temp table above a parameter, a list parameter and a repeated one."""
    t = backend.table("prepared_numbers")
    least = compiled.param("test.prepared_least", "int64", lambda s: s["least"])
    names = compiled.param("test.prepared_names", "array<string>", lambda s: s["names"])
    return t.filter((t.n > least) & names.contains(t.name) & (t.n + least > least * 2)).select("n")


def _numbers(backend: Any, scope: dict[str, Any]) -> list[int]:
    table = compiled.run(backend, ("test.prepared", id(backend)), lambda: _above(backend), scope)
    return sorted(table.column("n").to_pylist())


def test_a_template_runs_as_a_statement_prepared_once_per_connection() -> None:
    backend = ibis.duckdb.connect()
    backend.con.execute(
        "CREATE TEMP TABLE prepared_numbers AS SELECT i AS n, 'n' || i AS name FROM range(10) t(i)"
    )
    names = [f"n{i}" for i in range(10)]
    assert _numbers(backend, {"least": 6, "names": names}) == [7, 8, 9]
    kept = compiled.PREPARED.by_con[backend.con]
    assert [s.statement is not None for s in kept.values()] == [True]
    # Another value, a list with a quote in it: the same statement, no other.
    assert _numbers(backend, {"least": 2, "names": ["n3", "n4'", "n9"]}) == [3, 9]
    assert len(compiled.PREPARED.by_con[backend.con]) == 1
    # The temp table made anew with other rows: DuckDB plans the statement again.
    backend.con.execute(
        "CREATE OR REPLACE TEMP TABLE prepared_numbers AS"
        " SELECT i AS n, 'n' || i AS name FROM range(100, 103) t(i)"
    )
    assert _numbers(backend, {"least": 100, "names": ["n101", "n102"]}) == [101, 102]
    # A statement prepared inside a transaction rolled back still runs after it.
    compiled.PREPARED.clear()
    backend.con.execute("BEGIN TRANSACTION")
    assert _numbers(backend, {"least": 100, "names": ["n102"]}) == [102]
    backend.con.execute("ROLLBACK")
    assert _numbers(backend, {"least": 101, "names": ["n102"]}) == [102]
    assert len(compiled.PREPARED.by_con[backend.con]) == 1


def test_a_template_duckdb_cannot_prepare_runs_as_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    backend = ibis.duckdb.connect()
    backend.con.execute(
        "CREATE TEMP TABLE prepared_numbers AS SELECT i AS n, 'n' || i AS name FROM range(5) t(i)"
    )
    monkeypatch.setattr(compiled.Template, "statement", lambda self, _: ("SELEC nonsense", ()))
    assert _numbers(backend, {"least": 2, "names": ["n3", "n4"]}) == [3, 4]
    assert _numbers(backend, {"least": 3, "names": ["n3", "n4"]}) == [4]
    [kept] = compiled.PREPARED.by_con[backend.con].values()
    assert kept.statement is None


class _Interrupted:
    """A connection whose every statement is interrupted (as `Cut` does to a live pass)."""

    def execute(self, sql: str) -> None:
        raise duckdb.InterruptException("INTERRUPT Error: Interrupted!")


def test_an_interrupt_while_preparing_reaches_the_caller() -> None:
    """A live pass cut short is not a template DuckDB cannot prepare: the interrupt goes up,
    and the template is prepared on its next run."""
    backend = ibis.duckdb.connect()
    backend.con.execute(
        "CREATE TEMP TABLE prepared_numbers AS SELECT i AS n, 'n' || i AS name FROM range(5) t(i)"
    )
    template = compiled.compile_template(backend, _above(backend))
    assert template is not None
    cut = SimpleNamespace(con=_Interrupted(), compiler=backend.compiler)
    with pytest.raises(duckdb.InterruptException):
        compiled.PREPARED.name(cut, template)
    assert compiled.PREPARED.name(backend, template) is not None
