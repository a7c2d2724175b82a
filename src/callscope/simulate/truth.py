"""Ground truth in the vocabulary of the canonical tables (design.md 3-4), from the trace.

Two kinds of records in `ground-truth.jsonl`, one JSON object a line, told apart by `kind`:
`call` (what happened to each call, as `calls` + `legs` should hold it after import) and
`missed_contact` (each missed contact and how it resolved). The rules are design.md 4 with the
default settings (min_talk_s 6, resolution_horizon 7 days); docs/simulate.md states them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from callscope.simulate.engine import MIN_TALK_S
from callscope.simulate.trace import SimCall, Trace

RESOLUTION_HORIZON_S = 7 * 86400


def iso(at: int | None) -> str | None:
    if at is None:
        return None
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_answered(call: SimCall) -> bool:
    if call.direction == "outbound":
        return call.far_answer is not None and call.talk_s >= MIN_TALK_S
    return call.answered_leg(MIN_TALK_S) is not None


def call_record(call: SimCall) -> dict[str, Any]:
    """One call as the assembler should see it."""
    legs = sorted(call.legs, key=lambda x: (x.ring_start, x.agent))
    if call.direction == "outbound":
        outcome = {"answered": "answered", "busy": "busy"}.get(call.far_result or "", "no_answer")
        if outcome == "answered" and call.talk_s < MIN_TALK_S:
            outcome = "no_answer"
        answered_by, first_answer = call.agent, call.far_answer
        end_stage, disposition = "external", None
    else:
        counted = call.answered_leg(MIN_TALK_S)
        pickups = [x for x in legs if x.answer is not None]
        first = counted or (min(pickups, key=lambda x: x.answer or 0) if pickups else None)
        outcome = "answered" if counted else "missed"
        answered_by = first.agent if first else None
        first_answer = first.answer if first else None
        end_stage = "agent" if pickups else call.end_stage
        last = [x for x in legs if x.round_no == max((y.round_no for y in legs), default=0)]
        if end_stage == "ring_group" and len(last) == 1:
            end_stage = "agent"  # the last Dial() rang one phone: the caller left an agent
        disposition = None if counted else ("abandoned" if pickups else call.disposition)
    wait_end = first_answer if first_answer is not None else call.end
    return {
        "kind": "call",
        "call_id": call.call_id,
        "direction": call.direction,
        "started_at": iso(call.start),
        "ended_at": iso(call.end),
        "external_number": call.number,
        "line": call.line,
        "outcome": outcome,
        "disposition": disposition,
        "end_stage": end_stage,
        "answered_by": answered_by,
        "first_answered_at": iso(first_answer),
        "wait_s": wait_end - call.start,
        "talk_s": call.talk_s,
        "queue": call.queue,
        "ivr_path": call.ivr_digit,
        "hangup_side": call.hangup_side,
        "legs": [
            {
                "agent": x.agent,
                "ring_started_at": iso(x.ring_start),
                "ring_s": x.ring_s,
                "talk_s": x.talk_s,
                "result": x.result,
                "hangup_by": x.hangup_by,
                "via": x.via,
            }
            for x in legs
        ],
        "new_customer": call.new_customer,
        "purpose": call.purpose,
        "sale": call.sale,
        "revenue": call.revenue,
    }


def missed_contacts(calls: list[SimCall]) -> list[dict[str, Any]]:
    """design.md 4: consecutive missed inbound calls of one number with no successful contact in
    between are one contact; the first later answered inbound (recalled_by_customer) or answered
    outbound (called_back) within the horizon resolves it; a failed outbound marks it attempted."""
    by_number: dict[str, list[SimCall]] = {}
    for call in sorted(calls, key=lambda c: (c.start, c.call_id)):
        by_number.setdefault(call.number, []).append(call)
    out: list[dict[str, Any]] = []
    for number, history in by_number.items():
        contact: dict[str, Any] | None = None
        for call in history:
            answered = is_answered(call)
            if call.direction == "inbound" and not answered:
                if contact is None:
                    contact = _open_contact(number, call)
                    out.append(contact)
                contact["attempts"] += 1
                contact["missed_call_ids"].append(call.call_id)
                continue
            if contact is None:
                continue
            first_missed = contact["_first"]
            if call.start - first_missed > RESOLUTION_HORIZON_S:
                contact = None  # beyond the horizon: it stays as it is
                continue
            if answered:
                contact["status"] = (
                    "recalled_by_customer" if call.direction == "inbound" else "called_back"
                )
                contact["resolved_at"] = iso(
                    call.end if call.direction == "inbound" else call.far_answer
                )
                contact["resolved_by_call"] = call.call_id
                leg = call.answered_leg(MIN_TALK_S)
                contact["resolved_by_agent"] = call.agent if leg is None else leg.agent
                contact["time_to_resolution_s"] = (
                    call.start if call.direction == "inbound" else call.far_answer or 0
                ) - first_missed
                contact = None
            elif call.direction == "outbound":
                contact["status"] = "attempted"
                contact["callback_attempts"] += 1
                contact.setdefault("first_attempt_at", iso(call.start))
    for contact in out:
        contact.pop("_first")
    return out


def _open_contact(number: str, call: SimCall) -> dict[str, Any]:
    return {
        "kind": "missed_contact",
        "external_number": number,
        "first_missed_at": iso(call.start),
        "first_call_id": call.call_id,
        "line": call.line,
        "attempts": 0,
        "missed_call_ids": [],
        "status": "open",
        "callback_attempts": 0,
        "resolved_at": None,
        "resolved_by_call": None,
        "resolved_by_agent": None,
        "time_to_resolution_s": None,
        "_first": call.start,
    }


def write_truth(trace: Trace, out: Path) -> Path:
    path = out / "ground-truth.jsonl"
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for call in trace.calls:
            f.write(json.dumps(call_record(call), ensure_ascii=False) + "\n")
        for contact in missed_contacts(trace.calls):
            f.write(json.dumps(contact, ensure_ascii=False) + "\n")
    states = out / "agent-states.jsonl"
    with states.open("w", encoding="utf-8", newline="\n") as f:
        for s in trace.states:
            f.write(
                json.dumps(
                    {
                        "agent": s.agent,
                        "state": s.state,
                        "reason": s.reason,
                        "started_at": iso(s.start),
                        "ended_at": iso(s.end),
                    }
                )
                + "\n"
            )
    return path
