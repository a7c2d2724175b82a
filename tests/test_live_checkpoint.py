"""When the store's write-ahead log is written into its file. A DuckDB checkpoint holds up
every transaction of the store while it runs and cannot be interrupted; left to DuckDB it runs
inside the commit that takes the log past 16 MiB, most often a bulk pass's, and a missed call
waited for both. The live loop checkpoints between passes instead, and not while a call that
ended unanswered is within its grace, and leaves the row groups they write unmerged until the
intake is quiet. New store and inbox files are written in the format of the oldest DuckDB
supported, whose checkpoints cost less than in DuckDB's default one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from callscope.live.events import LiveEvent
from callscope.live.inbox import CATALOG
from callscope.live.outbox import FakeSender
from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.store import Store, open_store
from callscope.store.connection import STORAGE_VERSION
from live_support import run, webhook_call

AT = datetime.now(UTC) - timedelta(minutes=3)


async def until(what: Callable[[], bool], limit: float = 5.0) -> bool:
    start = time.monotonic()
    while not what():
        if time.monotonic() - start > limit:
            return False
        await asyncio.sleep(0.01)
    return True


def _count(cursor: duckdb.DuckDBPyConnection, sql: str) -> int:
    """(Read to the end: a result left open blocks checkpoints.)"""
    ((count,),) = cursor.execute(sql).fetchall()
    return int(count)


async def _accept(service: LiveService, events: list[dict[str, Any]]) -> None:
    await service.accept_generic([LiveEvent.model_validate(e) for e in events])


def _formats(store: Store) -> dict[str, str]:
    rows = store.con.execute("SELECT database_name, tags FROM duckdb_databases()").fetchall()
    return {str(name): str(tags.get("storage_version")) for name, tags in rows if tags}


def test_new_store_and_inbox_files_are_written_in_the_supported_format(tmp_path: Path) -> None:
    settings = Settings.model_validate({"db": tmp_path / "calls.duckdb"})
    with open_store(settings.db) as store:
        LiveService(store, settings, FakeSender()).close()  # attaches (creates) the inbox
        formats = _formats(store)
    assert formats == {"calls": f"{STORAGE_VERSION}+", CATALOG: f"{STORAGE_VERSION}+"}


def test_a_file_made_in_duckdbs_default_format_keeps_it_and_opens(tmp_path: Path) -> None:
    old = tmp_path / "old.duckdb"
    duckdb.connect(str(old)).execute("CREATE TABLE kept AS SELECT 1 AS x").close()
    settings = Settings.model_validate({"db": old})
    with open_store(old) as store:
        LiveService(store, settings, FakeSender()).close()
        formats = _formats(store)
        assert store.con.execute("SELECT x FROM kept").fetchall() == [(1,)]
        assert store.schema_version() > 0  # migrated as any store
    assert formats["old"] == "v1.0.0+" and formats[CATALOG] == f"{STORAGE_VERSION}+"


def test_the_loop_checkpoints_between_passes_but_not_within_a_missed_calls_grace(
    tmp_path: Path,
) -> None:
    settings = Settings.model_validate({
        "db": tmp_path / "calls.duckdb", "timezone": "Europe/Moscow",
        "live": {"checkpoint_mb": 0.001, "assemble_every_s": 0.05, "late_answer_grace_s": 1.5,
                 "notify": {"routes": {"default": ["json://x/sales"]}}},
    })  # fmt: skip

    async def go() -> dict[str, Any]:
        with open_store(settings.db) as store:
            sender = FakeSender()
            service = LiveService(store, settings, sender)
            service.start()
            look = store.con.cursor()

            def calls() -> int:
                return _count(look, "SELECT count(*) FROM calls")

            await _accept(service, webhook_call("a1", True, AT, "+79160000001"))
            moved = await until(lambda: calls() == 1)
            after_pass = await until(lambda: store.wal_bytes() == 0)
            # An answered call and a missed one: the answered one is moved at once, the missed
            # one waits 1.5 s for a late answer, and the log stays as it is meanwhile.
            await _accept(service, webhook_call("a2", True, AT, "+79160000002"))
            await _accept(service, webhook_call("m1", False, AT, "+79160000003"))
            await until(lambda: calls() == 2)
            held = []
            for _ in range(40):  # 0.8 s of the grace
                held.append(store.wal_bytes())
                await asyncio.sleep(0.02)
            told = await until(lambda: bool(sender.sent))
            after_missed = await until(lambda: store.wal_bytes() == 0)
            await service.stop()
            return {"moved": moved, "after_pass": after_pass, "held": held,
                    "told": told, "after_missed": after_missed, "calls": calls()}  # fmt: skip

    seen = run(go)
    assert seen["moved"] and seen["after_pass"], "the first pass's log was not checkpointed"
    assert seen["calls"] == 3 and seen["told"]
    assert all(size > 0 for size in seen["held"]), "checkpointed within a missed call's grace"
    assert seen["after_missed"]


def test_a_batch_of_repeats_leaves_no_transaction_open(tmp_path: Path) -> None:
    """The intake reads the events' keys first; when every event is a repeat it writes
    nothing after that read. Left half-read, the read kept its transaction open, and no
    checkpoint could run after any later write until the next new event."""
    settings = Settings.model_validate({"db": tmp_path / "calls.duckdb"})
    with open_store(settings.db) as store:
        service = LiveService(store, settings, FakeSender())
        events = [LiveEvent.model_validate(e) for e in webhook_call("a1", True, AT, "+79160000001")]

        async def twice() -> None:
            await service.accept_generic(events)
            await service.accept_generic(events)  # all repeats: nothing written

        run(twice)
        store.con.execute("CREATE TABLE later (x INTEGER); INSERT INTO later VALUES (1)")
        store.con.cursor().execute("UPDATE later SET x = 2")
        checkpointed = service.checkpoint()
        service.close()
    assert checkpointed


@pytest.mark.parametrize("merge_idle_s", [1.5, 0])
def test_row_groups_the_loops_checkpoints_leave_are_merged_once_the_intake_is_quiet(
    tmp_path: Path, merge_idle_s: float
) -> None:
    """DuckDB merging small row groups in a checkpoint rewrote up to two full ones (0.8-1.5 s
    under bench/live.py's load): the loop's checkpoints leave them until no event has come
    for `live.merge_idle_s` (0: every checkpoint merges, DuckDB's way)."""
    settings = Settings.model_validate({
        "db": tmp_path / "calls.duckdb", "timezone": "Europe/Moscow",
        "live": {"checkpoint_mb": 0.001, "assemble_every_s": 0.05, "merge_idle_s": merge_idle_s},
    })  # fmt: skip

    async def go() -> tuple[list[int], bool | None]:
        with open_store(settings.db) as store:
            service = LiveService(store, settings, FakeSender())
            service.start()
            look = store.con.cursor()

            def groups() -> int:
                return _count(
                    look,
                    "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('calls')",
                )

            seen = []
            for n in range(3):  # three passes, each checkpointed
                await _accept(service, webhook_call(f"a{n}", True, AT, f"+7916000000{n}"))
                await until(
                    lambda: (
                        _count(look, "SELECT count(*) FROM calls") == n + 1  # noqa: B023
                        and store.wal_bytes() == 0
                    )
                )
                seen.append(groups())
            merged = None
            if merge_idle_s:
                # The load ends below the checkpoint size: the last pass's writes stay in the
                # log until the intake has been quiet for merge_idle_s.
                settings.live.checkpoint_mb = 1000
                await _accept(service, webhook_call("a3", True, AT, "+79160000003"))
                await until(lambda: _count(look, "SELECT count(*) FROM calls") == 4)
                merged = await until(lambda: groups() == 1 and store.wal_bytes() == 0)
            await service.stop()
            return seen, merged

    seen, merged = run(go)
    if merge_idle_s:
        assert seen == [1, 2, 3], "each checkpoint should leave a row group of its own"
        assert merged, "the row groups were not merged once the intake was quiet"
    else:
        assert seen == [1, 1, 1]
