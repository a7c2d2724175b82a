"""FreeSWITCH CDRs of the same history: mod_json_cdr (one JSON document per channel, a line
each) and mod_cdr_csv (the stock "example" template, 15 fields, local time).

The caller's channel is the A leg; every phone rung is a B leg carrying the A leg's uuid in
`originating_leg_uuid` (JSON). Stock CSV templates have no field linking a B leg to its A leg
except the A leg's `bleg_uuid` (the channel it was bridged to), so the CSV holds the A legs and
the bridged B legs only: unanswered phones are not in a CSV log (see docs/simulate.md). Channel
uuids derive from the Asterisk linkedid (`fs_uuid`), so the ground truth maps one to one.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from callscope.simulate.trace import SimCall, SimLeg, Trace

LEG_CAUSE = {
    "answered": "NORMAL_CLEARING",
    "cancelled_answered_elsewhere": "LOSE_RACE",
    "no_answer": "NO_ANSWER",
    "caller_hung_up": "ORIGINATOR_CANCEL",
}


def fs_uuid(call_id: str, part: int = 0) -> str:
    """A time-ordered channel uuid (like FreeSWITCH's v1 uuids): the call's start epoch, the
    channel's place in the call, and a digest of the linkedid; the A leg (part 0) sorts first."""
    start = int(call_id.split(".")[0])
    digest = hashlib.sha1(call_id.encode()).hexdigest()
    return f"{start:08x}-{part:04x}-11ee-8{digest[:3]}-{digest[3:15]}"


class Channel:
    """One FreeSWITCH channel's CDR variables."""

    def __init__(
        self, zone: ZoneInfo, uid: str, start: int, end: int, answer: int | None, cause: str
    ) -> None:
        self.zone = zone
        self.uid, self.start, self.end, self.answer, self.cause = uid, start, end, answer, cause
        self.vars: dict[str, str] = {}
        self.cid = self.dest = self.context = ""

    def stamp(self, at: int | None) -> str:
        if at is None:
            return ""
        return datetime.fromtimestamp(at, self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def document(self, direction: str) -> dict[str, Any]:
        billsec = 0 if self.answer is None else self.end - self.answer
        variables = {
            "direction": direction,
            "uuid": self.uid,
            "caller_id_name": "",
            "caller_id_number": self.cid,
            "destination_number": self.dest,
            "start_stamp": self.stamp(self.start),
            "answer_stamp": self.stamp(self.answer),
            "end_stamp": self.stamp(self.end),
            "start_epoch": str(self.start),
            "answer_epoch": str(self.answer or 0),
            "end_epoch": str(self.end),
            "duration": str(self.end - self.start),
            "billsec": str(billsec),
            "hangup_cause": self.cause,
            **self.vars,
        }
        return {
            "core-uuid": "6f1e0c1a-1d1f-4c52-9e38-callscopesim",
            "switchname": "callscope-sim",
            "channel_data": {"direction": direction, "state": "CS_REPORTING"},
            "variables": {k: quote(v, safe="") for k, v in variables.items()},
            "callflow": [
                {
                    "caller_profile": {
                        "caller_id_number": self.cid,
                        "destination_number": self.dest,
                        "context": self.context,
                        "uuid": self.uid,
                    }
                }
            ],
        }

    def csv_row(self, bleg: str) -> list[str]:
        billsec = 0 if self.answer is None else self.end - self.answer
        return [
            "",
            self.cid,
            self.dest,
            self.context,
            self.stamp(self.start),
            self.stamp(self.answer),
            self.stamp(self.end),
            str(self.end - self.start),
            str(billsec),
            self.cause,
            self.uid,
            bleg,
            "",
            "PCMA",
            "PCMA",
        ]


def _b_leg(zone: ZoneInfo, call: SimCall, k: int, leg: SimLeg, a_uid: str) -> Channel:
    b = Channel(
        zone,
        fs_uuid(call.call_id, k + 1),
        leg.ring_start,
        leg.end,
        leg.answer,
        LEG_CAUSE[leg.result],
    )
    b.cid, b.dest, b.context = call.number, leg.agent, "default"
    b.vars["originating_leg_uuid"] = a_uid
    b.vars["channel_name"] = f"sofia/internal/{leg.agent}@pbx.local"
    if call.route_kind == "queue" and call.queue:
        b.vars["cc_queue"] = call.queue
    if leg.answer is not None:
        # the agent's phone sent the BYE (recv_bye on its channel) or received it
        b.vars["sip_hangup_disposition"] = "recv_bye" if leg.hangup_by == "agent" else "send_bye"
    return b


def channels_of(call: SimCall, zone: ZoneInfo) -> tuple[Channel, list[Channel], str | None]:
    """The A leg, its B legs and the uuid of the B leg it was bridged to."""
    a_uid = fs_uuid(call.call_id)
    if call.direction == "outbound":
        answered = call.far_answer
        cause = {"answered": "NORMAL_CLEARING", "busy": "USER_BUSY"}.get(
            call.far_result or "", "NO_ANSWER"
        )
        a = Channel(zone, a_uid, call.start, call.end, answered, cause)
        a.cid, a.dest, a.context = call.agent or "", call.dialled or "", "default"
        b = Channel(zone, fs_uuid(call.call_id, 1), call.start, call.end, answered, cause)
        b.cid, b.dest, b.context = call.agent or "", call.dialled or "", "default"
        b.vars["originating_leg_uuid"] = a_uid
        b.vars["channel_name"] = f"sofia/gateway/trunk/{call.dialled}"
        a.vars["last_app"], a.vars["last_arg"] = "bridge", f"sofia/gateway/trunk/{call.dialled}"
        bridged = b.uid if answered is not None else None
        if bridged:
            b.vars["sip_hangup_disposition"] = (
                "send_bye" if call.hangup_side == "agent" else "recv_bye"
            )
            a.vars["bridge_uuid"], a.vars["bridge_epoch"] = b.uid, str(answered)
            side = "recv_bye" if call.hangup_side == "agent" else "send_bye"
            a.vars["sip_hangup_disposition"] = side
        return a, [b], bridged
    legs = [leg for leg in call.legs if leg.kind == "agent"]
    first = next((x for x in legs if x.answer is not None), None)
    if call.ivr_greeting_s or call.after_hours or call.voicemail_at is not None:
        answer: int | None = (
            call.start if (call.ivr_greeting_s or call.after_hours) else (call.voicemail_at)
        )
    else:
        answer = first.answer if first else None
    cause = "NORMAL_CLEARING"
    if call.invalid:
        cause = "UNALLOCATED_NUMBER"
    elif answer is None and call.hangup_side == "caller":
        cause = "ORIGINATOR_CANCEL"
    elif answer is None:
        cause = "NO_ANSWER"
    a = Channel(zone, a_uid, call.start, call.end, answer, cause)
    a.cid, a.dest, a.context = call.number, call.line or "", "public"
    bs = [_b_leg(zone, call, k, leg, a_uid) for k, leg in enumerate(legs)]
    bridged = None
    if first is not None:
        bridged = bs[legs.index(first)].uid
        a.vars["bridge_uuid"], a.vars["bridge_epoch"] = bridged, str(first.answer)
        a.vars["last_app"], a.vars["last_arg"] = "bridge", f"user/{first.agent}@pbx.local"
        a.vars["bridge_channel"] = f"sofia/internal/{first.agent}@pbx.local"
        a.vars["sip_hangup_disposition"] = "send_bye" if first.hangup_by == "agent" else "recv_bye"
    elif call.voicemail_at is not None:
        a.vars["last_app"], a.vars["last_arg"] = "voicemail", f"default pbx.local {call.line}"
    elif call.after_hours or call.ivr_left_at is not None or call.invalid:
        a.vars["last_app"] = "playback"
    elif legs:
        a.vars["last_app"] = "bridge"
    if call.route_kind == "queue" and call.queue:
        a.vars["cc_queue"] = call.queue
    return a, bs, bridged


def write_freeswitch_json(trace: Trace, out: Path) -> Path:
    zone = ZoneInfo(trace.timezone)
    docs: list[tuple[int, int, int, str]] = []
    for i, call in enumerate(trace.calls):
        a, bs, _ = channels_of(call, zone)
        for n, b in enumerate(bs):
            docs.append((b.end, i, n, json.dumps(b.document("outbound"), separators=(",", ":"))))
        docs.append((a.end, i, len(bs), json.dumps(a.document("inbound"), separators=(",", ":"))))
    docs.sort()
    path = out / "freeswitch-cdr.json"
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for *_, text in docs:
            f.write(text + "\n")
    return path


def write_freeswitch_csv(trace: Trace, out: Path) -> Path:
    zone = ZoneInfo(trace.timezone)
    rows: list[tuple[int, int, int, list[str]]] = []
    for i, call in enumerate(trace.calls):
        a, bs, bridged = channels_of(call, zone)
        for n, b in enumerate(bs):
            if b.uid == bridged:
                rows.append((b.end, i, n, b.csv_row("")))
        rows.append((a.end, i, len(bs), a.csv_row(bridged or "")))
    rows.sort(key=lambda r: r[:3])
    path = out / "freeswitch-Master.csv"
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for *_, row in rows:
            f.write(",".join('"' + v.replace('"', '""') + '"' for v in row) + "\n")
    return path
