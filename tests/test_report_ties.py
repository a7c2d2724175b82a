"""Calls at the same second: a contact's first call (its `contact_id`, the key the notifier
remembers), its last call (end stage, line, queue), its attributed agent (the last one rung) and
its first callback attempt are each one call, whatever order the engine meets the rows in, in
the kept table and computed from the calls alike (and on Spark: `pytest -m spark`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from callscope.metrics import MetricFilter, missed
from callscope.metrics.contacts import computed
from callscope.metrics.contacts_table import COLUMNS
from callscope.metrics.request import make_scope
from callscope.settings import Settings
from callscope.store import Store, open_store
from callscope.testing import import_text

MOSCOW = Settings(timezone="Europe/Moscow", region="RU")
# Two calls of one customer start at 10:00:00 (the later id is listed first and rang agent
# 102); two callback attempts that did not connect start at 10:05:00; a callback connects at
# 10:20.
SAME_SECOND = """
"","89161110021","102","from-pstn","","PJSIP/trunk-02","PJSIP/102-02","Dial","PJSIP/102,30","2026-01-12 10:00:00","","2026-01-12 10:00:20",20,0,"NO ANSWER","DOCUMENTATION","52.1","","","52.1",2
"","89161110021","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-01","Dial","PJSIP/101,30","2026-01-12 10:00:00","","2026-01-12 10:00:25",25,0,"NO ANSWER","DOCUMENTATION","51.1","","","51.1",1
"","102","89161110021","from-internal","","PJSIP/102-04","PJSIP/trunk-04","Dial","PJSIP/89161110021@trunk,30","2026-01-12 10:05:00","","2026-01-12 10:05:30",30,0,"NO ANSWER","DOCUMENTATION","54.1","","","54.1",4
"","101","89161110021","from-internal","","PJSIP/101-03","PJSIP/trunk-03","Dial","PJSIP/89161110021@trunk,30","2026-01-12 10:05:00","","2026-01-12 10:05:30",30,0,"NO ANSWER","DOCUMENTATION","53.1","","","53.1",3
"","101","89161110021","from-internal","","PJSIP/101-05","PJSIP/trunk-05","Dial","PJSIP/89161110021@trunk,30","2026-01-12 10:20:00","2026-01-12 10:20:05","2026-01-12 10:21:05",65,60,"ANSWERED","DOCUMENTATION","55.1","","","55.1",5
"""


def _lines(reverse: bool) -> str:
    lines = [line.strip() for line in SAME_SECOND.strip().splitlines()]
    return "\n".join(reversed(lines) if reverse else lines)


@pytest.fixture(params=[False, True], ids=["as-written", "reversed"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with open_store(None) as s:
        import_text(s, tmp_path, _lines(request.param), settings=MOSCOW)
        yield s


def _kept(store: Store) -> list[dict[str, Any]]:
    cols = ", ".join(COLUMNS)
    cur = store.con.execute(f"SELECT {cols} FROM contacts")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_simultaneous_calls_are_told_apart_by_their_ids(store: Store) -> None:
    (row,) = missed(store, MetricFilter(), MOSCOW).rows
    assert row["contact_id"] == "51.1"  # the first of the two in (started_at, call_id)
    assert row["attempts"] == 2
    assert row["agent"] == "102"  # rung by the last of them, 52.1
    assert row["status"] == "called_back"
    assert row["attempted_at"] == "2026-01-12T10:05:00+03:00"
    (kept,) = _kept(store)
    assert (kept["contact_id"], kept["agent"], kept["try_call_id"]) == ("51.1", "102", "53.1")


def test_the_kept_table_and_the_computed_rows_agree(store: Store) -> None:
    scope = make_scope(store, MetricFilter(), MOSCOW, literal=True)
    (fresh,) = computed(scope).to_pyarrow().to_pylist()
    (kept,) = _kept(store)
    assert {c: fresh[c] for c in COLUMNS} == kept


@pytest.mark.spark
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_spark_picks_the_same_calls(tmp_path: Path) -> None:
    import ibis
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("callscope-ties")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        with open_store(None) as duck:
            import_text(duck, tmp_path, _lines(True), settings=MOSCOW)
            for name in ("calls", "legs", "agent_states"):
                frame = session.createDataFrame(duck.ibis.table(name).to_pyarrow())
                frame.createOrReplaceTempView(name)
            spark = Store(ibis=ibis.pyspark.connect(session), con=None, path=None)  # type: ignore[arg-type]
            assert (
                missed(spark, MetricFilter(), MOSCOW).rows
                == missed(duck, MetricFilter(), MOSCOW).rows
            )
    finally:
        session.stop()
