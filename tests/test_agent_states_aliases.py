"""An agent is one person whatever name the PBX writes: with `[agents]` saying "Anna Petrova",
"PJSIP/101" and "Agent/1001" are 101, a pause written under one name is ended by the unpause
written under another - in agent_states, in the agents report's paused time, on the live board.

Anna pauses for lunch at 10:30 Moscow (07:30 UTC) and is back at 11:30: 3600 s paused, not a
pause that runs to the end of the period."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callscope.live.ami_text import event_json, parse_message, split_messages
from callscope.live.board import Board, restore_board
from callscope.live.driver import AMI, WEBHOOK, Driver
from callscope.live.events import parse_events, stored_json
from callscope.live.inbox import Inbox, Incoming
from callscope.metrics import REPORTS, MetricFilter
from callscope.settings import AgentConfig, Settings
from callscope.store import Store, open_store
from callscope.testing import import_text

SETTINGS = Settings(
    timezone="Europe/Moscow",
    agents={"101": AgentConfig(name="Anna Petrova", team="sales", aliases=["Agent/1001"])},
)
AFTER = datetime(2026, 1, 12, 12, 0, tzinfo=UTC)  # the board is looked at later that day


def _states(store: Store) -> list[tuple[Any, ...]]:
    return store.con.execute(
        "SELECT agent, state, reason, started_at::VARCHAR, ended_at::VARCHAR, source"
        " FROM agent_states WHERE state = 'paused' ORDER BY started_at"
    ).fetchall()


def _paused_s(store: Store) -> dict[str, Any]:
    rows = REPORTS["agents"](store, MetricFilter(), SETTINGS).rows
    return {r["agent"]: r["paused_s"] for r in rows if r["kind"] == "agent"}


def test_queue_log_pause_under_the_channel_ends_at_the_unpause_under_the_name(
    store: Store, tmp_path: Path
) -> None:
    import_text(store, tmp_path, """
        1768203000|NONE|sales|PJSIP/101|PAUSE|lunch
        1768206600|NONE|sales|Anna Petrova|UNPAUSE|
        1768208400|NONE|NONE|Agent/1001|PAUSEALL|
        1768209000|NONE|NONE|PJSIP/101|UNPAUSEALL|
    """, settings=SETTINGS, name="queue_log")  # fmt: skip
    assert _states(store) == [
        ("101", "paused", "lunch", "2026-01-12 07:30:00", "2026-01-12 08:30:00",
         "asterisk-queue-log"),
        ("101", "paused", None, "2026-01-12 09:00:00", "2026-01-12 09:10:00",
         "asterisk-queue-log"),
    ]  # fmt: skip
    assert _paused_s(store) == {"101": 3600 + 600}


def test_queue_log_pause_in_one_file_ends_in_the_next_under_another_name(
    store: Store, tmp_path: Path
) -> None:
    import_text(store, tmp_path, "1768203000|NONE|sales|Anna Petrova|PAUSE|lunch",
                settings=SETTINGS, name="queue_log")  # fmt: skip
    import_text(store, tmp_path, "1768206600|NONE|sales|Local/101@agents|UNPAUSE|",
                settings=SETTINGS, name="queue_log.1")  # fmt: skip
    assert [s[3:5] for s in _states(store)] == [("2026-01-12 07:30:00", "2026-01-12 08:30:00")]


def _webhooks(store: Store, events: list[dict[str, Any]]) -> None:
    records = [e.to_record() for e in parse_events(json.dumps(events).encode())]
    Inbox(store, SETTINGS.tenant).write(
        [Incoming(WEBHOOK, stored_json(r), r.get("call_id")) for r in records]
    )


def test_webhook_pause_and_available_under_two_names_in_report_and_on_the_board() -> None:
    with open_store(None) as store:
        driver = Driver(store, SETTINGS)
        driver.step()
        _webhooks(store, [
            {"type": "agent.state", "agent": "101", "state": "paused", "reason": "Lunch",
             "at": "2026-01-12T07:30:00Z"},
        ])  # fmt: skip
        driver.step()
        _webhooks(store, [
            {"type": "agent.state", "agent": "Anna Petrova", "state": "available",
             "at": "2026-01-12T08:30:00Z"},
        ])  # fmt: skip
        driver.step()
        assert _states(store) == [
            ("101", "paused", "lunch", "2026-01-12 07:30:00", "2026-01-12 08:30:00",
             "webhook-events"),
        ]  # fmt: skip
        assert _paused_s(store) == {"101": 3600}
        board = Board(SETTINGS)  # after a restart, refilled from the store
        restore_board(board, store, SETTINGS.tenant, AFTER)
        [anna] = board.snapshot(AFTER)["agents"]
    assert (anna["agent"], anna["state"], anna["since"]) == (
        "101", "available", "2026-01-12T08:30:00+00:00")  # fmt: skip


AMI_EVENTS = """
Event: QueueMemberPause
Timestamp: 1768203000.000000
Queue: sales
MemberName: Anna Petrova
Interface: PJSIP/101
Paused: 1
PausedReason: Lunch

Event: QueueMemberPause
Timestamp: 1768206600.000000
Queue: support
MemberName:
Interface: PJSIP/101
Paused: 0
PausedReason:
"""


def test_ami_pause_under_the_member_name_ends_at_the_unpause_of_the_interface() -> None:
    events = [parse_message(m) for m in split_messages(AMI_EVENTS)]
    with open_store(None) as store:
        driver = Driver(store, SETTINGS)
        Inbox(store, SETTINGS.tenant).write([Incoming(AMI, event_json(e), None) for e in events])
        driver.step()
        assert _states(store) == [
            ("101", "paused", "lunch", "2026-01-12 07:30:00", "2026-01-12 08:30:00",
             "asterisk-ami"),
        ]  # fmt: skip
        assert _paused_s(store) == {"101": 3600}
