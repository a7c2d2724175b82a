"""Legs carry the facts of their call (migration 6): direction, start, first answer and longest
talk, so the legs-side reports (agents, service by agent or team, load, pickup, the summary's
worst agents) need not join the calls. The copy must always be the call's: written with the
call by the assembler (also when a call is re-assembled), back-filled by the migration, and a
store not yet migrated must give the same reports. Filters on lines, queues and numbers join
the calls (they select few)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import test_metrics_scenarios as sc
from callscope.metrics import REPORTS, MetricFilter
from callscope.settings import Settings
from callscope.store import Store, open_store
from callscope.testing import import_text, store_at_schema

FACTS = {
    "direction": "call_direction",
    "started_at": "call_started_at",
    "first_answered_at": "call_first_answered_at",
    "max_talk_s": "call_max_talk_s",
}
LEGS_SIDE = [
    ("agents", {}),
    ("service", {"by": "agent"}),
    ("service", {"by": "team"}),
    ("load", {}),
    ("pickup", {}),
    ("summary", {}),
]


@pytest.fixture
def settings() -> Settings:
    return Settings(timezone="Europe/Moscow", region="RU", agents={
        "101": {"name": "Anna", "team": "sales"}, "102": {"name": "Boris", "team": "sales"},
        "103": {"name": "Vera", "team": "support"},
    })  # fmt: skip


def _mismatches(store: Store) -> int:
    differs = " OR ".join(f"l.{leg} IS DISTINCT FROM c.{call}" for call, leg in FACTS.items())
    row = store.con.execute(
        f"""SELECT count(*) FROM legs l
            LEFT JOIN calls c ON c.tenant = l.tenant AND c.call_id = l.call_id
            WHERE {differs}"""
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_every_leg_carries_its_calls_facts_also_after_the_call_is_replaced(
    tmp_path: Path, settings: Settings
) -> None:
    lines = sc.RING_ALL_ANSWERED_BY_SECOND.strip("\n").splitlines()
    with open_store(None) as store:
        # the ring-all call arrives first without its answering leg: unanswered, missed
        import_text(store, tmp_path, "\n".join(lines[::2]), settings=settings, name="a.csv")
        row = store.con.execute("SELECT count(*) FROM legs WHERE call_first_answered_at IS NULL")
        assert row.fetchone() == (2,)
        # then whole, with the rest of the scenarios: the call is re-assembled and answered
        import_text(store, tmp_path, sc.EVERY_EDGE, settings=settings, name="b.csv")
        legs = store.con.execute(
            "SELECT count(*), count(call_direction), count(call_first_answered_at) FROM legs"
            " WHERE call_id = (SELECT call_id FROM calls WHERE caller = '+79262345678')"
        ).fetchone()
        assert legs == (3, 3, 3)
        assert _mismatches(store) == 0


def _reports(store: Store, settings: Settings) -> list[Any]:
    flt = MetricFilter()
    return [REPORTS[name](store, flt, settings, **opts).as_json() for name, opts in LEGS_SIDE]


def test_migration_6_back_fills_and_an_unmigrated_store_reports_the_same(
    tmp_path: Path, settings: Settings
) -> None:
    with open_store(None) as store:
        import_text(store, tmp_path, sc.EVERY_EDGE, settings=settings)
        want_legs = store.con.execute("SELECT * FROM legs ORDER BY call_id, leg_no").fetchall()
        want = _reports(store, settings)
        path = tmp_path / "v5.duckdb"
        store_at_schema(store, path, 5).close()
    with open_store(path, read_only=True) as old:  # `callscope report` does not migrate
        assert old.schema_version() == 5
        assert _reports(old, settings) == want
    with open_store(path) as migrated:
        assert migrated.schema_version() >= 6
        got = migrated.con.execute("SELECT * FROM legs ORDER BY call_id, leg_no").fetchall()
        assert got == want_legs
        assert _reports(migrated, settings) == want


@pytest.mark.parametrize(
    ("flt", "where"),
    [
        (MetricFilter(numbers=("8 916 111-00-03",)), "c.external_number = '+79161110003'"),
        (MetricFilter(queues=("sales",)), "c.queue = 'sales'"),
        (MetricFilter(lines=("nowhere",)), "false"),
        (MetricFilter(direction="outbound"), "false"),
    ],
)
def test_filtered_scorecards_count_the_legs_of_the_filtered_calls(
    tmp_path: Path, settings: Settings, flt: MetricFilter, where: str
) -> None:
    with open_store(None) as store:
        import_text(store, tmp_path, sc.EVERY_EDGE, settings=settings)
        want = store.con.execute(
            f"""SELECT l.agent, count(*) FROM legs l
                JOIN calls c ON c.tenant = l.tenant AND c.call_id = l.call_id
                WHERE l.destination_kind = 'agent' AND c.direction = 'inbound' AND {where}
                GROUP BY 1"""
        ).fetchall()
        rows = REPORTS["agents"](store, flt, settings).rows
        got = {(r["agent"], r["offered"]) for r in rows if r["kind"] == "agent" and r["offered"]}
        assert got == set(want)
        if want:
            assert (
                sum(n for _, n in want)
                < store.con.execute(
                    "SELECT count(*) FROM legs WHERE destination_kind = 'agent'"
                ).fetchone()[0]
            )  # type: ignore[index]
