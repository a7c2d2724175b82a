"""The inbox is a DuckDB file of its own beside the store, so the store's checkpoints do not
hold up acknowledgements. A store whose inbox was still a table of its own file (before the
inbox had one) hands its waiting events over at the next start, none lost and none twice, even
when the hand-over was cut between its copy and its drop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from callscope.live.events import LiveEvent, stored_json
from callscope.live.inbox import CATALOG, attach_inbox, inbox_path
from callscope.live.inbox import TABLE as INBOX
from callscope.live.outbox import FakeSender
from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.store import Store, open_store
from live_support import run, webhook_call

AT = datetime.now(UTC) - timedelta(minutes=3)


def _legacy_rows(store: Store, events: list[dict[str, Any]]) -> None:
    """Events waiting in the store file's own `live_inbox`, as the previous version kept them
    (the table migration 4 creates; same columns, same key)."""
    for seq, event in enumerate(events, start=1):
        text = stored_json(LiveEvent.model_validate(event).to_record())
        store.con.execute(
            "INSERT INTO main.live_inbox SELECT 'default', 'webhook-events', hash($1), $2, $3,"
            " now()::TIMESTAMP, $1",
            [text, seq, event.get("call_id")],
        )


def _store_tables(store: Store) -> set[str]:
    rows = store.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()
    return {str(r[0]) for r in rows}


def test_acknowledged_events_are_kept_in_the_inbox_file_beside_the_store(tmp_path: Path) -> None:
    settings = Settings.model_validate({"db": tmp_path / "calls.duckdb"})
    with open_store(settings.db) as store:
        service = LiveService(store, settings, FakeSender())

        async def feed() -> None:
            await service.accept_generic(
                [LiveEvent.model_validate(e) for e in webhook_call("c1", False, AT)]
            )

        run(feed)
        service.close()
        assert inbox_path(store) == str(tmp_path / "calls.inbox.duckdb")
        assert "live_inbox" not in _store_tables(store)
    with duckdb.connect(str(tmp_path / "calls.inbox.duckdb"), read_only=True) as inbox:
        assert inbox.execute(
            "SELECT count(*), count(DISTINCT call_key) FROM live_inbox"
        ).fetchone() == (3, 1)


def test_a_store_in_memory_has_its_inbox_in_memory() -> None:
    settings = Settings.model_validate({})
    with open_store(None) as store:
        service = LiveService(store, settings, FakeSender())

        async def feed() -> None:
            await service.accept_generic(
                [LiveEvent.model_validate(e) for e in webhook_call("m1", True, AT)]
            )

        run(feed)
        assert inbox_path(store) == ":memory:"
        assert store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone() == (4,)
        service.cycle()
        service.close()
        assert store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone() == (0,)
        assert store.con.execute("SELECT outcome FROM calls").fetchall() == [("answered",)]


def test_events_waiting_in_the_store_file_move_to_the_inbox_file(tmp_path: Path) -> None:
    settings = Settings.model_validate({"db": tmp_path / "calls.duckdb"})
    waiting = webhook_call("old-1", False, AT) + webhook_call("old-2", True, AT)
    with open_store(settings.db) as store:
        _legacy_rows(store, waiting)
    with open_store(settings.db) as store:
        service = LiveService(store, settings, FakeSender())
        assert "live_inbox" not in _store_tables(store)
        assert store.con.execute(f"SELECT count(*), max(seq) FROM {INBOX}").fetchone() == (7, 7)

        async def again() -> None:  # the sender retries one of them: already there
            await service.accept_generic([LiveEvent.model_validate(waiting[0])])

        run(again)
        assert store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone() == (7,)
        service.cycle()
        service.close()
        calls = store.con.execute("SELECT call_id, outcome FROM calls ORDER BY 1").fetchall()
        assert calls == [("old-1", "missed"), ("old-2", "answered")]
        assert store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone() == (0,)


def test_a_hand_over_cut_between_copy_and_drop_copies_nothing_twice(tmp_path: Path) -> None:
    settings = Settings.model_validate({"db": tmp_path / "calls.duckdb"})
    waiting = webhook_call("old-1", False, AT)
    with open_store(settings.db) as store:
        _legacy_rows(store, waiting)
        # the copy's transaction committed, then the process died before the drop
        store.con.execute(f"ATTACH '{tmp_path / 'calls.inbox.duckdb'}' AS {CATALOG}")
        store.con.execute(f"CREATE TABLE {INBOX} AS SELECT * FROM main.live_inbox")
        store.con.execute(f"DETACH {CATALOG}")
    with open_store(settings.db) as store:
        attach_inbox(store)
        assert "live_inbox" not in _store_tables(store)
        assert store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone() == (3,)
