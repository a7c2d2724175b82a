"""The agents report's automatic peak hours are the hours of local time with most offered
calls. Over a year of calls, putting every call's start into local time costs more than
counting the calls per quarter of an hour first and putting only the quarters into local
time; that is exact only when the zone's offsets and the instants they change are whole
quarters. Both ways must give the same hours, in zones with daylight saving, half-hour and
quarter-hour offsets, and a zone whose old local mean time is not (which keeps the per-call
way)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from callscope.metrics import REPORTS, MetricFilter
from callscope.metrics.agents import _quarter_aligned, offered_by_hour, peak_hours
from callscope.metrics.request import make_scope
from callscope.metrics.scope import fetch
from callscope.settings import Settings
from callscope.store import Store, open_store

# Inbound calls at pseudo-random seconds over two years, with more of them in the minutes
# around each hour and half hour (where a wrong offset would move them to another hour),
# and outbound ones that must not count.
CALLS = """
INSERT INTO calls BY NAME
SELECT 'c' || i AS call_id, 'default' AS tenant,
       CASE WHEN i % 7 = 0 THEN 'outbound' ELSE 'inbound' END AS direction,
       TIMESTAMP '{start}' + to_seconds(CASE WHEN i % 3 = 0
           THEN (hash(i, 'h') % 17520) * 1800 + (hash(i, 's') % 240) - 120
           ELSE hash(i, 't') % (2 * 365 * 86400) END) AS started_at,
       'missed' AS outcome, 'test' AS source
FROM range({n}) t(i)
"""
ALIGNED = ["Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Lord_Howe",
           "America/St_Johns", "Europe/Moscow", "UTC"]  # fmt: skip


def _store(start: str = "2024-01-01 00:00:00", n: int = 20_000) -> Store:
    store = open_store(None)
    store.con.execute(CALLS.format(start=start, n=n))
    return store


def _by_hour(store: Store, zone: str, flt: MetricFilter, quarters: bool) -> list[Any]:
    scope = make_scope(store, flt, Settings(timezone=zone), literal=True)
    rows = fetch(scope, offered_by_hour(scope, quarters))
    return sorted((r["hour"], r["n"]) for r in rows)


@pytest.fixture(scope="module")
def store() -> Any:
    s = _store()
    yield s
    s.close()


PERIODS = [
    MetricFilter(),
    MetricFilter(date_from=date(2024, 3, 25), date_to=date(2024, 4, 7)),  # DST starts
    MetricFilter(date_from=date(2025, 10, 20), date_to=date(2025, 11, 5)),  # and ends
]


@pytest.mark.parametrize("zone", ALIGNED)
def test_counting_by_quarters_gives_every_hour_the_same_calls(store: Store, zone: str) -> None:
    for flt in PERIODS:
        scope = make_scope(store, flt, Settings(timezone=zone), literal=True)
        assert _quarter_aligned(scope)
        per_call = _by_hour(store, zone, flt, quarters=False)
        assert sum(n for _, n in per_call) > 0
        assert _by_hour(store, zone, flt, quarters=True) == per_call


@pytest.mark.parametrize("zone", ALIGNED)
def test_the_reused_query_picks_the_hours_the_literal_one_does(store: Store, zone: str) -> None:
    for flt in PERIODS:
        for top in (1, 5):
            settings = Settings(timezone=zone, metrics={"peak_hours_auto": top})
            literal = peak_hours(make_scope(store, flt, settings, literal=True))
            reused = peak_hours(make_scope(store, flt, settings))
            assert reused == literal
            assert len(literal) == top


def test_a_zone_of_local_mean_time_counts_per_call() -> None:
    # Monrovia kept -0:44:30 until 1972: its quarters do not fall on the zone's hours.
    with _store(start="1971-01-01 00:00:00", n=3_000) as old:
        settings = Settings(timezone="Africa/Monrovia", metrics={"peak_hours_auto": 5})
        scope = make_scope(old, MetricFilter(), settings)
        assert not _quarter_aligned(scope)
        literal = peak_hours(make_scope(old, MetricFilter(), settings, literal=True))
        assert peak_hours(scope) == literal


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Kathmandu"])
def test_the_load_report_picks_its_peak_hours_from_its_heatmap_as_the_agents_query_does(
    store: Store, zone: str
) -> None:
    for flt in PERIODS:
        for top in (1, 5):
            settings = Settings(timezone=zone, metrics={"peak_hours_auto": top})
            agents = REPORTS["agents"](store, flt, settings).as_json()["settings"]["peak_hours"]
            load = REPORTS["load"](store, flt, settings).as_json()
            assert [h["hour"] for h in load["peak_hours"]] == agents
            heat = load["rows"]
            assert [h["offered"] for h in load["peak_hours"]] == [
                sum(r["offered"] for r in heat if r["hour"] == h) for h in agents
            ]
