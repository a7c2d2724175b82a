"""The missed contacts the store keeps (tables `contacts`, `contact_calls`) are the contacts
the metric layer computes from the calls: after a first import, after later imports that touch
some numbers, after re-importing a file, and never stale when the settings change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import test_metrics_scenarios as sc
from callscope.metrics import MetricFilter, call_colours, missed
from callscope.metrics.contacts import computed
from callscope.metrics.contacts_table import COLUMNS, ensure_contacts, fingerprint, warm
from callscope.metrics.request import make_scope
from callscope.settings import AgentConfig, ScheduleSettings, Settings, load_settings
from callscope.store import Store, open_store
from callscope.testing import import_text

MOSCOW = Settings(timezone="Europe/Moscow")
OFFICE = MOSCOW.model_copy(update={"schedule": ScheduleSettings(**sc.OFFICE_HOURS)})
# A chain of misses that began nine days (more than the 7-day horizon) before the day asked:
# one contact over the number's whole history, dated by its first miss.
LONG_CHAIN = """
"","89161110011","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,30","2026-01-03 10:00:00","","2026-01-03 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","91.1","","","91.1",1
"","89161110011","101","from-pstn","","PJSIP/trunk-02","PJSIP/101-02","Dial","PJSIP/101,30","2026-01-12 10:00:00","","2026-01-12 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","92.1","","","92.1",2
"""


@pytest.fixture
def store() -> Iterator[Store]:
    with open_store(None) as s:
        yield s


def _norm(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    out = []
    for r in rows:
        r = dict(r)
        r["agents_rung"] = sorted(r["agents_rung"] or [])
        out.append(tuple(r[c] for c in COLUMNS))
    return sorted(out, key=repr)


def kept(store: Store, settings: Settings) -> list[tuple[Any, ...]]:
    cols = ", ".join(COLUMNS)
    cur = store.con.execute(f"SELECT {cols} FROM contacts WHERE tenant = ?", [settings.tenant])
    names = [d[0] for d in cur.description]
    return _norm([dict(zip(names, row, strict=True)) for row in cur.fetchall()])


def links(store: Store) -> list[tuple[Any, ...]]:
    return sorted(store.con.execute("SELECT call_id, contact_id FROM contact_calls").fetchall())


def from_calls(store: Store, settings: Settings) -> list[tuple[Any, ...]]:
    """Every contact computed from the calls (a literal scope: no table, no cached SQL)."""
    scope = make_scope(store, MetricFilter(), settings, literal=True)
    return _norm(computed(scope).to_pyarrow().to_pylist())


def link_rows(store: Store, settings: Settings) -> list[tuple[Any, ...]]:
    scope = make_scope(store, MetricFilter(), settings, literal=True)
    rows = computed(scope).to_pyarrow().to_pylist()
    return sorted((c, r["contact_id"]) for r in rows for c in r["call_ids"])


def status(store: Store, settings: Settings, day: date | None = None) -> dict[str, Any]:
    flt = MetricFilter(date_from=day, date_to=day) if day else MetricFilter()
    return {
        r["contact_id"]: (r["status"], r["attempts"], r["colour"])
        for r in missed(store, flt, settings).as_json()["rows"]
    }


@pytest.mark.parametrize("settings", [MOSCOW, OFFICE], ids=["always-open", "office-hours"])
def test_the_kept_contacts_of_every_edge_are_the_computed_ones(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    import_text(store, tmp_path, sc.EVERY_EDGE + "\n" + LONG_CHAIN.strip("\n"), settings=settings)
    table = kept(store, settings)
    assert len(table) == 9
    assert table == from_calls(store, settings)
    assert links(store) == link_rows(store, settings)


def test_a_later_import_of_some_numbers_equals_a_full_build(store: Store, tmp_path: Path) -> None:
    lines = [line for line in sc.EVERY_EDGE.splitlines() if line.strip()]
    import_text(store, tmp_path, "\n".join(lines[::2]), settings=OFFICE, name="a.csv")
    import_text(store, tmp_path, "\n".join(lines[1::2]), settings=OFFICE, name="b.csv")
    with open_store(None) as whole:
        import_text(whole, tmp_path, sc.EVERY_EDGE, settings=OFFICE, name="all.csv")
        assert kept(store, OFFICE) == kept(whole, OFFICE) == from_calls(store, OFFICE)
        assert links(store) == links(whole)


def test_a_later_callback_resolves_the_contact_it_answers(store: Store, tmp_path: Path) -> None:
    misses, callback = sc.THREE_MISSED_THEN_CALLBACK.strip("\n").rsplit("\n", 1)
    import_text(store, tmp_path, misses, settings=MOSCOW, name="a.csv")
    assert status(store, MOSCOW) == {"21.1": ("open", 3, "red")}
    import_text(store, tmp_path, callback, settings=MOSCOW, name="b.csv")
    assert status(store, MOSCOW) == {"21.1": ("called_back", 3, "yellow")}  # 15 min: over the SLA
    assert kept(store, MOSCOW) == from_calls(store, MOSCOW)


def test_re_importing_a_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    import_text(store, tmp_path, sc.EVERY_EDGE, settings=MOSCOW)
    before = (kept(store, MOSCOW), links(store))
    import_text(store, tmp_path, sc.EVERY_EDGE, settings=MOSCOW)
    assert (kept(store, MOSCOW), links(store)) == before


def test_a_chain_of_misses_longer_than_the_horizon_is_one_contact(
    store: Store, tmp_path: Path
) -> None:
    import_text(store, tmp_path, LONG_CHAIN, settings=MOSCOW)
    assert status(store, MOSCOW) == {"91.1": ("open", 2, "red")}
    # The day of the second miss holds no contact of its own: it continues the first one.
    assert status(store, MOSCOW, date(2026, 1, 12)) == {}
    monday = MetricFilter(date_from=date(2026, 1, 12), date_to=date(2026, 1, 12))
    rows = call_colours(store, monday, MOSCOW).to_pyarrow().to_pylist()
    assert [(r["call_id"], r["contact_id"]) for r in rows] == [("92.1", "91.1")]


@pytest.mark.parametrize(
    "changed",
    [
        MOSCOW.model_copy(update={"min_talk_s": 7}),  # the 6-second call becomes a miss
        MOSCOW.model_copy(update={"schedule": ScheduleSettings(**sc.OFFICE_HOURS)}),
        MOSCOW.model_copy(update={"timezone": "Asia/Vladivostok"}),
        MOSCOW.model_copy(
            update={"metrics": MOSCOW.metrics.model_copy(update={"callback_sla_min": 1})}
        ),
        MOSCOW.model_copy(
            update={"agents": {"101": AgentConfig(team="sales"), "102": AgentConfig(team="ops")}}
        ),
    ],
    ids=["min_talk_s", "schedule", "timezone", "callback_sla_min", "teams"],
)
def test_other_settings_never_read_stale_rows(
    store: Store, tmp_path: Path, changed: Settings
) -> None:
    import_text(store, tmp_path, sc.EVERY_EDGE, settings=MOSCOW)
    assert fingerprint(changed) != fingerprint(MOSCOW)
    truth = {  # computed from the calls under the new settings
        r[0]: r for r in from_calls(store, changed)
    }
    before = status(store, MOSCOW)
    # The table holds MOSCOW's rows: a report under other settings computes its own.
    got = missed(store, MetricFilter(), changed).as_json()["rows"]
    assert {r["contact_id"] for r in got} == set(truth)
    assert {r["contact_id"]: r["colour"] for r in got} == {
        k: v[COLUMNS_INDEX["colour"]] for k, v in truth.items()
    }
    # Rebuilt under the new settings: the old settings' queries (compiled SQL cached while
    # the table was theirs) now compute theirs, and give what they gave before.
    assert ensure_contacts(store, changed) is not None
    assert kept(store, changed) == from_calls(store, changed)
    assert status(store, MOSCOW) == before
    assert ensure_contacts(store, changed) is None


COLUMNS_INDEX = {c: i for i, c in enumerate(COLUMNS)}


def test_ground_truth_store_keeps_the_computed_contacts(tmp_path: Path) -> None:
    from callscope.importer import import_files
    from callscope.simulate import load_profile, simulate
    from callscope.simulate.compare import import_settings
    from callscope.simulate.writers import write_history

    trace = simulate(load_profile("support-queue"), date(2026, 3, 2), 1, seed=11)
    write_history(trace, load_profile("support-queue"), tmp_path, ["asterisk-cel"])
    settings = import_settings(trace)
    with open_store(None) as store:
        import_files(store, [tmp_path / "cel.csv"], settings=settings)
        table = kept(store, settings)
        assert len(table) > 10
        assert table == from_calls(store, settings)
        assert links(store) == link_rows(store, settings)


def test_warming_the_refresh_writes_nothing(store: Store, tmp_path: Path) -> None:
    import_text(store, tmp_path, sc.EVERY_EDGE, settings=MOSCOW)
    before = (kept(store, MOSCOW), links(store))
    warm(store, MOSCOW)
    assert (kept(store, MOSCOW), links(store)) == before


def test_a_setting_written_as_7_or_7_0_is_the_same_fingerprint(
    store: Store, tmp_path: Path
) -> None:
    """A config's whole numbers come back as floats when a command line option is merged in
    (`serve --db`): the table built by the import must still be the one the server reads."""
    config = tmp_path / "callscope.toml"
    config.write_text(
        'timezone = "Europe/Moscow"\nmin_talk_s = 6\n\n'
        "[metrics]\nresolution_horizon_days = 7\ncallback_sla_min = 10\n",
        encoding="utf-8",
    )
    imported = load_settings(config)
    served = load_settings(config, db=tmp_path / "other.duckdb")
    assert fingerprint(served) == fingerprint(imported)
    import_text(store, tmp_path, sc.EVERY_EDGE, settings=imported)
    assert ensure_contacts(store, served) is None  # nothing to rebuild
