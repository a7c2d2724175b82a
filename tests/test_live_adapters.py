"""Cloud-PBX webhooks with the vendors' own field names and signatures: Zadarma notifications
(form posts signed with the API secret) and Mango Office events/call + events/summary (json
signed with sha256(key + json + salt)) become the same generic events and calls."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import FastAPI

from callscope.live import signing
from callscope.live.adapters import zadarma_signature_text
from callscope.live.http import router
from callscope.live.outbox import FakeSender
from callscope.live.service import LiveService
from callscope.settings import Settings
from callscope.store import Store, open_store
from live_support import run

SECRET = "vendor-test-secret"


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LiveService:
    monkeypatch.setenv(signing.SECRET_ENV, SECRET)
    store = open_store(None)
    return LiveService(store, Settings(timezone="Europe/Moscow"), FakeSender())


def _post(service: LiveService, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    app = FastAPI()
    app.include_router(router)
    app.state.live = service

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            return await c.post(
                path,
                content=body,
                headers={"content-type": "application/x-www-form-urlencoded", **headers},
            )

    return run(go)


def _calls(store: Store) -> list[tuple[object, ...]]:
    return store.con.execute(
        "SELECT direction, outcome, external_number, answered_by, line FROM calls"
    ).fetchall()


def test_zadarma_notifications_make_an_answered_call(service: LiveService) -> None:
    start = "2026-11-23 10:00:00"
    common = {
        "pbx_call_id": "in_5f0c1",
        "call_start": start,
        "caller_id": "79161234567",
        "called_did": "74951234567",
    }
    posts = [
        {"event": "NOTIFY_START", **common},
        {"event": "NOTIFY_INTERNAL", **common, "internal": "101"},
        {
            "event": "NOTIFY_ANSWER",
            "pbx_call_id": "in_5f0c1",
            "call_start": start,
            "caller_id": "79161234567",
            "destination": "101",
            "internal": "101",
        },
        {
            "event": "NOTIFY_END",
            **common,
            "internal": "101",
            "duration": "40",
            "disposition": "answered",
            "status_code": "16",
            "is_recorded": "0",
        },
    ]
    for form in posts:
        body = urlencode(form).encode()
        wrong = _post(service, "/api/webhooks/zadarma", body, {"Signature": "forged"})
        assert wrong.status_code == 401
        sig = signing.zadarma_signature(SECRET, zadarma_signature_text(form))
        assert _post(service, "/api/webhooks/zadarma", body, {"Signature": sig}).status_code == 200
    service.cycle(datetime(2026, 11, 23, 7, 5), flush=True)
    direction, outcome, number, agent, line = _calls(service.store)[0]
    assert (direction, outcome, number, agent) == ("inbound", "answered", "+79161234567", "101")
    assert line == "74951234567"
    talk = service.store.con.execute("SELECT talk_s FROM legs WHERE agent = '101'").fetchone()
    assert talk is not None and abs(talk[0] - 40) < 1
    service.close()


def test_mango_missed_call_with_two_agents_ringing(service: LiveService) -> None:
    def mango(kind: str, doc: dict[str, object]) -> httpx.Response:
        text = json.dumps(doc)
        form = {
            "vpbx_api_key": "key-1",
            "json": text,
            "sign": signing.mango_sign("key-1", text, SECRET),
        }
        return _post(service, f"/api/webhooks/mango/events/{kind}", urlencode(form).encode(), {})

    entry = "MToxMDE0MDU2Mjo0MzI6MjQ1MDY4NDY2"
    caller = {"number": "79161234567"}
    to_ivr = {"number": "74951234567", "line_number": "74951234567"}
    t0 = 1795406400  # 2026-11-23 10:00:00 Moscow
    events = [
        {
            "entry_id": entry,
            "call_id": "leg0",
            "timestamp": t0,
            "seq": 1,
            "call_state": "Appeared",
            "location": "ivr",
            "from": caller,
            "to": to_ivr,
        },
        {
            "entry_id": entry,
            "call_id": "leg1",
            "timestamp": t0 + 5,
            "seq": 2,
            "call_state": "Appeared",
            "location": "abonent",
            "from": caller,
            "to": {"extension": "101", "number": "sip:101@pbx"},
        },
        {
            "entry_id": entry,
            "call_id": "leg2",
            "timestamp": t0 + 5,
            "seq": 3,
            "call_state": "Appeared",
            "location": "abonent",
            "from": caller,
            "to": {"extension": "102", "number": "sip:102@pbx"},
        },
        {
            "entry_id": entry,
            "call_id": "leg1",
            "timestamp": t0 + 25,
            "seq": 4,
            "call_state": "Disconnected",
            "location": "abonent",
            "from": caller,
            "to": {"extension": "101"},
            "disconnect_reason": 1110,
        },
    ]
    for doc in events:
        assert mango("call", doc).status_code == 200
    assert mango("summary", {"entry_id": entry, "end_time": t0 + 30}).status_code == 200
    bad = {"vpbx_api_key": "key-1", "json": "{}", "sign": "0" * 64}
    assert (
        _post(service, "/api/webhooks/mango/events/call", urlencode(bad).encode(), {}).status_code
        == 401
    )
    service.cycle(datetime(2026, 11, 23, 7, 5))
    assert _calls(service.store) == [("inbound", "missed", "+79161234567", None, "74951234567")]
    legs = service.store.con.execute("SELECT agent, result FROM legs ORDER BY agent").fetchall()
    assert legs == [("101", "no_answer"), ("102", "caller_hung_up")]
    service.close()


def test_mango_busy_leg_and_operator_group(service: LiveService) -> None:
    """disconnect_reason 1121 ("busy" in Mango's result codes) ends the ringing leg as busy;
    `to.acd_group` names the operators' group the call was placed from."""
    from callscope.live.adapters import mango_events

    entry, t0 = "MToxMDE0MDU2Mjo0MzI6MjQ1MDY4NDY3", 1795406400
    caller = {"number": "79161234567"}
    rung = {"extension": "101", "number": "sip:101@pbx", "acd_group": "700"}
    appeared = mango_events("call", {"entry_id": entry, "call_id": "leg1", "timestamp": t0,
                                     "seq": 2, "call_state": "Appeared", "location": "abonent",
                                     "from": caller, "to": rung})  # fmt: skip
    busy = mango_events("call", {"entry_id": entry, "call_id": "leg1", "timestamp": t0 + 1,
                                 "seq": 3, "call_state": "Disconnected", "location": "abonent",
                                 "from": caller, "to": rung, "disconnect_reason": 1121})  # fmt: skip
    assert [(e.type, e.queue) for e in appeared] == [("call.ringing", "700")]
    assert [(e.type, e.result) for e in busy] == [("call.ring_ended", "busy")]
    service.close()
