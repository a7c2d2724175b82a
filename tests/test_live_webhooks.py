"""Webhook intake: signed generic events become calls through the batch assembler; a bad
signature or payload is refused whole; a repeat changes nothing; a missed call reaches the
manager's channel once, across a restart, through a real HTTP receiver (Apprise json://)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from callscope.live import signing
from callscope.live.http import router
from callscope.live.inbox import TABLE as INBOX
from callscope.live.outbox import AppriseSender, FakeSender
from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.store import open_store
from live_support import run

SECRET = "test-only-secret"
MISSED = [  # a customer rings sales, two agents ring, nobody answers, the customer hangs up
    {
        "type": "call.started",
        "call_id": "c1",
        "at": "2026-11-23T07:00:00Z",
        "direction": "inbound",
        "from": "+79161234567",
        "to": "74951234567",
        "queue": "sales",
    },
    {
        "type": "call.ringing",
        "call_id": "c1",
        "at": "2026-11-23T07:00:02Z",
        "agent": "101",
        "queue": "sales",
    },
    {
        "type": "call.ringing",
        "call_id": "c1",
        "at": "2026-11-23T07:00:02Z",
        "agent": "102",
        "queue": "sales",
    },
    {"type": "call.ended", "call_id": "c1", "at": "2026-11-23T07:00:40Z", "hangup_by": "caller"},
]
NOW = datetime(2026, 11, 23, 7, 1)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Settings:
    monkeypatch.setenv(signing.SECRET_ENV, SECRET)
    return Settings.model_validate(
        {
            "db": tmp_path / "live.duckdb",
            "timezone": "Europe/Moscow",
            "agents": {
                "101": {"name": "Anna", "team": "sales"},
                "102": {"name": "Boris", "team": "sales"},
            },
            "live": {
                "notify": {
                    "routes": {
                        "sales": ["json://example.invalid/sales"],
                        "supervisor": ["json://example.invalid/boss"],
                    }
                }
            },
        }
    )


def _post(service: LiveService, body: bytes, signature: str | None) -> httpx.Response:
    app = FastAPI()
    app.include_router(router)
    app.state.live = service
    headers = {signing.HEADER: signature} if signature else {}

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/api/webhooks/events", content=body, headers=headers)

    return run(go)


def _count(service: LiveService, table: str) -> int:
    row = service.store.con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0


def test_signed_events_become_a_missed_call_and_one_notification(settings: Settings) -> None:
    body = json.dumps({"events": MISSED}).encode()
    with open_store(settings.db) as store:
        sender = FakeSender()
        service = LiveService(store, settings, sender)
        assert _post(service, body, "sha256=bad").status_code == 401
        bad = json.dumps(
            [MISSED[0], {"type": "call.ringing", "at": "2026-11-23T07:00:02Z"}]
        ).encode()
        response = _post(service, bad, signing.sign(SECRET, bad))
        assert response.status_code == 422 and "event 1" in response.json()["detail"]
        assert _count(service, INBOX) == 0
        assert _post(service, body, signing.sign(SECRET, body)).json() == {
            "ok": True,
            "accepted": 4,
        }
        _post(service, body, signing.sign(SECRET, body))  # the sender retried
        assert _count(service, INBOX) == 4
        counts = service.cycle(NOW)
        call = store.con.execute("SELECT direction, outcome, external_number FROM calls").fetchall()
        assert call == [("inbound", "missed", "+79161234567")]
        legs = store.con.execute("SELECT agent, result FROM legs ORDER BY agent").fetchall()
        assert legs == [("101", "caller_hung_up"), ("102", "caller_hung_up")]
        assert counts["new"] == 1 and counts["sent"] == 1
        urls, _title, text, _key = sender.sent[0]
        assert urls == ["json://example.invalid/sales"] and "+79161234567" in text
        service.close()
    with open_store(settings.db) as store:  # a restart decides again and sends nothing new
        sender = FakeSender()
        service = LiveService(store, settings, sender)
        service.cycle(NOW)
        assert sender.sent == []
        reminder = service.cycle(NOW + timedelta(minutes=11))
        escalation = service.cycle(NOW + timedelta(minutes=31))
        assert (reminder["reminders"], escalation["escalations"]) == (1, 1)
        assert [s[0] for s in sender.sent] == [
            ["json://example.invalid/sales"],
            ["json://example.invalid/boss"],
        ]
        service.close()


class _Receiver(BaseHTTPRequestHandler):
    got: list[dict[str, Any]] = []  # noqa: RUF012
    fail_first = 0

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if _Receiver.fail_first > 0:
            _Receiver.fail_first -= 1
            self.send_response(500)
        else:
            _Receiver.got.append(json.loads(body))
            self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Receiver.got = []
    yield f"json://127.0.0.1:{server.server_port}/hook"
    server.shutdown()
    server.server_close()


def test_a_failed_delivery_is_retried_and_then_arrives_once(
    settings: Settings, receiver: str
) -> None:
    settings.live.notify.routes = {"default": [receiver]}
    body = json.dumps(MISSED).encode()
    _Receiver.fail_first = 1
    with open_store(settings.db) as store:
        service = LiveService(store, settings, AppriseSender())
        _post(service, body, signing.sign(SECRET, body))
        first = service.cycle(NOW)
        assert first["sent"] == 0 and _Receiver.got == []
        later = service.cycle(NOW + timedelta(seconds=settings.live.notify.retry_base_s))
        assert later["sent"] == 1, store.con.execute(
            "SELECT attempts, last_error, due_at, sent_at, dead_at FROM notify_outbox"
        ).fetchall()
        service.cycle(NOW + timedelta(minutes=1))
        titles = [m["title"] for m in _Receiver.got]
        assert titles == ["Missed call from +79161234567"]
        service.close()


def test_a_transfer_gives_each_agent_their_own_talk() -> None:
    from callscope.live.driver import WEBHOOK, Driver
    from callscope.live.events import LiveEvent
    from callscope.live.inbox import Inbox, Incoming

    events = [
        {"type": "call.started", "call_id": "t1", "at": "2026-11-23T07:00:00Z",
         "direction": "inbound", "from": "+79161234567", "to": "74951234567"},
        {"type": "call.ringing", "call_id": "t1", "agent": "101", "at": "2026-11-23T07:00:01Z"},
        {"type": "call.answered", "call_id": "t1", "agent": "101", "at": "2026-11-23T07:00:04Z"},
        {"type": "call.transferred", "call_id": "t1", "from_agent": "101", "agent": "103",
         "at": "2026-11-23T07:00:30Z"},
        {"type": "call.ringing", "call_id": "t1", "agent": "103", "at": "2026-11-23T07:00:30Z"},
        {"type": "call.answered", "call_id": "t1", "agent": "103", "at": "2026-11-23T07:00:35Z"},
        {"type": "call.ended", "call_id": "t1", "at": "2026-11-23T07:01:35Z", "hangup_by": "caller"},
    ]  # fmt: skip
    settings = Settings()
    with open_store(None) as store:
        items = [LiveEvent.model_validate(e) for e in events]
        Inbox(store, settings.tenant).write(
            [Incoming(WEBHOOK, e.to_json(), e.call_id) for e in items]
        )
        Driver(store, settings).step()
        legs = store.con.execute(
            "SELECT agent, result, ring_s, talk_s FROM legs ORDER BY leg_no"
        ).fetchall()
        call = store.con.execute(
            "SELECT outcome, answered_by, talk_s, hangup_side FROM calls"
        ).fetchone()
    assert legs == [("101", "answered", 3.0, 26.0), ("103", "answered", 5.0, 60.0)]
    assert call == ("answered", "101", 86.0, "caller")


def test_fast_intake_answers_exactly_like_the_route(settings: Settings) -> None:
    from callscope.live.http import FastIntake

    app = FastAPI()
    app.include_router(router)
    fast = FastIntake(app)
    body = json.dumps({"events": MISSED}).encode()
    bad = json.dumps([MISSED[0], {"type": "call.ringing", "at": "2026-11-23T07:00:02Z"}]).encode()

    async def go(target: Any) -> list[tuple[int, Any]]:
        transport = httpx.ASGITransport(app=target)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            url = "/api/webhooks/events"
            answers = [
                await client.post(url, content=body, headers={signing.HEADER: "sha256=bad"}),
                await client.post(url, content=bad, headers={signing.HEADER: signing.sign(SECRET, bad)}),
                await client.post(url, content=body, headers={signing.HEADER: signing.sign(SECRET, body),
                                                              "X-Callscope-Tenant": "other"}),
                await client.post(url, content=body, headers={signing.HEADER: signing.sign(SECRET, body)}),
                await client.get("/api/live"),
            ]  # fmt: skip
            return [(r.status_code, r.json()) for r in answers]

    seen = []
    for target in (app, fast):
        with open_store(None) as store:
            service = LiveService(store, settings, FakeSender())
            app.state.live = service
            seen.append(run(lambda target=target: go(target)))  # type: ignore[misc]
            assert _count(service, INBOX) == 4
            service.close()
    route, quick = seen
    assert [s for s, _ in quick] == [401, 422, 401, 200, 200]
    assert quick[:4] == route[:4] and quick[3][1] == {"ok": True, "accepted": 4}
    assert "event 1: event: Value error, call.ringing needs call_id" in quick[1][1]["detail"]
