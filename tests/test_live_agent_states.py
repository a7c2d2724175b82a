"""Between whole rebuilds the live intake rebuilds agent_states only for the agents whose events
a pass moved - and the table is always the one a whole rebuild of every event kept gives."""

from __future__ import annotations

import json
from typing import Any

from callscope import importer
from callscope.assemble import rebuild_agent_states
from callscope.live.driver import WEBHOOK, Driver
from callscope.live.events import parse_events, stored_json
from callscope.live.inbox import Inbox, Incoming
from callscope.settings import Settings
from callscope.store import Store, open_store

# 101 is also written as her queue member name, 102 as his, 103 as a channel and as a configured
# alias; a state is ended by an event of a later pass under another of the agent's names, one
# event arrives after a later one, one agent has no pause at all.
PASSES: list[list[dict[str, Any]]] = [
    [
        {"type": "agent.state", "agent": "101", "state": "paused", "reason": "Lunch",
         "at": "2026-11-23T09:00:00Z"},
        {"type": "agent.state", "agent": "102", "state": "on_call", "at": "2026-11-23T09:01:00Z"},
    ],
    [
        {"type": "agent.state", "agent": "Anna Petrova", "state": "available",
         "at": "2026-11-23T09:30:00Z"},
        {"type": "agent.state", "agent": "PJSIP/103-0000002a", "state": "offline",
         "at": "2026-11-23T09:05:00Z"},
        {"type": "agent.state", "agent": "Boris", "state": "paused", "reason": "Break",
         "at": "2026-11-23T09:02:00Z"},
    ],
    [
        {"type": "agent.state", "agent": "102", "state": "available", "at": "2026-11-23T09:04:00Z"},
        {"type": "agent.state", "agent": "101", "state": "paused", "reason": "dnd",
         "at": "2026-11-23T09:10:00Z"},  # between the lunch and its end: splits it
        {"type": "agent.state", "agent": "104", "state": "available", "at": "2026-11-23T09:00:00Z"},
    ],
    [
        {"type": "call.started", "call_id": "c1", "direction": "inbound", "from": "+79161234567",
         "to": "74950000000", "at": "2026-11-23T09:20:00Z"},
        {"type": "call.ringing", "call_id": "c1", "agent": "103", "at": "2026-11-23T09:20:01Z"},
        {"type": "call.ended", "call_id": "c1", "at": "2026-11-23T09:20:30Z"},
        {"type": "agent.state", "agent": "103", "state": "available", "at": "2026-11-23T09:40:00Z"},
        {"type": "agent.state", "agent": "Agent/1003", "state": "paused", "reason": "Coaching",
         "at": "2026-11-23T09:45:00Z"},
    ],
]  # fmt: skip

SETTINGS = {
    "agents": {
        "101": {"name": "Anna Petrova", "team": "sales"},
        "102": {"name": "Boris", "team": "sales"},
        "103": {"team": "support", "aliases": ["Agent/1003"]},
    }
}


def _states(store: Store) -> list[tuple[Any, ...]]:
    return store.con.execute(
        "SELECT * FROM agent_states ORDER BY ALL"
    ).fetchall()  # fmt: skip


def _feed(inbox: Inbox, events: list[dict[str, Any]]) -> None:
    records = [e.to_record() for e in parse_events(json.dumps(events).encode())]
    inbox.write([Incoming(WEBHOOK, stored_json(r), r.get("call_id")) for r in records])


def _whole(store: Store, settings: Settings) -> list[tuple[Any, ...]]:
    sources = importer.stored_sources(store.con)
    rebuild_agent_states(
        store.con, sources, settings, settings.tenant, {s.name: s.raw_table for s in sources}
    )
    return _states(store)


def test_each_pass_rebuilds_only_its_agents_and_equals_a_whole_rebuild() -> None:
    settings = Settings.model_validate(SETTINGS)
    with open_store(None) as store:
        inbox, driver = Inbox(store, settings.tenant), Driver(store, settings)
        driver.step()  # the whole rebuild every start does
        assert not driver.agent_states_due
        for n, events in enumerate(PASSES):
            _feed(inbox, events)
            moved = driver.step(agent_states=False)
            assert not moved.agent_events  # webhook agents are rebuilt one by one
            assert driver.agents_due == {WEBHOOK: {e["agent"] for e in events
                                                   if e["type"] == "agent.state"}}  # fmt: skip
            assert driver.rebuild_agent_states()
            incremental = _states(store)
            assert incremental == _whole(store, settings), f"after pass {n + 1}"
        assert not driver.rebuild_agent_states()  # nothing moved since
        agents = store.con.execute(
            "SELECT agent, state, reason, started_at::VARCHAR, ended_at::VARCHAR"
            " FROM agent_states ORDER BY agent, started_at"
        ).fetchall()
    # A state ends at the agent's next event, whatever name it came under: "Anna Petrova"
    # available ends 101's dnd, "102" available ends Boris's break.
    assert agents == [
        ("101", "paused", "lunch", "2026-11-23 09:00:00", "2026-11-23 09:10:00"),
        ("101", "paused", "dnd", "2026-11-23 09:10:00", "2026-11-23 09:30:00"),
        ("102", "on_call", None, "2026-11-23 09:01:00", "2026-11-23 09:02:00"),
        ("102", "paused", "break", "2026-11-23 09:02:00", "2026-11-23 09:04:00"),
        ("103", "offline", None, "2026-11-23 09:05:00", "2026-11-23 09:40:00"),
        ("103", "paused", "coaching", "2026-11-23 09:45:00", None),
    ]


def test_another_sources_rows_are_left_alone() -> None:
    settings = Settings.model_validate(SETTINGS)
    with open_store(None) as store:
        inbox, driver = Inbox(store, settings.tenant), Driver(store, settings)
        driver.step()
        store.con.execute(
            "INSERT INTO agent_states VALUES ('default', '101', 'paused', 'training',"
            " '2026-11-23 08:00:00', '2026-11-23 08:30:00', 'asterisk-queue-log')"
        )
        _feed(inbox, PASSES[0])
        driver.step()
        kept = store.con.execute(
            "SELECT count(*) FROM agent_states WHERE source = 'asterisk-queue-log'"
        ).fetchone()
    assert kept == (1,)
