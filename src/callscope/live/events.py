"""The generic JSON event format (docs/live.md) and its validation.

One event says one thing that happened to a call or an agent. A payload is checked whole before
anything is stored: a batch with one bad event is refused with the event's index and field, and
none of its events is kept (the sender retries the corrected batch; duplicates cost nothing).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

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

    def to_record(self) -> dict[str, Any]:
        """The stored fields: UTC time, no empty fields (the board reads this dict too)."""
        data: dict[str, Any] = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        data["at"] = self.at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return data

    def to_json(self) -> str:
        """The stored form: keys in a fixed order, so a re-sent event hashes the same."""
        return stored_json(self.to_record())


def stored_json(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True, ensure_ascii=False)


# One validation call for a whole batch (pydantic-core loops in Rust): the per-request cost
# of a 20-event webhook is a fraction of validating each event on its own.
_BATCH = TypeAdapter(list[LiveEvent])


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
    try:
        return _BATCH.validate_python(items)
    except ValidationError as exc:
        errors = exc.errors()
        index = errors[0]["loc"][0] if errors and errors[0]["loc"] else 0
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'event'}: {e['msg']}"
            for e in errors
            if e["loc"] and e["loc"][0] == index
        )
        raise InvalidEventError(f"event {index}: {problems}") from None
