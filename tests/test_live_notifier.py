"""The notifier's rules: routing to the owner, quiet hours, threshold alerts, auto-close when
the customer is called back - each decided from the `missed` report over assembled calls."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from callscope.live.events import LiveEvent
from callscope.live.notifier import quiet_until
from callscope.live.outbox import FakeSender
from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.store import open_store
from live_support import run

T0 = datetime(2026, 11, 23, 7, 0)  # 10:00 Moscow


def _iso(at: datetime) -> str:
    return at.isoformat() + "Z"


def missed_call(cid: str, number: str, at: datetime, agent: str = "101") -> list[dict[str, Any]]:
    return [
        {"type": "call.started", "call_id": cid, "at": _iso(at), "direction": "inbound",
         "from": number, "to": "74951234567"},
        {"type": "call.ringing", "call_id": cid, "agent": agent, "at": _iso(at + timedelta(seconds=1))},
        {"type": "call.ended", "call_id": cid, "at": _iso(at + timedelta(seconds=30))},
    ]  # fmt: skip


def callback(cid: str, number: str, at: datetime, agent: str = "101") -> list[dict[str, Any]]:
    return [
        {"type": "call.started", "call_id": cid, "at": _iso(at), "direction": "outbound",
         "from": agent, "agent": agent, "to": number},
        {"type": "call.answered", "call_id": cid, "agent": agent, "at": _iso(at + timedelta(seconds=5))},
        {"type": "call.ended", "call_id": cid, "at": _iso(at + timedelta(seconds=65))},
    ]  # fmt: skip


def feed(service: LiveService, events: list[dict[str, Any]]) -> None:
    async def go() -> None:
        await service.accept_generic([LiveEvent.model_validate(e) for e in events])

    run(go)


def settings(**notify: Any) -> Settings:
    return Settings.model_validate({
        "timezone": "Europe/Moscow",
        "agents": {"101": {"name": "Anna", "team": "sales"}, "102": {"name": "Boris", "team": "sales"}},
        "live": {"notify": {"routes": {"102": ["json://x/boris"], "sales": ["json://x/sales"],
                                        "supervisor": ["json://x/boss"]}, **notify}},
    })  # fmt: skip


def test_owner_gets_it_and_a_callback_closes_the_contact() -> None:
    s = settings(owners={"+79161234567": "102"})
    with open_store(None) as store:
        sender = FakeSender()
        service = LiveService(store, s, sender)
        feed(service, missed_call("m1", "+79161234567", T0))
        service.cycle(T0 + timedelta(minutes=1))
        assert [m[0] for m in sender.sent] == [["json://x/boris"]]
        feed(service, callback("b1", "89161234567", T0 + timedelta(minutes=4), agent="102"))
        closed = service.cycle(T0 + timedelta(minutes=5))
        later = service.cycle(T0 + timedelta(minutes=40))
        assert closed["closed"] == 1 and (later["reminders"], later["escalations"]) == (0, 0)
        state = store.con.execute("SELECT state, resolution FROM notify_contacts").fetchall()
        assert state == [("closed", "called_back")]
        assert len(sender.sent) == 1
        service.close()


def test_quiet_hours_hold_notifications_until_morning() -> None:
    s = settings(quiet_hours="21:00-08:00")
    night = datetime(2026, 11, 23, 20, 0)  # 23:00 Moscow
    assert quiet_until(s, night) == datetime(2026, 11, 24, 5, 0)  # 08:00 Moscow
    assert quiet_until(s, T0) == T0
    with open_store(None) as store:
        sender = FakeSender()
        service = LiveService(store, s, sender)
        feed(service, missed_call("n1", "+79161234567", night))
        service.cycle(night + timedelta(minutes=1))
        assert sender.sent == []
        service.cycle(datetime(2026, 11, 24, 5, 0, 1))
        assert sender.sent[0][1] == "Missed call from +79161234567"
        service.close()


def test_missed_share_alert_fires_once_per_hour() -> None:
    s = settings(missed_share_alert_pct=50, alert_min_calls=4)
    with open_store(None) as store:
        sender = FakeSender()
        service = LiveService(store, s, sender)
        for i in range(5):
            feed(service, missed_call(f"a{i}", f"+7916123450{i}", T0 + timedelta(minutes=i)))
        first = service.cycle(T0 + timedelta(minutes=10))
        again = service.cycle(T0 + timedelta(minutes=20))
        assert (first["alerts"], again["alerts"]) == (1, 0)
        alert = [m for m in sender.sent if m[3].startswith("alert:share")]
        assert alert[0][0] == ["json://x/sales"] and "100% of calls missed" in alert[0][1]
        service.close()


def test_queue_wait_alert_from_the_board() -> None:
    s = settings(queue_wait_alert_s=60)
    with open_store(None) as store:
        sender = FakeSender()
        service = LiveService(store, s, sender)
        service.board.apply_ami({"Event": "QueueCallerJoin", "Queue": "sales",
                                 "Uniqueid": "1.1", "Timestamp": "1795370000.0"})  # fmt: skip
        counts = service.cycle(T0)
        assert counts["alerts"] == 1
        assert json.dumps(sender.sent[0][1]).startswith('"Queue sales: a caller waits')
        service.close()
