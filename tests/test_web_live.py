"""The live board page: drawn on the server from the board callscope.live keeps, in the reader's
language, numbers in E.164; an agent-role user sees only their own card. (The browser test in
tests/browser/test_live_browser.py watches it update over server-sent events.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from browser.company import shared_company
from callscope.web import create_app
from callscope.web.access import create_token


def ago(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)


def at(seconds_ago: float) -> str:
    return ago(seconds_ago).isoformat()


@pytest.fixture(scope="module")
def app() -> Iterator[Any]:
    store, settings = shared_company()
    application = create_app(settings, store)
    with TestClient(application):  # runs the lifespan: the live service is started
        board = application.state.live.board
        board.apply_generic(
            {
                "type": "call.answered",
                "at": at(95),
                "agent": "101",
                "call_id": "c1",
                "from": "89161110001",
            }
        )
        board.apply_generic(
            {
                "type": "agent.state",
                "at": at(600),
                "agent": "102",
                "state": "paused",
                "reason": "lunch",
            }
        )
        board.apply_ami(
            {
                "Event": "QueueCallerJoin",
                "Queue": "sales",
                "Uniqueid": "u1",
                "Timestamp": str(ago(40).timestamp()),
            }
        )
        yield application


def client_as(app: Any, role: str, agent: str | None = None) -> TestClient:
    store, settings = shared_company()
    token = create_token(store, f"live-{role}", role=role, tenant=settings.tenant, agent=agent)
    client = TestClient(app)
    client.headers["authorization"] = f"Bearer {token}"
    return client


def test_the_board_page_shows_each_agents_state_and_the_queues(app: Any) -> None:
    client = client_as(app, "supervisor")
    html = client.get("/live").text
    assert "<h1>Live board</h1>" in html and 'href="/live"' in html
    anna = html.split('data-agent="101"', 1)[1].split("</tr>", 1)[0]
    assert 'data-state="on_call"' in anna and "with +79161110001" in anna
    assert ">1 min " in anna  # rang 95 s before the board was drawn
    boris = html.split('data-agent="102"', 1)[1].split("</tr>", 1)[0]
    assert "Paused" in boris and "lunch" in boris
    queue = html.split('data-queue="sales"', 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">1</td>' in queue
    doc = client.get("/live?format=json").json()
    assert doc["counts"]["on_call"] == 1 and doc["counts"]["paused"] == 1
    assert doc["queues"] == [
        {"queue": "sales", "waiting": 1, "longest_wait_s": pytest.approx(40, abs=20)}
    ]


def test_the_board_speaks_the_readers_language(app: Any) -> None:
    client = client_as(app, "supervisor")
    client.cookies.set("cs_lang", "ru")
    html = client.get("/live").text
    assert "Разговаривает" in html and "На паузе" in html and "с +79161110001" in html


def test_an_agent_sees_only_their_own_card(app: Any) -> None:
    client = client_as(app, "agent", "102")
    doc = client.get("/live?format=json").json()
    assert [c["agent"] for c in doc["agents"]] == ["102"]
    html = client.get("/live").text
    assert "+79161110001" not in html and 'data-agent="101"' not in html
    assert client.get("/api/live").status_code == 403  # the whole board is not theirs
    assert client.get("/api/live/stream").status_code == 403
    assert client_as(app, "supervisor").get("/api/live").json()["agents"]
