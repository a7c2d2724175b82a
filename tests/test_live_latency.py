"""How soon a missed call is told, and what may hold it back: a call that ended unanswered
waits `live.late_answer_grace_s` for a `call.answered` sent late (then it is no missed call at
all), and is moved by a pass of its own instead of waiting for the pause after the last pass.
Also the queue sizes the generic events give the board."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callscope.live.board import Board
from callscope.live.events import LiveEvent
from callscope.live.outbox import FakeSender
from callscope.live.service import RESCAN, LiveService
from callscope.settings import Settings
from callscope.store import open_store
from live_support import run


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def opening(cid: str, number: str, at: datetime) -> list[dict[str, Any]]:
    return [
        {"type": "call.started", "call_id": cid, "at": _iso(at), "direction": "inbound",
         "from": number, "to": "74951234567", "queue": "sales"},
        {"type": "call.ringing", "call_id": cid, "agent": "101", "queue": "sales",
         "at": _iso(at + timedelta(seconds=1))},
    ]  # fmt: skip


def answer(cid: str, at: datetime) -> dict[str, Any]:
    return {"type": "call.answered", "call_id": cid, "agent": "101", "at": _iso(at)}


def end(cid: str, at: datetime) -> dict[str, Any]:
    return {"type": "call.ended", "call_id": cid, "at": _iso(at)}


def settings(grace: float, every: float = 0.2) -> Settings:
    return Settings.model_validate({
        "timezone": "Europe/Moscow",
        "live": {"late_answer_grace_s": grace, "assemble_every_s": every,
                 "notify": {"routes": {"default": ["json://x/sales"]}}},
    })  # fmt: skip


def feed(service: LiveService, events: list[dict[str, Any]]) -> None:
    async def go() -> None:
        await service.accept_generic([LiveEvent.model_validate(e) for e in events])

    run(go)


def test_an_answer_sent_after_the_end_within_the_grace_is_no_missed_call() -> None:
    at = datetime.now(UTC) - timedelta(seconds=40)
    with open_store(None) as store:
        sender = FakeSender()
        service = LiveService(store, settings(grace=30), sender)
        service.cycle()  # the first pass: the report over the whole horizon
        feed(
            service, [*opening("late", "+79161234567", at), end("late", at + timedelta(seconds=30))]
        )
        held = service.cycle(hold=True)
        assert (held["calls"], held.get("new", 0)) == (0, 0)  # ended unanswered: still held
        feed(service, [answer("late", at + timedelta(seconds=5))])  # another connection, later
        moved = service.cycle(hold=True)
        service.close()
        row = store.con.execute("SELECT outcome, answered_by FROM calls").fetchall()
    assert moved["calls"] == 1 and moved.get("new", 0) == 0 and sender.sent == []
    assert row == [("answered", "101")]


def test_a_call_ended_unanswered_is_told_once_the_grace_is_over() -> None:
    at = datetime.now(UTC) - timedelta(seconds=40)
    with open_store(None) as store:
        sender = FakeSender()
        service = LiveService(store, settings(grace=0.2), sender)
        service.cycle()
        feed(service, [*opening("m", "+79161234567", at), end("m", at + timedelta(seconds=30))])
        assert service.cycle(hold=True)["calls"] == 0
        time.sleep(0.3)
        told = service.cycle(hold=True)
        # without the hold (a replay, tests, shutdown) nothing waits
        feed(service, [*opening("n", "+79167654321", at), end("n", at + timedelta(seconds=30))])
        at_once = service.cycle()
        service.close()
    assert (told["calls"], told["new"], at_once["calls"], at_once["new"]) == (1, 1, 1, 1)
    assert [m[1] for m in sender.sent] == [
        "Missed call from +79161234567",
        "Missed call from +79167654321",
    ]


def test_a_missed_call_does_not_wait_for_the_pause_after_a_pass() -> None:
    """The pause between passes is 5 s here; the missed call is told within its grace and
    one small pass."""
    at = datetime.now(UTC) - timedelta(seconds=40)

    async def go() -> float:
        with open_store(None) as store:
            sender = FakeSender()
            service = LiveService(store, settings(grace=0.1, every=5), sender)
            service.start()
            await asyncio.sleep(1.0)  # the first pass is over; the loop pauses for 5 s
            start = time.monotonic()
            events = [*opening("m", "+79161234567", at), end("m", at + timedelta(seconds=30))]
            await service.accept_generic([LiveEvent.model_validate(e) for e in events])
            while not sender.sent and time.monotonic() - start < 10:
                await asyncio.sleep(0.02)
            waited = time.monotonic() - start
            await service.stop()
        assert [m[1] for m in sender.sent] == ["Missed call from +79161234567"]
        return waited

    assert run(go) < 3.0


def test_generic_events_fill_the_queues_on_the_board() -> None:
    board = Board(Settings())
    t = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    for event in [*opening("a", "+79160000001", t), *opening("b", "+79160000002", t)]:
        board.apply_generic(event)
    sales = board.snapshot(t + timedelta(seconds=20))["queues"]
    assert sales == [{"queue": "sales", "waiting": 2, "longest_wait_s": 20.0}]
    board.apply_generic(answer("a", t + timedelta(seconds=10)))
    board.apply_generic(end("b", t + timedelta(seconds=12)))  # gave up waiting
    # an opening event delivered after its call's end does not put it back in the queue
    board.apply_generic(opening("b", "+79160000002", t)[1])
    assert board.snapshot(t + timedelta(seconds=20))["queues"] == [
        {"queue": "sales", "waiting": 0, "longest_wait_s": 0.0}
    ]
    # an outbound call is no caller waiting in a queue
    board.apply_generic({**opening("c", "+79160000003", t)[0], "direction": "outbound"})
    assert board.snapshot(t)["queues"][0]["waiting"] == 0


def test_a_source_without_rows_in_scope_has_no_facts() -> None:
    """What lets a live pass leave out the sources with no raw row among its calls (planning
    the AMI/CEL facts alone cost ~90 ms a pass): no source makes facts out of nothing."""
    from callscope.assemble import facts_of
    from callscope.importer import ensure_raw_table
    from callscope.sources import available_sources

    with open_store(None) as store:
        for source in available_sources():
            ensure_raw_table(store.con, source)
            empty = f"(SELECT * FROM {source.raw_table} WHERE false)"
            for kind, sql in facts_of(source, Settings()).items():
                row = store.con.execute(
                    f"SELECT count(*) FROM ({sql.replace('{raw}', empty)})"
                ).fetchone()
                assert row == (0,), (source.name, kind)


def test_the_loop_rebuilds_agent_states_after_the_pass_not_in_it() -> None:
    at = datetime.now(UTC) - timedelta(minutes=5)
    pause = {"type": "agent.state", "agent": "101", "state": "paused", "reason": "lunch"}
    with open_store(None) as store:
        service = LiveService(store, settings(grace=0.3), FakeSender())
        service.cycle()
        feed(service, [{**pause, "at": _iso(at)}])
        service.cycle(hold=True)  # as the background loop runs it
        states = "SELECT agent, state, reason FROM agent_states"
        before = store.con.execute(states).fetchall()
        assert service.driver.rebuild_agent_states() is True
        after = store.con.execute(states).fetchall()
        assert service.driver.rebuild_agent_states() is False  # nothing moved since
        service.close()
    assert before == [] and after == [("101", "paused", "lunch")]


def test_the_whole_horizon_report_runs_between_passes_not_in_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once a minute the report over the whole horizon looks for contacts that came in some
    other way; a missed call waiting for the pass in flight must not wait for that too."""
    with open_store(None) as store:
        service = LiveService(store, settings(grace=0), FakeSender())
        service.cycle()  # at start: the whole horizon
        asked: list[list[str] | None] = []
        scan = service.tracker.scan

        def spy(now: datetime, numbers: list[str] | None = None, **kw: Any) -> dict[str, int]:
            asked.append(numbers)
            return scan(now, numbers, **kw)

        monkeypatch.setattr(service.tracker, "scan", spy)
        later = datetime.now(UTC).replace(tzinfo=None) + RESCAN
        assert service.rescan_due(later)
        service.cycle(later, hold=True, rescan=False)  # as the background loop runs it
        assert None not in asked and service.rescan_due(later)
        service.rescan(later)
        service.close()
    assert asked[-1] is None and not service.rescan_due(later)
