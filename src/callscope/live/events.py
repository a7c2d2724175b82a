"""The generic JSON event format (docs/live.md) and its validation.

One event says one thing that happened to a call or an agent. A payload is checked whole before
anything is stored: a batch with one bad event is refused with the event's index and field, and
none of its events is kept (the sender retries the corrected batch; duplicates cost nothing).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callscope.errors import CallscopeError

EventType = Literal[
    "call.started",
    "call.ringing",
    "call.answered",
    "call.transferred",
    "call.ring_ended",
    "call.ended",
    "agent.state",
]
AgentState = Literal["available", "ringing", "on_call", "paused", "offline"]


class InvalidEventError(CallscopeError):
    """A payload that is not a valid event (the HTTP layer answers 422 with the message)."""


class LiveEvent(BaseModel):
    """One event. `call_id` groups a call's events; `at` is when it happened (ISO 8601 with a
    zone, or Unix seconds); `event_id`, when the sender has one, makes a retry recognisable."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    type: EventType
    at: datetime
    event_id: str | None = None
    call_id: str | None = None
    leg_id: str | None = Field(
        default=None, description="one ring attempt, when an agent is rung twice"
    )
    direction: Literal["inbound", "outbound", "internal"] | None = None
    from_: str | None = Field(default=None, alias="from")
    to: str | None = None
    line: str | None = None
    agent: str | None = None
    from_agent: str | None = None
    queue: str | None = None
    result: Literal["no_answer", "busy", "rejected", "unavailable"] | None = None
    state: AgentState | None = None
    reason: str | None = None
    hangup_by: Literal["caller", "agent"] | None = None
    end_stage: str | None = None
    recording: str | None = None

    @model_validator(mode="after")
    def _required_per_type(self) -> LiveEvent:
        if self.type.startswith("call.") and not self.call_id:
            raise ValueError(f"{self.type} needs call_id")
        if self.type in ("call.ringing", "call.answered") and not (self.agent or self.leg_id):
            raise ValueError(f"{self.type} needs agent (or leg_id)")
        if self.type == "agent.state" and not (self.agent and self.state):
            raise ValueError("agent.state needs agent and state")
        if self.at.tzinfo is None:
            raise ValueError("at needs a time zone (2026-11-22T17:55:20Z or +03:00)")
        return self

    def to_json(self) -> str:
        """The stored form: UTC time, keys in a fixed order, so a re-sent event hashes the same."""
        data: dict[str, Any] = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        data["at"] = self.at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return json.dumps(data, sort_keys=True, ensure_ascii=False)


def parse_events(body: bytes) -> list[LiveEvent]:
    """A single event object, a list of them, or `{"events": [...]}`."""
    try:
        doc = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEventError(f"body is not JSON: {exc}") from None
    items = doc.get("events") if isinstance(doc, dict) and "events" in doc else doc
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list) or not items:
        raise InvalidEventError('expected an event object, a list of events or {"events": [...]}')
    events: list[LiveEvent] = []
    for index, item in enumerate(items):
        try:
            events.append(LiveEvent.model_validate(item))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in exc.errors()
            )
            raise InvalidEventError(f"event {index}: {problems}") from None
    return events
