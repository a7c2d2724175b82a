"""An agent's lost calls count the missed calls they were rung for, once per call however often
their phone rang in it. Each leg says whether it is its agent's first of the call (migration
8), so the agents report counts them in its one pass over the legs; a store opened read-only
before the migration counts a distinct over (agent, call) instead, and both must agree, with
every filter (a filter on lines joins the calls and counts the distinct way too)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

import test_metrics_scenarios as sc
from callscope.metrics import REPORTS, MetricFilter
from callscope.settings import Settings
from callscope.store import Store, open_store
from callscope.testing import import_text, store_at_schema

# One call hunting 101, then 102, then 101 again, nobody answering; a second call rings 101
# twice while 103 answers it (not missed: no lost call).
HUNT_BACK_TO_THE_FIRST = '''
"","+79263330001","600","queues",""""" <+79263330001>","PJSIP/trunk-00000010","PJSIP/101-00000011","Queue","sales","2026-01-12 10:00:00","","2026-01-12 10:00:15",15,0,"NO ANSWER","DOCUMENTATION","1768200000.2","","","1768200000.1",1
"","+79263330001","600","queues",""""" <+79263330001>","PJSIP/trunk-00000010","PJSIP/102-00000012","Queue","sales","2026-01-12 10:00:15","","2026-01-12 10:00:30",15,0,"NO ANSWER","DOCUMENTATION","1768200000.2","","","1768200000.1",2
"","+79263330001","600","queues",""""" <+79263330001>","PJSIP/trunk-00000010","PJSIP/101-00000013","Queue","sales","2026-01-12 10:00:30","","2026-01-12 10:00:45",15,0,"NO ANSWER","DOCUMENTATION","1768200000.2","","","1768200000.1",3
"","+79263330002","600","queues",""""" <+79263330002>","PJSIP/trunk-00000020","PJSIP/101-00000021","Queue","sales","2026-01-12 11:00:00","","2026-01-12 11:00:15",15,0,"NO ANSWER","DOCUMENTATION","1768203600.2","","","1768203600.1",1
"","+79263330002","600","queues",""""" <+79263330002>","PJSIP/trunk-00000020","PJSIP/101-00000022","Queue","sales","2026-01-12 11:00:15","","2026-01-12 11:00:30",15,0,"NO ANSWER","DOCUMENTATION","1768203600.2","","","1768203600.1",2
"","+79263330002","600","queues",""""" <+79263330002>","PJSIP/trunk-00000020","PJSIP/103-00000023","Queue","sales","2026-01-12 11:00:30","2026-01-12 11:00:32","2026-01-12 11:02:32",122,120,"ANSWERED","DOCUMENTATION","1768203600.2","","","1768203600.1",3
'''
HISTORY = sc.EVERY_EDGE + "\n" + HUNT_BACK_TO_THE_FIRST.strip("\n")
FIRST_LEG = """CASE WHEN destination_kind = 'agent' AND agent IS NOT NULL THEN
    row_number() OVER (PARTITION BY tenant, call_id, agent, destination_kind ORDER BY leg_no) = 1
    END"""
FILTERS = [
    MetricFilter(),
    MetricFilter(date_from=date(2026, 1, 12), date_to=date(2026, 1, 12)),
    MetricFilter(date_from=date(2026, 1, 13), date_to=date(2026, 11, 30)),
    MetricFilter(agents=("101",)),
    MetricFilter(teams=("sales",)),
    MetricFilter(direction="inbound"),
    MetricFilter(queues=("sales",)),
]


@pytest.fixture
def settings() -> Settings:
    return Settings(timezone="Europe/Moscow", region="RU", agents={
        "101": {"name": "Anna", "team": "sales"}, "102": {"name": "Boris", "team": "sales"},
        "103": {"name": "Vera", "team": "support"},
    })  # fmt: skip


def _agents(store: Store, settings: Settings, flt: MetricFilter) -> dict[Any, dict[str, Any]]:
    rows = REPORTS["agents"](store, flt, settings).as_json()["rows"]
    return {(r["kind"], r["agent"] or r["team"]): r for r in rows}


def _wrong_marks(store: Store) -> int:
    row = store.con.execute(
        f"""SELECT count(*) FROM (SELECT agent_first_leg, {FIRST_LEG} AS truth FROM legs)
            WHERE agent_first_leg IS DISTINCT FROM truth"""
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_an_agent_rung_twice_in_a_missed_call_lost_it_once(
    tmp_path: Path, settings: Settings
) -> None:
    with open_store(None) as store:
        import_text(store, tmp_path, HUNT_BACK_TO_THE_FIRST, settings=settings)
        firsts = store.con.execute(
            "SELECT agent, leg_no, agent_first_leg FROM legs ORDER BY call_id, leg_no"
        ).fetchall()
        assert firsts == [("101", 1, True), ("102", 2, True), ("101", 3, False),
                          ("101", 1, True), ("101", 2, False), ("103", 3, True)]  # fmt: skip
        got = _agents(store, settings, MetricFilter())
    figures = {a: (got["agent", a]["offered"], got["agent", a]["lost_calls"]) for a in "101 102 103".split()}  # fmt: skip
    assert figures == {"101": (4, 1), "102": (1, 1), "103": (1, 0)}


def test_the_marks_stay_right_when_a_call_is_replaced(tmp_path: Path, settings: Settings) -> None:
    lines = HUNT_BACK_TO_THE_FIRST.strip("\n").splitlines()
    with open_store(None) as store:
        # the hunt arrives without its first ring, then whole: the call is re-assembled
        import_text(store, tmp_path, "\n".join(lines[1:3]), settings=settings, name="a.csv")
        import_text(store, tmp_path, HISTORY, settings=settings, name="b.csv")
        assert _wrong_marks(store) == 0
        got = _agents(store, settings, MetricFilter())
        missed = store.con.execute(
            """SELECT agent, count(DISTINCT call_id) FROM legs
               WHERE destination_kind = 'agent' AND call_direction = 'inbound'
                 AND NOT (call_first_answered_at IS NOT NULL AND call_max_talk_s >= 6)
               GROUP BY agent"""
        ).fetchall()
    assert {a: got["agent", a]["lost_calls"] for a, _ in missed} == dict(missed)
    assert dict(missed)["101"] == 10


def test_migration_8_back_fills_and_both_counts_agree_under_every_filter(
    tmp_path: Path, settings: Settings
) -> None:
    with open_store(None) as store:
        import_text(store, tmp_path, HISTORY, settings=settings)
        want_legs = store.con.execute("SELECT * FROM legs ORDER BY call_id, leg_no").fetchall()
        want = [_agents(store, settings, flt) for flt in FILTERS]
        path = tmp_path / "v7.duckdb"
        store_at_schema(store, path, 7).close()
    assert [w["agent", "101"]["lost_calls"] for w in want] == [10, 10, 0, 10, 10, 10, 1]
    with open_store(path, read_only=True) as old:  # `callscope report` does not migrate
        assert old.schema_version() == 7
        assert "agent_first_leg" not in old.ibis.table("legs").columns
        assert [_agents(old, settings, flt) for flt in FILTERS] == want
    with open_store(path) as migrated:
        assert migrated.schema_version() >= 8
        assert _wrong_marks(migrated) == 0
        got = migrated.con.execute("SELECT * FROM legs ORDER BY call_id, leg_no").fetchall()
        assert got == want_legs
