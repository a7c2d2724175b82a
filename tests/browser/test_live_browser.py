"""The live board in a real browser: signed webhook events posted to the running server show
up on an open /live page without a reload (server-sent events), and an agent sees only
themself. Screenshots land in tests/browser/artefacts/live-*.png."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from browser.test_web_browser import LAPTOP, PHONE, login
from callscope.live import signing

pytestmark = pytest.mark.browser
SECRET = "browser-test-secret"


def post(base: str, *events: dict[str, Any]) -> None:
    body = json.dumps({"events": list(events)}).encode()
    answer = httpx.post(
        f"{base}/api/webhooks/events",
        content=body,
        headers={signing.HEADER: signing.sign(SECRET, body), "content-type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def at(seconds_ago: float = 0) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).isoformat()


def row(page: Any, agent: str, state: str) -> Any:
    locator = page.locator(f'#live-agents tr[data-agent="{agent}"][data-state="{state}"]')
    locator.wait_for(timeout=10_000)
    return locator


def test_webhook_events_appear_on_the_open_board_without_a_reload(
    browser: Any, live_server: Any, artefacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(signing.SECRET_ENV, SECRET)
    base, _ = live_server
    context = browser.new_context(viewport=LAPTOP, locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, base)
    page.get_by_role("link", name="Live board").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Live board"
    page.locator('#live-status[data-state="live"]').wait_for(timeout=10_000)
    page.evaluate("() => { window.notReloaded = true; }")

    post(
        base,
        {"type": "call.started", "call_id": "b1", "at": at(70), "direction": "inbound",
         "from": "89161110001", "to": "74952220002", "queue": "sales"},
        {"type": "call.ringing", "call_id": "b1", "at": at(68), "agent": "101", "queue": "sales",
         "from": "89161110001"},
    )  # fmt: skip
    ringing = row(page, "101", "ringing")
    assert "call from +79161110001" in ringing.inner_text()
    post(
        base,
        {"type": "call.answered", "call_id": "b1", "at": at(62), "agent": "101",
         "from": "89161110001"},
    )  # fmt: skip
    on_call = row(page, "101", "on_call")
    assert "with +79161110001" in on_call.inner_text() and "1 min" in on_call.inner_text()
    post(
        base,
        {"type": "agent.state", "at": at(300), "agent": "102", "state": "paused",
         "reason": "lunch"},
        {"type": "agent.state", "at": at(40), "agent": "103", "state": "available"},
    )  # fmt: skip
    assert "lunch" in row(page, "102", "paused").inner_text()
    row(page, "103", "available")
    assert page.locator('[data-count="on_call"] .value').inner_text() == "1"
    assert page.evaluate("() => window.notReloaded") is True
    before = page.locator('#live-agents tr[data-agent="101"] td.num').inner_text()
    page.wait_for_timeout(2100)  # the durations tick in the browser between events
    assert page.locator('#live-agents tr[data-agent="101"] td.num').inner_text() != before
    page.screenshot(path=artefacts / "live-laptop.png", full_page=True)

    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)
    small = phone.new_page()
    login(small, base)
    small.goto(f"{base}/live")
    row(small, "101", "on_call")
    overflow = small.evaluate("() => document.documentElement.scrollWidth") - PHONE["width"]
    assert overflow <= 1, f"/live scrolls sideways on a phone by {overflow}px"
    small.screenshot(path=artefacts / "live-phone.png", full_page=True)
    phone.close()
    context.close()
    assert errors == []


def test_an_agent_sees_only_their_own_card_live(
    browser: Any, live_server: Any, artefacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(signing.SECRET_ENV, SECRET)
    base, _ = live_server
    context = browser.new_context(viewport=LAPTOP, locale="en-GB")
    page = context.new_page()
    login(page, base, "anna")
    page.goto(f"{base}/live")
    page.locator('#live-status[data-state="live"]').wait_for(timeout=10_000)
    post(
        base,
        {"type": "agent.state", "at": at(5), "agent": "101", "state": "paused", "reason": "dnd"},
        {"type": "agent.state", "at": at(5), "agent": "102", "state": "available"},
    )
    assert "do not disturb" in row(page, "101", "paused").inner_text()
    assert page.locator("#live-agents tr[data-agent]").count() == 1
    page.screenshot(path=artefacts / "live-agent.png", full_page=True)
    context.close()
