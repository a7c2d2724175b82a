"""A missed call cuts the bulk pass in flight short (`live.driver.Cut`): the bulk's transaction
is rolled back, its events stay in the inbox, the missed call is told first, and the bulk is
moved again after it - the same calls and legs as a pass nobody cut."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callscope import importer
from callscope.live.inbox import TABLE as INBOX
from callscope.live.outbox import FakeSender
from callscope.live.service import LiveService
from callscope.store import Store, open_store
from test_live_latency import _iso, feed, settings

SLOW = "SELECT count(*) FROM range(3000000000) t(i) WHERE i % 7 = 3"  # seconds, if uncut


def answered(cid: str, number: str, at: datetime) -> list[dict[str, Any]]:
    return [
        {"type": "call.started", "call_id": cid, "at": _iso(at), "direction": "inbound",
         "from": number, "to": "74951234567", "queue": "sales"},
        {"type": "call.ringing", "call_id": cid, "agent": "101", "at": _iso(at)},
        {"type": "call.answered", "call_id": cid, "agent": "101",
         "at": _iso(at + timedelta(seconds=3))},
        {"type": "call.ended", "call_id": cid, "at": _iso(at + timedelta(seconds=60))},
    ]  # fmt: skip


def missed(cid: str, number: str, at: datetime) -> list[dict[str, Any]]:
    return [
        {"type": "call.started", "call_id": cid, "at": _iso(at), "direction": "inbound",
         "from": number, "to": "74951234567"},
        {"type": "call.ringing", "call_id": cid, "agent": "102", "at": _iso(at)},
        {"type": "call.ended", "call_id": cid, "at": _iso(at + timedelta(seconds=20))},
    ]  # fmt: skip


def load(service: LiveService, at: datetime) -> None:
    for n in range(5):
        feed(service, answered(f"a{n}", f"+7926000000{n}", at + timedelta(seconds=n)))


def slowed(
    monkeypatch: pytest.MonkeyPatch, store: Store, trigger: Any, wait_s: float = 0.0
) -> list[float]:
    """The first refresh of a batch (inside its transaction) waits `wait_s`, then runs a slow
    query, and `trigger` (on another thread) interrupts it; returns how long the query ran."""
    ran: list[float] = []
    refresh = importer.refresh_contacts

    def slow_refresh(*args: Any, **kwargs: Any) -> Any:
        if not ran:
            time.sleep(wait_s)
            threading.Timer(0.1, trigger).start()
            began = time.monotonic()
            try:
                store.con.execute(SLOW).fetchall()
            finally:
                ran.append(time.monotonic() - began)
        return refresh(*args, **kwargs)

    monkeypatch.setattr(importer, "refresh_contacts", slow_refresh)
    return ran


def rows(store: Store) -> list[tuple[Any, ...]]:
    calls = store.con.execute(
        "SELECT call_id, outcome, answered_by, started_at, ended_at FROM calls ORDER BY 1"
    ).fetchall()
    legs = store.con.execute(
        "SELECT call_id, leg_no, agent, result, talk_s FROM legs ORDER BY 1, 2"
    ).fetchall()
    return calls + legs


def test_a_cut_pass_leaves_its_events_and_the_next_moves_them_as_if_uncut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = datetime.now(UTC) - timedelta(minutes=5)
    with open_store(None) as plain:
        service = LiveService(plain, settings(0.1), FakeSender())
        service.cycle()
        load(service, at)
        service.driver.step()
        service.close()
        expected = rows(plain)
    with open_store(None) as store:
        service = LiveService(store, settings(0.1), FakeSender())
        service.cycle()
        load(service, at)
        inbox = store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone()
        imports = store.con.execute("SELECT count(*) FROM imports").fetchone()
        ran = slowed(monkeypatch, store, service.driver.cut.interrupt)
        cut = service.driver.step(cuttable=True)
        assert (cut.cut, cut.events, cut.calls) == (True, 0, [])
        assert ran[0] < 1.0
        # rolled back: nothing kept, every event still waiting
        assert store.con.execute("SELECT count(*) FROM calls").fetchone() == (0,)
        assert store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone() == inbox
        assert store.con.execute("SELECT count(*) FROM imports").fetchone() == imports
        again = service.driver.step(cuttable=True)  # nobody interrupts it
        service.close()
        assert (again.cut, again.events, len(again.calls)) == (False, 20, 5)
        assert store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone() == (0,)
        assert rows(store) == expected


def test_a_missed_call_cuts_in_and_is_told_before_the_bulk_is_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = datetime.now(UTC) - timedelta(minutes=5)
    with open_store(None) as store:
        sender = FakeSender()
        service = LiveService(store, settings(0.3), FakeSender())
        service.sender = sender
        service.cycle()
        load(service, at)
        feed(service, missed("m", "+79160000001", at))  # ended unanswered: held 0.3 s
        # The bulk pass starts within the grace; when the grace is over the service wakes the
        # missed call's pass (`_wake_early`, on the event loop), which cuts the bulk short.
        ran = slowed(monkeypatch, store, service._wake_early, wait_s=0.35)
        counts = service.cycle(hold=True)
        service.close()
        order = store.con.execute(
            "SELECT list_sort(list(DISTINCT c.call_id)) FROM raw_webhook_events_v1 r"
            " JOIN calls c ON c.call_id = r.call_id GROUP BY r.import_id ORDER BY r.import_id"
        ).fetchall()
    assert ran[0] < 1.0
    assert (counts["calls"], counts["new"]) == (6, 1)
    assert [m[1] for m in sender.sent] == ["Missed call from +79160000001"]
    assert [row[0] for row in order] == [["m"], ["a0", "a1", "a2", "a3", "a4"]]


def test_a_wake_during_staging_cuts_the_pass_as_its_transaction_opens(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    at = datetime.now(UTC) - timedelta(minutes=5)
    with open_store(None) as store:
        service = LiveService(store, settings(0.1), FakeSender())
        service.cycle()
        load(service, at)
        ingest = importer.ingest_staged

        def woken_first(*args: Any, **kwargs: Any) -> Any:
            service.driver.cut.interrupt()  # (no statement is running: it waits for BEGIN)
            return ingest(*args, **kwargs)

        monkeypatch.setattr(importer, "ingest_staged", woken_first)
        cut = service.driver.step(cuttable=True)
        kept = store.con.execute("SELECT count(*) FROM calls").fetchone()
        uncut = service.driver.step()  # not cuttable: the same wake changes nothing
        service.close()
    assert (cut.cut, cut.events, kept) == (True, 0, (0,))
    assert (uncut.cut, uncut.events, len(uncut.calls)) == (False, 20, 5)
