"""After a restart the board is what it was: agents' pauses come back from the agent events the
store keeps, calls still going on come back from the inbox - nobody shows offline by mistake."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from callscope.live.events import LiveEvent
from callscope.live.inbox import TABLE as INBOX
from callscope.live.inbox import attach_inbox
from callscope.live.outbox import FakeSender
from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.store import open_store
from live_support import run


def _events(now: datetime) -> list[dict[str, Any]]:
    at = (now - timedelta(minutes=5)).isoformat()
    ring = (now - timedelta(seconds=20)).isoformat()
    return [
        {"type": "agent.state", "agent": "101", "state": "paused", "reason": "lunch", "at": at},
        {"type": "call.started", "call_id": "open-1", "direction": "inbound",
         "from": "+79161234567", "to": "74951234567", "queue": "sales", "at": ring},
        {"type": "call.ringing", "call_id": "open-1", "agent": "102", "queue": "sales",
         "at": ring},
    ]  # fmt: skip


def _cards(service: LiveService) -> dict[str, dict[str, Any]]:
    return {c["agent"]: c for c in service.board.snapshot()["agents"]}


def test_the_board_comes_back_after_a_restart(tmp_path: Path) -> None:
    settings = Settings.model_validate({"db": tmp_path / "live.duckdb"})
    now = datetime.now(UTC)
    with open_store(settings.db) as store:
        service = LiveService(store, settings, FakeSender())

        async def feed() -> None:
            await service.accept_generic([LiveEvent.model_validate(e) for e in _events(now)])

        run(feed)
        service.cycle()  # the pause moves to the raw table; the open call stays in the inbox
        before = _cards(service)
        service.close()
    with open_store(settings.db) as store:
        attach_inbox(store)
        pending = store.con.execute(f"SELECT count(*) FROM {INBOX}").fetchone()
        assert pending == (2,)
        restarted = LiveService(store, settings, FakeSender())
        after = _cards(restarted)
        restarted.close()
    assert (after["101"]["state"], after["101"]["reason"]) == ("paused", "lunch")
    assert after["101"]["since"] == before["101"]["since"]
    assert (after["102"]["state"], after["102"]["with"]) == ("ringing", "+79161234567")
    assert after["102"]["call_id"] == "open-1"


def test_an_ami_pause_and_a_waiting_caller_come_back(tmp_path: Path) -> None:
    settings = Settings.model_validate({"db": tmp_path / "live.duckdb"})
    stamp = datetime.now(UTC).timestamp() - 60
    pause = {"Event": "QueueMemberPause", "Queue": "support", "MemberName": "101",
             "Interface": "PJSIP/101", "Paused": "1", "PausedReason": "Lunch",
             "Timestamp": f"{stamp:.6f}"}  # fmt: skip
    join = {"Event": "QueueCallerJoin", "Queue": "support", "Uniqueid": "1795370000.1",
            "Linkedid": "1795370000.1", "CallerIDNum": "+79161234567",
            "Timestamp": f"{stamp + 30:.6f}"}  # fmt: skip
    with open_store(settings.db) as store:
        service = LiveService(store, settings, FakeSender())

        async def feed() -> None:
            await service.accept_ami(pause)
            await service.accept_ami(join)

        run(feed)
        service.cycle()
        service.close()
    with open_store(settings.db) as store:
        restarted = LiveService(store, settings, FakeSender())
        board = restarted.board.snapshot()
        restarted.close()
    cards = {c["agent"]: c for c in board["agents"]}
    assert (cards["101"]["state"], cards["101"]["reason"]) == ("paused", "lunch")
    assert [(q["queue"], q["waiting"]) for q in board["queues"]] == [("support", 1)]
