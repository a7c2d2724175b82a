"""The live agent board: who is ringing, on a call (with whom, since when), available, paused
(with the reason), offline (since when); per queue the callers waiting and the longest wait.

It is state in memory, updated by every event as it is acknowledged (AMI or generic), so the
supervisor sees a change at once; the store's calls and agent_states are the history behind it.
After a restart `restore_board` replays what the store holds (recent agent events, open calls).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from callscope.live.inbox import TABLE as INBOX
from callscope.live.inbox import attach_inbox
from callscope.settings import Settings
from callscope.store import Store

_PEER = re.compile(r"^(?:[A-Za-z0-9_]+/)([^-@;/\s]+)")
DEVICE_STATES = {
    "NOT_INUSE": "available", "INUSE": "on_call", "BUSY": "on_call", "RINGING": "ringing",
    "RINGINUSE": "on_call", "ONHOLD": "on_call", "UNAVAILABLE": "offline", "INVALID": "offline",
}  # fmt: skip
# app_queue's member status numbers (AST_DEVICE_*) that say something on their own: a Local
# channel member reports "in use" (2) while it only rings, so on-call comes from the calls
MEMBER_STATUS = {"1": "available", "4": "offline", "5": "offline", "6": "ringing"}  # fmt: skip
ENDED_REMEMBERED = 10_000  # generic calls whose late opening events are ignored by the queues


@dataclass
class AgentCard:
    agent: str
    state: str = "offline"
    since: datetime | None = None
    reason: str | None = None
    with_number: str | None = None
    call_id: str | None = None
    queue: str | None = None

    def as_json(self, now: datetime) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "state": self.state,
            "since": self.since.isoformat() if self.since else None,
            "for_s": round((now - self.since).total_seconds(), 1) if self.since else None,
            "reason": self.reason,
            "with": self.with_number,
            "call_id": self.call_id,
            "queue": self.queue,
        }


@dataclass
class Board:
    settings: Settings
    agents: dict[str, AgentCard] = field(default_factory=dict)
    waiting: dict[str, dict[str, datetime]] = field(
        default_factory=dict
    )  # queue -> caller -> since
    version: int = 0

    def __post_init__(self) -> None:
        self._callers: dict[str, str] = {}  # open generic calls: call_id -> caller's number
        self._talked: set[str] = set()  # open generic calls someone answered
        self._queued: dict[str, str] = {}  # generic calls waiting in a queue: call_id -> queue
        self._ended: dict[str, None] = {}  # recently ended generic calls, oldest first
        self._alias = self.settings.agent_aliases()
        for ext in self.settings.agents:
            self.agents[ext] = AgentCard(ext)

    def agent_id(self, name: str | None) -> str | None:
        if not name:
            return None
        if name in self._alias:
            return self._alias[name]
        match = _PEER.match(name)
        peer = match.group(1) if match else name.split("@", 1)[0]
        return self._alias.get(peer, peer)

    def _is_agent_device(self, device: str | None) -> bool:
        agent = self.agent_id(device)
        if agent is None or not device or device.startswith("Queue:"):
            return False
        digits = self.settings.internal_number_max_digits
        return agent in self.agents or (agent.isdigit() and len(agent) <= digits)

    def _set(self, name: str | None, state: str, at: datetime, **extra: Any) -> None:
        agent = self.agent_id(name)
        if agent is None:
            return
        card = self.agents.setdefault(agent, AgentCard(agent))
        if card.state == "paused" and state == "available" and not extra.get("unpause"):
            return  # a paused agent finishing a call stays paused
        extra.pop("unpause", None)
        if card.state == state and not extra:
            return  # a repeated status (QueueMemberStatus after AgentConnect) keeps the details
        if card.state != state:
            card.since = at
        card.state = state
        card.reason = extra.get("reason")
        card.with_number = extra.get("with_number")
        card.call_id = extra.get("call_id")
        card.queue = extra.get("queue")
        self.version += 1

    def apply_generic(self, ev: dict[str, Any]) -> None:
        at = datetime.fromisoformat(str(ev["at"]).replace("Z", "+00:00"))
        kind, agent, call = ev.get("type"), ev.get("agent"), ev.get("call_id")
        # The caller is named once, by call.started; the agents' events refer to the call.
        caller = ev.get("from") or self._callers.get(call or "")
        if kind == "call.started" and call and caller:
            self._callers[call] = caller
        self._queue_generic(ev, call, at)
        if kind == "call.ringing":
            self._set(agent, "ringing", at, with_number=caller, call_id=call,
                      queue=ev.get("queue"))  # fmt: skip
        elif kind == "call.answered":
            self._set(agent, "on_call", at, with_number=caller, call_id=call)
        if kind == "call.ended":
            self._callers.pop(call or "", None)
            self._talked.discard(call or "")
        if kind in ("call.ring_ended", "call.ended", "call.transferred"):
            who = ev.get("from_agent") if kind == "call.transferred" else agent
            for card in list(self.agents.values()):
                if card.call_id == ev.get("call_id") and (who is None or card.agent == who):
                    self._set(card.agent, "available", at)
        elif kind == "agent.state":
            self._set(agent, str(ev.get("state")), at, reason=ev.get("reason"), unpause=True)

    def answered(self, call_id: str | None) -> bool:
        """Whether an open generic call has had its `call.answered` (the service asks at its
        `call.ended`: an unanswered end may be a missed call someone waits to hear about)."""
        return call_id in self._talked

    def _queue_generic(self, ev: dict[str, Any], call: str | None, at: datetime) -> None:
        """A generic call waits in the queue its inbound `call.started` (or a `call.ringing`,
        the queue it overflowed to) names, from then until it is answered or ends."""
        kind, queue = ev.get("type"), ev.get("queue")
        if not call:
            return
        if kind == "call.answered":
            self._talked.add(call)
        if kind == "call.ended":
            # An opening event delivered after the end (another connection) must not put a
            # caller in the queue that nothing would take out again.
            self._ended[call] = None
            if len(self._ended) > ENDED_REMEMBERED:
                del self._ended[next(iter(self._ended))]
        if kind in ("call.answered", "call.ended"):
            left = self._queued.pop(call, None)
            if left is not None:
                self.waiting.get(left, {}).pop(call, None)
                self.version += 1
            return
        inbound = kind == "call.ringing" or ev.get("direction", "inbound") == "inbound"
        if kind not in ("call.started", "call.ringing") or not queue or not inbound:
            return
        if call in self._talked or call in self._ended or self._queued.get(call) == queue:
            return
        before = self._queued.get(call)
        if before is not None:
            self.waiting.get(before, {}).pop(call, None)
        self._queued[call] = str(queue)
        self.waiting.setdefault(str(queue), {})[call] = at
        self.version += 1

    def apply_ami(self, ev: dict[str, str]) -> None:
        at = _ami_time(ev)
        name = ev.get("Event", "")
        member = ev.get("MemberName") or ev.get("Interface")
        caller = ev.get("CallerIDNum")
        if name == "AgentCalled":
            self._set(member, "ringing", at, with_number=caller, call_id=ev.get("Linkedid"),
                      queue=ev.get("Queue"))  # fmt: skip
        elif name == "AgentConnect":
            self._set(member, "on_call", at, with_number=caller, call_id=ev.get("Linkedid"),
                      queue=ev.get("Queue"))  # fmt: skip
        elif name in ("DialBegin", "DialEnd") and self._is_agent_device(ev.get("DestChannel")):
            dest, status = ev.get("DestChannel"), ev.get("DialStatus")
            if name == "DialBegin":
                self._set(dest, "ringing", at, with_number=caller, call_id=ev.get("Linkedid"))
            elif status == "ANSWER":
                self._set(dest, "on_call", at, with_number=caller, call_id=ev.get("Linkedid"))
            else:
                self._set(dest, "available", at)
        elif name in ("AgentComplete", "AgentRingNoAnswer", "AgentDump"):
            self._set(member, "available", at)
        elif name == "QueueMemberPause":
            paused = ev.get("Paused") == "1"
            reason = (ev.get("PausedReason") or ev.get("Reason") or "").lower() or None
            self._set(member, "paused" if paused else "available", at, reason=reason,
                      unpause=True)  # fmt: skip
        elif name == "QueueMemberRemoved":
            self._set(member, "offline", at, unpause=True)
        elif name in ("QueueMemberAdded", "QueueMemberStatus"):
            if ev.get("Paused") == "1":
                reason = (ev.get("PausedReason") or "").lower() or None
                self._set(member, "paused", at, reason=reason, unpause=True)
            elif ev.get("Status") in MEMBER_STATUS:
                self._set(member, MEMBER_STATUS[ev["Status"]], at, unpause=True)
        elif name == "DeviceStateChange" and ev.get("State") in DEVICE_STATES:
            if self._is_agent_device(ev.get("Device")):
                state = DEVICE_STATES[ev["State"]]
                self._set(ev.get("Device"), state, at, unpause=state == "offline")
        elif name == "QueueCallerJoin":
            self.waiting.setdefault(ev.get("Queue", ""), {})[ev.get("Uniqueid", "")] = at
            self.version += 1
        elif name in ("QueueCallerLeave", "QueueCallerAbandon"):
            self.waiting.get(ev.get("Queue", ""), {}).pop(ev.get("Uniqueid", ""), None)
            self.version += 1

    def snapshot(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(UTC)
        queues = [
            {
                "queue": q,
                "waiting": len(w),
                "longest_wait_s": round(
                    max(((now - t).total_seconds() for t in w.values()), default=0.0), 1
                ),
            }
            for q, w in sorted(self.waiting.items())
        ]
        return {
            "at": now.isoformat(),
            "version": self.version,
            "agents": [c.as_json(now) for _, c in sorted(self.agents.items())],
            "queues": queues,
        }


def _ami_time(ev: dict[str, str]) -> datetime:
    stamp = ev.get("Timestamp")
    try:
        return datetime.fromtimestamp(float(stamp), UTC) if stamp else datetime.now(UTC)
    except ValueError:
        return datetime.now(UTC)


RESTORE_HOURS = 12  # how far back agent events are replayed at start-up
AGENT_EVENTS = (
    "QueueMemberPause", "QueueMemberAdded", "QueueMemberRemoved", "QueueMemberStatus",
    "DeviceStateChange",
)  # fmt: skip


def restore_board(board: Board, store: Store, tenant: str, now: datetime) -> None:
    """Refill the board from the store after a restart: the agent events of the last
    RESTORE_HOURS (pauses, log-ins, device states; moved to the raw tables at once), then every
    event still in the inbox - the calls not over yet - in the order they arrived. The same
    `apply_*` the live events go through, so a restored board is the board that was."""
    attach_inbox(store)
    con = store.con
    since = now - timedelta(hours=RESTORE_HOURS)
    tables = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary"
            " AND table_name IN ('raw_webhook_events_v1', 'raw_asterisk_ami_v1')"
        ).fetchall()
    }
    events: list[tuple[Any, int, str, str]] = []
    if "raw_webhook_events_v1" in tables:
        events += con.execute(
            "SELECT event_at, row_no, 'webhook-events', payload::VARCHAR"
            " FROM raw_webhook_events_v1 WHERE tenant = ? AND call_id IS NULL AND event_at >= ?",
            [tenant, since],
        ).fetchall()
    if "raw_asterisk_ami_v1" in tables:
        events += con.execute(
            "SELECT ts, row_no, 'asterisk-ami', fields::VARCHAR FROM raw_asterisk_ami_v1"
            " WHERE tenant = ? AND linkedid IS NULL AND ts >= ? AND list_contains(?, event)",
            [tenant, since, list(AGENT_EVENTS)],
        ).fetchall()
    events.sort(key=lambda e: (e[0], e[1]))
    pending = con.execute(
        f"SELECT NULL, seq, source, payload FROM {INBOX} WHERE tenant = ? ORDER BY seq",
        [tenant],
    ).fetchall()
    for _, _, source, payload in [*events, *pending]:
        event = json.loads(payload)
        if source == "asterisk-ami":
            board.apply_ami(event)
        else:
            board.apply_generic(event)
