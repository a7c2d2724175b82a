"""The first-attempt answer rate read off the first calls the importer marks
(`calls.first_of_day`) is the rate the service report computes from the calls: for every
grouping, across DST days, in a half-hour zone, with calls of the same second, internal calls,
calls without a number and filters; and the marks follow later imports and a change of zone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import test_metrics_scenarios as sc
from callscope.metrics import MetricFilter, first_calls
from callscope.metrics.first_calls import computed, ensure_first_calls, fingerprint
from callscope.metrics.request import make_scope
from callscope.metrics.service import GROUPINGS, service
from callscope.settings import AgentConfig, Settings
from callscope.store import Store, open_store
from callscope.testing import import_text
from test_metrics_engines import same
from test_metrics_engines import spark as spark  # a fixture

# Local times of the tenant. Berlin: 29 March 02:00 -> 03:00, 25 October 03:00 -> 02:00.
# +4930111: the last second of one day, the first of the next, then after the jump;
# +4930222: both sides of the jump, one local day; +4930333 / +4930444: two calls of the same
# second, the missed one first by call_id / the answered one first; +4930555: late evening and
# the hour the clocks repeat; then an internal call and a call without a number.
MARCH = """
"","+4930111","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,30","2026-03-28 23:59:59","2026-03-29 00:00:04","2026-03-29 00:00:40",41,36,"ANSWERED","DOCUMENTATION","10.1","","","10.1",1
"","+4930111","101","from-pstn","","PJSIP/trunk-02","PJSIP/101-02","Dial","PJSIP/101,30","2026-03-29 00:00:00","","2026-03-29 00:00:20",20,0,"NO ANSWER","DOCUMENTATION","11.1","","","11.1",2
"","+4930111","102","from-pstn","","PJSIP/trunk-03","PJSIP/102-03","Dial","PJSIP/102,30","2026-03-29 03:30:00","2026-03-29 03:30:05","2026-03-29 03:31:05",65,60,"ANSWERED","DOCUMENTATION","12.1","","","12.1",3
"","+4930222","101","from-pstn","","PJSIP/trunk-04","PJSIP/101-04","Dial","PJSIP/101,30","2026-03-29 01:59:59","","2026-03-29 02:00:19",20,0,"NO ANSWER","DOCUMENTATION","13.1","","","13.1",4
"","+4930222","102","from-pstn","","PJSIP/trunk-05","PJSIP/102-05","Dial","PJSIP/102,30","2026-03-29 03:00:00","2026-03-29 03:00:05","2026-03-29 03:01:05",65,60,"ANSWERED","DOCUMENTATION","14.1","","","14.1",5
"""
OCTOBER = """
"","+4930333","101","from-pstn","","PJSIP/trunk-06","PJSIP/101-06","Dial","PJSIP/101,30","2026-10-25 10:00:00","","2026-10-25 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","70.1","","","70.1",6
"","+4930333","102","from-pstn","","PJSIP/trunk-07","PJSIP/102-07","Dial","PJSIP/102,30","2026-10-25 10:00:00","2026-10-25 10:00:05","2026-10-25 10:01:05",65,60,"ANSWERED","DOCUMENTATION","71.1","","","71.1",7
"","+4930444","102","from-pstn","","PJSIP/trunk-08","PJSIP/102-08","Dial","PJSIP/102,30","2026-10-25 11:00:00","2026-10-25 11:00:05","2026-10-25 11:01:05",65,60,"ANSWERED","DOCUMENTATION","72.1","","","72.1",8
"","+4930444","101","from-pstn","","PJSIP/trunk-09","PJSIP/101-09","Dial","PJSIP/101,30","2026-10-25 11:00:00","","2026-10-25 11:00:20",20,0,"NO ANSWER","DOCUMENTATION","73.1","","","73.1",9
"","+4930555","101","from-pstn","","PJSIP/trunk-10","PJSIP/101-10","Dial","PJSIP/101,30","2026-10-24 23:30:00","","2026-10-24 23:30:20",20,0,"NO ANSWER","DOCUMENTATION","74.1","","","74.1",10
"","+4930555","102","from-pstn","","PJSIP/trunk-11","PJSIP/102-11","Dial","PJSIP/102,30","2026-10-25 02:30:00","2026-10-25 02:30:05","2026-10-25 02:31:05",65,60,"ANSWERED","DOCUMENTATION","75.1","","","75.1",11
"","103","102","from-internal","","PJSIP/103-12","PJSIP/102-12","Dial","PJSIP/102,30","2026-10-25 09:00:00","2026-10-25 09:00:05","2026-10-25 09:01:05",65,60,"ANSWERED","DOCUMENTATION","76.1","","","76.1",12
"","","101","from-pstn","","PJSIP/trunk-13","PJSIP/101-13","Dial","PJSIP/101,30","2026-10-25 09:10:00","","2026-10-25 09:10:20",20,0,"NO ANSWER","DOCUMENTATION","77.1","","","77.1",13
"""
# A later batch: an earlier call of +4930333 the same day, and a new customer answered at once.
LATER = """
"","+4930333","101","from-pstn","","PJSIP/trunk-14","PJSIP/101-14","Dial","PJSIP/101,30","2026-10-25 08:00:00","2026-10-25 08:00:05","2026-10-25 08:01:05",65,60,"ANSWERED","DOCUMENTATION","80.1","","","80.1",14
"","+4930666","101","from-pstn","","PJSIP/trunk-15","PJSIP/101-15","Dial","PJSIP/101,30","2026-10-25 12:00:00","2026-10-25 12:00:05","2026-10-25 12:01:05",65,60,"ANSWERED","DOCUMENTATION","81.1","","","81.1",15
"""
AGENTS = {"101": AgentConfig(name="Anna", team="sales"), "102": AgentConfig(name="Boris")}
ZONES = ("Europe/Berlin", "Asia/Kolkata", "Europe/Moscow")


@pytest.fixture(scope="module", params=ZONES)
def settings(request: pytest.FixtureRequest) -> Settings:
    return Settings(timezone=request.param, agents=AGENTS)


def imported(tmp: Path, settings: Settings) -> Store:
    s = open_store(None)
    import_text(s, tmp, MARCH, settings=settings, name="march.csv")
    import_text(s, tmp, OCTOBER, settings=settings, name="october.csv")
    import_text(s, tmp, sc.EVERY_EDGE, settings=settings, name="edge.csv")
    return s


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Store]:
    """Read by every test of a zone (the tests that import more use `fresh`)."""
    with imported(tmp_path_factory.mktemp("firsts"), settings) as s:
        yield s


@pytest.fixture
def fresh(tmp_path: Path, settings: Settings) -> Iterator[Store]:
    with imported(tmp_path, settings) as s:
        yield s


def marked(store: Store) -> list[str]:
    rows = store.con.execute("SELECT call_id FROM calls WHERE first_of_day").fetchall()
    return sorted(r[0] for r in rows)


def from_calls(store: Store, settings: Settings) -> list[str]:
    scope = make_scope(store, MetricFilter(), settings, literal=True)
    return sorted(r["call_id"] for r in computed(scope).to_pyarrow().to_pylist())


def both_paths(
    store: Store, flt: MetricFilter, settings: Settings, by: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], dict[str, Any], bool]:
    """The report as served, and computed from the calls; whether the served one read marks."""
    scope = make_scope(store, flt, settings)
    used = first_calls.usable(scope)
    served = service(store, flt, settings, by=by).as_json()
    with monkeypatch.context() as m:
        m.setattr(first_calls, "usable", lambda scope: False)
        plain = service(store, flt, settings, by=by).as_json()
    return served, plain, used


# Filters that keep all of a customer's day or none of it: the marks hold.
WHOLE_DAYS = {
    "march 29": MetricFilter(date_from=date(2026, 3, 29), date_to=date(2026, 3, 29)),
    "autumn": MetricFilter(date_from=date(2026, 10, 24), date_to=date(2026, 10, 25)),
    "numbers": MetricFilter(numbers=("+4930333", "+4930555")),
    "inbound": MetricFilter(direction="inbound"),
}
# Filters that can drop a customer's first call of the day and keep a later one.
PART_DAYS = {
    "agent": MetricFilter(agents=("101",)),
    "team": MetricFilter(teams=("sales",)),
    "queue": MetricFilter(queues=("sales",)),
    "line": MetricFilter(lines=("600",)),
}


@pytest.mark.parametrize("by", GROUPINGS)
def test_the_marked_first_calls_give_the_computed_rates(
    store: Store, settings: Settings, by: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served, plain, used = both_paths(store, MetricFilter(), settings, by, monkeypatch)
    assert used
    assert served == plain


@pytest.mark.parametrize("by", ("day", "hour", "agent"))
@pytest.mark.parametrize("name", WHOLE_DAYS)
def test_a_filter_of_whole_customer_days_reads_the_marks(
    store: Store, settings: Settings, by: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    served, plain, used = both_paths(store, WHOLE_DAYS[name], settings, by, monkeypatch)
    assert used
    assert served == plain


@pytest.mark.parametrize("name", PART_DAYS)
def test_a_filter_of_part_of_a_day_computes_the_first_calls(
    store: Store, settings: Settings, name: str
) -> None:
    assert not first_calls.usable(make_scope(store, PART_DAYS[name], settings))


def test_the_marks_are_the_first_inbound_call_of_each_customer_and_local_day(
    store: Store, settings: Settings
) -> None:
    assert marked(store) == from_calls(store, settings)
    got = service(store, MetricFilter(), settings, by="day").as_json()
    rate = {r["day"]: r["first_attempt_answer_rate"] for r in got["rows"]}
    # 28 March: +4930111 answered at 23:59:59. 29 March: +4930111 missed at 00:00:00, and
    # +4930222 missed before the jump (both called again and answered later that day).
    assert rate["2026-03-28"] == 1.0 and rate["2026-03-29"] == 0.0
    # 25 October: of two calls in the same second the one with the smaller call_id counts
    # (+4930333 missed, +4930444 answered); +4930555 answered in the repeated hour; the
    # internal call and the call without a number are no customers.
    assert rate["2026-10-25"] == 2 / 3 and rate["2026-10-24"] == 0.0


def test_a_later_batch_marks_the_days_it_changes(
    fresh: Store, settings: Settings, tmp_path: Path
) -> None:
    store = fresh
    import_text(store, tmp_path, LATER, settings=settings, name="later.csv")
    assert marked(store) == from_calls(store, settings)
    assert "80.1" in " ".join(marked(store)) and "70.1" not in " ".join(marked(store))
    import_text(store, tmp_path, OCTOBER, settings=settings, name="october-again.csv")
    assert marked(store) == from_calls(store, settings)


def test_marks_of_another_zone_are_not_read_until_rebuilt(fresh: Store, settings: Settings) -> None:
    store = fresh
    other = settings.model_copy(update={"timezone": "America/St_Johns"})  # -03:30, DST
    assert fingerprint(other) != fingerprint(settings)
    assert not first_calls.usable(make_scope(store, MetricFilter(), other))
    kept_before = service(store, MetricFilter(), other, by="day").as_json()
    done = ensure_first_calls(store, other)
    assert done is not None and done["full"]
    assert first_calls.usable(make_scope(store, MetricFilter(), other))
    assert marked(store) == from_calls(store, other)
    assert service(store, MetricFilter(), other, by="day").as_json() == kept_before
    assert ensure_first_calls(store, other) is None


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.parametrize("by", ("day", "line", "agent"))
def test_spark_computes_the_rates_duckdb_reads_off_the_marks(
    spark_store: Store, store: Store, settings: Settings, by: str
) -> None:
    duck = service(store, MetricFilter(), settings, by=by).as_json()
    assert same(service(spark_store, MetricFilter(), settings, by=by).as_json()) == same(duck)


@pytest.fixture(scope="module")
def spark_store(spark: Any, store: Store) -> Store:
    """This zone's calls in Spark (as Arrow), which has no marks and computes first calls."""
    for name in ("calls", "legs", "agent_states"):
        frame = spark._session.createDataFrame(store.ibis.table(name).to_pyarrow())
        frame.createOrReplaceTempView(name)
    return Store(ibis=spark, con=None, path=None)  # type: ignore[arg-type]


def test_a_call_that_comes_back_under_another_number_gives_its_old_day_a_first_call(
    fresh: Store, settings: Settings
) -> None:
    """+4930444's first call of 25 October (72.1, answered, closing no contact) is
    re-assembled under another number: the missed call of the same second (73.1) becomes the
    first of +4930444's day. The batch knows the old number only from the assembler's
    `asm_replaced` (the calls as they were before it replaced them); here the re-assembly is
    done by hand, as the assembler leaves the tables."""
    con = fresh.con
    assert con is not None
    con.execute("BEGIN TRANSACTION")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE asm_replaced AS SELECT tenant, call_id, external_number,"
        " started_at FROM calls WHERE call_id = '72.1'"
    )
    con.execute("UPDATE calls SET external_number = '+4930999', first_of_day = false"
                " WHERE call_id = '72.1'")  # fmt: skip
    con.execute("CREATE OR REPLACE TEMP TABLE batch_keys AS SELECT '72.1' AS k")
    first_calls.refresh_first_calls(con, settings, "batch_keys", batch_ready=False)
    con.execute("COMMIT")
    assert marked(fresh) == from_calls(fresh, settings)
    assert {"72.1", "73.1"} <= set(marked(fresh))
