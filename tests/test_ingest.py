"""importer.ingest_staged: raw records that come from no file (AMI, webhooks) take the import's
own path: keep what is new, re-assemble exactly the calls it touches, in one transaction."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from callscope.importer import ingest_staged
from callscope.settings import Settings
from callscope.sources.asterisk_cdr import AsteriskCdr
from callscope.sources.base import StageContext
from callscope.sources.staging import STAGE_REJECTS_DDL
from callscope.store import Store
from callscope.testing import import_text

# One ring-all queue call (3 agents, 102 answers) and one direct call.
RING_101 = '"","+79262345678","600","queues","","PJSIP/trunk-00000002","PJSIP/101-00000003","Queue","sales","2026-11-22 20:55:23","2026-11-22 20:55:23","2026-11-22 20:55:31",8,8,"NO ANSWER","DOCUMENTATION","1795370123.5","","","1795370123.4",5'
RING_102 = '"","+79262345678","600","queues","","PJSIP/trunk-00000002","PJSIP/102-00000004","Queue","sales","2026-11-22 20:55:25","2026-11-22 20:55:31","2026-11-22 20:56:06",41,35,"ANSWERED","DOCUMENTATION","1795370123.5","","","1795370123.4",10'
RING_103 = '"","+79262345678","600","queues","","PJSIP/trunk-00000002","PJSIP/103-00000005","Queue","sales","2026-11-22 20:55:25","2026-11-22 20:55:25","2026-11-22 20:55:31",6,6,"NO ANSWER","DOCUMENTATION","1795370123.5","","","1795370123.4",13'
DIRECT = '"","+79161110001","101","from-pstn","","PJSIP/trunk-01","PJSIP/101-02","Dial","PJSIP/101,20","2026-11-22 21:00:00","2026-11-22 21:00:04","2026-11-22 21:00:40",40,36,"ANSWERED","DOCUMENTATION","1.1","","","1.1",1'
SOURCE = AsteriskCdr()


def stage(store: Store, tmp_path: Path, settings: Settings, *lines: str) -> str:
    """Typed raw rows in a temp table, as a live intake would build them."""
    path = tmp_path / "batch.csv"
    path.write_text("\n".join(lines) + "\n")
    store.con.execute(STAGE_REJECTS_DDL)
    ctx = StageContext(
        tenant=settings.tenant, timezone=settings.timezone, settings=settings, path=path,
        display_name="batch", import_id=0, head=path.read_text(),
    )  # fmt: skip
    result = SOURCE.stage(store.con, ctx)
    store.con.execute(f"CREATE OR REPLACE TEMP TABLE live_batch AS SELECT * FROM {result.table}")
    return "live_batch"


def snapshot(con: duckdb.DuckDBPyConnection) -> list[object]:
    return [
        con.execute(f"SELECT count(*) FROM {t}").fetchone()
        for t in ("calls", "legs", "raw_asterisk_cdr_v1", "rejects")
    ] + con.execute(
        "SELECT call_id, outcome, answered_by, talk_s FROM calls ORDER BY call_id"
    ).fetchall()


def test_a_late_leg_re_assembles_only_its_call(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    first = stage(store, tmp_path, settings, RING_101, RING_103, DIRECT)
    result = ingest_staged(store, SOURCE, first, settings=settings, origin="live:test")
    assert (result.status, result.records_new, result.calls) == ("imported", 3, 2)
    assert store.con.execute(
        "SELECT call_id, outcome, answered_by FROM calls ORDER BY call_id"
    ).fetchall() == [("1.1", "answered", "101"), ("1795370123.4", "missed", None)]

    late = stage(store, tmp_path, settings, RING_102, RING_101)  # 101 again: already kept
    result = ingest_staged(store, SOURCE, late, settings=settings, origin="live:test")
    assert (result.records_read, result.records_new, result.calls) == (2, 1, 1)
    assert store.con.execute(
        "SELECT call_id, outcome, answered_by, talk_s FROM calls ORDER BY call_id"
    ).fetchall() == [("1.1", "answered", "101", 36.0), ("1795370123.4", "answered", "102", 35.0)]
    assert store.con.execute("SELECT count(*) FROM legs").fetchone() == (4,)
    assert store.con.execute(
        "SELECT file, format, rows_read, rows_new FROM imports ORDER BY import_id"
    ).fetchall() == [("live:test", "asterisk-cdr", 3, 3), ("live:test", "asterisk-cdr", 2, 1)]


def test_the_same_batch_twice_changes_nothing(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    ingest_staged(
        store, SOURCE, stage(store, tmp_path, settings, RING_101, RING_102, RING_103),
        settings=settings, origin="live:test",
    )  # fmt: skip
    before = snapshot(store.con)
    again = ingest_staged(
        store, SOURCE, stage(store, tmp_path, settings, RING_103, RING_102, RING_101),
        settings=settings, origin="live:test",
    )  # fmt: skip
    assert (again.status, again.records_new) == ("unchanged", 0)
    assert snapshot(store.con) == before


def test_live_batches_and_a_file_import_give_the_same_calls(
    tmp_path: Path, settings: Settings, store: Store
) -> None:
    from callscope.store import open_store

    for lines in ([RING_101, DIRECT], [RING_103], [RING_102]):
        ingest_staged(
            store, SOURCE, stage(store, tmp_path, settings, *lines), settings=settings,
            origin="live:test",
        )  # fmt: skip
    with open_store(None) as other:
        import_text(other, tmp_path, "\n".join([RING_101, RING_102, RING_103, DIRECT]),
                    settings=settings)  # fmt: skip
        columns = "call_id, direction, started_at, outcome, answered_by, wait_s, talk_s, end_stage"
        legs = "call_id, leg_no, agent, result, ring_s, talk_s"
        for sql in (
            f"SELECT {columns} FROM calls ORDER BY 1",
            f"SELECT {legs} FROM legs ORDER BY 1, 2",
        ):
            assert store.con.execute(sql).fetchall() == other.con.execute(sql).fetchall()


def test_a_failing_batch_leaves_the_store_as_it_was(
    store: Store, tmp_path: Path, settings: Settings
) -> None:
    ingest_staged(
        store, SOURCE, stage(store, tmp_path, settings, DIRECT), settings=settings,
        origin="live:test",
    )  # fmt: skip
    before = snapshot(store.con)
    store.con.execute("CREATE OR REPLACE TEMP TABLE broken AS SELECT 1 AS record_key, 1 AS row_no")
    with pytest.raises(duckdb.Error):
        ingest_staged(store, SOURCE, "broken", settings=settings, origin="live:test")
    assert snapshot(store.con) == before
    assert store.con.execute("SELECT count(*) FROM imports").fetchone() == (1,)
