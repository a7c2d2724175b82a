"""An unanswered call is attributed to the agent whose phone rang last (design.md 4). The call
keeps that agent (`calls.last_agent_rung`, migration 9), written by the assembler with the
call's legs and back-filled by the migration, both from the rule of `callscope.store.rung`; a
store opened read-only before the migration computes it from the legs (`scope.last_agent_rung`).
The kept column must be that query's answer, and service by agent or team the same either way:
a ring-all answered by the second agent, a sequential hunt back to the first agent, legs whose
ring start is unknown, calls without agent legs, a call re-imported whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import test_metrics_scenarios as sc
from callscope.metrics import REPORTS, MetricFilter
from callscope.metrics.scope import fetch, last_agent_rung, make_scope
from callscope.settings import Settings
from callscope.store import Store, open_store
from callscope.testing import import_text, store_at_schema
from test_agents_first_leg import FILTERS, HUNT_BACK_TO_THE_FIRST
from test_agents_first_leg import settings as settings  # a fixture

HISTORY = sc.EVERY_EDGE + "\n" + HUNT_BACK_TO_THE_FIRST.strip("\n")


def _unanswered(store: Store, settings: Settings, column: str = "NULL") -> dict[str, str | None]:
    rows = store.con.execute(
        f"""SELECT call_id, {column} FROM calls
            WHERE NOT (first_answered_at IS NOT NULL AND coalesce(max_talk_s, 0) >= ?)""",
        [float(settings.min_talk_s)],
    ).fetchall()
    return dict(rows)


def _kept(store: Store, settings: Settings) -> dict[str, str | None]:
    """The kept agent of every unanswered call (the only ones it is read for)."""
    return _unanswered(store, settings, "last_agent_rung")


def _computed(store: Store, settings: Settings) -> dict[str, str | None]:
    """The same, by the query a store without the column runs (calls without agent legs have
    no row there)."""
    scope = make_scope(store, MetricFilter(), settings)
    got = fetch(scope, last_agent_rung(scope))
    found = {r["call_id"]: r["last_agent"] for r in got}
    return {c: found.get(c) for c in _unanswered(store, settings)}


def _service(store: Store, settings: Settings) -> list[Any]:
    return [
        REPORTS["service"](store, flt, settings, by=by).as_json()
        for flt in FILTERS
        for by in ("agent", "team")
    ]


def test_the_call_keeps_its_last_agent_rung_also_when_re_imported_whole(
    tmp_path: Path, settings: Settings
) -> None:
    hunt = HUNT_BACK_TO_THE_FIRST.strip("\n").splitlines()
    with open_store(None) as store:
        # the hunt arrives without its last ring (102 rang last), then whole (101 did)
        import_text(store, tmp_path, "\n".join(hunt[:2]), settings=settings, name="a.csv")
        first = store.con.execute("SELECT last_agent_rung FROM calls").fetchall()
        assert first == [("102",)]
        import_text(store, tmp_path, HISTORY, settings=settings, name="b.csv")
        kept = _kept(store, settings)
        assert kept == _computed(store, settings)
        hunted = store.con.execute(
            "SELECT last_agent_rung FROM calls WHERE caller = '+79263330001'"
        ).fetchall()
        assert hunted == [("101",)]
        # ring-all answered by 102: the last rung is kept as well (answered calls take
        # answered_by in the reports)
        ring_all = store.con.execute(
            "SELECT answered_by, last_agent_rung FROM calls WHERE caller = '+79262345678'"
        ).fetchall()
        assert ring_all == [("102", "103")]
        assert None in kept.values()  # an unanswered call no agent's phone rang for


def _schema_8_copy(source: Store, path: Path) -> None:
    """`source`'s rows in a store at schema 8 (as before migration 9)."""
    con = store_at_schema(source, path, 8)
    # Legs whose ring start is unknown (a source that does not tell it): the hunt's last ring
    # (101) then counts only after every leg with one, so 102 was rung last; a missed call
    # whose only leg has none is still its agent's.
    con.execute(
        """UPDATE legs SET ring_started_at = NULL
           WHERE (call_id IN (SELECT call_id FROM calls WHERE caller = '+79263330001')
                  AND leg_no = 3)
              OR call_id IN (SELECT call_id FROM calls WHERE caller = '89161110005'
                             AND direction = 'inbound')"""
    )
    con.close()


def test_migration_9_back_fills_the_rule_and_service_by_agent_is_the_same_either_way(
    tmp_path: Path, settings: Settings
) -> None:
    with open_store(None) as store:
        import_text(store, tmp_path, HISTORY, settings=settings)
        path = tmp_path / "v8.duckdb"
        _schema_8_copy(store, path)
    with open_store(path, read_only=True) as old:  # `callscope report` does not migrate
        assert old.schema_version() == 8
        assert "last_agent_rung" not in old.ibis.table("calls").columns
        computed = _computed(old, settings)
        want = _service(old, settings)
    assert list(computed.values()).count("102") >= 1
    with open_store(path) as migrated:
        assert migrated.schema_version() >= 9
        assert _kept(migrated, settings) == computed
        hunted = migrated.con.execute(
            "SELECT last_agent_rung FROM calls WHERE caller = '+79263330001'"
        ).fetchall()
        assert hunted == [("102",)]
        assert _service(migrated, settings) == want
